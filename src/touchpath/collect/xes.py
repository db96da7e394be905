"""XES event logs (IEEE 1849) streamed into Arrow batches, one row per event.

Trace attributes are copied onto each event with a `case:` prefix, as pm4py flattens them, so
`case:concept:name` is the case id. Values stay text (dates keep their offsets); the importer
parses times and numbers set-wise. Nested attributes (lists, containers) are left out.

>>> import io
>>> log = b'''<log xmlns="http://www.xes-standard.org/"><trace>
... <string key="concept:name" value="c1"/>
... <event><string key="concept:name" value="A"/><date key="time:timestamp" value="2020-01-01T10:00:00+01:00"/></event>
... </trace></log>'''
>>> next(iter_xes(io.BytesIO(log))).to_pylist()
[{'_tp_line': 1, 'case:concept:name': 'c1', 'concept:name': 'A', 'time:timestamp': '2020-01-01T10:00:00+01:00'}]
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa

from touchpath.errors import ImportFailed

__all__ = ["iter_xes", "read_xes"]

LINE = "_tp_line"
_ATTRIBUTES = frozenset({"string", "date", "int", "float", "boolean", "id"})


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _batch(lines: list[int], rows: list[dict[str, str]], columns: dict[str, None]) -> pa.Table:
    data: dict[str, pa.Array] = {LINE: pa.array(lines, pa.int64())}
    for name in columns:
        data[name] = pa.array([r.get(name) for r in rows], pa.string())
    return pa.table(data)


def iter_xes(stream: IO[bytes], batch_rows: int = 50_000) -> Iterator[pa.Table]:
    """Arrow tables of at most `batch_rows` events, in file order, numbered from 1."""
    trace: dict[str, str] = {}
    event: dict[str, str] | None = None
    parents: list[str] = []
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    columns: dict[str, None] = {}
    n = 0
    for kind, el in ET.iterparse(stream, events=("start", "end")):
        tag = _local(el.tag)
        if kind == "start":
            if tag == "trace":
                trace = {}
            elif tag == "event":
                event = {}
            parents.append(tag)
            continue
        parents.pop()
        parent = parents[-1] if parents else ""
        if tag in _ATTRIBUTES:
            key, value = el.get("key"), el.get("value")
            if key is None or value is None:
                continue
            if parent == "event" and event is not None:
                event[key] = value
            elif parent == "trace":
                trace["case:" + key] = value
        elif tag == "event" and event is not None:
            n += 1
            row = {**trace, **event}
            columns.update(dict.fromkeys(row))
            rows.append(row)
            lines.append(n)
            event = None
            el.clear()
            if len(rows) >= batch_rows:
                yield _batch(lines, rows, columns)
                rows, lines = [], []
        elif tag == "trace":
            el.clear()
    if rows:
        yield _batch(lines, rows, columns)


def read_xes(path: Path, batch_rows: int = 50_000) -> Iterator[pa.Table]:
    """`iter_xes` over a `.xes` or `.xes.gz` file."""
    gz = path.suffix.lower() in (".gz", ".gzip")
    try:
        with gzip.open(path, "rb") if gz else path.open("rb") as f:
            yield from iter_xes(f, batch_rows)  # type: ignore[arg-type]
    except (ET.ParseError, OSError, EOFError) as exc:
        raise ImportFailed(f"{path.name}: not a readable XES log: {exc}") from exc
