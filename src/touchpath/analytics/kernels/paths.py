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

from touchpath.analytics.kernels.columns import JourneyColumns, parts, threads

__all__ = ["ANCHORS", "DENSE_EDGES", "KEY_BITS", "Summary", "made", "summary", "warm"]

ANCHORS = {None: 0, "start": 1, "end": 2}
"""The anchor of the paths: none (a session's first row), a start event or an end event."""


@numba.njit(nogil=True, cache=True)
def _part(pno, us, code, look, opts, a, b, out, names, counts, i):  # type: ignore[no-untyped-def]
    # look per code: name index << 2 | anchor << 1 | excluded; opts: lo, hi, gap, n, mode,
    # collapse. Path j's profile, first step and size go to out[0..2, j], j from a; its names
    # to names[a:] (a range has at most one path and one name per row). Once a session's path
    # is made, its other rows only carry the profile, time and name on.
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
        f = look[code[r]]
        if f & 3 == 1:  # excluded, and not an anchor
            continue
        p = pno[r]
        new_s = p != cur or t > prev_t + gap
        name = f >> 2
        last = prev_name
        cur = p
        prev_t = t
        prev_name = name
        anc = f & 2 != 0
        if new_s:
            filling = False
            done = False
            seen = 0
        elif (done and not filling) or (collapse and not anc and name == last):
            continue  # the session's path is made, or the name repeats
        if mode == 2:
            ring[seen % n] = name
            seen += 1
            if anc:
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
        elif (mode == 0 and new_s) or (mode == 1 and anc):
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


Summary = tuple[int, list[tuple[int, str, str, int]], dict[tuple[int, str], int],
                list[tuple[list[str], int]]]  # fmt: skip
"""What the paths' aggregates give: the number of paths, the top edges (step, name, target,
weight), the count of each (step, name), and the top paths."""


def made(
    cols: JourneyColumns,
    by_code: np.ndarray,
    span: tuple[int, int],
    gap_s: int,
    steps: int,
    anchor: str | None,
    collapse: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paths `paths.sorted_paths` gives, as arrays: each path's first step and size, and
    all their names' indices in order. `by_code`: rows of int32 per activity code: the name's
    index, whether it is an anchor, whether it is excluded; `span`: [lo, hi) in microseconds."""
    rows = len(cols.code)
    out = np.empty((3, rows), np.int32)
    names = np.empty(rows, np.int32)
    cuts = parts(cols, max(1, min(4 * numba.get_num_threads(), cols.profiles // 2_000)))
    counts = np.zeros((len(cuts) - 1, 2), np.int64)
    opts = np.array([span[0], span[1], gap_s * 1_000_000, steps, ANCHORS[anchor], collapse],
                    np.int64)  # fmt: skip
    look = (by_code[0] << 2) | ((by_code[1] != 0) << 1) | (by_code[2] != 0)
    with threads(rows):
        _run(cols.pno, cols.us, cols.code, look.astype(np.int32), opts, cuts, out, names, counts)
    take = _runs(cuts, counts[:, 0])
    return out[1, take], out[2, take], names[_runs(cuts, counts[:, 1])]


DENSE_EDGES = 1 << 22
"""Edges are counted in a dense (step, name, target) table up to this many cells (32 MB),
else by sorting their keys."""
KEY_BITS = 62
"""A path's key packs its names in one int64 while they fit in this many bits (`_keys`)."""


@numba.njit(nogil=True, cache=True)
def _tally(first, size, names, width, nodes, edges, pairs, keys):  # type: ignore[no-untyped-def]
    # One pass over the paths: nodes[step * width + name] += 1; each edge's key
    # (step * width + name) * width + target counted in `edges` (dense) or listed in `pairs`
    # (when `edges` is empty); each path's names + 1 as base-`width` digits, padded with 0 to
    # the longest path, in `keys` (unless it is empty: they overflow `KEY_BITS`).
    longest = size.max()
    at = 0
    e = 0
    for i in range(len(size)):
        k = size[i]
        key = 0
        for q in range(k):
            node = (first[i] + q) * width + names[at + q]
            nodes[node] += 1
            if q + 1 < k:
                if len(edges):
                    edges[node * width + names[at + q + 1]] += 1
                else:
                    pairs[e] = node * width + names[at + q + 1]
                    e += 1
            key = key * width + names[at + q] + 1
        if len(keys):
            for _ in range(k, longest):
                key *= width
            keys[i] = key
        at += k


def summary(
    made: tuple[np.ndarray, np.ndarray, np.ndarray],
    labels: list[str],
    least: int,
    most: int,
    top_paths: int,
) -> Summary:
    """The aggregates of the paths `made` (names as indices into `labels`, which are sorted,
    so index order is the SQL's text order): edges with at least `least` paths, the `most`
    heaviest (ties by step, name, target), and the `top_paths` most taken paths (ties in
    list order, a path before its extensions). One compiled pass counts the (step, name)
    nodes and the edges in small dense tables and gives each path an ordered key, so nothing
    is sorted but the paths' keys."""
    first, size, names = made
    if not len(size):
        return 0, [], {}, []
    width = len(labels) + 1
    cells = int((first.astype(np.int64) + size).max()) * width
    nodes = np.zeros(cells, np.int64)
    dense = cells * width <= DENSE_EDGES
    edges = np.zeros(cells * width if dense else 0, np.int64)
    pairs = np.empty(0 if dense else len(names), np.int64)
    fits = width ** int(size.max()) < 2**KEY_BITS
    keys = np.empty(len(size) if fits and top_paths else 0, np.int64)
    _tally(first, size, names, width, nodes, edges, pairs, keys)
    counts = {
        (int(k // width), labels[int(k % width)]): int(nodes[k]) for k in np.flatnonzero(nodes)
    }
    if dense:
        edge = np.flatnonzero(edges >= max(least, 1))
        weight = edges[edge]
    else:
        edge, weight = np.unique(pairs[: len(names) - len(size)], return_counts=True)
        keep = weight >= least
        edge, weight = edge[keep], weight[keep]
    order = np.lexsort((edge, -weight))[:most]
    out = [(int(e // (width * width)), labels[int(e // width % width)], labels[int(e % width)],
            int(w)) for e, w in zip(edge[order], weight[order], strict=True)]  # fmt: skip
    offsets = np.zeros(len(size) + 1, np.int64)
    np.cumsum(size, out=offsets[1:])
    if top_paths and not fits:
        keys = _keys(names, offsets, size, width)
    return len(size), out, counts, _top(keys, names, offsets, size, labels, top_paths)


def _keys(names: np.ndarray, offsets: np.ndarray, size: np.ndarray, width: int) -> np.ndarray:
    """Per path an int64 key whose order is the paths' list order (a path before its
    extensions): its names + 1 as digits in base `width`, padded with 0; when the digits
    overflow `KEY_BITS`, the key so far is replaced by its rank among the paths' keys (`np.unique`
    keeps order), and the digits go on from it."""
    key = np.zeros(len(size), np.int64)
    bound = 1  # every key < bound
    for q in range(int(size.max())):
        if bound * width >= 2**KEY_BITS:
            ranks, inverse = np.unique(key, return_inverse=True)
            key, bound = inverse.astype(np.int64).reshape(-1), len(ranks)
        digit = np.zeros(len(size), np.int64)
        has = size > q
        digit[has] = names[offsets[:-1][has] + q].astype(np.int64) + 1
        key = key * width + digit
        bound *= width
    return key


def _top(
    key: np.ndarray,
    names: np.ndarray,
    offsets: np.ndarray,
    size: np.ndarray,
    labels: list[str],
    most: int,
) -> list[tuple[list[str], int]]:
    """The `most` most taken paths, ties in list order (`key`: `_tally`'s or `_keys`)."""
    if not most:
        return []
    _, at, times = np.unique(key, return_index=True, return_counts=True)
    order = np.argsort(-times, kind="stable")[:most]
    return [
        ([labels[x] for x in names[offsets[at[i]] : offsets[at[i]] + size[at[i]]]], int(times[i]))
        for i in order
    ]


def warm(cols: JourneyColumns) -> None:
    """Load (or compile) the paths pass by running it on `cols` (`kernels.warm`)."""
    width = cols.names + 1
    by_code = np.stack([np.arange(width), np.ones(width), np.zeros(width)]).astype(np.int32)
    got = made(cols, by_code, (-(2**62), 2**62), 1800, 5, "start", False)
    summary(got, [str(i) for i in range(width)], 1, 50, 10)
