"""Bound maps kept ready, so a map opens in milliseconds instead of the seconds a bind takes.

`MapCache.get(doc, start, end)` answers the last binding of the same document and time range.
When events have committed since that binding, it still answers at once (`fresh=False`) and a
background thread binds again; a later request sees the new numbers. A commit listener notes
the committed seq range, so the cache never scans the log to learn that data arrived. A miss
binds in the caller's thread, and concurrent misses of one key bind once.

Map numbers are analytics, not request-time answers, and a bind of a large store costs seconds
of CPU (1.6-1.9 CPU-s for a demo map of 1M events), so re-binding runs on a CPU budget:
`cpu_share` of one core (`TOUCHPATH_MAP_REFRESH_CPU_SHARE`, 0.1 by default). After a re-bind
that cost `c` CPU-s the refresher starts no other before `c / cpu_share` seconds have passed,
and one entry is re-bound at most every `max(min_interval, c / cpu_share)` seconds. `c` is the
process's CPU over the bind (every thread: the binder's pool and DuckDB's run the work), so
whatever else ran meanwhile counts too and a busy server re-binds less often. Each answer says
what its numbers are as of and, when newer events wait, when the next bind may start
(`Cached.as_of`, `Cached.next_refresh`; the REST answer's `freshness`).

Only events that can change a map make it stale (`watched`, `Touched`): events its touchpoints,
goal or feedback name, and, whatever their name, events that may change who is who or how many
people the map covers (an identify, alias or group; a message carrying both a user id and an
anonymous id; a journey event of an id pair with no journey event before it) or its error pages
(names like `error`, `404`, `failed`). A map with a persona audience, or with journeys or
decisions linked to its touchpoints, watches every event, and a saved decision or journey change
makes every map stale at the next commit (as before). Personalisation's exposures (`Experiment
Viewed` from `touchpath.personalize`) are nobody's journey event here: a map's population leaves
them out (`touches.EXPOSURE_SEQS`), so an answer's exposure refreshes no demo map, whether the
visitor is known or never seen (each refresh of the 1M demo's maps costs seconds of CPU:
docs/benchmarks.md, Personalisation).

The server starts it as a component (`touchpath.system`), warm with every listed map.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from touchpath.analytics.feedback import FeedbackSpec
from touchpath.clock import utcnow
from touchpath.events.match import JOURNEY_TYPES
from touchpath.events.names import EXPERIMENT_VIEWED, PERSONALIZE_SOURCE
from touchpath.maps.bind import bind_map
from touchpath.maps.bound import BoundMap, Freshness
from touchpath.maps.document import JourneyMap
from touchpath.maps.touches import ERROR_PATTERN
from touchpath.store import Store

__all__ = ["Cached", "MapCache", "Touched", "touched", "watched"]

log = logging.getLogger(__name__)

Binder = Callable[[Store, JourneyMap, datetime | None, datetime | None], BoundMap]
Key = tuple[str, datetime | None, datetime | None]


@dataclass(frozen=True)
class Cached:
    bound: BoundMap
    fresh: bool
    """False when events that can change the numbers committed after this binding (a refresh is
    due, at `next_refresh`)."""
    seq: int
    """The newest event seq when the binding started."""
    as_of: datetime
    """When the binding started: the numbers count the events committed by then (the journey
    copy's `bound.as_of` when it lags and is earlier)."""
    next_refresh: datetime | None = None
    """When not fresh: the earliest time the background bind may start (the CPU budget's pace;
    it starts then unless other maps' binds are ahead of it)."""
    interval: float = 0.0
    """Seconds between two binds of this map at the CPU budget (`MapCache.interval`)."""
    cpu_seconds: float = 0.0
    """The process's CPU seconds over this map's last bind."""

    def served(self) -> BoundMap:
        """The bound map with its `freshness`: what the REST API answers."""
        freshness = Freshness(
            numbers_as_of=self.as_of,
            fresh=self.fresh,
            next_refresh=self.next_refresh,
            refresh_interval_seconds=round(self.interval, 1),
            bind_cpu_seconds=round(self.cpu_seconds, 3),
        )
        return self.bound.model_copy(update={"freshness": freshness})


@dataclass(frozen=True)
class _Binding:
    bound: BoundMap
    seq: int
    as_of: datetime


@dataclass
class _Entry:
    doc: JourneyMap
    start: datetime | None
    end: datetime | None
    result: Future[_Binding]
    refreshed: float = 0.0
    cpu: float = 0.0
    """The process's CPU seconds over the last bind (sets the entry's `interval`)."""
    used: float = 0.0
    watch: frozenset[str] | None = None
    """The event names that can change the binding (`watched`); None: every event."""
    changed: int = 0
    """The newest seq of an event that can change the binding (stale when above its seq)."""


def watched(bound: BoundMap) -> frozenset[str] | None:
    """The event names whose arrival can change `bound`'s numbers: its touchpoints', its goal's
    and the feedback answers' (`FeedbackSpec`'s defaults, which the binder reads); None (every
    event) with a persona audience (membership changes with any event) or journeys or
    decisions linked to a touchpoint (their counts live outside the map's events). Events of
    no watched name still count when they may change the people (`Touched.anyone`)."""
    doc = bound.map
    if doc.persona.audience is not None:
        return None
    if any(t.journeys or t.decisions for s in bound.stages for t in s.touchpoints):
        return None
    fb = FeedbackSpec()
    names = {t.match.event for _, t in doc.touchpoints()}
    names |= {doc.goal.event} if doc.goal is not None else set()
    answers = [m.event for m in (fb.nps, fb.csat, fb.ces)]
    answers += [t if isinstance(t, str) else t.event for t in fb.texts]
    if None in answers:  # an answer of any name
        return None
    return frozenset(names | {n for n in answers if n is not None})


@dataclass(frozen=True)
class Touched:
    """What a committed seq range holds, as far as bound maps care."""

    names: frozenset[str]
    """Every event name in the range."""
    events: bool
    """Whether the range holds any event (named or not)."""
    anyone: bool
    """Whether an event of any name may change a map: an identify, alias or group, a message
    with both a user id and an anonymous id, an error-like name, a journey event whose id pair
    had no journey event before (a new person in the population), or a decision or journey
    saved or changed (links to touchpoints)."""

    def changes(self, watch: frozenset[str] | None) -> bool:
        if watch is None:
            return self.events or self.anyone
        return self.anyone or not self.names.isdisjoint(watch)


_JT = "(" + ", ".join(f"'{t}'" for t in JOURNEY_TYPES) + ")"
_ERROR = re.compile(ERROR_PATTERN)


def _own(alias: str = "") -> str:
    """Not an exposure: no map's population counts those (`touches.EXPOSURE_SEQS`; a map that
    names `Experiment Viewed` watches it by name)."""
    return (
        f"({alias}source IS DISTINCT FROM '{PERSONALIZE_SOURCE}' "
        f"OR {alias}event IS DISTINCT FROM '{EXPERIMENT_VIEWED}')"
    )


_NEW_PAIRS = f"""
WITH n AS (SELECT DISTINCT user_id, anonymous_id FROM events
           WHERE seq BETWEEN $first AND $last AND type IN {_JT} AND {_own()}
             AND (event IN (SELECT unnest($names)) OR ($nameless AND event IS NULL)))
SELECT count(*) FROM n
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq < $first AND e.type IN {_JT}
                  AND {_own("e.")}
                  AND e.user_id IS NOT DISTINCT FROM n.user_id
                  AND e.anonymous_id IS NOT DISTINCT FROM n.anonymous_id)"""


def touched(
    cur: duckdb.DuckDBPyConnection, first: int, last: int, watch: frozenset[str] | None = None
) -> Touched:
    """The events with seq in [first, last]: their names, and whether any may change a map
    whatever its names (`Touched.anyone`; the id-pair check runs only over names outside
    `watch`, the names every cached map already watches together)."""
    rows = cur.execute(
        f"SELECT event, bool_or(type NOT IN {_JT}), "
        "bool_or(user_id IS NOT NULL AND anonymous_id IS NOT NULL) "
        "FROM events WHERE seq BETWEEN ? AND ? GROUP BY event",
        [first, last],
    ).fetchall()
    names = frozenset(r[0] for r in rows if r[0] is not None)
    anyone = any(r[1] or r[2] or (r[0] is not None and _ERROR.search(r[0])) for r in rows)
    others = sorted(n for n in names if watch is None or n not in watch)
    nameless = any(r[0] is None for r in rows)
    if not anyone and (others or nameless):
        params = {"first": first, "last": last, "names": others, "nameless": nameless}
        (fresh,) = cur.execute(_NEW_PAIRS, params).fetchall()[0]
        anyone = bool(fresh)
    return Touched(names=names, events=bool(rows), anyone=anyone)


def _links_mark(cur: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
    """What changes when a decision is saved or a journey is saved, published or paused."""
    rows = cur.execute(
        "SELECT (SELECT count(*) FROM decision_versions), (SELECT count(*) FROM "
        "journey_versions), (SELECT max(updated_at) FROM journeys), (SELECT count(*) FROM journeys)"
    ).fetchall()
    return tuple(rows[0])


def _bind(store: Store, doc: JourneyMap, start: datetime | None, end: datetime | None) -> BoundMap:
    return bind_map(store, doc, start, end)


NICE = 10
"""How much lower the refresher thread's CPU priority is than the server's (Linux `nice`, per
thread; the bind's pool threads it starts inherit it): on a busy machine, requests first."""


def _lower_priority() -> None:
    """Lower this thread's priority by `NICE` (Linux: a thread id is a process id to
    setpriority); nothing where that is not so."""
    if sys.platform != "linux":
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE))
    except OSError:
        log.warning("could not lower the map refresher's priority")


def doc_key(doc: JourneyMap, start: datetime | None, end: datetime | None) -> Key:
    """Documents are keyed by their content, so a new version or an edit is a new entry."""
    digest = hashlib.sha256(doc.model_dump_json().encode()).hexdigest()[:24]
    return (digest, start, end)


class MapCache:
    """Bound maps by document and time range, refreshed in the background as events commit, on
    a CPU budget (`cpu_share` of one core)."""

    def __init__(
        self,
        store: Store,
        *,
        binder: Binder = _bind,
        min_interval: float = 10.0,
        capacity: int = 32,
        cpu_share: float | None = None,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self.store = store
        self._binder = binder
        self.min_interval = min_interval
        self.capacity = capacity
        share = store.settings.map_refresh_cpu_share if cpu_share is None else cpu_share
        if share <= 0:
            raise ValueError(f"cpu_share: {share} is not a share of a core above 0")
        self.cpu_share = share
        self._cpu_clock = cpu_clock
        self._gate = 0.0
        """Monotonic time before which the refresher starts no bind: each bind, a miss's too,
        holds it back by its CPU seconds over `cpu_share` (`_spent`)."""
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        rows = store.query("SELECT coalesce(max(seq), 0) FROM events")
        self._seq = int(rows[0][0])
        self._unseen: tuple[int, int] | None = None  # committed, not yet looked at (`_look`)
        self._looking = threading.Lock()
        self._links: tuple[object, ...] | None = None

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
        binding = entry.result.result()
        self._look()
        fresh = binding.seq >= entry.changed
        if not fresh:
            self._wake.set()
        interval = self.interval(entry)
        as_of = binding.as_of
        if binding.bound.as_of is not None:
            as_of = min(as_of, binding.bound.as_of)
        due = None
        if not fresh:
            with self._lock:
                wait = max(entry.refreshed + interval, self._gate) - time.monotonic()
            due = utcnow() + timedelta(seconds=max(0.0, wait))
        return Cached(binding.bound, fresh, binding.seq, as_of, due, interval, entry.cpu)

    def interval(self, entry: _Entry) -> float:
        """Seconds between two binds of `entry`: `min_interval`, or longer when its last bind
        cost more than `cpu_share` of a core over that time."""
        return max(self.min_interval, entry.cpu / self.cpu_share)

    def _bind_now(self, entry: _Entry) -> tuple[_Binding, float]:
        """Bind `entry` (in this thread): the binding and the process's CPU seconds it took,
        which hold the refresher back (`_spent`)."""
        seq, as_of, cpu, began = self._seq, utcnow(), self._cpu_clock(), time.monotonic()
        bound = self._binder(self.store, entry.doc, entry.start, entry.end)
        spent = max(0.0, self._cpu_clock() - cpu)
        self._spent(began, spent)
        return _Binding(bound, seq, as_of), spent

    def _spent(self, began: float, cpu: float) -> None:
        """A bind that began at `began` cost `cpu` seconds: the next re-bind waits until the
        budget has paid for it (binds at once, e.g. the warm-up's, add up)."""
        with self._lock:
            self._gate = max(self._gate, began) + cpu / self.cpu_share

    def _fill(self, key: Key, entry: _Entry) -> None:
        try:
            binding, cpu = self._bind_now(entry)
        except BaseException as exc:
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            entry.result.set_exception(exc)
            raise
        entry.refreshed = time.monotonic()
        entry.cpu = cpu
        entry.watch = watched(binding.bound)
        entry.result.set_result(binding)

    def _evict(self) -> None:
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    # -------------------------------------------------------------------------- freshness
    def on_commit(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        """Commit listener: events up to `last` exist now; note the range (the refresher looks
        at what it holds, off the writer thread) and wake the refresher."""
        with self._lock:
            if last > self._seq:
                self._seq = last
            lo = first if self._unseen is None else min(first, self._unseen[0])
            self._unseen = (lo, max(last, self._unseen[1] if self._unseen else last))
        self._wake.set()

    def _look(self) -> None:
        """Mark the entries the committed, unseen events can change (`touched`); an entry still
        binding, or whose binding failed, counts as watching every event."""
        with self._looking:
            with self._lock:
                seen, self._unseen = self._unseen, None
                watches = [e.watch for e in self._entries.values()]
            if seen is None or not watches:  # nothing cached: nothing to mark
                return
            every = frozenset().union(*(w for w in watches if w is not None))
            try:
                with self.store.reading() as cur:
                    what = touched(cur, seen[0], seen[1], every)
                    links = _links_mark(cur)
                if self._links is not None and links != self._links:
                    what = Touched(names=what.names, events=what.events, anyone=True)
                self._links = links
            except Exception:
                log.exception("reading the committed events failed: every map counts as changed")
                what = Touched(names=frozenset(), events=True, anyone=True)
            with self._lock:
                for e in self._entries.values():
                    watch = e.watch if e.result.done() else None
                    if what.changes(watch):
                        e.changed = max(e.changed, seen[1])

    def _due(self, now: float) -> list[_Entry]:
        """The stale entries whose interval is over, the longest waiting first."""
        with self._lock:
            due = [
                e
                for e in self._entries.values()
                if e.result.done()
                and e.result.exception() is None
                and e.result.result().seq < e.changed
                and now - e.refreshed >= self.interval(e)
            ]
        return sorted(due, key=lambda e: e.refreshed)

    def refresh_stale(self) -> int:
        """Bind again the stale entry that waited longest, if its interval and the budget's
        pause after the last bind are over; returns how many were refreshed (0 or 1)."""
        self._look()
        now = time.monotonic()
        if now < self._gate or self._stopping.is_set():
            return 0
        due = self._due(now)
        if not due:
            return 0
        entry = due[0]
        try:
            binding, cpu = self._bind_now(entry)
        except Exception:
            log.exception("refreshing the bound map %s failed", entry.doc.name)
            with self._lock:
                entry.refreshed = time.monotonic()  # tried again after its interval
            return 0
        fresh: Future[_Binding] = Future()
        fresh.set_result(binding)
        with self._lock:
            entry.result = fresh
            entry.watch = watched(binding.bound)
            entry.refreshed = time.monotonic()
            entry.cpu = cpu
        log.info("re-bound map %s: %.2f CPU-s, next bind in %.0f s at the budget", entry.doc.name,
                 cpu, self._gate - time.monotonic())  # fmt: skip
        return 1

    def warm(self, docs: list[JourneyMap]) -> None:
        """Bind `docs` (whole time range) unless cached: the maps a server lists."""
        for doc in docs:
            if self._stopping.is_set():
                return
            try:
                self.get(doc)
            except Exception:
                log.exception("warming the bound map %s failed", doc.name)

    def _pause(self) -> float:
        """Seconds before the refresher looks at commits again: none can be refreshed before
        its interval and the budget's pause after the last bind are over, and it looks at most
        once a second (each look is a query over the new events; commits come up to 20 times a
        second). `get` looks at once."""
        now = time.monotonic()
        with self._lock:
            due = [e.refreshed + self.interval(e) - now for e in self._entries.values()]
            gate = self._gate - now
        return max(min(1.0, self.min_interval), min(due, default=0.0), gate)

    # -------------------------------------------------------------------------- the thread
    def start(self, warm: Callable[[], list[JourneyMap]] | None = None) -> None:
        """Listen to commits and refresh in a background thread (first warming `warm()`)."""
        self.store.add_commit_listener(self.on_commit)

        def run() -> None:
            _lower_priority()
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
                    self._stopping.wait(self._pause())

        self._thread = threading.Thread(target=run, name="touchpath-map-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.store.remove_commit_listener(self.on_commit)
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
