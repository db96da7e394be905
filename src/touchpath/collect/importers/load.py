"""Importing a file: read it (`formats`), map it (`mapping`), and write its good rows to the event
log in chunks through the store's append path (`Store.append_rows`, which drops rows already in
the log and rows of suppressed users with the check ingest makes), so the single writer is never
held for long; every bad row goes to the `rejected` table with its reason.

Every row has a line number and a deterministic messageId `imp:<file digest>:<line>`, so
importing the same file again adds nothing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
from pydantic import BaseModel, Field

from touchpath.collect.importers import formats, mapping
from touchpath.collect.importers.formats import FORMATS, LINE, Format, ScratchTable, sql_text
from touchpath.collect.importers.mapping import ImportMapping
from touchpath.errors import ImportFailed, NotFound, SpecError
from touchpath.store import Appended, Store, utcnow

__all__ = ["BadRow", "ImportReport", "Progress", "import_file"]


class BadRow(BaseModel):
    """One row that was not imported, with why; it is kept in the `rejected` table too."""

    line: int
    field: str
    reason: str
    row: Any = None


class ImportReport(BaseModel):
    """What became of every row of one imported file."""

    file: str
    format: str
    source: str
    source_id: str
    digest: str
    mapping: dict[str, Any]
    rows: int = Field(description="Rows read, good and bad.")
    imported: int = Field(description="New events written.")
    duplicates: int = Field(description="Good rows already in the log from an earlier import.")
    suppressed: int = Field(description="Good rows of suppressed users, dropped.")
    blocked: int = Field(
        default=0,
        description="Good rows the source's tracking plan blocked (block mode); in `rejected`.",
    )
    flagged: int = Field(
        default=0,
        description="Rows imported with violations of the source's tracking plan (flag or drop "
        "mode); in `plan_violations`.",
    )
    bad: int = Field(description="Rows not imported; all are in the `rejected` table.")
    bad_by_field: dict[str, int] = Field(default_factory=dict)
    bad_rows: list[BadRow] = Field(default_factory=list, description="The first bad rows.")
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


Progress = Callable[[int, int], None]
"""Called with (rows written so far, good rows in all) as chunks commit."""


_CHUNK_COLS = (
    "message_id, source, type, event, anonymous_id, user_id, group_id, previous_id, timestamp, "
    "original_timestamp, sent_at, received_at, channel, context, properties, traits"
)
"""The event-log columns (all but seq) of the rows handed to `Store.append_rows`."""


@dataclass
class _Mapped:
    """A file read and mapped in the scratch database: its table `mapped` holds every row with
    its event-log columns, or its field and reason when it is bad."""

    source_name: str
    source_id: str
    segment: bool
    resolved: dict[str, Any]
    table: ScratchTable | None


def import_file(
    store: Store,
    path: str | Path,
    mapping: ImportMapping | None = None,
    *,
    source: str | None = None,
    fmt: str | None = None,
    chunk_rows: int = 100_000,
    max_bad_rows: int = 1000,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one file into the event log and report every row that was not imported.

    `source` names the source (created if missing; default `import:<file stem>`); `fmt` is one
    of `FORMATS` (default: from the file name). `max_bad_rows` caps the bad rows listed in the
    report (0 lists all); every bad row is recorded in the `rejected` table either way.
    """
    started = time.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    if fmt is not None and fmt not in FORMATS:
        raise ImportFailed(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    kind: Format = fmt if fmt is not None else formats.detect_format(path)  # type: ignore[assignment]
    digest = formats.file_digest(path)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        formats.load(con, path, kind)
        mapped = _map(con, store, path, kind, mapping or ImportMapping(), digest, source)
        received_at = utcnow()
        _collect_bad(con, kind, digest, mapped, received_at)
        n_good, repeats = con.execute(
            "SELECT count(*) FILTER (NOT repeat), count(*) FILTER (repeat) "
            "FROM mapped WHERE reason IS NULL"
        ).fetchall()[0]
        (n_bad,) = con.execute("SELECT count(*) FROM bad").fetchall()[0]
        got = _write(con, store, mapped.source_id, received_at, chunk_rows, int(n_good), progress)
        if n_bad:
            bad_tbl = con.sql(
                "SELECT received_at, source, message_id, reason, payload FROM bad"
            ).to_arrow_table()
            store.write_sync(partial(_insert_rejected, bad=bad_tbl))
        by_field, listed = _bad_rows(con, kind, max_bad_rows)
    finally:
        with suppress(duckdb.Error):
            con.close()
    return ImportReport(
        file=str(path),
        format="segment" if mapped.segment else kind,
        source=mapped.source_name,
        source_id=mapped.source_id,
        digest=digest,
        mapping=mapped.resolved,
        rows=int(n_good) + int(repeats) + int(n_bad),
        imported=got.inserted,
        duplicates=int(repeats) + got.present,
        suppressed=got.suppressed,
        blocked=got.blocked,
        flagged=got.flagged,
        bad=int(n_bad),
        bad_by_field=by_field,
        bad_rows=listed,
        seconds=round(time.perf_counter() - started, 3),
    )


def _map(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    path: Path,
    kind: Format,
    m: ImportMapping,
    digest: str,
    source: str | None,
) -> _Mapped:
    """The table `mapped` from `src`: Segment messages normalised as the collector does, any
    other file through its mapping (checked against its columns before the source is made)."""
    name = path.name
    source_name = source or formats.source_name_for(path)
    if kind == "jsonl" and formats.is_segment(con):
        if m != ImportMapping():
            raise ImportFailed(
                f"{name}: the file holds Segment messages, which need no mapping; "
                "drop the mapping options"
            )
        source_id = _source_id(store, source_name)
        mapping.map_segment(con, digest, source_id)
        return _Mapped(source_name, source_id, True, {"segment": True}, None)
    table = formats.columns(con, kind == "jsonl")
    r = mapping.resolve(m, table, name)
    kinds = mapping.numeric_kinds(con, table, r.properties)
    sql = mapping.mapped_sql(r, table, m, digest, kinds)
    try:
        con.execute(f"CREATE TABLE mapped AS {sql}")
    except duckdb.Error as exc:
        raise ImportFailed(f"{name}: the mapping cannot be applied: {exc}") from exc
    resolved = {
        "person": r.person, "anonymous_id": r.anonymous_id,
        "event": f"={r.event_constant}" if r.event_constant is not None else ",".join(r.event),
        "time": r.time, "time_format": m.time_format,
        "time_zone": m.time_zone,
        "channel": f"={r.channel_constant}" if r.channel_constant else r.channel,
        "properties": r.properties, "event_prefix": m.event_prefix,
        "numeric_properties": kinds,
    }  # fmt: skip
    return _Mapped(source_name, _source_id(store, source_name), False, resolved, table)


def _collect_bad(
    con: duckdb.DuckDBPyConnection,
    kind: Format,
    digest: str,
    mapped: _Mapped,
    received_at: datetime,
) -> None:
    """The table `bad`: every row not imported (unmapped, or unreadable as CSV or JSON) with its
    line, field, reason and the row as it was."""
    bad_parts = [
        "SELECT line, field, reason, NULL AS payload_line, message_id FROM mapped "
        "WHERE reason IS NOT NULL"
    ]
    if kind == "csv":
        bad_parts.append(
            f"SELECT line, 'line', 'line: malformed CSV record (' || lower(error_type) || "
            f"'): ' || message, payload, 'imp:{digest[:24]}:' || line FROM bad_lines"
        )
    elif kind == "jsonl":
        bad_parts.append(
            f"SELECT {LINE}, 'line', 'line: not a JSON object', raw, "
            f"'imp:{digest[:24]}:' || {LINE} FROM src WHERE j IS NULL"
        )
    if kind == "jsonl":
        row_json = "s.raw"
    else:
        assert mapped.table is not None
        row_json = sql_text(mapped.table.payload("s"))
    con.execute(
        f"""
        CREATE TABLE bad AS
        SELECT b.line, b.field, b.reason, coalesce(b.payload_line, {row_json}) AS payload,
            b.message_id, ?::VARCHAR AS source, ?::TIMESTAMP AS received_at
        FROM ({" UNION ALL ".join(bad_parts)}) b LEFT JOIN src s ON s.{LINE} = b.line
        ORDER BY b.line
        """,
        [mapped.source_id, received_at],
    )


def _write(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    source_id: str,
    received_at: datetime,
    chunk_rows: int,
    n_good: int,
    progress: Progress | None,
) -> Appended:
    """The good rows, in line order, to the log in chunks through `Store.append_rows`; the
    next chunk is read while the writer appends this one. Returns the totals."""
    good = con.sql(
        "SELECT message_id, ?::VARCHAR AS source, type, event, anonymous_id, user_id, group_id, "
        "previous_id, timestamp, original_timestamp, sent_at, ?::TIMESTAMP AS received_at, "
        "channel, context, properties, traits, line FROM mapped "
        "WHERE reason IS NULL AND NOT repeat ORDER BY line",
        params=[source_id, received_at],
    ).to_arrow_reader(chunk_rows)
    totals = [0, 0, 0, 0, 0]
    done = 0
    pending: Future[Appended] | None = None

    def settle() -> None:
        assert pending is not None
        got = pending.result()
        totals[0] += got.inserted
        totals[1] += got.suppressed
        totals[2] += got.present
        totals[3] += got.blocked
        totals[4] += got.flagged
        if progress:
            progress(done, n_good)

    if progress:
        progress(0, n_good)
    for chunk in _chunks(good, chunk_rows):
        if pending is not None:
            settle()
        pending = store.append_rows(chunk)
        done += chunk.num_rows
    if pending is not None:
        settle()
    return Appended(*totals)


def _bad_rows(
    con: duckdb.DuckDBPyConnection, kind: Format, max_bad_rows: int
) -> tuple[dict[str, int], list[BadRow]]:
    """Bad rows counted by field, and the first `max_bad_rows` of them (0: all) as reported."""
    by_field = dict(
        con.execute("SELECT field, count(*) FROM bad GROUP BY field ORDER BY 2 DESC").fetchall()
    )
    limit = "" if max_bad_rows <= 0 else f"LIMIT {int(max_bad_rows)}"
    listed = [
        BadRow(line=line, field=field, reason=reason, row=_row(payload, kind))
        for line, field, reason, payload in con.execute(
            f"SELECT line, field, reason, payload FROM bad ORDER BY line {limit}"
        ).fetchall()
    ]
    return {str(k): int(v) for k, v in by_field.items()}, listed


def _insert_rejected(con: duckdb.DuckDBPyConnection, bad: pa.Table) -> None:
    con.register("import_bad", bad)
    try:
        con.execute(
            "INSERT INTO rejected SELECT b.received_at, b.source, b.message_id, 'track', "
            "b.reason, b.payload FROM import_bad b WHERE NOT EXISTS (SELECT 1 FROM rejected r "
            "WHERE r.source = b.source AND r.message_id = b.message_id)"
        )
    finally:
        con.unregister("import_bad")


def _chunks(reader: pa.RecordBatchReader, rows: int) -> Iterator[pa.Table]:
    """Tables of at least `rows` rows (the last may be smaller) numbered `k` = 0, 1, ..."""
    batches: list[pa.RecordBatch] = []
    size = 0
    for batch in itertools.chain(reader, [None]):
        if batch is not None:
            batches.append(batch)
            size += batch.num_rows
        if size and (size >= rows or batch is None):
            chunk = pa.Table.from_batches(batches)
            yield chunk.append_column("k", pa.array(range(chunk.num_rows), pa.int64()))
            batches, size = [], 0


def _source_id(store: Store, name: str) -> str:
    try:
        return store.source(name).id
    except NotFound:
        try:
            return store.create_source(name).id
        except SpecError:  # created meanwhile by another import
            return store.source(name).id


def _row(payload: str | None, kind: str) -> Any:
    if payload is None:
        return None
    with suppress(orjson.JSONDecodeError):
        return orjson.loads(payload)
    return payload
