"""The living demo (issue #18): people keep arriving through /v1, answer the messages the
receivers hand over with events that carry the message ids, and a pause, a stop and a restart
lose nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from live_helpers import LiveWorld
from touchpath.clock import ScaledClock
from touchpath.demo.live import LiveBusiness, LiveRunner, live_clock, live_write_key
from touchpath.demo.live.runner import DEFAULT_START

WELCOME = """\
version: 1
name: welcome
entry: {kind: event, event: {event: Signed Up}}
nodes:
  hello: {kind: send, destination: demo-email, template: demo-welcome}
"""


def test_people_arrive_and_answer_the_messages_they_get(tmp_path: Path) -> None:
    w = LiveWorld(tmp_path, rate=100)
    try:
        api = w.api
        assert api.post("/api/journeys", json={"yaml": WELCOME}).status_code == 201
        assert api.post("/api/journeys/welcome/publish", json={}).status_code == 200
        w.run(hours=2, step_minutes=20)
        by_event = dict(w.store.query(
            "SELECT event, count(*) FROM events WHERE message_id LIKE 'live-%' GROUP BY 1"))  # fmt: skip
        assert by_event["Signed Up"] > 100 and by_event["Checkout Started"] > 30
        assert by_event["Order Completed"] > 10
        # every email the receiver got is answered once, by the person it was for (a
        # redelivery, when the dispatcher gave up waiting for an answer, only counts)
        emails = [r for r in w.received if r.kind == "email"]
        ids = {r.headers["x-touchpath-message-id"] for r in emails}
        answered, deliveries = w.store.query(
            "SELECT count(*), sum(deliveries) FROM demo_live_messages WHERE channel = 'email'"
        )[0]
        assert len(ids) == answered and len(emails) == deliveries
        assert answered == by_event["Signed Up"] - w.count(
            "SELECT count(*) FROM outbox WHERE state NOT IN ('sent', 'delivered')")  # fmt: skip
        # opens come back through the pixel, with the message's id
        opened = w.store.query(
            "SELECT count(*), count(DISTINCT properties ->> 'message_id') FROM events "
            "WHERE event = 'Message Opened'"
        )[0]
        planted = w.count("SELECT count(*) FROM demo_live_messages WHERE opened")
        due = w.count(
            "SELECT count(*) FROM demo_live_actions WHERE kind = 'open'"
        )  # opens still ahead
        assert opened[0] == opened[1] == planted - due > 20
        status = api.get("/api/demo/live").json()
        assert status["people"] > 100 and status["messages_answered"] == answered
    finally:
        w.close()


def test_pause_stop_and_restart_lose_nothing(tmp_path: Path) -> None:
    clock = ScaledClock(DEFAULT_START, factor=360.0, running=False)  # an hour in 10 s
    w = LiveWorld(tmp_path, rate=300, clock=clock)
    runners: list[LiveRunner] = []
    try:
        runners.append(LiveRunner(w.business, clock, tick_seconds=0.2).start())  # type: ignore[arg-type]
        _until(lambda: w.count("SELECT count(*) FROM demo_live_people") > 10)  # not a fixed sleep
        assert w.api.post("/api/demo/live/pause").json()["paused"]
        _until(lambda: not clock.running)
        paused_at = clock.now()
        status = w.api.get("/api/demo/live").json()
        assert status["state"] == "paused" and status["people"] > 10
        time.sleep(0.5)
        assert clock.now() == paused_at  # a paused business's clock stands still
        runners.pop().stop()
        people = w.count("SELECT count(*) FROM demo_live_people")

        # a new process: the clock is picked up where it stopped, and resumes on request
        again = live_clock(w.store, 360.0)
        assert again.now() == paused_at
        business = LiveBusiness(w.store, again, w.url, live_write_key(w.store), rate=300)
        runners.append(LiveRunner(business, again, tick_seconds=0.2).start())
        assert w.api.post("/api/demo/live/resume").json()["paused"] is False
        _until(lambda: w.count("SELECT count(*) FROM demo_live_people") > people + 10)
        runners.pop().stop()
        business.send()
        business.close()
        assert again.now() > paused_at
        assert w.count("SELECT count(*) FROM demo_live_outbox") == 0
        sent = w.store.query(
            "SELECT count(*), count(DISTINCT message_id) FROM events WHERE message_id LIKE 'live-%'"
        )[0]
        assert sent[0] == sent[1] > 100  # each message once
    finally:
        for r in runners:
            r.stop()
        w.close()


class _Watched(ScaledClock):
    """The demo's clock, noting how many posts the business still kept when it resumed."""

    def __init__(self, start: datetime, kept: Callable[[], int]) -> None:
        super().__init__(start, factor=360.0, running=False)
        self.kept = kept
        self.kept_at_resume: int | None = None

    def resume(self) -> None:
        if self.kept_at_resume is None:
            self.kept_at_resume = self.kept()
        super().resume()


def test_a_restart_posts_what_was_kept_before_the_clock_moves(tmp_path: Path) -> None:
    """A process killed between a step and its post kept what people did in demo_live_outbox.
    The next start posts it before the clock (the journeys' timers run on it) moves: posted a
    tick later, under load seconds of simulated time later, a wait timed out on an order the
    person made before its deadline (test_demo_live_kill, 2026-12-07)."""
    w = LiveWorld(tmp_path, rate=300, clock=ScaledClock(DEFAULT_START, 360.0, running=False))
    runner: LiveRunner | None = None
    try:
        assert w.business is not None
        w.business.step(DEFAULT_START + timedelta(minutes=30))  # ... and killed before send()
        kept = {
            k for (k,) in w.store.query("SELECT key FROM demo_live_outbox WHERE kind = 'event'")
        }
        assert kept
        again = _Watched(
            live_clock(w.store, 360.0).now(),
            lambda: w.count("SELECT count(*) FROM demo_live_outbox"),
        )
        business = LiveBusiness(w.store, again, w.url, live_write_key(w.store), rate=300)
        runner = LiveRunner(business, again, tick_seconds=0.2).start()
        assert again.kept_at_resume == 0
        posted = {m for (m,) in w.store.query("SELECT message_id FROM events")}
        assert kept <= posted
        runner.stop()
        runner = None
        business.close()
    finally:
        if runner is not None:
            runner.stop()
        w.close()


def _until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
