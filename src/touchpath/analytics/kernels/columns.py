"""The sorted journey copy's columns in memory: read once per build, shared by every kernel.

`journey_events` is read once into three NumPy arrays (profile number, time in microseconds,
activity code: 16 bytes an event, 160 MB for 10M) and kept until the copy is rebuilt; one slot
per store, so a rebuilt copy replaces the old arrays instead of adding to them.
`combos` are the distinct (code, type, event) of the copy, from which a step's condition on
`event` and `type` becomes a lookup by code (`masks`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from touchpath.analytics.dialects import render

if TYPE_CHECKING:
    from touchpath.store.memo import Memo

__all__ = [
    "PARALLEL_ROWS",
    "JourneyColumns",
    "bounds",
    "by_code",
    "lerp",
    "load",
    "masks",
    "parts",
    "per_code",
    "quantile",
    "threads",
]

NO_TIME = np.iinfo(np.int64).max

_libm = ctypes.CDLL(ctypes.util.find_library("m"))
_fma = _libm.fma
_fma.restype = ctypes.c_double
_fma.argtypes = [ctypes.c_double, ctypes.c_double, ctypes.c_double]


@dataclass(frozen=True)
class JourneyColumns:
    """The copy as arrays, in stored (profile, time, seq) order."""

    built_at: datetime
    pno: np.ndarray
    """int32 profile numbers 1..profiles."""
    us: np.ndarray
    """int64 microseconds since the epoch (UTC)."""
    code: np.ndarray
    """int32 activity codes (`journey_names`)."""
    profiles: int
    names: int
    """The highest activity code."""
    combos: pa.Table
    """The distinct (code, type, event) rows of the copy."""

    @cached_property
    def span(self) -> tuple[int, int]:
        """The first and last time in microseconds (0, 0 when empty): two passes over `us`,
        made once per build, not per analysis."""
        if not len(self.us):
            return 0, 0
        return int(self.us.min()), int(self.us.max())

    @cached_property
    def by_code(self) -> tuple[np.ndarray, np.ndarray]:
        """The row numbers grouped by activity code, each group in stored order, and where
        each code's group starts (`starts[c]:starts[c + 1]`): made once per build, 4 bytes a
        row (a stable radix sort of the codes)."""
        small = self.code.astype(np.uint16) if self.names < 2**16 else self.code
        order = np.argsort(small, kind="stable").astype(
            np.int64 if len(self.code) >= 2**31 else np.int32
        )
        starts = np.concatenate(([0], np.cumsum(np.bincount(self.code, minlength=self.names + 1))))
        return order, starts

    def only(self, lut: np.ndarray) -> JourneyColumns:
        """The rows whose code has a nonzero `lut` entry, in stored order (a pass that skips
        every other row gives the same answer over these alone)."""
        order, starts = self.by_code
        codes = np.flatnonzero(lut)
        if len(codes) <= 1:  # one group (or none) is already in stored order
            c = int(codes[0]) if len(codes) else 0
            rows = order[starts[c] : starts[c + 1]] if len(codes) else order[:0]
        else:  # merged in stored order by a mask (no sort)
            mask = np.zeros(len(self.code), np.bool_)
            for k in codes:
                mask[order[starts[k] : starts[k + 1]]] = True
            rows = np.flatnonzero(mask)
        return JourneyColumns(self.built_at, self.pno[rows], self.us[rows], self.code[rows],
                              self.profiles, self.names, self.combos)  # fmt: skip


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.columns: JourneyColumns | None = None


def _read(cur: duckdb.DuckDBPyConnection, built_at: datetime) -> JourneyColumns:
    cols = cur.execute("SELECT pno, epoch_us(ts) AS us, code FROM journey_events").fetchnumpy()
    pno = np.ascontiguousarray(cols["pno"], dtype=np.int32)
    us = np.ascontiguousarray(cols["us"], dtype=np.int64)
    code = np.ascontiguousarray(cols["code"], dtype=np.int32)
    ((profiles, names),) = cur.execute(
        "SELECT (SELECT count(*) FROM journey_profiles), (SELECT coalesce(max(code), 0) "
        "FROM journey_names)"
    ).fetchall()
    combos = cur.sql("SELECT DISTINCT code, type, event FROM journey_events").to_arrow_table()
    return JourneyColumns(built_at, pno, us, code, int(profiles), int(names), combos)


def load(cur: duckdb.DuckDBPyConnection, memo: Memo | None) -> JourneyColumns:
    """The copy's columns as of its last build (read now when the store's slot holds an older
    build, or when there is no memo to keep them in)."""
    ((built_at,),) = cur.execute("SELECT max(built_at) FROM journey_build").fetchall()
    if memo is None:
        return _read(cur, built_at)
    slot: _Slot = memo.get(("kernel columns",), _Slot)
    with slot.lock:
        if slot.columns is None or slot.columns.built_at != built_at:
            slot.columns = None  # the old arrays go before the new ones are read
            slot.columns = _read(cur, built_at)
        return slot.columns


def by_code(memo: Memo | None, matches: list[Any]) -> list[exp.Expr] | None:
    """The conditions of `matches` (event matches) when they read only `event` and `type`, so
    a lookup by activity code can answer them (None otherwise); kept in the store's memo by
    the matches themselves, so they are built once, not on every analysis."""

    def make() -> list[exp.Expr] | None:
        conds: list[exp.Expr] = [m.condition() for m in matches]
        if any(c.name not in ("event", "type") for e in conds for c in e.find_all(exp.Column)):
            return None
        return conds

    if memo is None:
        return make()
    return memo.get(("by code", tuple(m.model_dump_json() for m in matches)), make)


def masks(
    cur: duckdb.DuckDBPyConnection, cols: JourneyColumns, conditions: list[exp.Expr]
) -> np.ndarray | None:
    """Per activity code, the bit mask of the `conditions` (on `event` and `type`) its rows
    meet (bit k: condition k), or None when rows of one code differ (then no lookup by code
    is exact)."""
    mask: exp.Expr = exp.Literal.number(0)
    for i, cond in enumerate(conditions):
        bit = exp.Case().when(cond, exp.Literal.number(1 << i)).else_(exp.Literal.number(0))
        mask = exp.BitwiseOr(this=mask, expression=bit)
    sql = (
        f"SELECT code, min(m), max(m) FROM (SELECT code, {render(mask)} AS m FROM tp_combos) "
        "GROUP BY code"
    )
    found = per_code(cur, cols, sql)
    lut = np.zeros(cols.names + 1, dtype=np.int32)
    for code, low, high in found:
        if low != high:
            return None
        lut[int(code)] = int(low)
    return lut


def per_code(cur: duckdb.DuckDBPyConnection, cols: JourneyColumns, sql: str) -> list[Any]:
    """The rows of `sql` over `tp_combos`, the copy's distinct (code, type, event)."""
    cur.register("tp_combos", cols.combos)
    try:
        return cur.execute(sql).fetchall()
    finally:
        cur.unregister("tp_combos")


def lerp(lo: float, hi: float, n: int, q: float) -> float:
    """DuckDB's quantile_cont of `n` values whose neighbours at (n - 1) * q are `lo` and `hi`:
    `lo * (1 - d) + hi * d` with the first product and the sum fused, as its build computes it
    (to the bit)."""
    rn = (n - 1) * q
    d = rn - math.floor(rn)
    if math.floor(rn) == math.ceil(rn):
        return lo
    return float(_fma(lo, 1.0 - d, hi * d))


def quantile(values: np.ndarray, q: float) -> float | None:
    """`quantile_cont(values, q)` of DuckDB, to the bit (None for no values)."""
    n = len(values)
    if n == 0:
        return None
    rn = (n - 1) * q
    at = [int(np.floor(rn)), int(np.ceil(rn))]
    lo, hi = np.partition(values, at)[at]
    return lerp(float(lo), float(hi), n, q)


def bounds(start: datetime | None, end: datetime | None) -> tuple[int, int]:
    """A time range's [start, end) in microseconds since the epoch (open ends: the extremes)."""

    def micros(value: datetime) -> int:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta = value - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    lo = micros(start) if start is not None else -NO_TIME
    hi = micros(end) if end is not None else NO_TIME
    return lo, hi


PARALLEL_ROWS = 1_000_000
"""Below this many rows a pass runs on the calling thread: a parallel region costs a thread
hand-off per call (30-160 ms measured on a 2-core machine under load 20, against well under
1 ms for 100k rows on one thread)."""


@contextmanager
def threads(rows: int) -> Iterator[None]:
    """Passes over `rows` rows run in this block on every core, or on this thread alone when
    they are few (`PARALLEL_ROWS`); numba's thread count is the calling thread's own."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(before if rows >= PARALLEL_ROWS else 1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def parts(cols: JourneyColumns, n: int) -> np.ndarray:
    """`n + 1` row offsets that split the copy into `n` ranges of whole profiles."""
    cuts = np.array([cols.profiles * i // n for i in range(1, n)], dtype=np.int32)
    inner = np.searchsorted(cols.pno, cuts, side="right")
    return np.concatenate(([0], inner, [len(cols.pno)])).astype(np.int64)
