"""Retention compiled with numba over the copy's columns: one pass per range of whole profiles.

Per profile (its rows in time order): its entries (its first cohort event ever, kept when in
the time range; or, `recurring`, its first cohort event of each period in the range), and for
each entry the periods k in which it has a return event in the range at or after the entry
(`on`: k < periods; `on_or_after`: k and every period before it). Periods are numbered as
DuckDB's `date_trunc` cuts them (days, Monday weeks, calendar months, UTC), so period k is
`date_diff` of the two truncated dates. The cohort table is summed per period over the ranges.
The pass also notes each return's gap to the profile's return before (seconds as `epoch`
differences) for the repeat statistics, read at 0.5 and 0.9 as `quantile_cont` reads them.
Equal to `retention_query` and its aggregates (tests/test_kernels.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numba
import numpy as np

from touchpath.analytics.kernels.columns import JourneyColumns, parts, quantile, threads

__all__ = ["UNITS", "Retained", "count", "period", "warm"]

UNITS = {"day": 0, "week": 1, "month": 2}
MAX_CELLS = 20_000_000
"""Above this many (period, k) cells per range the dense table grows too big: SQL instead."""


@numba.njit(nogil=True, cache=True)
def period(us, unit):  # type: ignore[no-untyped-def]
    """The period number of a time in microseconds: days since 1970-01-01, Monday weeks
    (week 0 starts on 1969-12-29) or months since year 0 (year * 12 + month - 1)."""
    d = us // 86_400_000_000
    if unit == 0:
        return d
    if unit == 1:
        return (d + 3) // 7
    z = d + 719_468  # civil from days (H. Hinnant): eras of 400 years from 0000-03-01
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return y * 12 + m - 1


@numba.njit(nogil=True, cache=True)
def _entry(pno, us, code, look, o, s, e, ep, et):  # type: ignore[no-untyped-def]
    # The entries of profile rows s..e-1 into ep (period), et (time); how many.
    lo, hi, unit, recurring = o[0], o[1], o[2], o[5]
    m = 0
    for r in range(s, e):
        if look[code[r]] & 1 == 0:
            continue
        t = us[r]
        if recurring == 0:  # the first ever, kept when in the range
            if lo <= t < hi:
                ep[0] = period(t, unit)
                et[0] = t
                return 1
            return 0
        if lo <= t < hi:
            p = period(t, unit)
            if m == 0 or ep[m - 1] != p:
                ep[m] = p
                et[m] = t
                m += 1
    return m


@numba.njit(nogil=True, cache=True)
def _returns(us, code, look, lo, hi, s, e, gaps, firsts, at, tally):  # type: ignore[no-untyped-def]
    # The gaps between consecutive return events of profile rows s..e-1 into gaps[at + ...]
    # and the first of them into firsts[at + ...]; tally: gaps, firsts, profiles with a return.
    prev = 0
    seen = 0
    for r in range(s, e):
        t = us[r]
        if look[code[r]] & 2 == 0 or t < lo or t >= hi:
            continue
        seen += 1
        if seen > 1:
            g = t / 1e6 - prev / 1e6
            gaps[at + tally[0]] = g
            tally[0] += 1
            if seen == 2:
                firsts[at + tally[1]] = g
                tally[1] += 1
        prev = t
    if seen:
        tally[2] += 1


@numba.njit(nogil=True, cache=True)
def _part(pno, us, code, look, o, a, b, size, kept, gaps, firsts, tally, ep, et, hit):  # type: ignore[no-untyped-def]
    # o: lo, hi, unit, periods, unbounded, recurring, base. size[c], kept[c, k] by period
    # c - base; the range's gaps from gaps[a], its firsts from firsts[a] (`_returns`).
    lo, hi, unit, n, unbounded, base = o[0], o[1], o[2], o[3], o[4], o[6]
    s = a
    while s < b:
        e = s
        while e < b and pno[e] == pno[s]:
            e += 1
        m = _entry(pno, us, code, look, o, s, e, ep, et)
        for j in range(m):
            size[ep[j] - base] += 1
            hit[:] = 0
            top = -1
            for r in range(s, e):
                t = us[r]
                if look[code[r]] & 2 == 0 or t < et[j] or t >= hi or t < lo:
                    continue
                k = period(t, unit) - ep[j]
                if unbounded:
                    top = max(top, k)
                elif k < n:
                    hit[k] = 1
            if unbounded:
                hit[: min(top + 1, n)] = 1
            for k in range(n):
                kept[ep[j] - base, k] += hit[k]
        _returns(us, code, look, lo, hi, s, e, gaps, firsts, a, tally)
        s = e


@numba.njit(parallel=True, nogil=True, cache=True)
def _run(pno, us, code, look, o, cuts, size, kept, gaps, firsts, tally):  # type: ignore[no-untyped-def]
    for i in numba.prange(len(cuts) - 1):
        a, b = cuts[i], cuts[i + 1]
        ep = np.empty(b - a + 1, np.int64)
        et = np.empty(b - a + 1, np.int64)
        hit = np.zeros(o[3], np.int64)
        _part(pno, us, code, look, o, a, b, size[i], kept[i], gaps, firsts, tally[i], ep, et, hit)


@dataclass(frozen=True)
class Retained:
    """The cohort table (cohorts with entries, in order) and the repeat statistics."""

    cohorts: list[tuple[date, int, list[int]]]
    profiles: int
    repeaters: int
    median_gap_s: float | None
    p90_gap_s: float | None
    median_first_to_second_s: float | None


def _date(p: int, unit: int) -> date:
    """The first day of period number `p`."""
    if unit == 0:
        return date(1970, 1, 1) + timedelta(days=p)
    if unit == 1:
        return date(1970, 1, 1) + timedelta(days=7 * p - 3)
    return date(p // 12, p % 12 + 1, 1)


def cells(cols: JourneyColumns, unit: str, periods: int) -> int:
    """How many (period, k) cells one range's table has (see MAX_CELLS)."""
    if not len(cols.us):
        return 0
    u = UNITS[unit]
    first, last = cols.span
    return int(period(last, u) - period(first, u) + 1) * periods


def count(
    cols: JourneyColumns,
    look: np.ndarray,
    span: tuple[int, int],
    unit: str,
    periods: int,
    unbounded: bool,
    recurring: bool,
) -> Retained:
    """The cohort table and repeat statistics over the copy: `look` per activity code has bit
    0 for a cohort event and bit 1 for a return event; `span` is [lo, hi) in microseconds."""
    u = UNITS[unit]
    cols = cols.only(look)  # the pass skips every other row: cohort and return rows alone
    rows = len(cols.code)
    first, last = cols.span
    base = int(period(first, u)) if rows else 0
    width = int(period(last, u)) - base + 1 if rows else 1
    cuts = parts(cols, max(1, min(numba.get_num_threads(), cols.profiles // 2_000)))
    size = np.zeros((len(cuts) - 1, width), np.int64)
    kept = np.zeros((len(cuts) - 1, width, periods), np.int64)
    # Written from each range's first row on, only as far as it has gaps (untouched pages of
    # np.empty cost nothing): no pass over every row after the kernel's.
    gaps = np.empty(rows, np.float64)
    firsts = np.empty(rows, np.float64)
    tally = np.zeros((len(cuts) - 1, 3), np.int64)
    o = np.array([span[0], span[1], u, periods, unbounded, recurring, base], np.int64)
    with threads(rows):
        _run(cols.pno, cols.us, cols.code, look, o, cuts, size, kept, gaps, firsts, tally)
    sizes, kepts = size.sum(axis=0), kept.sum(axis=0)
    cohorts = [
        (_date(base + int(c), u), int(sizes[c]), [int(x) for x in kepts[c]])
        for c in np.flatnonzero(sizes)
    ]
    starts = cuts[:-1]
    all_gaps = np.concatenate([gaps[a : a + g] for a, g in zip(starts, tally[:, 0], strict=True)])
    seconds = np.concatenate([firsts[a : a + f] for a, f in zip(starts, tally[:, 1], strict=True)])
    return Retained(
        cohorts=cohorts,
        profiles=int(tally[:, 2].sum()),
        repeaters=len(seconds),
        median_gap_s=quantile(all_gaps, 0.5),
        p90_gap_s=quantile(all_gaps, 0.9),
        median_first_to_second_s=quantile(seconds, 0.5),
    )


def warm(cols: JourneyColumns) -> None:
    """Load (or compile) the retention pass by running it on `cols` (`kernels.warm`)."""
    look = np.array([0, 3, 2, 0], np.int32)[: cols.names + 1]
    count(cols, look, (-(2**62), 2**62), "week", 8, False, False)
    period(0, 2)
