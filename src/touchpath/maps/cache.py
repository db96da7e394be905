"""Bound maps kept ready, so a map opens in milliseconds instead of the seconds a bind takes.

`MapCache.get(doc, start, end)` answers the last binding of the same document and time range.
When events have committed since that binding, it still answers at once (`fresh=False`) and a
background thread binds again; the next request sees the new numbers. A commit listener notes
the newest event, so the cache never scans the log to learn that data arrived. Refreshes of one
entry run at most once per `min_interval` seconds, because a bind of a large store costs seconds
of CPU; a miss binds in the caller's thread, and concurrent misses of one key bind once.

The server starts it as a component (`touchpath.system`), warm with every listed map.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

import duckdb

from touchpath.maps.bind import bind_map
from touchpath.maps.bound import BoundMap
from touchpath.maps.document import JourneyMap
from touchpath.store import Store

__all__ = ["Cached", "MapCache"]

log = logging.getLogger(__name__)

Binder = Callable[[Store, JourneyMap, datetime | None, datetime | None], BoundMap]
Key = tuple[str, datetime | None, datetime | None]


@dataclass(frozen=True)
class Cached:
    bound: BoundMap
    fresh: bool
    """False when events committed after this binding (a refresh is under way)."""
    seq: int
    """The newest event seq when the binding started."""


@dataclass
class _Entry:
    doc: JourneyMap
    start: datetime | None
    end: datetime | None
    result: Future[tuple[BoundMap, int]]
    refreshed: float = 0.0
    used: float = 0.0


def _bind(store: Store, doc: JourneyMap, start: datetime | None, end: datetime | None) -> BoundMap:
    return bind_map(store, doc, start, end)


def doc_key(doc: JourneyMap, start: datetime | None, end: datetime | None) -> Key:
    """Documents are keyed by their content, so a new version or an edit is a new entry."""
    digest = hashlib.sha256(doc.model_dump_json().encode()).hexdigest()[:24]
    return (digest, start, end)


class MapCache:
    """Bound maps by document and time range, refreshed in the background as events commit."""

    def __init__(
        self,
        store: Store,
        *,
        binder: Binder = _bind,
        min_interval: float = 10.0,
        capacity: int = 32,
    ) -> None:
        self.store = store
        self._binder = binder
        self.min_interval = min_interval
        self.capacity = capacity
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        rows = store.query("SELECT coalesce(max(seq), 0) FROM events")
        self._seq = int(rows[0][0])

    # -------------------------------------------------------------------------- reading
    def get(
        self, doc: JourneyMap, start: datetime | None = None, end: datetime | None = None
    ) -> Cached:
        """The bound map: cached when there is one (stale ones are refreshed behind), else bound
        now. A failed binding is not kept: the next call tries again."""
        key = doc_key(doc, start, end)
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if entry is None:
                entry = _Entry(doc, start, end, Future())
                self._entries[key] = entry
                self._evict()
            self._entries.move_to_end(key)
            entry.used = time.monotonic()
        if owner:
            self._fill(key, entry)
        bound, seq = entry.result.result()
        fresh = seq >= self._seq
        if not fresh:
            self._wake.set()
        return Cached(bound, fresh, seq)

    def _fill(self, key: Key, entry: _Entry) -> None:
        seq = self._seq
        try:
            bound = self._binder(self.store, entry.doc, entry.start, entry.end)
        except BaseException as exc:
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            entry.result.set_exception(exc)
            raise
        entry.refreshed = time.monotonic()
        entry.result.set_result((bound, seq))

    def _evict(self) -> None:
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    # -------------------------------------------------------------------------- freshness
    def on_commit(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        """Commit listener: events up to `last` exist now; wake the refresher."""
        if last > self._seq:
            self._seq = last
            self._wake.set()

    def refresh_stale(self) -> int:
        """Bind again every entry older than the newest event (each at most once per
        `min_interval`); returns how many were refreshed."""
        now = time.monotonic()
        with self._lock:
            due = [
                e
                for e in self._entries.values()
                if e.result.done()
                and e.result.exception() is None
                and e.result.result()[1] < self._seq
                and now - e.refreshed >= self.min_interval
            ]
        done = 0
        for entry in due:
            if self._stopping.is_set():
                break
            seq = self._seq
            try:
                bound = self._binder(self.store, entry.doc, entry.start, entry.end)
            except Exception:
                log.exception("refreshing the bound map %s failed", entry.doc.name)
                entry.refreshed = time.monotonic()
                continue
            fresh: Future[tuple[BoundMap, int]] = Future()
            fresh.set_result((bound, seq))
            with self._lock:
                entry.result = fresh
                entry.refreshed = time.monotonic()
            done += 1
        return done

    def warm(self, docs: list[JourneyMap]) -> None:
        """Bind `docs` (whole time range) unless cached: the maps a server lists."""
        for doc in docs:
            if self._stopping.is_set():
                return
            try:
                self.get(doc)
            except Exception:
                log.exception("warming the bound map %s failed", doc.name)

    # -------------------------------------------------------------------------- the thread
    def start(self, warm: Callable[[], list[JourneyMap]] | None = None) -> None:
        """Listen to commits and refresh in a background thread (first warming `warm()`)."""
        self.store.add_commit_listener(self.on_commit)

        def run() -> None:
            if warm is not None and self._seq > 0:  # a new, empty store has nothing to warm
                try:
                    self.warm(warm())
                except Exception:
                    log.exception("listing the maps to warm failed")
            while not self._stopping.is_set():
                self._wake.wait(timeout=max(self.min_interval, 1.0))
                self._wake.clear()
                if not self._stopping.is_set():
                    self.refresh_stale()

        self._thread = threading.Thread(target=run, name="touchpath-map-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.store.remove_commit_listener(self.on_commit)
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
