"""Entering (events, audiences, schedules, the API), re-entry and keyed entry, exits, goals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from journeys_helpers import World
from touchpath.errors import BadRequest
from touchpath.orchestrate import enter_person
from touchpath.profiles.specs import Audience
from touchpath.store import utcnow

WAIT_A_DAY = """
name: {name}
entry: {{kind: event, event: {{event: Cart Viewed}}}}
re_entry: {re_entry}
nodes:
  wait: {{kind: wait, duration: 1d}}
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def entries(world: World, user: str) -> list[str]:
    return [i["entry_key"] for i in world.instances(user)]


def test_never_enters_a_person_once(world: World) -> None:
    world.publish(WAIT_A_DAY.format(name="once", re_entry="{mode: never}"))
    world.track("u1", "Cart Viewed")
    world.later(days=2)
    world.track("u1", "Cart Viewed")
    assert len(entries(world, "u1")) == 1


def test_always_enters_again_once_out_but_not_while_in(world: World) -> None:
    world.publish(WAIT_A_DAY.format(name="again", re_entry="{mode: always}"))
    world.track("u1", "Cart Viewed")
    world.track("u1", "Cart Viewed")  # still in: no second entry
    assert len(entries(world, "u1")) == 1
    world.later(days=1)
    world.track("u1", "Cart Viewed")
    assert [i["status"] for i in world.instances("u1")] == ["done", "wait"]


def test_cooldown_counts_from_leaving(world: World) -> None:
    world.publish(WAIT_A_DAY.format(name="cool", re_entry="{mode: cooldown, cooldown: 2d}"))
    world.track("u1", "Cart Viewed")
    world.later(days=1)  # out after a day
    world.later(days=1)
    world.track("u1", "Cart Viewed")  # one day after leaving: too soon
    assert len(entries(world, "u1")) == 1
    world.later(days=1, seconds=1)
    world.track("u1", "Cart Viewed")
    assert len(entries(world, "u1")) == 2


def test_per_key_enters_once_per_cart_and_runs_carts_side_by_side(world: World) -> None:
    world.publish(WAIT_A_DAY.format(name="carts", re_entry="{mode: per_key, key: cart_id}"))
    world.track("u1", "Cart Viewed", cart_id="c1")
    world.track("u1", "Cart Viewed", cart_id="c2")
    world.track("u1", "Cart Viewed", cart_id="c1")
    world.track("u1", "Cart Viewed")  # no key: no entry
    assert entries(world, "u1") == ["c1", "c2"]
    world.later(days=2)
    world.track("u1", "Cart Viewed", cart_id="c1")  # a key never enters twice
    assert entries(world, "u1") == ["c1", "c2"]


def test_same_event_twice_in_one_batch_enters_once(world: World) -> None:
    world.publish(WAIT_A_DAY.format(name="batch", re_entry="{mode: always}"))
    world.send(
        {"type": "track", "userId": "u1", "event": "Cart Viewed"},
        {"type": "track", "userId": "u1", "event": "Cart Viewed"},
    )
    assert len(entries(world, "u1")) == 1


def test_entry_conditions_on_properties(world: World) -> None:
    world.publish(
        """
        name: big-carts
        entry:
          kind: event
          event: {event: Cart Viewed, where: [{property: value, op: gte, value: 100}]}
        nodes:
          wait: {kind: wait, duration: 1d}
        """
    )
    world.track("small", "Cart Viewed", value=20)
    world.track("big", "Cart Viewed", value=120)
    assert world.instances("small") == []
    assert len(world.instances("big")) == 1


def _vip(world: World) -> None:
    from touchpath.profiles.audiences import define_audience

    audience = Audience.model_validate(
        {"name": "vip", "condition": {"kind": "trait", "trait": "tier", "value": "gold"}}
    )
    world.store.write_sync(lambda con: define_audience(con, audience, utcnow()))


def test_audience_entry_and_audience_left_exit(world: World) -> None:
    _vip(world)
    world.identify("already", tier="gold")
    world.publish(
        """
        name: vip-care
        entry: {kind: audience, audience: vip, existing: true}
        exit: {audience_left: [vip]}
        nodes:
          wait: {kind: wait, duration: 7d}
        """
    )
    world.store.wait_idle()
    assert world.where("already") == ("wait", "run", None)  # entered on publish, timers move it
    world.later(seconds=1)
    assert world.where("already") == ("wait", "wait", None)
    world.identify("new", tier="gold")
    assert world.where("new") == ("wait", "wait", None)
    world.identify("new", tier="silver")
    assert world.where("new") == ("wait", "done", "audience_left")


def test_exit_on_an_event_and_on_the_goal_and_after_max_time(world: World) -> None:
    world.publish(
        """
        name: rules
        entry: {kind: event, event: {event: Trial Started}}
        goal: {event: {event: Subscribed}, within: 3d}
        exit:
          events: [{event: Account Deleted}]
          on_goal: true
          max_time: 2d
        nodes:
          wait: {kind: wait, duration: 10d}
        """
    )
    for u in ("deleter", "buyer", "idle", "late"):
        world.track(u, "Trial Started")
    world.later(hours=1)
    world.track("deleter", "Account Deleted")
    world.track("buyer", "Subscribed")
    assert world.where("deleter")[1:] == ("done", "exit_event")
    assert world.where("buyer")[1:] == ("done", "goal")
    world.later(days=2)
    assert world.where("idle")[1:] == ("done", "max_time")
    (idle,) = world.instances("idle")
    assert idle["exited_at"] == datetime(2026, 3, 4, 9, 0)
    world.track("late", "Subscribed")  # after max time: out already, but converted in window
    converted = {u: world.instances(u)[0]["converted_at"] is not None for u in ("buyer", "late")}
    assert converted == {"buyer": True, "late": True}
    world.later(days=2)
    world.track("idle", "Subscribed")  # outside the 3-day window
    assert world.instances("idle")[0]["converted_at"] is None


def test_scheduled_entry_runs_at_start_then_every_period(world: World) -> None:
    for u in ("a", "b"):
        world.identify(u, plan="pro")
    world.publish(
        """
        name: weekly
        entry: {kind: schedule, start: "2026-03-02T12:00:00", every: 7d}
        re_entry: {mode: always}
        nodes:
          note: {kind: exit, reason: noted}
        """
    )
    world.later(hours=2)
    assert entries(world, "a") == []
    world.later(hours=1)
    assert entries(world, "a") == ["schedule:2026-03-02T12:00:00"]
    world.later(days=7)
    assert entries(world, "b") == ["schedule:2026-03-02T12:00:00", "schedule:2026-03-09T12:00:00"]


def test_api_entry_is_idempotent_by_key(world: World) -> None:
    world.publish(
        """
        name: manual
        entry: {kind: api}
        re_entry: {mode: always}
        nodes:
          wait: {kind: wait, duration: 1h}
        """
    )
    world.identify("u1", plan="pro")
    first = enter_person(world.engine, "manual", user_id="u1", key="k1", properties={"a": 1})
    assert first.entered and first.node == "wait" and first.status == "wait"
    assert first.profile_id == world.profile("u1")
    again = enter_person(world.engine, "manual", user_id="u1", key="k1")
    assert not again.entered
    with pytest.raises(BadRequest, match="one is required"):
        enter_person(world.engine, "manual")
    assert json.loads(world.instances("u1")[0]["entry_props"]) == {"a": 1}
