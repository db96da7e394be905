"""Per-destination limits: a token bucket for the rate and a semaphore for concurrency, and the
retry schedule (exponential backoff with jitter, a receiver's Retry-After first).

>>> import random
>>> [round(backoff(n, base=10, cap=3600, rng=random.Random(1))) for n in (1, 2, 3, 10)]
[6, 11, 23, 3600]
"""

from __future__ import annotations

import asyncio
import random
import time

__all__ = ["Limiter", "TokenBucket", "backoff", "retry_delay"]


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Delay before retry number `attempt` (1 = the first retry): `base * 2^(attempt-1)` capped
    at `cap`, with "equal jitter" (between half and all of it), so retries of many messages that
    failed together spread out instead of arriving together."""
    full = min(cap, base * 2 ** max(0, attempt - 1))
    return full / 2 + rng.uniform(0, full / 2) if full < cap else cap


def retry_delay(
    attempt: int, retry_after: float | None, *, base: float, cap: float, rng: random.Random
) -> float:
    """The receiver's Retry-After when it gave one (at most `cap`), else `backoff`."""
    if retry_after is not None:
        return min(cap, max(0.0, retry_after))
    return backoff(attempt, base=base, cap=cap, rng=rng)


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; `acquire` waits for one (real time)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


class Limiter:
    """A destination's concurrency and (optional) rate, entered around each send."""

    def __init__(self, concurrency: int, rate: float | None, burst: int) -> None:
        self._sem = asyncio.Semaphore(concurrency)
        self._bucket = TokenBucket(rate, burst) if rate else None

    async def __aenter__(self) -> Limiter:
        await self._sem.acquire()
        if self._bucket is not None:
            try:
                await self._bucket.acquire()
            except BaseException:
                self._sem.release()
                raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._sem.release()
