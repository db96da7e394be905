"""The directly-follows graph compiled with numba over the copy's columns.

One pass per range of whole profiles (side by side) counts nodes, edges, cases, starts and
ends and notes each edge row's gap; the gaps are then bucketed by edge (a counting sort: each
edge's gaps land in its own run) and each run is sorted and read at 0.5 and 0.9 as DuckDB's
`quantile_cont` reads it, edges side by side. Equal to the SQL over the copy (`dfg._coded`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from touchpath.analytics.kernels.columns import JourneyColumns, lerp, parts, threads

__all__ = ["MAX_NAMES", "DfgCounts", "count"]

MAX_NAMES = 512
"""Above this many activity names the per-edge tables grow too big: the SQL runs instead."""


@dataclass(frozen=True)
class DfgCounts:
    """Per activity code (index) and per edge (source * width + target; target `width - 1` is
    the journey's end): counts, cases and the gap quantiles in seconds."""

    width: int
    frequency: np.ndarray
    cases: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    edge_frequency: np.ndarray
    edge_cases: np.ndarray
    median: np.ndarray
    p90: np.ndarray


@numba.njit(nogil=True, cache=True)
def _gap_seconds(us):  # type: ignore[no-untyped-def]
    # DuckDB's epoch() of a time difference (`_seconds`), compared with a session gap.
    return (us // 86_400_000_000) * 86400.0 + (us % 86_400_000_000) / 1e6


@numba.njit(nogil=True, cache=True)
def _pass(pno, us, code, keep, lo, hi, collapse, gap, w, a, b, out, eout, eid, egap):  # type: ignore[no-untyped-def]
    # out[0..3]: frequency, cases, starts, ends per code; eout[0..1]: frequency, cases per edge.
    # A journey is a profile's rows or, with `gap` >= 0, a session of them: a new one starts
    # after more than `gap` seconds since the profile's row before (kept, not yet collapsed).
    # `case` numbers the journeys of this range (1, 2, ...) for the distinct-case counts.
    last_node = np.zeros(w, np.int64)
    last_edge = np.zeros(w * w, np.int64)
    cur = -1
    case = 0
    prev = -1  # the row before in this journey (kept)
    before = 0  # the time of the profile's row before (kept, before collapsing)
    for r in range(a, b):
        c = code[r]
        t = us[r]
        eid[r] = -1
        if keep[c] == 0 or t < lo or t >= hi:
            continue
        p = pno[r]
        opens = p != cur or (gap >= 0 and _gap_seconds(t - before) > gap)
        before = t
        if not opens and collapse and code[prev] == c:
            continue
        if opens:
            if prev >= 0:  # the journey before ends at `prev`
                e = code[prev] * w + (w - 1)
                out[3, code[prev]] += 1
                eout[0, e] += 1
                if last_edge[e] != case:
                    last_edge[e] = case
                    eout[1, e] += 1
            cur = p
            case += 1
            out[2, c] += 1
        else:
            e = code[prev] * w + c
            eout[0, e] += 1
            if last_edge[e] != case:
                last_edge[e] = case
                eout[1, e] += 1
            eid[prev] = e
            egap[prev] = t - us[prev]
        out[0, c] += 1
        if last_node[c] != case:
            last_node[c] = case
            out[1, c] += 1
        prev = r
    if prev >= 0:
        e = code[prev] * w + (w - 1)
        out[3, code[prev]] += 1
        eout[0, e] += 1
        if last_edge[e] != case:
            last_edge[e] = case
            eout[1, e] += 1


@numba.njit(parallel=True, nogil=True, cache=True)
def _passes(pno, us, code, keep, lo, hi, collapse, gap, w, cuts, out, eout, eid, egap):  # type: ignore[no-untyped-def]
    for i in numba.prange(len(cuts) - 1):
        _pass(
            pno,
            us,
            code,
            keep,
            lo,
            hi,
            collapse,
            gap,
            w,
            cuts[i],
            cuts[i + 1],
            out[i],
            eout[i],
            eid,
            egap,
        )


@numba.njit(nogil=True, cache=True)
def _bucket(eid, egap, offsets):  # type: ignore[no-untyped-def]
    fill = offsets[:-1].copy()
    runs = np.empty(offsets[-1], np.int64)
    for r in range(len(eid)):
        e = eid[r]
        if e >= 0:
            runs[fill[e]] = egap[r]
            fill[e] += 1
    return runs


@numba.njit(parallel=True, nogil=True, cache=True)
def _neighbours(runs, offsets, qs, lo, hi):  # type: ignore[no-untyped-def]
    # Per edge and quantile q: the gaps at floor and ceil of (n - 1) * q of its sorted run.
    for e in numba.prange(len(offsets) - 1):
        a, b = offsets[e], offsets[e + 1]
        if b == a:
            continue
        run = np.sort(runs[a:b])
        for i in range(len(qs)):
            rn = (b - a - 1) * qs[i]
            lo[e, i] = run[int(np.floor(rn))]
            hi[e, i] = run[int(np.ceil(rn))]


def _seconds(us: int) -> float:
    """DuckDB's epoch() of a time difference: whole days in seconds plus the rest."""
    return (us // 86_400_000_000) * 86400.0 + (us % 86_400_000_000) / 1e6


def _cont(lo_us: int, hi_us: int, n: int, q: float) -> float:
    """DuckDB's quantile_cont of gaps in microseconds (`lerp` of their seconds)."""
    return lerp(_seconds(lo_us), _seconds(hi_us), n, q)


def count(
    cols: JourneyColumns,
    keep: np.ndarray,
    lo: int,
    hi: int,
    collapse: bool,
    session_gap: float | None = None,
) -> DfgCounts:
    """The DFG's counts and gap quantiles over the copy's rows whose code `keep` marks, in
    [lo, hi) microseconds; `collapse` merges directly repeated activities. A journey is a
    profile's rows, or with `session_gap` (seconds) each of its sessions."""
    gap = -1.0 if session_gap is None else float(session_gap)
    w = cols.names + 2  # codes 1..names, and the end
    nparts = max(1, min(numba.get_num_threads(), cols.profiles // 2_000))
    cuts = parts(cols, nparts)
    out = np.zeros((nparts, 4, w), np.int64)
    eout = np.zeros((nparts, 2, w * w), np.int64)
    n = len(cols.code)
    eid = np.empty(n, np.int32)
    egap = np.empty(n, np.int64)
    keep_by_code = np.zeros(w, np.uint8)
    keep_by_code[: len(keep)] = keep
    with threads(n):
        _passes(cols.pno, cols.us, cols.code, keep_by_code, lo, hi, collapse, gap, w, cuts, out,
                eout, eid, egap)  # fmt: skip
    nodes = out.sum(axis=0)
    edges = eout.sum(axis=0)
    inner = edges[0].copy()
    inner[w - 1 :: w] = 0  # ends have no gap
    offsets = np.concatenate(([0], np.cumsum(inner))).astype(np.int64)
    runs = _bucket(eid, egap, offsets)
    qs = np.array([0.5, 0.9])
    los = np.zeros((w * w, 2), np.int64)
    his = np.zeros((w * w, 2), np.int64)
    with threads(n):
        _neighbours(runs, offsets, qs, los, his)
    median = np.full(w * w, np.nan)
    p90 = np.full(w * w, np.nan)
    for e in np.flatnonzero(inner):
        n = int(inner[e])
        median[e] = _cont(int(los[e, 0]), int(his[e, 0]), n, 0.5)
        p90[e] = _cont(int(los[e, 1]), int(his[e, 1]), n, 0.9)
    return DfgCounts(w, nodes[0], nodes[1], nodes[2], nodes[3], edges[0], edges[1], median, p90)


def warm(cols: JourneyColumns) -> None:
    """Load (or compile) the DFG passes by running them on `cols` (`kernels.warm`)."""
    count(cols, np.ones(cols.names + 1, np.uint8), -(2**62), 2**62, False)
