"""A destination's limits: the token bucket lets `burst` sends through at once and then `rate` a
second; the concurrency bound holds however many sends wait (a waiter cancelled by a stopping
dispatcher gives its place back: tests/test_destinations_dispatcher.py). (Lower bounds only: a loaded
machine can make them slower, never faster.)"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from touchpath.destinations.ratelimit import Limiter, TokenBucket


def _run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:  # a loop of its own (the browser tests keep one here)
        return pool.submit(asyncio.run, coro).result()


def test_token_bucket_spends_the_burst_then_keeps_the_rate() -> None:
    async def go() -> list[float]:
        bucket = TokenBucket(rate=20, burst=3)
        t0 = time.monotonic()
        times = []
        for _ in range(9):
            await bucket.acquire()
            times.append(time.monotonic() - t0)
        return times

    times = _run(go())
    # 3 at once from the burst, then one every 1/20 s: the 9th no sooner than 6/20 s
    assert times[5] >= 3 / 20 * 0.95 and times[8] >= 6 / 20 * 0.95


def test_concurrency_is_bounded() -> None:
    async def go() -> int:
        limiter = Limiter(concurrency=2, rate=None, burst=1)
        now = peak = 0

        async def send() -> None:
            nonlocal now, peak
            async with limiter:
                now += 1
                peak = max(peak, now)
                await asyncio.sleep(0.02)
                now -= 1

        await asyncio.gather(*(send() for _ in range(8)))
        return peak

    assert _run(go()) == 2
