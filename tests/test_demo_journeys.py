"""The demo's journeys as `touchpath demo` runs them: published through the journey library,
run by the engine (on a clock the test moves) against the demo's local receivers (a real SMTP
server and a real HTTP server speaking Twilio's Messages API), their steps in the event log,
and their numbers on the demo maps."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from touchpath.clock import ManualClock
from touchpath.demo.journeys import SPLIT_NODE, publish_demo_journeys
from touchpath.demo.receivers import DemoReceivers, demo_destinations
from touchpath.events.message import stage_messages
from touchpath.maps.bind import bind_map
from touchpath.maps.library import example
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath

START = datetime(2026, 11, 2, 8, 0)  # a Monday, 08:00 UTC: no quiet hours in the way


@dataclass
class Demo:
    tp: Touchpath
    clock: ManualClock
    receivers: DemoReceivers

    @property
    def store(self) -> Store:
        return self.tp.store

    def send(self, *messages: dict[str, Any]) -> None:
        """Ingest at the clock's time; wait until every listener (the engine's too) ran."""
        now = self.clock.now()
        raws = [json.dumps({"timestamp": now.isoformat() + "Z", **m}).encode() for m in messages]
        self.store.ingest(stage_messages(raws, source="demo", received_at=now)).result()
        self.settle()

    def settle(self) -> None:
        for _ in range(50):
            self.store.wait_idle()
            self.store.write_sync(lambda con: None)
            if not self.store.pending:
                return

    def later(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))
        self.tp.services["journeys"].drain()
        self.settle()

    def events(self, event: str) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT properties FROM events WHERE event = ? ORDER BY seq", [event]
        )
        return [json.loads(r[0]) for r in rows]


def wait_for(what: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    settings = Settings(
        db=tmp_path / "demo.duckdb", destinations_allow_hosts="127.0.0.1", outbox_poll_seconds=0.05
    )
    clock = ManualClock(START)
    with (
        Store(settings.db, settings) as store,
        Touchpath.open(settings, store=store, clock=clock, background=True) as tp,
        demo_destinations(store, lambda line: None) as receivers,
    ):
        yield Demo(tp, clock, receivers)


def _people(n: int, sms: bool) -> list[dict[str, Any]]:
    first = 0 if sms else 1000
    return [
        {
            "type": "identify",
            "userId": f"u{first + i}",
            "traits": {
                "first_name": f"Kim{first + i}",
                "email": f"kim{first + i}@example.com",
                "phone": f"+49 151 {first + i:07d}",
                "sms_opt_in": sms,
            },
        }
        for i in range(n)
    ]


def test_the_demo_journeys_send_to_the_receivers_and_show_on_the_maps(demo: Demo) -> None:
    published = publish_demo_journeys(demo.tp)
    assert [(p.name, p.version) for p in published] == [("abandoned-cart", 1), ("slow-support", 1)]
    assert publish_demo_journeys(demo.tp) == []  # nothing changed: nothing new to publish
    demo.send(*_people(40, sms=True), *_people(5, sms=False))
    viewers = [f"u{i}" for i in range(40)] + ["u1000", "u1001"]
    demo.send(
        *[
            {"type": "track", "userId": u, "event": "Cart Viewed", "properties": {"cart_id": f"c-{u}"}}
            for u in viewers
        ],
        {"type": "track", "userId": "u1002", "event": "Ticket Created",
         "properties": {"ticket_id": "T-1", "channel": "support"}},
        {"type": "track", "userId": "u1003", "event": "Ticket Created",
         "properties": {"ticket_id": "T-2", "channel": "support"}},
    )  # fmt: skip
    # The same cart viewed again enters no one twice (once per cart id); a new cart does.
    demo.send(
        {"type": "track", "userId": "u0", "event": "Cart Viewed", "properties": {"cart_id": "c-u0"}},
        {"type": "track", "userId": "u1000", "event": "Cart Viewed", "properties": {"cart_id": "c-2"}},
    )  # fmt: skip
    assert len(demo.events("Journey Entered")) == len(viewers) + 1 + 2
    demo.later(hours=1)
    demo.send(
        {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"order_id": "o1"}},
        {"type": "track", "userId": "u1003", "event": "Ticket Resolved", "properties": {"ticket_id": "T-2"}},
    )  # fmt: skip
    demo.later(hours=3, minutes=1)  # the 4 h wait is over for the carts
    arms = {p["profile_id"]: p["variation_id"] for p in demo.events("Experiment Viewed")}
    assert {p["experiment_id"] for p in demo.events("Experiment Viewed")} == {
        f"journey:abandoned-cart:{SPLIT_NODE}"
    }
    assert len(arms) == 39  # u1 ordered; u1000 and u1001 said no to SMS
    reminded = sum(a == "remind" for a in arms.values())
    assert 0 < reminded < 39 and set(arms.values()) == {"remind", "holdout"}
    wait_for(lambda: len(demo.receivers.http.of("sms")) == reminded)
    texts = demo.receivers.http.of("sms")
    assert all(t.data["To"].startswith("+49") and "cart" in t.data["Body"] for t in texts)
    demo.later(hours=21)  # 25 h after the tickets: the slow one gets its apology
    wait_for(lambda: len(demo.receivers.smtp.received) == 1)
    (apology,) = demo.receivers.smtp.received
    assert apology.path == "kim1002@example.com" and "Sorry" in apology.headers["subject"]
    assert "SORRY15" in apology.data.get_body(("plain",)).get_content()
    demo.later(hours=4)  # a day after the SMS with no order: the reminder email
    wait_for(lambda: len(demo.receivers.smtp.received) == 1 + reminded)
    reminders = list(demo.receivers.smtp.received)[1:]
    assert all("your cart is still here" in m.headers["subject"] for m in reminders)
    assert reminders[0].headers["subject"].startswith("Kim")
    # The journeys speak back into the log, like any touchpoint.
    steps = {(p["journey"], p["node"]) for p in demo.events("Journey Step Reached")}
    assert {("abandoned-cart", "wait_order"), ("abandoned-cart", "sms"),
            ("abandoned-cart", "email"), ("slow-support", "apology")} <= steps  # fmt: skip
    exits = {p["reason"] for p in demo.events("Journey Exited") if p["journey"] == "abandoned-cart"}
    assert "goal" in exits
    # Binding the demo maps shows the journeys beside their touchpoints.
    demo.store.wait_idle()
    support = bind_map(demo.store, example("demo-support"))
    by_name = {t.name: t for s in support.stages for t in s.touchpoints}
    (entry,) = by_name["Ticket opened"].journeys
    assert (entry.journey, entry.role, entry.entered, entry.exited) == (
        "slow-support",
        "entry",
        2,
        2,
    )
    first = bind_map(demo.store, example("demo-first-purchase"))
    placed = {t.name: t for s in first.stages for t in s.touchpoints}["Order placed"].journeys
    assert [(j.journey, j.role) for j in placed] == [("abandoned-cart", "goal")]
    assert placed[0].entered == len(viewers) + 1 and placed[0].converted == 1
    assert placed[0].waiting == 0  # everyone's journey ended: ordered, no SMS, held out, sent
