"""The journey engine of one store: the commit listener, the timers and the event emitter.

- `on_commit` (the store's commit listener, in the writer thread) handles each committed range
  of events in one transaction: entries, exits, goals, wait-for-event releases, and moves the
  people it touched as far as they go. The range it has handled is kept in `journey_meta`, so
  after a restart it catches up with what committed while it was down.
- `run_due` (the timers, a background thread in `serve` and `demo`) claims due rows in batches
  and advances them set-wise; each batch is one write job, sized so the writer is never held
  much longer than `job_seconds`, and ingest goes on between batches.
- `flush_events` turns recorded steps into events in the log (`touchpath.orchestrate.emit`) once
  their transaction has committed; a step emitted twice is written once (deterministic ids).

Every time comes from the injected clock (`touchpath.clock`): tests pass a ManualClock and call
`run_due` themselves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar

import duckdb

from touchpath.clock import Clock
from touchpath.errors import StoreUnavailable
from touchpath.orchestrate.emit import pending_events
from touchpath.orchestrate.engine import Tick, advance, load_plan
from touchpath.orchestrate.moves import on_events, relevant_names, running, time_limits
from touchpath.orchestrate.plan import Plan
from touchpath.orchestrate.sql import one, ts
from touchpath.store import IngestResult, Store

__all__ = ["MIN_BATCH", "JourneyEngine", "next_batch"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class JourneyEngine:
    """Runs the journeys of one store. Build it, `attach()` it; `start_timers()` in long-running
    processes; `stop()` before the store closes."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        batch: int = 20_000,
        job_seconds: float = 0.25,
        tick_seconds: float = 0.5,
        emit_chunk: int = 5_000,
    ) -> None:
        self.store = store
        self.clock = clock
        self.batch = batch
        """Due rows claimed per timer job (adapted to `job_seconds`)."""
        self.max_batch = max(batch, 200_000)
        self.job_seconds = job_seconds
        self.tick_seconds = tick_seconds
        self.emit_chunk = emit_chunk
        self._plans: dict[tuple[str, int], Plan] = {}
        self._emit_lock = threading.Lock()
        self._queued = 0  # last step id whose events were handed to ingest
        self._confirmed = 0  # last step id whose events are committed
        self._rewind: int | None = None  # a failed emission: emit again from here
        self.behind = False
        """Whether steps were left to emit (a few chunks wait for the writer at most)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = {"transitions": 0, "sends": 0, "jobs": 0}

    # ------------------------------------------------------------------------ plumbing
    def plans(self, con: duckdb.DuckDBPyConnection) -> Callable[[str, int], Plan]:
        """Plans by (journey, version), cached: a published version never changes."""

        def get(journey: str, version: int) -> Plan:
            key = (journey, version)
            plan = self._plans.get(key)
            if plan is None:
                plan = self._plans[key] = load_plan(con, journey, version)
            return plan

        return get

    def tick(self, con: duckdb.DuckDBPyConnection, seq: int | None = None) -> Tick:
        """A tick at the clock's time, inside the caller's transaction; records the emitter's
        progress so a restart resumes from there."""
        if self._confirmed:
            _set_meta(con, "emitted_through", self._confirmed)
        return Tick(con, self.clock.now(), self.plans(con), seq=seq)

    def write(
        self, fn: Callable[[duckdb.DuckDBPyConnection, Tick], T], *, background: bool = False
    ) -> T:
        """Run `fn(con, tick)` in one writer transaction, then emit the steps it recorded
        (`background`: in the writer's lane that yields to requests)."""
        fut = self.store.write(lambda con: self._counted(fn, con), background=background)
        result = fut.result()
        self.flush_events()
        return result

    def _counted(
        self, fn: Callable[[duckdb.DuckDBPyConnection, Tick], T], con: duckdb.DuckDBPyConnection
    ) -> T:
        tick = self.tick(con)
        out = fn(con, tick)
        self.stats["transitions"] += tick.transitions
        self.stats["sends"] += tick.sends
        return out

    # ------------------------------------------------------------------------ lifecycle
    def attach(self) -> None:
        """Catch up with events committed while no engine ran, then listen to commits."""

        def start(con: duckdb.DuckDBPyConnection) -> None:
            (last,) = one(con, "SELECT coalesce(max(seq), 0) FROM events") or (0,)
            seen = _get_meta(con, "listened_through")
            self._queued = self._confirmed = _get_meta(con, "emitted_through") or 0
            if seen is None:
                _set_meta(con, "listened_through", int(last))
            elif seen < last:
                tick = Tick(con, self.clock.now(), self.plans(con), seq=int(last))
                on_events(con, tick, int(seen) + 1, int(last))
                _set_meta(con, "listened_through", int(last))

        self.store.write_sync(start)
        self.store.write_sync(self._prompt_events)
        self.store.add_commit_listener(self.on_commit, prompt=True)
        self.flush_events()

    def start_timers(self) -> None:
        """Run due timers on a background thread until `stop()` (again after a `stop()`)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._timers, name="touchpath-journeys", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the timers and stop listening (the store may stay open). Returns after the
        timers' last batch has committed and its events were queued: nothing runs after it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.store.remove_commit_listener(self.on_commit)

    # ------------------------------------------------------------------------ events
    def on_commit(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        """Commit listener (writer thread): everything events [first, last] do to journeys."""
        con.execute("BEGIN")
        moved = False
        try:
            seen = _get_meta(con, "listened_through") or 0
            start = max(first, seen + 1)
            if start <= last:
                tick = self.tick(con, seq=last)
                on_events(con, tick, start, last)
                moved = tick.may_have_stepped
                _set_meta(con, "listened_through", last)
                self._prompt_events(con, tick)
                self.stats["transitions"] += tick.transitions
                self.stats["sends"] += tick.sends
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        # The steps of the timers are emitted by the timers' thread, on its own cursor: here,
        # in the writer, only what the events did (or everything, when no timers run).
        if moved or self._thread is None:
            self.flush_events(con)

    def _prompt_events(self, con: duckdb.DuckDBPyConnection, tick: Tick | None = None) -> None:
        """Tell the store which events to hand us promptly (`listener_prompt_seconds`): those
        the running journeys enter on or wait for (none when some takes any event: every
        commit would then run the listeners)."""
        names = relevant_names(running(con, tick or Tick(con, self.clock.now(), self.plans(con))))
        self.store.set_prompt_events(frozenset(names or ()))

    # ------------------------------------------------------------------------ time
    def run_due(self, limit: int | None = None) -> int:
        """Advance up to `limit` (the batch size) people whose time has come; end those past
        a time limit and run due schedules. Returns how many were moved.

        Who is due is looked up first on a read cursor, outside the writer (a scan of every
        instance: at a million people the largest statement of a job). When a whole batch is
        due (a drain), the job takes those rows, checking again that each is still due;
        otherwise it chooses in the writer, after the listeners, as it always did."""
        n = limit or self.batch
        pick = f"ORDER BY wake_at, id LIMIT {int(n)}"
        with self.store.reading() as cur:
            ids = cur.sql(
                f"SELECT id FROM journey_state WHERE {_due(self.clock.now())} {pick}"
            ).to_arrow_table()
        found = ids.num_rows if ids is not None else 0

        def due(con: duckdb.DuckDBPyConnection, tick: Tick) -> int:
            versions = running(con, tick)
            ended = time_limits(con, tick, versions)
            claim = f"SELECT * REPLACE ({tick.seq} AS listen_from) FROM journey_state WHERE "
            if found < n:
                return ended + advance(con, tick, f"{claim} {_due(tick.now)} {pick}")
            con.register("_due_ids", ids)
            try:
                lo, hi = one(con, "SELECT min(id), max(id) FROM _due_ids") or (0, 0)
                moved = advance(
                    con,
                    tick,
                    f"{claim} id BETWEEN {int(lo)} AND {int(hi)} "
                    f"AND id IN (SELECT id FROM _due_ids) AND {_due(tick.now)}",
                )
            finally:
                con.unregister("_due_ids")
            return ended + moved

        return self.write(due, background=True)

    def drain(self, max_jobs: int = 1_000_000) -> int:
        """Run due timers until none is due (tests, the CLI's `journeys run`)."""
        total = 0
        for _ in range(max_jobs):
            moved = self.run_due()
            total += moved
            if moved < self.batch:
                break
        return total

    def _timers(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                moved = self.run_due()
            except Exception:
                log.exception("journey timers failed; retrying")
                self._stop.wait(self.tick_seconds)
                continue
            took = time.monotonic() - started
            self.stats["jobs"] += 1
            if moved >= self.batch:  # more are due: size the next job to the time allowed
                # Not shorter while requests come: at 100k, 0.1 s jobs of 2,000 doubled the
                # drain's CPU (54.6 against 32.3 CPU-s) and raised the requests' p99 during it
                # (1,220 against 844 ms), quiet, 2026-12-07 16:26-16:36.
                self.batch = next_batch(self.batch, took, self.job_seconds, self.max_batch)
                continue
            # Nothing more due: the events of steps left to emit go on meanwhile.
            deadline = time.monotonic() + self.tick_seconds
            while self.behind and time.monotonic() < deadline and not self._stop.wait(0.02):
                self.flush_events()
            self._stop.wait(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------------------ events out
    def flush_events(self, con: duckdb.DuckDBPyConnection | None = None) -> int:
        """Queue the events of committed steps not yet queued, a chunk at a time and never more
        than a few chunks ahead of what has committed; returns how many steps were queued."""
        queued = 0
        with self._emit_lock:
            if self._rewind is not None:
                self._queued = self._confirmed = min(self._confirmed, self._rewind)
                self._rewind = None
            self.behind = True
            while self._queued - self._confirmed < 4 * self.emit_chunk:
                prev = self._queued
                if con is None:
                    with self.store.reading() as cur:
                        upto, staged = pending_events(cur, prev, self.emit_chunk)
                else:
                    upto, staged = pending_events(con, prev, self.emit_chunk)
                if staged is None:
                    self.behind = False
                    break
                try:
                    fut = self.store.ingest(staged, internal=True, background=True)
                except StoreUnavailable:  # closing: emitted from the cursor on the next start
                    break
                self._queued = upto
                queued += upto - prev
                fut.add_done_callback(self._confirm(prev, upto))
                if upto - prev < self.emit_chunk:
                    self.behind = False
                    break
        return queued

    def _confirm(self, prev: int, upto: int) -> Callable[[Future[IngestResult]], Any]:
        """Called when an emission commits (in order, the writer being one queue)."""

        def done(fut: Future[IngestResult]) -> None:
            if fut.exception() is not None:
                log.error("journey events could not be written: %s", fut.exception())
                self._rewind = prev if self._rewind is None else min(self._rewind, prev)
            elif self._rewind is None or upto <= self._rewind:
                self._confirmed = max(self._confirmed, upto)

        return done


def _due(now: datetime) -> str:
    """The instances due for the timers at `now` (a condition on journey_state)."""
    return (
        f"status IN ('run', 'wait', 'listen') AND wake_at <= {ts(now)} "
        "AND journey IN (SELECT name FROM journeys WHERE status IN ('live', 'archived'))"
    )


MIN_BATCH = 5_000
"""The fewest people a timer job moves while more are due: a job has a fixed cost (its
statements run whatever the number of people), so smaller jobs move fewer people per second
(measured: jobs halved down to ~300 under a load of 25 moved 50k people 7x slower)."""


def next_batch(batch: int, took: float, budget: float, most: int) -> int:
    """The size of the next timer job: at most doubling, at most halving, toward the number
    of people that fit in `budget` seconds at the rate of the last job, within
    [MIN_BATCH, most].

    >>> next_batch(20_000, 0.1, 0.25, 200_000)
    40000
    >>> next_batch(20_000, 1.0, 0.25, 200_000)
    10000
    >>> next_batch(20_000, 0.3, 0.25, 200_000)
    16666
    >>> next_batch(6_000, 5.0, 0.25, 200_000)
    5000
    """
    fit = int(batch * budget / max(took, 1e-6))
    return max(MIN_BATCH, min(most, batch * 2, max(batch // 2, fit)))


def _get_meta(con: duckdb.DuckDBPyConnection, key: str) -> int | None:
    row = one(con, "SELECT value FROM journey_meta WHERE key = ?", [key])
    return int(row[0]) if row else None


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: int) -> None:
    con.execute(
        "INSERT INTO journey_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
        "excluded.value",
        [key, value],
    )
