"""Pain points found in declarative data: repeated support contacts and error pages."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from touchpath.analytics.testing import journeys_for
from touchpath.maps.bind import bind_map
from touchpath.maps.document import load_map
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
    assert pain.score == pytest.approx(0.4 * min(1.0, 10 / 20))
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
