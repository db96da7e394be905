"""Dry runs replay one person's history through the real engine; a test send goes to one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from journeys_helpers import World
from touchpath.errors import BadRequest, NotFound
from touchpath.orchestrate import load_journey, publish, save_journey
from touchpath.orchestrate.dryrun import dry_run, send_test
from touchpath.orchestrate.library import check

CART = """
name: cart
entry: {kind: event, event: {event: Cart Viewed}}
re_entry: {mode: per_key, key: cart_id}
goal: {event: {event: Order Completed}, within: 2d}
nodes:
  wait_order: {kind: wait_for_event, event: {event: Order Completed}, timeout: 4h,
               on_timeout: split}
  split: {kind: split, variants: [{name: remind, weight: 100, next: sms}], holdout: 0}
  sms: {kind: send, destination: twilio, channel: sms, template: cart_sms, next: later}
  later: {kind: wait, duration: 1d, next: email}
  email: {kind: send, destination: smtp, channel: email, template: cart_email}
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def test_dry_run_shows_the_path_and_the_messages_of_each_entry(world: World) -> None:
    # History before the journey exists: two carts, one bought within the wait.
    world.track("ann", "Cart Viewed", cart_id="c1")
    world.later(hours=1)
    world.track("ann", "Order Completed")
    world.later(hours=2)
    world.track("ann", "Cart Viewed", cart_id="c2")
    world.later(days=3)
    doc = load_journey(CART)
    plan = check(world.engine, doc)
    run = dry_run(world.engine, plan, world.profile("ann"))
    assert run.events == 3
    c1, c2 = run.entries
    assert (c1.entry_key, c1.exit_reason, c1.converted_at is not None) == ("c1", "completed", True)
    assert [s.node for s in c1.steps] == ["@entry", "wait_order", "@exit"]
    assert c1.messages == []
    assert [s.node for s in c2.steps] == [
        "@entry",
        "wait_order",
        "split",
        "sms",
        "later",
        "email",
        "@exit",
    ]
    assert [(m.node, m.channel, m.template) for m in c2.messages] == [
        ("sms", "sms", "cart_sms"),
        ("email", "email", "cart_email"),
    ]
    assert c2.messages[0].at == datetime(2026, 3, 2, 16, 0)  # 4 h after the cart at 12:00
    assert c2.messages[1].at == datetime(2026, 3, 3, 16, 0)
    # Nothing happened in the store.
    assert world.store.query("SELECT count(*) FROM journey_state")[0][0] == 0
    assert world.events("Journey Entered") == []


def test_an_event_right_after_a_timer_is_heard_by_the_wait_the_timer_began(world: World) -> None:
    """The first relevant event after a wait (pause) whose timer starts a wait_for_event is
    heard by it, in the dry run as in the live engine (the replay once began that listen from
    the event's own number and missed it: the person ended at the timeout instead)."""
    text = """
    name: welcome
    entry: {kind: event, event: {event: Signed Up}}
    nodes:
      pause: {kind: wait, duration: 15m, next: ordered}
      ordered: {kind: wait_for_event, event: {event: Order Completed}, timeout: 45m,
                on_event: thanks, on_timeout: nudge}
      thanks: {kind: exit, reason: bought}
      nudge: {kind: exit, reason: nudged}
    """
    doc = load_journey(text)
    save_journey(world.engine, doc, text)
    publish(world.engine, "welcome")
    world.track("ann", "Signed Up")
    world.later(minutes=30)  # the pause's timer ran: now listening
    world.track("ann", "Order Completed")
    world.later(hours=2)
    assert world.where("ann") == ("thanks", "done", "bought")
    (entry,) = dry_run(world.engine, check(world.engine, doc), world.profile("ann")).entries
    assert (entry.node, entry.status, entry.exit_reason) == ("thanks", "done", "bought")


def test_test_send_goes_to_one_person_from_a_send_node(world: World) -> None:
    doc = load_journey(CART)
    save_journey(world.engine, doc, CART)
    publish(world.engine, "cart")
    world.identify("bob", email="bob@example.com")
    plan = check(world.engine, doc)
    sent = send_test(world.engine, plan, "sms", world.profile("bob"))
    assert sent.idempotency_key.startswith("journey-test:cart:sms:")
    with pytest.raises(BadRequest, match="'later' sends nothing"):
        send_test(world.engine, plan, "later", world.profile("bob"))
    with pytest.raises(NotFound, match="no such person"):
        send_test(world.engine, plan, "sms", "p_nobody")
