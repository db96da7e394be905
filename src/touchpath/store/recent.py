"""The hashes of the messages committed within the duplicate window, in numpy arrays.

The writer asks, for every group of messages, which of their (source, messageId) hashes it has
committed within the window (24 h by default). A Python set held each hash as an int object in a
hash table, ~80 bytes a message: ~0.8 GB for a store taking 10M messages a day, all loaded again
at start-up. Here each hash is 8 bytes in a sorted array searched with `np.searchsorted`, beside
its commit time as 4 bytes (whole seconds since the epoch, rounded up): 12 bytes a message, ~120
MB for 10M. The hashes added since the last merge are a second, small sorted array (merged once
it reaches 1/16 of the first, so merging costs ~0.1 us a message at any size). The commit times
let a rebuild drop the expired hashes with one filter that keeps the order (no sort), so the
window never holds a second copy of its hashes by commit time; expired hashes stay until that
rebuild (a stale hit only costs the caller's check against the log, which it makes for every hit
anyway, since different messages can share a hash). Only the writer loads it (`Store._start`).

>>> from datetime import datetime, timedelta
>>> recent = RecentHashes()
>>> recent.add(datetime(2026, 1, 1), np.array([5, 7], dtype=np.uint64))
>>> recent.contains(np.array([7, 8], dtype=np.uint64)).tolist()
[True, False]
>>> recent.expire(datetime(2026, 1, 2))
>>> recent.contains(np.array([7], dtype=np.uint64)).tolist(), len(recent)
([False], 0)
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["RecentHashes", "fresh", "seconds"]

_MERGE_AT = 1 << 16
"""Hashes added since the last merge beyond which (or beyond 1/16 of the sorted array, whichever
is more) they are merged into the sorted array."""

_BATCH = 1 << 20
"""Seqs per query when the window is read from the log."""

_EMPTY_H = np.empty(0, dtype=np.uint64)
_EMPTY_S = np.empty(0, dtype=np.uint32)


def seconds(at: datetime, up: bool) -> int:
    """A naive UTC time as whole seconds since the epoch, rounded up (`up`) or down."""
    t = at.replace(tzinfo=UTC).timestamp() if at.tzinfo is None else at.timestamp()
    return max(0, min(2**32 - 1, math.ceil(t) if up else math.floor(t)))


def _insert(
    h: np.ndarray, s: np.ndarray, new_h: np.ndarray, new_s: np.ndarray | np.uint32
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted `h` (with `s` beside it) and sorted `new_h` (with `new_s`) as one sorted pair."""
    at = np.searchsorted(h, new_h)
    return np.insert(h, at, new_h), np.insert(s, at, new_s)


class RecentHashes:
    """Hashes added with their commit time; `contains` says which of some hashes were added and
    not yet expired (possibly also a few expired ones, see the module docstring)."""

    def __init__(self) -> None:
        self._chunks: deque[tuple[datetime, int]] = deque()  # (commit time, hashes), oldest first
        self._live = 0
        self._sorted, self._stamps = _EMPTY_H, _EMPTY_S  # hashes, commit seconds (rounded up)
        self._fresh, self._fresh_stamps = _EMPTY_H, _EMPTY_S  # added since the last merge
        self._stale = 0  # hashes in the arrays whose chunk has expired

    def __len__(self) -> int:
        """Hashes added and not expired."""
        return self._live

    @property
    def nbytes(self) -> int:
        """The arrays' size in bytes."""
        arrays = (self._sorted, self._stamps, self._fresh, self._fresh_stamps)
        return sum(a.nbytes for a in arrays)

    def add(self, at: datetime, hashes: np.ndarray) -> None:
        """Record `hashes` as committed at `at` (times must not decrease)."""
        if not len(hashes):
            return
        hashes = np.sort(np.asarray(hashes, dtype=np.uint64))
        self._chunks.append((at, len(hashes)))
        self._live += len(hashes)
        stamp = np.uint32(seconds(at, up=True))
        self._fresh, self._fresh_stamps = _insert(self._fresh, self._fresh_stamps, hashes, stamp)
        if len(self._fresh) > max(_MERGE_AT, len(self._sorted) // 16):
            self._merge()

    def load(self, chunks: list[tuple[datetime, np.ndarray]]) -> None:
        """Add many chunks of (time, hashes) at once, in time order, with one sort."""
        chunks = [(at, np.asarray(h, dtype=np.uint64)) for at, h in chunks if len(h)]
        if not chunks:
            return
        stamps = np.concatenate(
            [np.full(len(h), seconds(at, up=True), dtype=np.uint32) for at, h in chunks]
        )
        self.load_arrays(np.concatenate([h for _, h in chunks]), stamps,
                         [(at, len(h)) for at, h in chunks])  # fmt: skip

    def load_arrays(
        self, hashes: np.ndarray, stamps: np.ndarray, chunks: list[tuple[datetime, int]]
    ) -> None:
        """Add `hashes` committed at `stamps` (whole seconds, rounded up) at once, with one sort;
        `chunks` (time, how many), in time order, count them for expiry."""
        self._merge()
        order = np.argsort(hashes, kind="stable")
        h = np.asarray(hashes, dtype=np.uint64)[order]
        s = np.asarray(stamps, dtype=np.uint32)[order]
        del order
        if len(self._sorted):
            self._sorted, self._stamps = _insert(self._sorted, self._stamps, h, s)
        else:  # the usual case (the writer's start): no third copy
            self._sorted, self._stamps = h, s
        self._chunks.extend(chunks)
        self._live += sum(n for _, n in chunks)

    def load_log(self, con: duckdb.DuckDBPyConnection, cutoff: datetime) -> None:
        """Add the messages the log received at or after `cutoff`: each hash with its receipt
        in whole seconds (rounded up: none expires early), counted per minute of receipt (timed
        by its last message). Read from DuckDB a range of seqs at a time into two flat arrays
        (12 bytes a message), sorted here: fetching the whole result at once held it in DuckDB
        and again in numpy, which with the sort's copies made starting the writer on the 10M
        demo peak ~900 MB over the store as opened, for a window of 123 MB."""
        where = "FROM events WHERE received_at >= ?"
        ((n, lo, hi),) = con.execute(
            f"SELECT count(*), coalesce(min(seq), 1), coalesce(max(seq), 0) {where}", [cutoff]
        ).fetchall()
        hashes = np.empty(int(n), dtype=np.uint64)
        stamps = np.empty(int(n), dtype=np.uint32)
        at = 0
        for first in range(int(lo), int(hi) + 1, _BATCH):
            got = con.execute(
                "SELECT hash(source, message_id) AS h, CAST(ceil(epoch(received_at)) AS "
                f"UINTEGER) AS s {where} AND seq BETWEEN ? AND ?",
                [cutoff, first, first + _BATCH - 1],
            ).fetchnumpy()
            k = min(len(got["h"]), len(hashes) - at)  # nothing is deleted from the log
            hashes[at : at + k] = np.asarray(got["h"])[:k]
            stamps[at : at + k] = np.asarray(got["s"])[:k]
            at += k
        hashes, stamps = hashes[:at], stamps[:at]
        self.load_arrays(hashes, stamps, _minutes(stamps))

    def expire(self, cutoff: datetime) -> None:
        """Forget the hashes added before `cutoff`."""
        while self._chunks and self._chunks[0][0] < cutoff:
            _, n = self._chunks.popleft()
            self._live -= n
            self._stale += n
        if self._live == 0:
            self._sorted, self._stamps = _EMPTY_H, _EMPTY_S
            self._fresh, self._fresh_stamps = _EMPTY_H, _EMPTY_S
            self._stale = 0
        elif self._stale > max(_MERGE_AT, self._live):
            self._rebuild(cutoff)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """A boolean per hash: added within the window (or expired but not yet rebuilt away)."""
        hashes = np.asarray(hashes, dtype=np.uint64)
        hit = np.zeros(len(hashes), dtype=bool)
        for h in (self._sorted, self._fresh):
            if len(h):
                at = np.searchsorted(h, hashes)
                at[at == len(h)] = 0
                hit |= h[at] == hashes
        return hit

    def _merge(self) -> None:
        if len(self._fresh):
            self._sorted, self._stamps = _insert(
                self._sorted, self._stamps, self._fresh, self._fresh_stamps
            )
            self._fresh, self._fresh_stamps = _EMPTY_H, _EMPTY_S

    def _rebuild(self, cutoff: datetime) -> None:
        # Keep what was committed at or after the cutoff's second: never a live hash (its
        # stamp is rounded up), at most a second's worth of expired ones. Filtering keeps order.
        self._merge()
        keep = self._stamps >= seconds(cutoff, up=False)
        self._sorted, self._stamps = self._sorted[keep], self._stamps[keep]
        self._stale = 0


def _minutes(stamps: np.ndarray) -> list[tuple[datetime, int]]:
    """Chunks from commit seconds: per minute, its last second (as the time) and how many, in
    time order (counted per second: no sort)."""
    if not len(stamps):
        return []
    first = int(stamps.min())
    per_second = np.bincount(stamps - np.uint32(first))
    at = np.flatnonzero(per_second)
    minute = (at + first) // 60
    starts = np.concatenate(([0], np.flatnonzero(np.diff(minute)) + 1))
    lasts = np.concatenate((starts[1:], [len(at)])) - 1
    counts = np.add.reduceat(per_second[at], starts)
    return [
        (datetime.fromtimestamp(int(at[i]) + first, UTC).replace(tzinfo=None), int(n))
        for i, n in zip(lasts, counts, strict=True)
    ]


def fresh(
    con: duckdb.DuckDBPyConnection, normalised: pa.Table, recent: RecentHashes, window: timedelta
) -> np.ndarray:
    """Which rows of `normalised` (in `ord` order, with their hash `h`) to keep: not a
    duplicate by (source, messageId) of a message committed within `window` (`recent` holds
    their hashes; a hit is confirmed against the log on `con`, so a collision never drops a
    message) or of an earlier row of the same group."""
    cutoff = datetime.now(UTC).replace(tzinfo=None) - window
    recent.expire(cutoff)
    hashes = normalised.column("h").to_numpy()
    n = len(hashes)
    keep = np.ones(n, dtype=bool)
    _, first = np.unique(hashes, return_index=True)
    if len(first) < n:
        keep[:] = False
        keep[first] = True
        _confirm_repeats(normalised, hashes, keep)
    hit = recent.contains(hashes) & keep
    if not hit.any():
        return keep
    suspects = np.flatnonzero(hit).tolist()
    probe = normalised.select(["source", "message_id"]).take(suspects)
    con.register("dedupe_probe", probe)
    try:
        found = set(
            con.execute(
                "SELECT DISTINCT p.source, p.message_id FROM dedupe_probe p "
                "JOIN events e ON e.source = p.source AND e.message_id = p.message_id "
                "WHERE e.received_at >= ?",
                [cutoff],
            ).fetchall()
        )
    finally:
        con.unregister("dedupe_probe")
    for i, pair in zip(suspects, zip(*probe.to_pydict().values(), strict=True), strict=True):
        if pair in found:
            keep[i] = False
    return keep


def _confirm_repeats(normalised: pa.Table, hashes: np.ndarray, keep: np.ndarray) -> None:
    """Keep a row whose hash repeats an earlier row's when its (source, messageId) differs
    (a hash collision, not a repeat)."""
    repeats = np.flatnonzero(~keep).tolist()
    repeated = set(hashes[repeats].tolist())
    sources = normalised.column("source")
    mids = normalised.column("message_id")
    seen: dict[int, set[tuple[str, str]]] = {}
    for i in np.flatnonzero(keep).tolist():
        if int(hashes[i]) in repeated:
            seen.setdefault(int(hashes[i]), set()).add((sources[i].as_py(), mids[i].as_py()))
    for i in repeats:
        pair = (sources[i].as_py(), mids[i].as_py())
        group = seen.setdefault(int(hashes[i]), set())
        if pair not in group:
            keep[i] = True
            group.add(pair)
