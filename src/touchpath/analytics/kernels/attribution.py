"""Attribution compiled with numba over the copy's columns: one pass per range of whole profiles.

Per profile (its rows in stored order, rows before `lower` skipped): its conversions, and its
touches (eligible rows; with sessions, those more than `gap` seconds after the eligible row
before, as `epoch` differences; a channel the spec excludes is cut after the sessions are).
Each conversion's path is the run of touches after the conversion before it (in the profile,
in or out of the time range), at or before it and within `lookback`: the touches are in
stored order, so paths are consecutive runs found with one pointer. A conversion in the time
range credits its path's keys under the five rule-based models, and links its steps for the
Markov chain; the touches after the profile's last conversion in the range (within `lookback`
before its last touch) make its open path, which ends in `(null)`. Rows are looked up by
activity code and a per-row (type, channel) index (`look`), so the pass never touches a string.
Equal to `attribution.query`'s SQL over the copy (tests/test_attribution_kernel.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from touchpath.analytics.kernels.columns import JourneyColumns, parts, threads

__all__ = ["CONV", "ELIGIBLE", "KEPT", "PROFILES_PER_RANGE", "Credited", "credit", "warm"]

CONV, ELIGIBLE, KEPT = 1, 2, 4
"""`look`'s bits: a conversion, a row that may be a touch, a touch whose channel is kept."""
MICROS_PER_DAY = 86_400_000_000
PROFILES_PER_RANGE = 2_000
"""The pass splits the copy into ranges of this many profiles or more (up to four a thread)."""


@numba.njit(nogil=True, cache=True)
def _seconds(us):  # type: ignore[no-untyped-def]
    # DuckDB's epoch() of a timestamp difference: whole days and the rest, added as doubles.
    days = abs(us) // MICROS_PER_DAY
    if us < 0:
        days = -days
    return float(days * 86_400) + float(us - days * MICROS_PER_DAY) / 1e6


@numba.njit(nogil=True, cache=True)
def _gather(us, code, tc, look, keys, width, rev, o, g, s, e, at, tk, tu, cu, cr, ci):  # type: ignore[no-untyped-def]
    # Profile rows s..e-1: touches (key, time) into tk, tu and conversions (time, revenue,
    # in the range) into cu, cr, ci; `at` is the first conversion's index in `rev`.
    # How many touches, conversions, and conversion rows seen (below `lower` too).
    lower, lo, hi, every, gap = o[0], o[1], o[2], o[4] != 0, o[8]
    nt = 0
    nc = 0
    seen = 0
    prev = -1  # time of the eligible row before (none yet: -1 with `started` False)
    started = False
    for r in range(s, e):
        i = code[r] * width + tc[r]
        f = look[i]
        if f & 1:
            seen += 1
        t = us[r]
        if t < lower or f == 0:
            continue
        if f & 1:
            cu[nc] = t
            cr[nc] = rev[at + seen - 1] if o[6] else 0.0
            ci[nc] = lo <= t < hi
            nc += 1
        elif f & 2:
            new = every or not started or t - prev >= gap
            started = True
            prev = t
            if new and f & 4:
                tk[nt] = keys[i]
                tu[nt] = t
                nt += 1
    return nt, nc, seen


@numba.njit(nogil=True, cache=True)
def _credit(tk, tu, p0, p1, ct, rev, g, acc, seen):  # type: ignore[no-untyped-def]
    # The five rule-based models' credit for the path tk[p0:p1] of a conversion at ct.
    hl, pf, pl, both, middle = g[1], g[2], g[3], g[4], g[5]
    k = p1 - p0
    total = 0.0
    for q in range(p0, p1):
        total += 0.5 ** ((_seconds(ct - tu[q]) / 86400.0) / hl)
    for q in range(p0, p1):
        pos = q - p0 + 1
        key = tk[q]
        if k == 1:
            w4 = 1.0
        elif k == 2:
            w4 = (pf if pos == 1 else pl) / both
        elif pos == 1:
            w4 = pf
        elif pos == k:
            w4 = pl
        else:
            w4 = middle / (k - 2)
        w = (
            1.0 if pos == 1 else 0.0,
            1.0 if pos == k else 0.0,
            1.0 / k,
            0.5 ** ((_seconds(ct - tu[q]) / 86400.0) / hl) / total,
            w4,
        )
        for m in range(5):
            acc[key, 2 * m] += w[m]
            acc[key, 2 * m + 1] += w[m] * rev
        seen[key] += 1


@numba.njit(nogil=True, cache=True)
def _link(tk, p0, p1, end, trans):  # type: ignore[no-untyped-def]
    # The Markov chain's steps of the path tk[p0:p1], from (start) (the row after the keys)
    # to `end` (a column after the keys: (conversion) or (null)).
    src = trans.shape[0] - 1
    for q in range(p0, p1):
        trans[src, tk[q]] += 1
        src = tk[q]
    trans[src, end] += 1


@numba.njit(nogil=True, cache=True)
def _part(pno, us, code, tc, look, keys, width, rev, o, g, a, b, at, acc, seen, tot, money, trans):  # type: ignore[no-untyped-def]
    # Rows a..b-1 (whole profiles); `at`: the index in `rev` of their first conversion row.
    lookback, markov, most = o[3], o[5] != 0, o[7]
    tk = np.empty(most, np.int32)
    tu = np.empty(most, np.int64)
    cu = np.empty(most, np.int64)
    cr = np.empty(most, np.float64)
    ci = np.empty(most, np.bool_)
    n_keys = acc.shape[0]
    s = a
    while s < b:
        e = s + 1
        while e < b and pno[e] == pno[s]:
            e += 1
        nt, nc, used = _gather(us, code, tc, look, keys, width, rev, o, g, s, e, at,
                               tk, tu, cu, cr, ci)  # fmt: skip
        at += used
        i = 0  # the first touch after the conversion before
        last = -1  # the last conversion in the range
        for j in range(nc):
            ct = cu[j]
            while i < nt and tu[i] < ct - lookback:
                i += 1
            p0 = i
            while i < nt and tu[i] <= ct:
                i += 1
            if not ci[j]:
                continue
            last = j
            tot[0] += 1
            money[0] += cr[j]
            if i > p0:
                tot[1] += 1
                money[1] += cr[j]
                _credit(tk, tu, p0, i, ct, cr[j], g, acc, seen)
                if markov:
                    _link(tk, p0, i, n_keys, trans)
        if markov and nt and (last < 0 or tu[nt - 1] > cu[last]):
            p0 = nt - 1  # the open path: after the last conversion, within the lookback
            while (
                p0 > 0
                and tu[p0 - 1] >= tu[nt - 1] - lookback
                and (last < 0 or tu[p0 - 1] > cu[last])
            ):
                p0 -= 1
            _link(tk, p0, nt, n_keys + 1, trans)
        s = e


@numba.njit(parallel=True, nogil=True, cache=True)
def _run(pno, us, code, tc, look, keys, width, rev, o, g, cuts, at, acc, seen, tot, money, trans):  # type: ignore[no-untyped-def]
    for i in numba.prange(len(cuts) - 1):
        _part(pno, us, code, tc, look, keys, width, rev, o, g, cuts[i], cuts[i + 1], at[i],
              acc[i], seen[i], tot[i], money[i], trans[i])  # fmt: skip


@dataclass(frozen=True)
class Credited:
    """What the pass sums over every range."""

    credit: np.ndarray
    """Per key: conversions and revenue credited under each rule-based model (10 columns)."""
    touches: np.ndarray
    """Per key: the path steps it was credited for (none: no row)."""
    conversions: int
    revenue: float
    attributed: int
    attributed_revenue: float
    transitions: np.ndarray
    """Markov steps: [source key or (start), target key or (conversion) or (null)]."""


def credit(
    cols: JourneyColumns,
    tc: np.ndarray,
    look: np.ndarray,
    keys: np.ndarray,
    n_keys: int,
    revenue: tuple[np.ndarray, np.ndarray],
    longest: int,
    bounds: tuple[int, int, int, int],
    every: bool,
    markov: bool,
    floats: tuple[float, ...],
) -> Credited:
    """One pass over the copy. `look` and `keys` are indexed by `code * width + tc` (width:
    `len(look) // (cols.names + 1)`); `revenue`: the profile number and revenue of every
    conversion row in stored order (empty: none); `longest`: the most rows of one profile;
    `bounds`: lower (rows before are not read), the time range [lo, hi) of conversions and
    the lookback, in microseconds; `floats`: the session gap in seconds, the half-life in
    days, and the position-based first, last, both (first + last, or 1) and middle shares."""
    rows = len(cols.code)
    width = len(look) // (cols.names + 1)
    cuts = parts(
        cols, max(1, min(4 * numba.get_num_threads(), cols.profiles // PROFILES_PER_RANGE))
    )
    n = len(cuts) - 1
    acc = np.zeros((n, n_keys, 10), np.float64)
    seen = np.zeros((n, n_keys), np.int64)
    tot = np.zeros((n, 2), np.int64)
    money = np.zeros((n, 2), np.float64)
    trans = np.zeros((n, n_keys + 1, n_keys + 2) if markov else (n, 1, 2), np.int64)
    rev_pno, rev = revenue
    at = np.searchsorted(rev_pno, cols.pno[cuts[:-1]]) if len(rev) else np.zeros(n, np.int64)
    o = np.array([*bounds, every, markov, len(rev) > 0, longest, _after(floats[0])], np.int64)
    g = np.array(floats, np.float64)
    with threads(rows):
        _run(cols.pno, cols.us, cols.code, tc, look, keys, width, rev, o, g, cuts,
             at.astype(np.int64), acc, seen, tot, money, trans)  # fmt: skip
    total = tot.sum(axis=0)
    return Credited(
        credit=_ordered_sum(acc),
        touches=seen.sum(axis=0),
        conversions=int(total[0]),
        revenue=float(_ordered_sum(money[:, 0])),
        attributed=int(total[1]),
        attributed_revenue=float(_ordered_sum(money[:, 1])),
        transitions=trans.sum(axis=0),
    )


def _after(gap: float) -> int:
    """The fewest microseconds whose `_seconds` exceed `gap` (`_seconds` never decreases, so
    `_seconds(d) > gap` is `d >= _after(gap)`: an integer comparison per row)."""
    lo, hi = 0, 2**62
    while lo < hi:
        mid = (lo + hi) // 2
        if _seconds(mid) > gap:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _ordered_sum(per_range: np.ndarray) -> np.ndarray:
    """The ranges' sums added in range order (NumPy's pairwise sum is another order)."""
    out: np.ndarray = np.zeros_like(per_range[0])
    for x in per_range:
        out = out + x
    return out


def warm(cols: JourneyColumns) -> None:
    """Load (or compile) the attribution pass by running it on `cols` (`kernels.warm`)."""
    tc = np.zeros(len(cols.code), np.uint16)
    look = np.full(cols.names + 1, ELIGIBLE | KEPT, np.int8)
    look[-1] = CONV
    keys = np.arange(cols.names + 1, dtype=np.int32)
    convs = cols.pno[cols.code == cols.names]
    revenue = (convs, np.ones(len(convs), np.float64))
    bounds = (-(2**62), -(2**62), 2**62, 30 * MICROS_PER_DAY)
    credit(cols, tc, look, keys, cols.names + 1, revenue, len(cols.code), bounds, False, True,
           (1800.0, 7.0, 0.4, 0.4, 0.8, 0.2))  # fmt: skip
