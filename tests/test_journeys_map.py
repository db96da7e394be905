"""Journeys on the map: a touchpoint as entry or goal, a future-state touchpoint pointing at a
journey node; binding the map shows the linked nodes' numbers beside the touchpoint's."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeys_helpers import World
from touchpath.errors import SpecError
from touchpath.maps.bind import bind_map
from touchpath.maps.document import load_map
from touchpath.maps.library import save_map

MAP = """
name: shop
type: future_state
goal: {event: Order Completed}
stages:
  - name: decision
    touchpoints:
      - name: Cart
        match: {event: Cart Viewed}
      - name: Reminder
        match: {event: Journey Step Reached, where: [{property: node, value: sms}]}
  - name: purchase
    touchpoints:
      - name: Order
        match: {event: Order Completed}
"""

JOURNEY = """
name: cart
entry: {kind: touchpoint, map: shop, touchpoint: Cart}
goal: {touchpoint: {map: shop, touchpoint: Order}, within: 2d}
re_entry: {mode: always}
nodes:
  wait_order: {kind: wait_for_event, event: {event: Order Completed}, timeout: 4h,
               on_timeout: sms}
  sms: {kind: send, destination: sms, channel: sms, template: cart-sms,
        touchpoint: {map: shop, touchpoint: Reminder}}
"""


def test_binding_a_map_shows_the_linked_journey_nodes(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        doc = load_map(MAP)
        save_map(world.store, doc, MAP)
        world.publish(JOURNEY)
        for u in ("a", "b", "c"):
            world.track(u, "Cart Viewed")
        world.track("a", "Order Completed")
        world.later(hours=4)
        world.track("b", "Order Completed")  # after the reminder: converted within the goal
        bound = bind_map(world.store, doc)
        tps = {t.name: t for s in bound.stages for t in s.touchpoints}
        (entry,) = tps["Cart"].journeys
        assert (entry.journey, entry.role, entry.entered, entry.converted) == (
            "cart",
            "entry",
            3,
            2,
        )
        (goal,) = tps["Order"].journeys
        assert (goal.role, goal.converted) == ("goal", 2)
        (node,) = tps["Reminder"].journeys
        assert (node.role, node.node, node.entered, node.converted, node.exited) == (
            "node",
            "sms",
            2,
            1,
            2,
        )
        # The reminder's own numbers come from the journey's events in the log.
        assert tps["Reminder"].persona.reach == 2
    finally:
        world.close()


def test_a_touchpoint_that_is_not_on_the_map_is_named(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        save_map(world.store, load_map(MAP), MAP)
        with pytest.raises(
            SpecError, match=r"entry\.touchpoint: map 'shop' has no touchpoint 'Crt'"
        ):
            world.publish(JOURNEY.replace("touchpoint: Cart}", "touchpoint: Crt}"))
        with pytest.raises(SpecError, match=r"entry\.map: map 'nowhere'"):
            world.publish(
                JOURNEY.replace("map: shop, touchpoint: Cart", "map: nowhere, touchpoint: Cart")
            )
    finally:
        world.close()
