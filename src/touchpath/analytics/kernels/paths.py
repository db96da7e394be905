"""Paths compiled with numba over the copy's columns: one pass per range of whole profiles.

The pass gives the rows `paths.sorted_paths` gives (per session's first anchor, its path's
names from step `first_step`): rows outside the time range and excluded names (never an anchor)
are skipped; a row starts a session when its profile differs from the kept row before or the
gap is over `session_gap`; with `collapse`, a name repeating the kept row before within a
session is dropped (never an anchor or a session's first row). A start anchor's path runs on
up to `steps` names or the session's end; an end anchor's path is the up to `steps` names of
its session that end at it. Names, anchors and exclusions are looked up by activity code
(`names`), so the pass never touches a string.
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa

from touchpath.analytics.kernels.columns import JourneyColumns, parts

__all__ = ["ANCHORS", "made", "warm"]

ANCHORS = {None: 0, "start": 1, "end": 2}
"""The anchor of the paths: none (a session's first row), a start event or an end event."""


@numba.njit(nogil=True, cache=True)
def _part(pno, us, code, look, opts, a, b, out, names, counts, i):  # type: ignore[no-untyped-def]
    # look[0..2] per code: name index, anchor, excluded; opts: lo, hi, gap, n, mode, collapse.
    # Path j's profile, first step and size go to out[0..2, j], j from a; its names to names[a:]
    # (a range has at most one path and one name per row).
    lo, hi, gap, n, mode, collapse = opts[0], opts[1], opts[2], opts[3], opts[4], opts[5] != 0
    ring = np.empty(n, np.int32)  # the session's last n names (end anchor)
    paths = a
    nn = a
    cur = -1
    prev_t = 0
    prev_name = -1
    done = False  # this session's first anchor was seen
    filling = False  # a start anchor's path is taking names
    seen = 0  # names in this session (end anchor)
    for r in range(a, b):
        t = us[r]
        if t < lo or t >= hi:
            continue
        c = code[r]
        anc = look[1, c] != 0
        if look[2, c] != 0 and not anc:
            continue
        p = pno[r]
        new_s = p != cur or t > prev_t + gap
        name = look[0, c]
        repeat = collapse and not anc and not new_s and name == prev_name
        cur = p
        prev_t = t
        prev_name = name
        if repeat:
            continue
        if new_s:
            filling = False
            done = False
            seen = 0
        if mode == 2:
            ring[seen % n] = name
            seen += 1
            if anc and not done:
                done = True
                k = min(n, seen)
                out[0, paths] = p
                out[1, paths] = n - k + 1
                out[2, paths] = k
                paths += 1
                for j in range(seen - k, seen):
                    names[nn] = ring[j % n]
                    nn += 1
        elif filling:
            names[nn] = name
            nn += 1
            out[2, paths - 1] += 1
            filling = out[2, paths - 1] < n
        elif not done and ((mode == 0 and new_s) or (mode == 1 and anc)):
            done = True
            filling = True
            out[0, paths] = p
            out[1, paths] = 1
            out[2, paths] = 1
            paths += 1
            names[nn] = name
            nn += 1
    counts[i, 0] = paths - a
    counts[i, 1] = nn - a


@numba.njit(parallel=True, nogil=True, cache=True)
def _run(pno, us, code, look, opts, cuts, out, names, counts):  # type: ignore[no-untyped-def]
    for i in numba.prange(len(cuts) - 1):
        _part(pno, us, code, look, opts, cuts[i], cuts[i + 1], out, names, counts, i)


def _runs(cuts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices of each range's first `lengths[i]` slots (range i starts at `cuts[i]`)."""
    return np.concatenate([np.arange(a, a + k) for a, k in zip(cuts[:-1], lengths, strict=True)])


def made(
    cols: JourneyColumns,
    by_code: np.ndarray,
    labels: pa.Array,
    span: tuple[int, int],
    gap_s: int,
    steps: int,
    anchor: str | None,
    collapse: bool,
) -> pa.Table:
    """The path rows (`pid` the profile number, `first_step`, `path` the list of names) as
    `paths.sorted_paths` gives them. `by_code`: rows of int32 per activity code: the name's
    index in `labels`, whether it is an anchor, whether it is excluded; `span`: [lo, hi) in
    microseconds."""
    rows = len(cols.code)
    out = np.empty((3, rows), np.int32)
    names = np.empty(rows, np.int32)
    cuts = parts(cols, max(1, min(4 * numba.get_num_threads(), cols.profiles // 2_000)))
    counts = np.zeros((len(cuts) - 1, 2), np.int64)
    opts = np.array([span[0], span[1], gap_s * 1_000_000, steps, ANCHORS[anchor], collapse],
                    np.int64)  # fmt: skip
    _run(cols.pno, cols.us, cols.code, by_code, opts, cuts, out, names, counts)
    take = _runs(cuts, counts[:, 0])
    offsets = np.zeros(len(take) + 1, np.int32)
    np.cumsum(out[2, take], out=offsets[1:])
    values = labels.take(pa.array(names[_runs(cuts, counts[:, 1])]))
    return pa.table(
        {
            "pid": pa.array(out[0, take]),
            "first_step": pa.array(out[1, take]),
            "path": pa.ListArray.from_arrays(pa.array(offsets), values),
        }
    )


def warm(cols: JourneyColumns) -> None:
    """Load (or compile) the paths pass by running it on `cols` (`kernels.warm`)."""
    width = cols.names + 1
    by_code = np.stack([np.arange(width), np.ones(width), np.zeros(width)]).astype(np.int32)
    labels = pa.array([str(i) for i in range(width)])
    made(cols, by_code, labels, (-(2**62), 2**62), 1800, 5, "start", False)
