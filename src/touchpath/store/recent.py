"""The hashes of the messages committed within the duplicate window, in numpy arrays.

The writer asks, for every group of messages, which of their (source, messageId) hashes it has
committed within the window (24 h by default). A Python set held each hash as an int object in a
hash table, ~80 bytes a message: ~0.8 GB for a store taking 10M messages a day, all loaded again
at start-up. Here each hash is 8 bytes in a sorted array searched with `np.searchsorted`, plus the
hashes added since the last merge in a small set (merged once they reach 1/16 of the array, so
merging costs ~0.1 us a message at any size); expired hashes leave the sorted array at the next rebuild
(a stale hit only costs the caller's check against the log, which it makes for every hit anyway,
since different messages can share a hash).

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

from collections import deque
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["RecentHashes", "fresh"]

_MERGE_AT = 1 << 16
"""Hashes added since the last merge beyond which (or beyond 1/16 of the sorted array, whichever
is more) they are merged into the sorted array."""


class RecentHashes:
    """Hashes added with their commit time; `contains` says which of some hashes were added and
    not yet expired (possibly also a few expired ones, see the module docstring)."""

    def __init__(self) -> None:
        self._chunks: deque[tuple[datetime, np.ndarray]] = deque()  # oldest first
        self._live = 0
        self._sorted = np.empty(0, dtype=np.uint64)
        self._fresh: list[np.ndarray] = []  # added since the last merge ...
        self._fresh_set: set[int] = set()  # ... and the same, for lookups
        self._stale = 0  # hashes in _sorted whose chunk has expired

    def __len__(self) -> int:
        """Hashes added and not expired."""
        return self._live

    def add(self, at: datetime, hashes: np.ndarray) -> None:
        """Record `hashes` as committed at `at` (times must not decrease)."""
        if not len(hashes):
            return
        hashes = np.asarray(hashes, dtype=np.uint64)
        self._chunks.append((at, hashes))
        self._live += len(hashes)
        self._fresh.append(hashes)
        self._fresh_set.update(hashes.tolist())
        if len(self._fresh_set) > max(_MERGE_AT, len(self._sorted) // 16):
            self._merge()

    def load(self, chunks: list[tuple[datetime, np.ndarray]]) -> None:
        """Add many chunks of (time, hashes) at once, in time order, with one sort."""
        chunks = [(at, np.asarray(h, dtype=np.uint64)) for at, h in chunks if len(h)]
        if not chunks:
            return
        self._chunks.extend(chunks)
        self._live += sum(len(h) for _, h in chunks)
        self._sorted = np.sort(
            np.concatenate([self._sorted, *self._fresh, *(h for _, h in chunks)])
        )
        self._fresh, self._fresh_set = [], set()

    def expire(self, cutoff: datetime) -> None:
        """Forget the hashes added before `cutoff`."""
        while self._chunks and self._chunks[0][0] < cutoff:
            _, hashes = self._chunks.popleft()
            self._live -= len(hashes)
            self._stale += len(hashes)
        if self._live == 0:
            self._sorted = np.empty(0, dtype=np.uint64)
            self._fresh, self._fresh_set, self._stale = [], set(), 0
        elif self._stale > max(_MERGE_AT, self._live):
            self._rebuild()

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """A boolean per hash: added within the window (or expired but not yet rebuilt away)."""
        hashes = np.asarray(hashes, dtype=np.uint64)
        hit = np.zeros(len(hashes), dtype=bool)
        if len(self._sorted):
            at = np.searchsorted(self._sorted, hashes)
            at[at == len(self._sorted)] = 0
            hit = self._sorted[at] == hashes
        if self._fresh_set:
            fresh = self._fresh_set
            hit |= np.fromiter((h in fresh for h in hashes.tolist()), dtype=bool, count=len(hashes))
        return hit

    def _merge(self) -> None:
        # The sorted array and the fresh runs: a stable sort merges sorted runs in linear time.
        self._sorted = np.sort(
            np.concatenate([self._sorted, np.sort(np.concatenate(self._fresh))]), kind="stable"
        )
        self._fresh, self._fresh_set = [], set()

    def _rebuild(self) -> None:
        live = [hashes for _, hashes in self._chunks]
        self._sorted = np.sort(np.concatenate(live)) if live else np.empty(0, dtype=np.uint64)
        self._fresh, self._fresh_set, self._stale = [], set(), 0


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
