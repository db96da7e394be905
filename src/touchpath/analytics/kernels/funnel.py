"""Funnel passes compiled with numba over the copy's columns: ordered, strict and any order.

Each gives the rows the SQL over the copy gives (`funnels.copy`): per profile and step reached,
`reached_at`, `gap_s`, `total_s` and `entry`, here in slots indexed by (profile number - 1) *
steps + step, filled by one pass per range of whole profiles, the ranges side by side
(`prange`). The same arithmetic as the SQL: seconds are `micros / 1e6` differences, so the
aggregates over the rows are equal to the bit.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pyarrow as pa

from touchpath.analytics.funnels.spec import HISTOGRAM_BUCKETS, FunnelSpec
from touchpath.analytics.kernels.columns import (
    JourneyColumns,
    bounds,
    parts,
    quantile,
    threads,
)

__all__ = ["made", "steps"]

NONE = -(2**62)
"""A level with no hit yet: no window or gap reaches it (as in `funnels.copy`)."""


@numba.njit(nogil=True, cache=True)
def _ordered_part(pno, us, code, lut, lo, hi, n, win, gap, a, b, reached, gaps, totals, entry, got):  # type: ignore[no-untyped-def]
    s = np.empty(n, np.int64)
    p = np.empty(n, np.int64)
    cur = -1
    for r in range(a, b):
        m = lut[code[r]]
        t = us[r]
        if m == 0 or t < lo or t >= hi:
            continue
        if pno[r] != cur:
            cur = pno[r]
            s[:] = NONE
            p[:] = NONE
        base = (cur - 1) * n
        for k in range(n):
            if k == 0:
                hit = (m & 1) != 0
            else:
                hit = (m >> k) & 1 != 0 and t <= s[k - 1] + win and (gap < 0 or t <= p[k - 1] + gap)
            if not hit:
                continue
            if s[k] == NONE:  # the profile's first hit at this level
                got[base + k] = 1
                reached[base + k] = t
                if k == 0:
                    gaps[base] = 0.0
                    totals[base] = 0.0
                    entry[base] = t
                else:
                    gaps[base + k] = t / 1e6 - p[k - 1] / 1e6
                    totals[base + k] = t / 1e6 - s[k - 1] / 1e6
                    entry[base + k] = entry[base]
            if k == 0:
                s[0] = t
                p[0] = t
            else:
                s[k] = s[k - 1]
                p[k] = t


@numba.njit(nogil=True, cache=True)
def _strict_part(pno, us, code, lut, lo, hi, n, win, gap, a, b, reached, gaps, totals, entry, got):  # type: ignore[no-untyped-def]
    # The last n rows of the profile in range: ring[i % n] holds row number i of the profile.
    rm = np.zeros(n, np.int64)
    rt = np.zeros(n, np.int64)
    cur = -1
    i = 0
    for r in range(a, b):
        t = us[r]
        if t < lo or t >= hi:
            continue
        if pno[r] != cur:
            cur = pno[r]
            i = 0
        m = lut[code[r]]
        rm[i % n] = m
        rt[i % n] = t
        if m != 0:
            base = (cur - 1) * n
            for k in range(min(n, i + 1)):
                if got[base + k]:
                    continue
                ok = True
                for j in range(k + 1):  # j rows back is step k - j
                    if (rm[(i - j) % n] >> (k - j)) & 1 == 0:
                        ok = False
                        break
                if not ok:
                    continue
                tk = rt[(i - k) % n]
                if k and t > tk + win:
                    continue
                if gap >= 0:
                    for j in range(k):
                        if rt[(i - j) % n] > rt[(i - j - 1) % n] + gap:
                            ok = False
                            break
                    if not ok:
                        continue
                got[base + k] = 1
                reached[base + k] = t
                gaps[base + k] = t / 1e6 - rt[(i - 1) % n] / 1e6 if k else 0.0
                totals[base + k] = t / 1e6 - tk / 1e6 if k else 0.0
        i += 1


@numba.njit(nogil=True, cache=True)
def _any_part(pno, us, code, lut, lo, hi, n, win, gap, a, b, reached, gaps, totals, entry, got):  # type: ignore[no-untyped-def]
    rows = np.empty(b - a, np.int64)  # the step rows in range
    c = 0
    for r in range(a, b):
        t = us[r]
        if lut[code[r]] != 0 and lo <= t < hi:
            rows[c] = r
            c += 1
    counts = np.zeros(n, np.int64)
    x = 0
    while x < c:
        who = pno[rows[x]]
        y = x
        while y < c and pno[rows[y]] == who:
            y += 1
        # rows x..y-1 are this profile's; the window of row i is [t_i, t_i + win], peers included.
        counts[:] = 0
        right = x
        left = x
        most = 0
        best = 0
        for i in range(x, y):
            t = us[rows[i]]
            if i > x and t == us[rows[i - 1]]:
                continue  # a peer: the same window as the row before
            while left < i:
                m = lut[code[rows[left]]]
                for k in range(n):
                    if (m >> k) & 1:
                        counts[k] -= 1
                left += 1
            while right < y and us[rows[right]] <= t + win:
                m = lut[code[rows[right]]]
                for k in range(n):
                    if (m >> k) & 1:
                        counts[k] += 1
                right += 1
            level = 0
            for k in range(n):
                if counts[k] > 0:
                    level += 1
            if level > most:
                most = level
                best = t
        base = (who - 1) * n
        for k in range(min(most, n)):
            got[base + k] = 1
            reached[base + k] = best
            entry[base + k] = best
        x = y


@numba.njit(parallel=True, nogil=True, cache=True)
def _run(which, pno, us, code, lut, lo, hi, n, win, gap, cuts, reached, gaps, totals, entry, got):  # type: ignore[no-untyped-def]
    for i in numba.prange(len(cuts) - 1):
        a, b = cuts[i], cuts[i + 1]
        if which == 0:
            _ordered_part(
                pno, us, code, lut, lo, hi, n, win, gap, a, b, reached, gaps, totals, entry, got
            )
        elif which == 1:
            _strict_part(
                pno, us, code, lut, lo, hi, n, win, gap, a, b, reached, gaps, totals, entry, got
            )
        else:
            _any_part(
                pno, us, code, lut, lo, hi, n, win, gap, a, b, reached, gaps, totals, entry, got
            )


_ORDERS = {"ordered": 0, "strict": 1, "any": 2}


def _pass(
    cols: JourneyColumns, spec: FunnelSpec, lut: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The compiled pass: the slots reached (`idx`, (profile number - 1) * steps + step, in
    order) and, by slot, `reached`, `gaps`, `totals` and `entry`."""
    n = len(spec.steps)
    slots = cols.profiles * n
    reached = np.zeros(slots, np.int64)
    gaps = np.zeros(slots, np.float64)
    totals = np.zeros(slots, np.float64)
    entry = np.zeros(slots, np.int64)
    got = np.zeros(slots, np.uint8)
    lo, hi = bounds(spec.time_range.start, spec.time_range.end)
    gap = int(spec.max_step_gap) * 1_000_000 if spec.max_step_gap is not None else -1
    cuts = parts(cols, max(1, min(4 * numba.get_num_threads(), cols.profiles // 2_000)))
    with threads(len(cols.code)):
        _run(_ORDERS[spec.order], cols.pno, cols.us, cols.code, lut, lo, hi, n,
             int(spec.window) * 1_000_000, gap, cuts, reached, gaps, totals, entry, got)  # fmt: skip
    idx = np.flatnonzero(got)
    if spec.order == "strict":  # entry: the profile's step-1 time, as the SQL's join gives it
        entry[idx] = reached[idx - idx % n]
    return idx, reached, gaps, totals, entry


def made(cols: JourneyColumns, spec: FunnelSpec, lut: np.ndarray) -> pa.Table:
    """The funnel's rows (`pid` the profile number, `step`, `reached_at`, `gap_s`, `total_s`,
    `entry`, `grp` NULL) as the SQL over the copy gives them, from one compiled pass."""
    n = len(spec.steps)
    idx, reached, gaps, totals, entry = _pass(cols, spec, lut)
    nulls = pa.nulls(len(idx), pa.float64())
    return pa.table(
        {
            "pid": pa.array(idx // n + 1, pa.int32()),
            "step": pa.array(idx % n, pa.int32()),
            "reached_at": pa.array(reached[idx], pa.timestamp("us")),
            "gap_s": nulls if spec.order == "any" else pa.array(gaps[idx]),
            "total_s": nulls if spec.order == "any" else pa.array(totals[idx]),
            "entry": pa.array(entry[idx], pa.timestamp("us")),
            "grp": pa.nulls(len(idx), pa.string()),
        }
    )


_HIGHS = np.array([high for _, high in HISTOGRAM_BUCKETS[:-1]], np.float64)


def _times(values: np.ndarray | None) -> tuple[list[float | None] | None, list[int]]:
    """`TP_QUANTILES(x, 0.5, 0.9)` and the histogram's bucket counts (`query._bucket`: the
    first bucket whose bound is above x, none for a negative x) of one step's seconds (None:
    NULL, as the any-order funnel gives)."""
    if values is None or not len(values):
        return None, [0] * len(HISTOGRAM_BUCKETS)
    kept = values[values >= 0]
    counts = np.bincount(np.searchsorted(_HIGHS, kept, side="right"),
                         minlength=len(HISTOGRAM_BUCKETS))  # fmt: skip
    return [quantile(values, 0.5), quantile(values, 0.9)], [int(c) for c in counts]


def steps(cols: JourneyColumns, spec: FunnelSpec, lut: np.ndarray) -> list[tuple[Any, ...]]:
    """The rows `query.steps(made, grouped_by=False)` gives over `made`'s rows (per step
    reached: NULL group, step, count, the gap and total quantiles, everyone, the gap then the
    total histogram), computed here from the pass without handing its rows to DuckDB: on the
    1M demo that aggregate cost more than the pass. Equal to the SQL to the bit
    (tests/test_kernels.py)."""
    n = len(spec.steps)
    idx, _, gaps, totals, _ = _pass(cols, spec, lut)
    step = idx % n
    rows: list[tuple[Any, ...]] = []
    timed = spec.order != "any"
    for k in range(n):
        at = idx[step == k]
        if not len(at):
            continue
        gq, gh = _times(gaps[at] if timed else None)
        tq, th = _times(totals[at] if timed else None)
        rows.append((None, k, len(at), gq, tq, 1, *gh, *th))
    return rows


def warm(cols: JourneyColumns) -> None:
    """Load (or compile) the funnel passes by running one on `cols` (`kernels.warm`)."""
    spec = FunnelSpec.model_validate({"steps": [{"event": "a"}, {"event": "b"}], "window": 3600})
    made(cols, spec, np.array([0, 1, 2, 0], np.int32)[: cols.names + 1])
