"""Pain points found in declarative data: repeated support contacts, error pages and channel
switches that fail."""

from __future__ import annotations

import html
import math
import re
from datetime import datetime, timedelta

import pytest

from touchpath.analytics import journey
from touchpath.analytics.testing import journeys_for
from touchpath.events.match import Condition, EventMatch
from touchpath.maps.bind import bind_map
from touchpath.maps.document import load_map
from touchpath.maps.pain import z_test
from touchpath.maps.render import render_svg
from touchpath.maps.touches import contact_touchpoints
from touchpath.store import Store

T0 = datetime(2026, 10, 1, 9)

DOC = load_map(
    """
name: support
goal: {event: Order Completed}
window_days: 14
stages:
  - name: decision
    touchpoints:
      - {name: Checkout, match: {event: Checkout Started}}
      - {name: Ordered, match: {event: Order Completed}}
  - name: experience
    touchpoints:
      - {name: Ticket, match: {event: Ticket Created, channel: support}}
      - {name: Ticket resolved, match: {event: Ticket Resolved, channel: support}}
"""
)


def _ev(event: str, days: float, channel: str | None = None, **kw: object) -> dict[str, object]:
    out: dict[str, object] = {"event": event, "timestamp": (T0 + timedelta(days=days)).isoformat()}
    if channel:
        out["channel"] = channel
    out.update(kw)
    return out


def _ticket(days: float) -> list[dict[str, object]]:
    return [_ev("Ticket Created", days, "support"), _ev("Ticket Resolved", days + 0.5, "support")]


def test_repeat_contacts(store: Store) -> None:
    """10 people open a ticket: 4 open another within 7 days (one of them a third), 2 open
    another only after 20 days, 4 open one."""
    people: dict[str, list[dict[str, object]]] = {}
    for i in range(10):
        evs = [_ev("Checkout Started", 0), _ev("Order Completed", 0.1), *_ticket(1)]
        if i < 4:
            evs += _ticket(3)
        if i == 0:
            evs += _ticket(6)
        if i in (4, 5):
            evs += _ticket(21)
        people[f"p{i}"] = evs
    journeys_for(store, people)
    assert [t.name for t in contact_touchpoints(DOC)] == ["Ticket"]
    bm = bind_map(store, DOC)
    (pain,) = [p for p in bm.pain_points if p.kind == "repeat_contact"]
    assert (pain.stage, pain.touchpoint) == ("experience", "Ticket")
    assert pain.numbers["people"] == 10
    assert pain.numbers["repeat_people"] == 4
    assert pain.numbers["repeat_share"] == pytest.approx(0.4)
    assert pain.numbers["contacts"] == 10 + 4 + 1 + 2
    assert pain.numbers["days"] == 7
    assert pain.score == pytest.approx(0.4)
    assert "40% of the people who contact Ticket do again within 7 days" in pain.summary
    assert any("contact Ticket again" in o.text for o in bm.opportunities)


def test_error_pages(store: Store) -> None:
    """20 people check out; 6 then see a failed payment (one twice) and 2 a 404 page from the
    start."""
    people: dict[str, list[dict[str, object]]] = {}
    for i in range(20):
        evs = [_ev("Checkout Started", 0)]
        if i < 6:
            evs.append(_ev("Payment Failed", 0.01))
        if i == 0:
            evs.append(_ev("Payment Failed", 0.02))
        if i in (10, 11):
            evs.insert(
                0, {"name": "404 Not Found", "timestamp": (T0 - timedelta(days=1)).isoformat()}
            )
        if i >= 6:
            evs.append(_ev("Order Completed", 0.1))
        people[f"p{i}"] = evs
    journeys_for(store, people)
    bm = bind_map(store, DOC)
    errors = {p.numbers["event"]: p for p in bm.pain_points if p.kind == "error_page"}
    assert set(errors) == {"Payment Failed", "404 Not Found"}
    failed = errors["Payment Failed"]
    assert (failed.stage, failed.touchpoint) == ("decision", "Checkout")
    assert (failed.numbers["people"], failed.numbers["events"]) == (6, 7)
    assert failed.numbers["share"] == pytest.approx(6 / 20)
    assert failed.score == pytest.approx(min(1.0, 5 * 6 / 20))
    lost = errors["404 Not Found"]
    assert lost.touchpoint is None and lost.stage == "decision"  # before any touchpoint
    assert (lost.numbers["people"], lost.numbers["events"]) == (2, 2)
    assert bm.pain_points[0] == failed  # severity 1: 30% of people
    assert any(
        o.text == "Fix Payment Failed after Checkout: 30.0% of people hit it"
        for o in bm.opportunities
    )


def test_no_error_pages_no_repeat_contacts(store: Store) -> None:
    journeys_for(store, {f"p{i}": [_ev("Checkout Started", 0), *_ticket(1)] for i in range(8)})
    bm = bind_map(store, DOC)
    assert not [p for p in bm.pain_points if p.kind in ("error_page", "repeat_contact")]


SWITCH = load_map(
    """
name: switch
goal: {event: Order Completed}
window_days: 7
stages:
  - name: consideration
    touchpoints:
      - {name: Product, match: {event: Product Viewed}}
  - name: decision
    touchpoints:
      - {name: Checkout, match: {event: Checkout Started}}
"""
)


def _shoppers(switchers_ordering: int) -> dict[str, list[dict[str, object]]]:
    """20 switchers view a product and check out on another channel (15 app to web, 5 web from
    search to app), the first `switchers_ordering` order within the window and one more only after it;
    20 stayers (10 on the app, 10 on the web, 5 of those first from search) of whom 16 order; 3 check out with no product
    view before (neither switchers nor stayers), none of whom order."""
    people: dict[str, list[dict[str, object]]] = {}
    for i in range(20):
        a, b = ("app", "direct") if i < 15 else ("organic_search", "app")
        evs = [_ev("Product Viewed", 0, a), _ev("Checkout Started", 0.1, b)]
        if i < switchers_ordering:
            evs.append(_ev("Order Completed", 0.2, b))
        elif i == 19:
            evs.append(_ev("Order Completed", 10, b))  # after the 7-day window
        people[f"switcher{i}"] = evs
    for i in range(20):
        ch = "app" if i < 10 else "direct"  # the web from search, then direct: one medium
        first = "organic_search" if i >= 15 else ch
        evs = [_ev("Product Viewed", 0, first), _ev("Checkout Started", 0.1, ch)]
        if i % 5:  # 16 of 20
            evs.append(_ev("Order Completed", 0.2, ch))
        people[f"stayer{i}"] = evs
    for i in range(3):
        people[f"direct{i}"] = [_ev("Checkout Started", 0, "app")]
    return people


def _svg_text(svg: str) -> str:
    return " ".join(html.unescape(t) for t in re.findall(r">([^<]*)</text>", svg))


def test_channel_switch_that_fails(store: Store) -> None:
    """Switchers at checkout reach the order 20% of the time, stayers 80%."""
    journeys_for(store, _shoppers(switchers_ordering=4))
    bm = bind_map(store, SWITCH)
    (pain,) = [p for p in bm.pain_points if p.kind == "channel_switch"]
    assert (pain.stage, pain.touchpoint) == ("decision", "Checkout")
    assert pain.numbers == {
        "switchers": 20,
        "switcher_conversion": 0.2,
        "stayers": 20,
        "stayer_conversion": 0.8,
        "pair": "app -> web",
        "pair_people": 15,
        "target": "Order Completed",
        "days": 7,
        "p_value": pytest.approx(z_test(16, 20, 4, 20)),
    }
    assert pain.numbers["p_value"] < 0.001
    # Cohen's h between the failure rates 80% and 20% (1.29), capped at 1
    assert 2 * math.asin(math.sqrt(0.8)) - 2 * math.asin(math.sqrt(0.2)) > 1
    assert pain.score == 1.0
    assert pain.summary == (
        "20 people switch from another channel at Checkout (mostly app to web): 20% of them "
        "reach Order Completed within 7 days against 80% of 20 who stay on one (p < 0.001)"
    )
    assert any(
        o.text == "Carry people from app to web at Checkout: switchers reach Order Completed "
        "20% against 80%"
        for o in bm.opportunities
    )
    assert [p.rank for p in bm.pain_points] == list(range(1, len(bm.pain_points) + 1))
    assert f"#{pain.rank} {pain.summary}" in _svg_text(render_svg(bm))
    journey.optimize(store)  # the tagged pass now reads the sorted journey copy: same finding
    assert [p for p in bind_map(store, SWITCH).pain_points if p.kind == "channel_switch"] == [pain]


def test_channel_switch_that_converts(store: Store) -> None:
    """Switchers order as often as stayers (16 of 20): no channel switch pain point."""
    journeys_for(store, _shoppers(switchers_ordering=16))
    bm = bind_map(store, SWITCH)
    assert not [p for p in bm.pain_points if p.kind == "channel_switch"]
    assert "switch from another channel" not in _svg_text(render_svg(bm))


def test_channel_switch_without_goal(store: Store) -> None:
    """Without a goal, converting is reaching a later stage: web checkout after app product
    views that never reach the decision stage's order touchpoint."""
    doc = load_map(
        """
name: switch-no-goal
window_days: 7
stages:
  - name: decision
    touchpoints:
      - {name: Product, match: {event: Product Viewed}}
      - {name: Checkout, match: {event: Checkout Started}}
  - name: retention
    touchpoints:
      - {name: Ordered, match: {event: Order Completed}}
"""
    )
    journeys_for(store, _shoppers(switchers_ordering=4))
    bm = bind_map(store, doc)
    (pain,) = [p for p in bm.pain_points if p.kind == "channel_switch"]
    assert pain.touchpoint == "Checkout"
    assert pain.numbers["target"] == "the next stage"
    assert (pain.numbers["switcher_conversion"], pain.numbers["stayer_conversion"]) == (0.2, 0.8)


def test_channel_switch_goal_on_a_property(store: Store) -> None:
    """A goal that tests a property is read from `resolved_events` even when the journey copy
    is fresh (the copy has no properties): only orders over 50 count."""
    doc = SWITCH.model_copy(
        update={"goal": EventMatch(event="Order Completed", where=(Condition(
            property="total", op="gt", value=50),))}
    )  # fmt: skip
    people = _shoppers(switchers_ordering=4)
    for evs in people.values():
        for ev in evs:
            if ev["event"] == "Order Completed":
                ev["properties"] = {"total": 80}
    people["stayer1"][-1]["properties"] = {"total": 20}  # a stayer's small order: not the goal
    journeys_for(store, people)
    journey.optimize(store)
    bm = bind_map(store, doc)
    (pain,) = [p for p in bm.pain_points if p.kind == "channel_switch"]
    assert (pain.numbers["switcher_conversion"], pain.numbers["stayer_conversion"]) == (0.2, 0.75)
    assert pain.numbers["target"] == "Order Completed, total above 50"
