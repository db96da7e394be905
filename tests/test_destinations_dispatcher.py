"""The dispatcher's lifecycle: a clean stop waits for the sends in flight and records each once;
what it had claimed but not sent goes back to pending, so nothing is lost or sent twice."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from tests.test_destinations_support import T0

from touchpath.clock import ManualClock
from touchpath.destinations import DeliveryResult, OutboxMessage, Outgoing, enqueue, message_id
from touchpath.destinations.dispatcher import Dispatcher
from touchpath.destinations.vault import Vault
from touchpath.settings import Settings
from touchpath.store import Store

N = 120


class Slow:
    """A destination whose sends take a while (so a stop finds them in flight)."""

    name = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: list[str] = []
        self.finished: list[str] = []

    async def send(self, message: Outgoing) -> DeliveryResult:
        self.started.append(message.id)
        await asyncio.sleep(self.seconds)
        self.finished.append(message.id)
        return DeliveryResult("delivered", status=200)

    async def aclose(self) -> None:
        pass


def test_stop_waits_for_the_batch_in_flight(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "s.duckdb", outbox_poll_seconds=0.02, outbox_batch=500)
    clock = ManualClock(T0)
    msgs = [
        OutboxMessage(idempotency_key=f"k{i}", destination="slow", channel="webhook",
                      content={"payload": {"i": i}}, render=False)
        for i in range(N)
    ]  # fmt: skip
    sent: Counter[str] = Counter()
    with Store(settings.db, settings) as store:
        store.write_sync(lambda con: enqueue(con, msgs, now=T0))
        slow = Slow(0.5)  # the given destinations send 64 at a time: the rest wait their turn
        d = Dispatcher(store, settings, clock, Vault.open(settings), {"slow": slow})
        d.start()
        deadline = time.monotonic() + 30
        while len(slow.started) < 64 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert 0 < len(slow.started) < N and not slow.finished  # a batch is in flight
        d.stop()
        assert sorted(slow.finished) == sorted(slow.started)  # every send in flight ended
        sent.update(slow.finished)
        states = dict(store.query("SELECT state, count(*) FROM outbox GROUP BY 1"))
        assert states == {"delivered": len(slow.finished), "pending": N - len(slow.finished)}
        logged = store.query("SELECT message_id, count(*) FROM outbox_attempts GROUP BY 1")
        assert {m: n for m, n in logged} == {m: 1 for m in slow.finished}  # recorded once

        again = Slow(0.0)  # a new dispatcher sends the rest, and only the rest
        d = Dispatcher(store, settings, clock, Vault.open(settings), {"slow": again})
        d.start()
        try:
            d.run_until_idle()
        finally:
            d.stop()
        sent.update(again.finished)
        assert sent == Counter({message_id(f"k{i}"): 1 for i in range(N)})
        assert dict(store.query("SELECT state, count(*) FROM outbox GROUP BY 1")) == {
            "delivered": N
        }
