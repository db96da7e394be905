"""Time as a dependency: every part that schedules (journeys, the outbox, the living demo) asks a
`Clock`, so tests move time by hand and the demo can run faster than the wall.

Times are naive UTC datetimes, the form the store keeps.

>>> from datetime import datetime, timedelta
>>> clock = ManualClock(datetime(2026, 3, 29, 0, 30))
>>> clock.advance(timedelta(hours=2)); clock.now()
datetime.datetime(2026, 3, 29, 2, 30)
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "ScaledClock", "SystemClock", "utcnow"]


def utcnow() -> datetime:
    """The current wall time as a naive UTC datetime."""
    return datetime.now(UTC).replace(tzinfo=None)


@runtime_checkable
class Clock(Protocol):
    """Tells the time (naive UTC) and sleeps in the clock's own time."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to (tests). `sleep` advances it instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._now += by

    def set(self, to: datetime) -> None:
        with self._lock:
            self._now = to

    def sleep(self, seconds: float) -> None:
        self.advance(timedelta(seconds=max(0.0, seconds)))


class ScaledClock:
    """Wall time sped up `factor` times from `start` (the living demo's accelerated business).
    `pause()` stops it where it is and `resume()` goes on from there, so a paused business
    loses no simulated time; a restart builds it again from the time it had reached.

    >>> c = ScaledClock(datetime(2026, 1, 1), factor=60.0, running=False)
    >>> c.now(), c.running
    (datetime.datetime(2026, 1, 1, 0, 0), False)
    >>> c.resume(); c.now() >= datetime(2026, 1, 1)
    True
    """

    def __init__(self, start: datetime, factor: float, *, running: bool = True) -> None:
        if factor <= 0:
            raise ValueError("factor: must be positive")
        self.start = start
        self.factor = factor
        self._lock = threading.Lock()
        self._base = start  # the clock's time at _t0
        self._t0 = time.monotonic()
        self._running = running

    @property
    def running(self) -> bool:
        return self._running

    def _now(self) -> datetime:
        if not self._running:
            return self._base
        return self._base + timedelta(seconds=(time.monotonic() - self._t0) * self.factor)

    def now(self) -> datetime:
        with self._lock:
            return self._now()

    def pause(self) -> None:
        """Stop the clock at the time it shows."""
        with self._lock:
            self._base = self._now()
            self._running = False

    def resume(self) -> None:
        """Go on from the time it was paused at."""
        with self._lock:
            if not self._running:
                self._t0 = time.monotonic()
                self._running = True

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.factor)
