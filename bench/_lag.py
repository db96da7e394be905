"""The journey engine's lag (issue #16): from the commit of an event a waiting person's journey
waits for to that person's next node. Shared by bench/journeys.py and bench/live.py.

People enter journey `ping` on a Ping event and wait in a wait_for_event node for a Pong. A
Pong is ingested for some of them: its commit time is taken where its ingest future resolves
(in the writer thread); the time they moved on is taken where a prompt commit listener, added
after the engine's, first finds them past the wait in `journey_state` (the engine moves them
in its listener, before this one, in the same round). Each Pong carries a tag (the phase it
was sent in). Events are stamped with the engine's clock when one is given (a Pong stamped
after the wait's deadline is not heard).

>>> pct([0.1, 0.2, 0.3, 0.4], 0.5)
300.0
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

import duckdb
import orjson

from touchpath.clock import Clock, utcnow
from touchpath.events.message import stage_messages
from touchpath.store import Store

PING = """
name: ping
entry: {kind: event, event: {event: Ping}}
nodes:
  wait_pong: {kind: wait_for_event, event: {event: Pong}, timeout: 1d, on_event: done,
              on_timeout: done}
  done: {kind: exit, reason: ponged}
"""
"""The journey the lag is measured on (publish it before `PongLag.enter`)."""


def pct(xs: list[float], q: float) -> float:
    """The `q` quantile of `xs` (seconds), in milliseconds; nan when there are none."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")


def _track(event: str, user: str, clock: Clock | None) -> bytes:
    msg = {"type": "track", "event": event, "userId": user, "messageId": f"{event.lower()}-{user}"}
    if clock is not None:
        msg["timestamp"] = clock.now().isoformat(timespec="milliseconds") + "Z"
    return orjson.dumps(msg)


class PongLag:
    """Commit -> next node for people waiting for a Pong, on `store` (a `with` block keeps the
    listener that sees them move)."""

    def __init__(self, store: Store, clock: Clock | None = None, source: str = "bench") -> None:
        self.store = store
        self.clock = clock
        self.source = source
        self.committed: dict[str, float] = {}
        self.moved: dict[str, float] = {}
        self.tags: dict[str, str] = {}
        self._pending: dict[str, str] = {}  # user id -> their Pong's message id, not yet moved
        self._lo = 0  # the lowest journey_state id of the ping people
        self._lock = threading.Lock()

    def __enter__(self) -> PongLag:
        # After the engine's, and prompt like it: it sees what the engine did as soon as it did.
        self.store.add_commit_listener(self._listener, prompt=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.remove_commit_listener(self._listener)

    def _listener(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        t = time.perf_counter()
        with self._lock:
            waiting = list(self._pending)
        if not waiting:
            return
        # Bounded by the ping people's ids: at 1M people, no scan of everyone each round.
        rows = con.execute(
            "SELECT user_id FROM journey_state WHERE id >= ? AND journey = 'ping' "
            "AND exit_reason = 'ponged' AND list_contains(?, user_id)",
            [self._lo, waiting],
        ).fetchall()
        with self._lock:
            for (user,) in rows:
                mid = self._pending.pop(user, None)
                if mid is not None:
                    self.moved.setdefault(mid, t)

    def listening(self) -> int:
        """People of journey `ping` waiting for their Pong."""
        sql = "SELECT count(*) FROM journey_state WHERE journey = 'ping' AND status = 'listen'"
        return int(self.store.query(sql)[0][0])

    def ponged(self) -> int:
        """People of journey `ping` who got their Pong and left."""
        sql = "SELECT count(*) FROM journey_state WHERE journey = 'ping' AND exit_reason = 'ponged'"
        return int(self.store.query(sql)[0][0])

    def enter(self, users: list[str], timeout: float = 120) -> None:
        """`users` enter journey `ping`; returns once they all wait for their Pong."""
        before = self.listening()
        msgs = [_track("Ping", u, self.clock) for u in users]
        self.store.ingest(stage_messages(msgs, source=self.source, received_at=utcnow())).result()
        deadline = time.monotonic() + timeout
        while self.listening() < before + len(users):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(users)} people did not start waiting for a Pong")
            time.sleep(0.1)
        sql = "SELECT min(id) FROM journey_state WHERE journey = 'ping'"
        self._lo = int(self.store.query(sql)[0][0])

    def pong(self, users: list[str], tag: str = "") -> Future[Any]:
        """Ingest a Pong for each of `users` (one request); their commit time is recorded."""
        mids = [f"pong-{u}" for u in users]
        with self._lock:
            self.tags.update(dict.fromkeys(mids, tag))
            self._pending.update(zip(users, mids, strict=True))
        msgs = [_track("Pong", u, self.clock) for u in users]
        fut = self.store.ingest(stage_messages(msgs, source=self.source, received_at=utcnow()))
        fut.add_done_callback(
            lambda _f: self.committed.update(dict.fromkeys(mids, time.perf_counter()))
        )
        return fut

    def wait(self, timeout: float) -> None:
        """Until every Pong sent has been seen to move its person on (or `timeout` s)."""
        deadline = time.monotonic() + timeout
        while len(self.moved) < len(self.tags) and time.monotonic() < deadline:
            time.sleep(0.1)

    def lat(self, tag: str | None = None) -> list[float]:
        """Seconds from each Pong's commit to its person's next node (of `tag`, or all)."""
        with self._lock:
            keys = [k for k, t in self.tags.items() if tag is None or t == tag]
        return [
            self.moved[k] - self.committed[k]
            for k in keys
            if k in self.moved and k in self.committed
        ]

    def summary(self, tag: str | None = None) -> str:
        lat = self.lat(tag)
        if not lat:
            return "none moved"
        return (
            f"p50 {pct(lat, 0.5):.0f} ms, p99 {pct(lat, 0.99):.0f} ms, max {max(lat) * 1000:.0f} ms"
        )
