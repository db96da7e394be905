"""Shared parts of the destinations tests (no tests here): a Touchpath with a dispatcher on a
manual clock, local receivers on 127.0.0.1, and helpers to add people and destinations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from touchpath.clock import ManualClock
from touchpath.demo.receivers import HttpReceiver
from touchpath.destinations import DeliveryResult, MemoryDestination, OutboxMessage, enqueue
from touchpath.destinations import config as cfg
from touchpath.destinations.dispatcher import Dispatcher
from touchpath.destinations.vault import Vault
from touchpath.events.message import stage_messages
from touchpath.settings import Settings
from touchpath.system import Touchpath

T0 = datetime(2026, 3, 2, 10, 0)  # a Monday, 10:00 UTC


@dataclass
class Env:
    tp: Touchpath
    clock: ManualClock
    vault: Vault
    dispatcher: Dispatcher
    settings: Settings
    mem: MemoryDestination
    """A destination named `mem` that keeps what it is sent (any channel)."""

    def put(
        self, name: str, config: dict[str, Any], secrets: dict[str, str] | None = None
    ) -> cfg.DestinationOut:
        spec = cfg.DestinationIn.model_validate({"config": config, "secrets": secrets or {}})
        return self.tp.store.write_sync(
            lambda con: cfg.put_destination(con, self.vault, name, spec, self.clock.now())
        )

    def send(self, *messages: OutboxMessage) -> int:
        n = self.tp.store.write_sync(lambda con: enqueue(con, messages, now=self.clock.now()))
        self.dispatcher.run_until_idle()
        return n

    def row(self, key: str) -> dict[str, Any]:
        from touchpath.destinations.outbox import get_message

        with self.tp.store.reading() as con:
            return get_message(con, key)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        import json

        self.tp.store.wait_idle()
        rows = self.tp.store.query_dicts(
            "SELECT event, user_id, channel, properties FROM events "
            "WHERE source = 'touchpath.destinations' ORDER BY seq"
        )
        for r in rows:
            r["properties"] = json.loads(r["properties"])
        return [r for r in rows if name is None or r["event"] == name]


def person(tp: Touchpath, user_id: str, **traits: Any) -> str:
    """Identify a person with traits; returns their profile id."""
    import json

    raw = json.dumps({"type": "identify", "userId": user_id, "traits": traits}).encode()
    tp.store.ingest(stage_messages([raw], source="test", received_at=T0)).result()
    tp.store.wait_idle()
    from touchpath.profiles.lookup import find_profile

    return find_profile(tp.store, user_id)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    settings = Settings(
        db=tmp_path / "t.duckdb",
        destinations_allow_hosts="127.0.0.1",
        destinations_backoff_seconds=10,
        destinations_backoff_max_seconds=600,
        destinations_max_attempts=3,
        destinations_timeout_seconds=2,
        outbox_poll_seconds=0.02,
        public_url="http://127.0.0.1:9999",
    )
    clock = ManualClock(T0)
    with Touchpath.open(settings, clock=clock) as tp:
        vault = Vault.open(settings)
        mem = MemoryDestination("mem", lambda m: DeliveryResult("sent", status=200))
        d = Dispatcher(tp.store, settings, clock, vault, {"mem": mem}, seed=1)
        d.start()
        try:
            yield Env(tp, clock, vault, d, settings, mem)
        finally:
            d.stop()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r
