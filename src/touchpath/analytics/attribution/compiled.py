"""Attribution as the compiled pass over the sorted copy (`kernels.attribution`): the planner's
`kernel` choice, giving the rows and transitions the SQL over the copy gives.

The pass reads the copy's profile, time and activity code (`kernels.columns`) and, per row,
an index of its type and channel (`RowIndex`, read once per build: 2 bytes a row). What the
spec's conditions make of each (code, type, channel) is computed once per spec and build by
the same SQL expressions over the few combinations there are (`Lookups`): whether the row is a
conversion, may be a touch, keeps its channel, and its key. The conversions' revenue is the
SQL's own (the log's property, joined by seq), read once per spec and build in stored order;
the constants of the session gap, the time-decay and the position-based shares are the SQL's
literals as DuckDB reads them, so every weight is the SQL's to the bit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from touchpath.analytics.attribution import query
from touchpath.analytics.attribution.spec import (
    CONVERSION,
    NULL,
    RULE_MODELS,
    START,
    AttributionSpec,
)
from touchpath.analytics.dialects import render
from touchpath.analytics.sql import q
from touchpath.events.match import JOURNEY_TYPES, TimeRange, journey_types

if TYPE_CHECKING:
    from touchpath.analytics.kernels.columns import JourneyColumns
    from touchpath.analytics.registry import Read
    from touchpath.store.memo import Memo

__all__ = ["MAX_CELLS", "MAX_CHANNELS", "Lookups", "RowIndex", "credit", "row_index", "usable"]

MAX_CELLS = 1 << 22
"""At most this many (code, type, channel) cells in the lookups (else SQL)."""
MAX_CHANNELS = 255
"""At most this many channels (else SQL): each row's channel is found by its place in the
list, once per build."""
_READS = {"event", "type", "channel"}


@dataclass(frozen=True)
class RowIndex:
    """Per row of the copy, its type and channel: `type * (len(channels) + 1) + channel`
    (channel 0: none), how many rows each (code, type, channel) cell has, and the most rows
    of one profile."""

    built_at: datetime
    channels: tuple[str, ...]
    tc: np.ndarray
    cells: np.ndarray
    longest: int

    @property
    def width(self) -> int:
        """The (type, channel) indices per activity code."""
        return len(JOURNEY_TYPES) * (len(self.channels) + 1)


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: RowIndex | None = None


def _read_index(cur: duckdb.DuckDBPyConnection, cols: JourneyColumns) -> RowIndex | None:
    ((built_at,),) = cur.execute("SELECT max(built_at) FROM journey_build").fetchall()
    if built_at != cols.built_at:  # rebuilt since the columns were read
        return None
    channels = tuple(sorted(c for (c,) in cur.execute(
        "SELECT DISTINCT channel FROM journey_events WHERE channel IS NOT NULL").fetchall()))  # fmt: skip
    width = len(JOURNEY_TYPES) * (len(channels) + 1)
    if len(channels) > MAX_CHANNELS or (cols.names + 1) * width > MAX_CELLS:
        return None
    tc = cur.execute(
        "SELECT ((list_position(?, type) - 1) * ? + coalesce(list_position(?, channel), 0))"
        "::USMALLINT AS tc FROM journey_events",
        [list(JOURNEY_TYPES), len(channels) + 1, list(channels)],
    ).fetchnumpy()["tc"]
    tc = np.ascontiguousarray(tc, dtype=np.uint16)
    if len(tc) != len(cols.code):
        return None
    cells = np.bincount(cols.code.astype(np.int64) * width + tc, minlength=(cols.names + 1) * width)
    starts = np.flatnonzero(cols.pno[1:] != cols.pno[:-1]) + 1
    longest = int(np.diff(starts, prepend=0, append=len(tc)).max()) if len(tc) else 0
    return RowIndex(built_at, channels, tc, cells, longest)


def row_index(
    cur: duckdb.DuckDBPyConnection, cols: JourneyColumns, memo: Memo | None
) -> RowIndex | None:
    """The copy's per-row (type, channel) index for the build `cols` holds (one slot per
    store: a rebuilt copy replaces it); None when it cannot be read for that build."""
    if memo is None:
        return _read_index(cur, cols)
    slot: _Slot = memo.get(("attribution row index",), _Slot)
    with slot.lock:
        if slot.index is None or slot.index.built_at != cols.built_at:
            slot.index = None
            slot.index = _read_index(cur, cols)
        return slot.index


@dataclass(frozen=True)
class Lookups:
    """What one spec makes of each (code, type, channel) cell, and the keys' labels."""

    look: np.ndarray
    """int8 bits per cell: kernels.attribution's CONV, ELIGIBLE, KEPT."""
    keys: np.ndarray
    """int32 per cell: the index of its key in `labels`."""
    labels: list[str | None]
    conversions: int
    """Conversion rows in the copy."""


def _conditions(spec: AttributionSpec) -> dict[str, exp.Expr] | None:
    p = query._parts(spec)
    parts = {k: p[k] for k in ("is_conv", "eligible", "channels", "key")}
    read = {c.name for e in parts.values() for c in e.find_all(exp.Column)}
    return parts if read <= _READS else None


def _lookups(cur: duckdb.DuckDBPyConnection, spec: AttributionSpec, cols: JourneyColumns,
             index: RowIndex) -> Lookups | None:  # fmt: skip
    """The spec's lookups, or None when the rows of one cell differ under its conditions."""
    from touchpath.analytics.kernels.attribution import CONV, ELIGIBLE, KEPT

    parts = _conditions(spec)
    if parts is None:
        return None
    n = len(index.channels) + 1
    combos = cols.combos.to_pylist()
    channels: list[str | None] = [None, *index.channels]
    kind = {t: i for i, t in enumerate(JOURNEY_TYPES)}
    cells = pa.Table.from_pylist(
        [{**c, "channel": h, "tc": kind[c["type"]] * n + i}
         for c in combos if c["type"] in kind for i, h in enumerate(channels)],
        schema=pa.schema([("code", pa.int32()), ("type", pa.string()), ("event", pa.string()),
                          ("channel", pa.string()), ("tc", pa.int32())]),
    )  # fmt: skip
    per_cell = q(
        "SELECT code, tc, bool_or(c), bool_and(c), bool_or(el), bool_and(el), bool_or(ok), "
        "bool_and(ok), min(key), max(key), count(key), count(*) FROM (SELECT code, tc, "
        "coalesce(:is_conv, FALSE) AS c, coalesce(:eligible, FALSE) AS el, "
        "coalesce(:channels, FALSE) AS ok, :key AS key FROM tp_cells AS x) AS y GROUP BY code, tc",
        **parts,
    )
    cur.register("tp_cells", cells)
    try:
        found = cur.execute(render(per_cell)).fetchall()
    finally:
        cur.unregister("tp_cells")
    if any(c1 != c2 or e1 != e2 or k1 != k2 or lo != hi or 0 < some < every
           for _, _, c1, c2, e1, e2, k1, k2, lo, hi, some, every in found):  # fmt: skip
        return None
    named = sorted({lo for *_, lo, _, some, _ in found if some})
    labels: list[str | None] = [*named, None]
    at = {name: i for i, name in enumerate(named)}
    look = np.zeros(len(index.cells), np.int8)
    keys = np.full(len(index.cells), len(named), np.int32)
    for code, tc, c, _, el, _, ok, _, lo, _, some, _ in found:
        cell = int(code) * index.width + int(tc)
        look[cell] = (CONV if c else 0) | (ELIGIBLE if el else 0) | (KEPT if ok else 0)
        if some:
            keys[cell] = at[lo]
    conversions = int(index.cells[(look & CONV) != 0].sum())
    return Lookups(look, keys, labels, conversions)


def _prepared(
    cur: duckdb.DuckDBPyConnection, spec: AttributionSpec, memo: Memo | None
) -> tuple[JourneyColumns, RowIndex, Lookups] | None:
    from touchpath.analytics.kernels import columns

    if _conditions(spec) is None:
        return None
    cols = columns.load(cur, memo)
    index = row_index(cur, cols, memo)
    if index is None:
        return None
    what = spec.model_dump_json(
        include={"conversion", "touches", "exclude_touches", "exclude_channels", "by"}
    )
    key = ("attribution lookups", cols.built_at, what)
    if memo is None:
        found = _lookups(cur, spec, cols, index)
    else:
        found = memo.get(key, lambda: _lookups(cur, spec, cols, index))
    return None if found is None else (cols, index, found)


def usable(cur: duckdb.DuckDBPyConnection, spec: AttributionSpec, memo: Memo | None) -> bool:
    """Whether the compiled pass computes `spec` exactly (the planner's kernel test)."""
    return _prepared(cur, spec, memo) is not None


def _revenue(
    read: Read, spec: AttributionSpec, cols: JourneyColumns
) -> tuple[np.ndarray, np.ndarray]:
    """The profile number and revenue of every conversion row of the copy in stored order, the
    revenue as the SQL joins it from the log (kept per spec and build: the log's events do not
    change)."""
    p = query._parts(spec)

    def make() -> tuple[np.ndarray, np.ndarray]:
        sql = q(
            "SELECT c.pno, CAST(coalesce(r.revenue, 0) AS DOUBLE) AS revenue FROM (SELECT pno, ts, seq "
            "FROM journey_events WHERE :is_conv) AS c LEFT JOIN (SELECT seq, :revenue AS "
            "revenue FROM events WHERE :journey AND :is_conv) AS r USING (seq) "
            "ORDER BY c.pno, c.ts, c.seq",
            journey=journey_types(),
            **p,
        )
        got = read.cur.execute(render(sql)).fetchnumpy()
        return (np.ascontiguousarray(got["pno"], dtype=np.int32),
                np.ascontiguousarray(got["revenue"], dtype=np.float64))  # fmt: skip

    if not spec.revenue_property:
        return np.zeros(0, np.int32), np.zeros(0, np.float64)
    what = spec.model_dump_json(include={"conversion", "revenue_property"})
    if read.memo is None:
        return make()
    return read.memo.get(("attribution revenue", cols.built_at, what), make)


def _floats(read: Read, spec: AttributionSpec) -> tuple[float, ...]:
    """The SQL's literals of the session gap, half-life and position-based shares as DuckDB
    reads them (as `query.base` and `query.credit` write them)."""
    pf, pl = float(spec.position_first), float(spec.position_last)
    values = {"gap": float(spec.session_gap), "hl": spec.half_life / 86400.0, "pf": pf,
              "pl": pl, "both": pf + pl or 1.0, "middle": 1.0 - pf - pl}  # fmt: skip

    def make() -> tuple[float, ...]:
        sql = q("SELECT " + ", ".join(f"CAST(:{k} AS DOUBLE)" for k in values), **values)
        return tuple(float(x) for x in read.one(render(sql)))

    what = ("attribution floats", tuple(values.values()))
    return make() if read.memo is None else read.memo.get(what, make)


def _bounds(spec: AttributionSpec) -> tuple[int, int, int, int]:
    from touchpath.analytics.kernels.columns import bounds

    time_range = spec.time_range or TimeRange()
    lo, hi = bounds(time_range.start, time_range.end)
    lookback = int(spec.lookback) * 1_000_000
    lower = lo - lookback if time_range.start is not None else lo
    return lower, lo, hi, lookback


def credit(
    read: Read, spec: AttributionSpec
) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, int]]] | None:
    """The rows of `query.credit` (in its order) and the transitions of `query.transitions`
    (when the spec has the Markov model) over the copy, from the compiled pass; None when the
    pass cannot run now (the copy was rebuilt since the planner looked)."""
    from touchpath.analytics.kernels import attribution as kernel

    got = _prepared(read.cur, spec, read.memo)
    if got is None:
        return None
    cols, index, found = got
    revenue = _revenue(read, spec, cols)
    if spec.revenue_property and len(revenue[1]) != found.conversions:
        return None
    markov = "markov" in spec.models
    out = kernel.credit(cols, index.tc, found.look, found.keys, len(found.labels), revenue,
                        index.longest, _bounds(spec), spec.touch == "event", markov,
                        _floats(read, spec))  # fmt: skip
    return _rows(out, found.labels), _transitions(out, found.labels) if markov else []


def _rows(out: Any, labels: list[str | None]) -> list[tuple[Any, ...]]:
    """`query.credit`'s rows: per key with a path step, its ten sums, then the totals; ordered
    by last-touch conversions (descending), then key."""
    totals = (out.conversions, out.revenue, out.attributed, out.attributed_revenue)
    keys = [k for k in range(len(labels)) if out.touches[k]]
    keys.sort(key=lambda k: (-out.credit[k, 2], labels[k] is None, labels[k] or ""))
    rows = [(labels[k], *(float(x) for x in out.credit[k]), *totals) for k in keys]
    return rows or [(None, *([None] * 2 * len(RULE_MODELS)), *totals)]


def _transitions(out: Any, labels: list[str | None]) -> list[tuple[str, str, int]]:
    """`query.transitions`' rows (source, target, steps) as the runner reads them."""
    names = [str(x) for x in labels]
    src = [*names, START]
    dst = [*names, CONVERSION, NULL]
    return [(src[a], dst[b], int(out.transitions[a, b])) for a, b in np.argwhere(out.transitions)]
