"""A journey's send that the send policy refuses (suppression, unsubscribed, frequency cap) or
defers (quiet hours) is recorded with its reason in the outbox, and the person goes on as the
definition says: a journey never waits on a send. And the engine's `stop()` returns only after
its timers' last batch has committed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path
from time import monotonic

import pytest

from journeys_helpers import World
from touchpath.destinations import DeliveryResult, MemoryDestination
from touchpath.destinations.dispatcher import Dispatcher
from touchpath.destinations.policy import QuietHours, SendPolicy, put_policy
from touchpath.destinations.subscriptions import set_subscription
from touchpath.destinations.vault import Vault
from touchpath.profiles import privacy

NUDGE = """
name: nudge
entry: {kind: event, event: {event: Cart Viewed}}
nodes:
  first: {kind: wait, duration: 1h, next: remind}
  remind: {kind: send, destination: mem, channel: sms, topic: promo,
           content: {body: "Your cart is waiting"}, next: again}
  again: {kind: send, destination: mem, channel: sms, content: {body: "Still there?"},
          next: pause}
  pause: {kind: wait, duration: 1d, next: bye}
  bye: {kind: send, destination: mem, channel: sms, content: {body: "Bye"}}
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[World, Dispatcher, MemoryDestination]]:
    w = World(tmp_path)
    mem = MemoryDestination("mem", lambda m: DeliveryResult("sent", status=200))
    settings = w.tp.settings
    d = Dispatcher(w.store, settings, w.clock, Vault.open(settings), {"mem": mem}, seed=1)
    d.start()
    yield w, d, mem
    d.stop()
    w.close()


def _outbox(w: World, user: str) -> dict[str, tuple[str, str | None]]:
    rows = w.store.query(
        "SELECT node, state, last_error FROM outbox WHERE profile_id = ? ORDER BY node",
        [w.profile(user)],
    )
    return {str(n): (str(s), e) for n, s, e in rows}


def test_refused_and_deferred_sends_are_recorded_and_the_person_moves_on(
    world: tuple[World, Dispatcher, MemoryDestination],
) -> None:
    w, dispatcher, mem = world
    for user, zone in (("ok", "UTC"), ("gone", "UTC"), ("unsub", "UTC"), ("night", "Asia/Tokyo")):
        w.identify(user, phone="+4915100000001", timezone=zone)
    w.publish(NUDGE)
    for user in ("ok", "gone", "unsub", "night"):
        w.track(user, "Cart Viewed")
    # Between entering and the first send: one is suppressed, one unsubscribes from promo;
    # one sms a day per person, and quiet hours from 18:00 to 08:00 in each person's zone
    # (10:00 UTC is 19:00 in Tokyo).
    privacy.suppress(w.store, "gone")
    now = w.clock.now()
    w.store.write_sync(
        lambda con: set_subscription(con, w.profile("unsub"), "sms", "promo", False, now, via="api")
    )
    policy = SendPolicy(caps={"sms": 1}, quiet_hours=QuietHours(start=time(18), end=time(8)))
    w.store.write_sync(lambda con: put_policy(con, policy, now))

    w.later(hours=1)
    dispatcher.run_until_idle()
    # Everyone went on through both sends to the wait, whatever became of the messages.
    assert {u: w.where(u) for u in ("ok", "gone", "unsub", "night")} == {
        u: ("pause", "wait", None) for u in ("ok", "gone", "unsub", "night")
    }
    assert w.path("gone") == ["@entry", "first", "remind:queued", "again:queued", "pause"]
    ok = _outbox(w, "ok")
    assert sorted(ok.values()) == [
        ("refused", "frequency cap: 1 sms per day in UTC"),
        ("sent", None),
    ]
    assert _outbox(w, "gone") == {
        "again": ("refused", "suppressed"),
        "remind": ("refused", "suppressed"),
    }
    unsub = _outbox(w, "unsub")
    assert unsub["remind"] == ("refused", "unsubscribed: sms promo")
    assert unsub["again"] == ("sent", None)  # another topic, and the cap's one for the day
    night = w.store.query_dicts(
        "SELECT node, state, next_attempt_at FROM outbox WHERE profile_id = ?",
        [w.profile("night")],
    )
    assert {r["state"] for r in night} == {"pending"}  # deferred, not refused
    assert {str(r["next_attempt_at"]) for r in night} == {"2026-03-02 23:00:00"}  # 08:00 JST
    # The refusals are in the delivery log with their reason.
    with w.store.reading() as cur:
        (refused_log,) = cur.execute(
            "SELECT list(a.outcome || ': ' || a.error ORDER BY o.node) FROM outbox_attempts a "
            "JOIN outbox o ON o.id = a.message_id WHERE o.profile_id = ?",
            [w.profile("gone")],
        ).fetchone() or ([],)
    assert [x.split(": ", 1)[1] for x in refused_log] == ["suppressed", "suppressed"]

    # A day later the definition goes on for all of them: the last send, then the end.
    w.later(days=1)
    dispatcher.run_until_idle()
    assert {u: w.where(u) for u in ("ok", "gone", "unsub", "night")} == {
        u: ("bye", "done", "completed") for u in ("ok", "gone", "unsub", "night")
    }
    assert _outbox(w, "gone")["bye"] == ("refused", "suppressed")
    assert _outbox(w, "ok")["bye"] == ("sent", None)  # a new day, a new cap
    assert len([m for m in mem.sent if m.recipient == "+4915100000001"]) == len(mem.sent)


def test_stop_waits_for_the_timers_last_batch(tmp_path: Path) -> None:
    w = World(tmp_path, batch=50)
    try:
        w.publish(
            """
            name: slow
            entry: {kind: event, event: {event: Signed Up}}
            nodes:
              pause: {kind: wait, duration: 1h, next: tag}
              tag: {kind: update_trait, trait: nudged, value: true}
            """
        )
        w.send(*[{"type": "track", "userId": f"u{i}", "event": "Signed Up"} for i in range(200)])
        # Hold the writer inside the timers' first batch until stop() has been called.
        started, release = threading.Event(), threading.Event()
        engine = w.engine
        real = engine.run_due

        def gated(limit: int | None = None) -> int:
            started.set()
            release.wait(10)
            return real(limit)

        engine.run_due = gated  # type: ignore[method-assign]
        w.clock.advance(timedelta(hours=1))
        engine.tick_seconds = 0.01
        engine.start_timers()
        assert started.wait(10)
        stopper = threading.Thread(target=engine.stop)
        stopper.start()
        stopper.join(0.3)
        assert stopper.is_alive()  # stop() waits while the batch runs
        release.set()
        stopper.join(10)
        assert not stopper.is_alive()
        moved = w.store.query("SELECT count(*) FROM journey_state WHERE node = 'tag'")[0][0]
        assert moved == 50  # the batch it waited for committed; no other ran after stop()
        # Started again, the timers run (the stop flag is cleared) and finish the rest.
        engine.run_due = real  # type: ignore[method-assign]
        engine.attach()
        engine.start_timers()
        deadline = monotonic() + 120  # no timing asserted: only that it gets there
        while monotonic() < deadline:
            done = w.store.query("SELECT count(*) FROM journey_state WHERE status = 'done'")[0][0]
            if done == 200:
                break
            threading.Event().wait(0.05)
        engine.stop()
        assert done == 200
    finally:
        w.close()
