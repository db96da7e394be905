"""The living demo in a long-running process (`touchpath demo`): the accelerated clock, picked
up where the business stopped, and a thread that steps the business and posts what people sent.

The journey engine and the dispatcher share the clock (`Touchpath.open(clock=...)`), so waits,
quiet hours and caps happen in the business's time. Pausing is a row (`set_paused`): the web
app's panel and the CLI write it, the runner reads it on its next tick and stops the clock.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from touchpath.clock import ScaledClock, utcnow
from touchpath.demo.live.business import LiveBusiness, set_meta
from touchpath.store import Store

__all__ = [
    "DEFAULT_START",
    "LIVE_SOURCE",
    "LiveRunner",
    "get_meta_value",
    "live_clock",
    "live_write_key",
]

log = logging.getLogger(__name__)

DEFAULT_START = datetime(2026, 11, 2)
"""The day after the demo history's default period (`DemoConfig.end`)."""

LIVE_SOURCE = "demo-live"


def get_meta_value(store: Store, key: str) -> str | None:
    rows = store.query("SELECT value FROM demo_live_meta WHERE key = ?", [key])
    return str(rows[0][0]) if rows else None


def live_clock(store: Store, factor: float) -> ScaledClock:
    """A stopped accelerated clock at the time the business reached (after a restart), else just
    after the last event in the store, else `DEFAULT_START`."""
    rows = store.query("SELECT value FROM demo_live_meta WHERE key = 'now'")
    if rows:
        start = datetime.fromisoformat(rows[0][0])
    else:
        (last,) = store.query("SELECT max(timestamp) FROM events")[0]
        start = last + timedelta(minutes=1) if last is not None else DEFAULT_START
    return ScaledClock(start, factor, running=False)


def live_write_key(store: Store) -> str:
    """A write key of the living demo's source (made, or rotated: keys are kept hashed)."""
    if any(s.name == LIVE_SOURCE for s in store.sources()):
        src = store.rotate_source_key(LIVE_SOURCE, timedelta(0))
    else:
        src = store.create_source(LIVE_SOURCE)
    assert src.write_key is not None
    return src.write_key


class LiveRunner:
    """Steps `business` on `clock` every `tick_seconds` of wall time until `stop()`."""

    def __init__(
        self, business: LiveBusiness, clock: ScaledClock, *, tick_seconds: float = 0.5
    ) -> None:
        self.business = business
        self.clock = clock
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LiveRunner:
        store = self.business.store
        paused = get_meta_value(store, "paused") == "true"
        # Before the clock moves (the journeys' timers run on it), what people did up to the
        # time the business reached goes out: a process killed between a step and its post
        # kept those events, and posted a tick after the clock resumed, under load seconds
        # later, a journey timed out on an order made (and kept) before its deadline.
        try:
            if not paused:
                self.business.step(self.clock.now())
            self.business.send()
        except Exception:  # kept in demo_live_outbox: the first tick sends it
            log.warning("living demo: could not post what people sent before the restart")
        if not paused:
            self.clock.resume()
        self._thread = threading.Thread(target=self._loop, name="touchpath-live", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        ended = True
        if self._thread is not None:
            self._thread.join(timeout=30)
            ended = not self._thread.is_alive()
            self._thread = None
        self.clock.pause()
        try:  # what the last tick stepped goes out now rather than at the next start (not
            # while a slow tick still sends: a link followed twice is recorded twice)
            if ended:
                self.business.send()
        except Exception:  # kept in demo_live_outbox: the next start sends it
            log.warning("living demo: could not post what people sent before stopping")
        self.business.store.write_sync(
            lambda con: set_meta(con, {"now": self.clock.now().isoformat()})
        )

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("living demo: a tick failed; trying again")
            self._stop.wait(self.tick_seconds)

    def tick(self) -> None:
        """Follow the pause switch, step the business to the clock's time, post, heartbeat."""
        b = self.business
        paused = get_meta_value(b.store, "paused") == "true"
        if paused and self.clock.running:
            self.clock.pause()
        elif not paused and not self.clock.running:
            self.clock.resume()
        if self.clock.running:
            b.step(self.clock.now())
        b.send()
        beat = {"heartbeat": utcnow().isoformat(), "rate": b.rate, "factor": self.clock.factor,
                "now": self.clock.now().isoformat()}  # fmt: skip
        b.store.write_sync(lambda con: set_meta(con, beat))
