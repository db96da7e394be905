"""Versions with people in flight, node mappings, pause, resume and archive (drain)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from journeys_helpers import World
from touchpath.errors import BadRequest, NotFound
from touchpath.orchestrate import archive, get_journey, list_journeys, pause, resume

V1 = """
name: nurture
entry: {kind: event, event: {event: Signed Up}}
re_entry: {mode: always}
nodes:
  wait: {kind: wait, duration: 1d, next: old_mail}
  old_mail: {kind: exit, reason: v1}
"""
V2 = """
name: nurture
entry: {kind: event, event: {event: Signed Up}}
re_entry: {mode: always}
nodes:
  pause: {kind: wait, duration: 2d, next: new_mail}
  new_mail: {kind: exit, reason: v2}
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def test_people_in_flight_stay_on_their_version(world: World) -> None:
    world.publish(V1)
    world.track("early", "Signed Up")
    assert world.publish(V2).version == 2
    world.track("late", "Signed Up")
    assert [i["version"] for i in world.instances("early")] == [1]
    assert [i["version"] for i in world.instances("late")] == [2]
    world.later(days=1)
    assert world.where("early") == ("old_mail", "done", "v1")
    assert world.where("late") == ("pause", "wait", None)
    world.later(days=1)
    assert world.where("late") == ("new_mail", "done", "v2")
    detail = get_journey(world.engine, "nurture")
    assert detail.live_version == 2 and [v.version for v in detail.versions] == [1, 2]
    assert get_journey(world.engine, "nurture", version=1).definition.nodes["wait"].kind == "wait"


def test_publishing_can_move_people_by_a_node_mapping(world: World) -> None:
    world.publish(V1)
    world.track("u1", "Signed Up")
    world.later(hours=6)
    published = world.publish(V2, move={"wait": "pause"})
    assert published.moved == 1
    (inst,) = world.instances("u1")
    # Same kind of node: the wait keeps its time (a day after entering), on the new version.
    assert (inst["version"], inst["node"], inst["status"]) == (2, "pause", "wait")
    world.later(hours=18)
    assert world.where("u1") == ("new_mail", "done", "v2")
    assert world.path("u1") == ["@entry", "wait", "pause", "new_mail:v2", "@exit:v2"]


def test_a_mapping_to_a_node_that_does_not_exist_is_refused(world: World) -> None:
    world.publish(V1)
    with pytest.raises(BadRequest, match=r"move\.wait: version 2 has no node 'nowhere'"):
        world.publish(V2, move={"wait": "nowhere"})


def test_pause_holds_everyone_and_resume_picks_up_what_came_meanwhile(world: World) -> None:
    world.publish(
        """
        name: cart
        entry: {kind: event, event: {event: Cart Viewed}}
        nodes:
          listen: {kind: wait_for_event, event: {event: Order Completed}, timeout: 1d,
                   on_event: thanks, on_timeout: remind}
          thanks: {kind: exit, reason: bought}
          remind: {kind: exit, reason: reminded}
        """
    )
    world.track("buyer", "Cart Viewed")
    world.track("idle", "Cart Viewed")
    pause(world.engine, "cart")
    world.track("buyer", "Order Completed")
    world.track("newcomer", "Cart Viewed")
    world.later(days=2)
    assert world.where("buyer") == ("listen", "listen", None)
    assert world.where("idle") == ("listen", "listen", None)
    assert world.instances("newcomer") == []
    resume(world.engine, "cart")
    world.later(seconds=1)
    assert world.where("buyer") == ("thanks", "done", "bought")
    assert world.where("idle") == ("remind", "done", "reminded")
    assert world.instances("newcomer") == []  # the paused time's entries are not made up
    with pytest.raises(BadRequest, match="already live"):
        resume(world.engine, "cart")


def test_archive_drains(world: World) -> None:
    world.publish(V1)
    world.track("u1", "Signed Up")
    archive(world.engine, "nurture")
    world.track("u2", "Signed Up")
    assert world.instances("u2") == []
    (summary,) = list_journeys(world.engine)
    assert (summary.status, summary.in_flight) == ("archived", 1)
    world.later(days=1)
    assert world.where("u1") == ("old_mail", "done", "v1")
    (summary,) = list_journeys(world.engine)
    assert (summary.in_flight, summary.entered) == (0, 1)
    with pytest.raises(NotFound, match="no such journey"):
        pause(world.engine, "nothing")
