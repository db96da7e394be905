"""Persona versus everyone else: the persona's audience members against the rest, both from the
funnel's audience breakdown, and the channel mix of each group."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from touchpath.analytics import api
from touchpath.analytics.funnels import FunnelSpec
from touchpath.analytics.testing import journeys_for
from touchpath.errors import NotFound
from touchpath.maps.bind import bind_map, stage_step
from touchpath.maps.document import load_map
from touchpath.profiles import audiences as aud
from touchpath.profiles import refresh
from touchpath.profiles.specs import Audience
from touchpath.store import Store
from touchpath.store.store import utcnow
from touchpath.system import Touchpath

T0 = datetime(2026, 10, 5, 9)

DOC = load_map(
    """
name: pro-shoppers
persona: {name: Pro shopper, audience: pro}
goal: {event: Order Completed}
window_days: 7
stages:
  - name: consideration
    touchpoints:
      - {name: Viewed, match: {event: Product Viewed}}
  - name: decision
    touchpoints:
      - {name: Checkout, match: {event: Checkout Started}}
      - {name: Ordered, match: {event: Order Completed}}
"""
)


def _ev(event: str, hours: float, channel: str = "direct") -> dict[str, object]:
    return {
        "event": event,
        "timestamp": (T0 + timedelta(hours=hours)).isoformat(),
        "channel": channel,
    }


def _nps(score: int, hours: float, comment: str) -> dict[str, object]:
    return {
        "event": "NPS Survey Completed",
        "timestamp": (T0 + timedelta(hours=hours)).isoformat(),
        "properties": {"score": score, "comment": comment},
    }


@pytest.fixture
def pro_store(tp: Touchpath) -> Store:
    """6 pro people on the app (5 check out, 4 order) and 10 others on the web (6 check out,
    2 order); the audience `pro` is everyone whose trait plan is pro."""
    store = tp.store
    people: dict[str, list[dict[str, object]]] = {}
    for i in range(6):
        evs: list[dict[str, object]] = [
            {"type": "identify", "timestamp": T0.isoformat(), "traits": {"plan": "pro"}},
            _ev("Product Viewed", 1, "app"),
        ]
        if i < 5:
            evs.append(_ev("Checkout Started", 2, "app"))
        if i < 4:
            evs.append(_ev("Order Completed", 3 + i, "app"))
        evs.append(_nps(10, 20, "Great app, quick and easy checkout"))
        people[f"pro{i}"] = evs
    for i in range(10):
        evs = [_ev("Product Viewed", 1)]
        if i < 6:
            evs.append(_ev("Checkout Started", 5))
        if i < 2:
            evs.append(_ev("Order Completed", 30))
        if i < 6:
            evs.append(_nps(2, 40, "Terrible checkout, slow and confusing"))
        people[f"free{i}"] = evs
    journeys_for(store, people)
    store.wait_idle()
    audience = Audience.model_validate(
        {"name": "pro", "condition": {"kind": "trait", "trait": "plan", "value": "pro"}}
    )
    store.write_sync(lambda con: aud.define_audience(con, audience, utcnow()))
    refresh(store, "audiences")
    return store


def test_persona_against_everyone_else(pro_store: Store) -> None:
    bm = bind_map(pro_store, DOC)
    assert (bm.persona_size, bm.others_size) == (6, 10)
    checkout = bm.touchpoint("Checkout")
    assert checkout.others is not None
    assert (checkout.persona.reach, checkout.others.reach) == (5, 6)
    assert checkout.persona.to_goal == pytest.approx(4 / 5)
    assert checkout.others.to_goal == pytest.approx(2 / 6)
    assert checkout.persona.share == pytest.approx(5 / 6)
    assert checkout.others.share == pytest.approx(6 / 10)
    assert checkout.persona.channel_mix == {"app": 1.0}
    assert checkout.others.channel_mix == {"direct": 1.0}
    stage = bm.stage("consideration")
    assert stage.others is not None
    assert stage.persona.to_next == pytest.approx(5 / 6)
    assert stage.others.to_next == pytest.approx(6 / 10)
    assert stage.persona.median_hours_to_next == pytest.approx(1.0)
    assert stage.others.median_hours_to_next == pytest.approx(4.0)
    # the same numbers as the analytics funnel broken down by the audience
    want = api.funnel(
        pro_store,
        FunnelSpec(
            steps=(stage_step(DOC.stages[0]), stage_step(DOC.stages[1])),
            window="7d",
            breakdown={"by": "audience", "audiences": ["pro"]},
        ),
    )
    groups = {g.value: g for g in want.groups[1:]}
    assert stage.persona.reach == groups["pro"].entered
    assert stage.others.reach == groups["(none)"].entered
    assert any("others" in p for p in bm.pending)


def test_persona_feedback_against_everyone_else(pro_store: Store) -> None:
    """NPS and sentiment are split by the persona's audience like the funnel numbers."""
    bm = bind_map(pro_store, DOC)
    decision = bm.stage("decision")
    assert decision.others is not None
    # an answer belongs to the touchpoint met last: the pro who never checked out answered
    # after viewing, so 5 of the 6 pro answers are the decision stage's
    assert (decision.persona.nps, decision.persona.feedback) == (100, 5)
    assert (decision.others.nps, decision.others.feedback) == (-100, 6)
    assert decision.persona.sentiment is not None and decision.persona.sentiment > 0.3
    assert decision.others.sentiment is not None and decision.others.sentiment < -0.3
    assert not any("NPS" in p for p in bm.pending)


def test_without_an_audience_there_are_no_others(pro_store: Store) -> None:
    doc = DOC.model_copy(update={"persona": DOC.persona.model_copy(update={"audience": None})})
    bm = bind_map(pro_store, doc)
    assert bm.others_size is None and bm.persona_size == 16
    assert bm.touchpoint("Checkout").others is None
    assert bm.touchpoint("Checkout").persona.to_goal == pytest.approx(6 / 11)


def test_unknown_persona_audience(pro_store: Store) -> None:
    doc = DOC.model_copy(update={"persona": DOC.persona.model_copy(update={"audience": "vip"})})
    with pytest.raises(NotFound, match=r"persona\.audience: no audience 'vip'"):
        bind_map(pro_store, doc)


def test_flows_and_times_to_next_are_the_personas(pro_store: Store) -> None:
    """The DFG gets the persona's audience: 5 pro people go from viewing to checkout in 1 h
    (everyone: 11 people, the others in 4 h)."""
    bm = bind_map(pro_store, DOC)
    flows = {(f.source, f.target): f for f in bm.flows}
    assert flows[("Viewed", "Checkout")].count == 5
    assert flows[("Viewed", "Checkout")].median_hours == pytest.approx(1.0)
    assert bm.touchpoint("Viewed").persona.median_hours_to_next == pytest.approx(1.0)
    everyone = bind_map(
        pro_store,
        DOC.model_copy(update={"persona": DOC.persona.model_copy(update={"audience": None})}),
    )
    assert {(f.source, f.target): f.count for f in everyone.flows}[("Viewed", "Checkout")] == 11
