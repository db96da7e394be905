"""Binding: the bound numbers are the analytics functions' numbers; pain points come from data."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from touchpath.analytics import api, journey
from touchpath.analytics.discovery import DFG
from touchpath.analytics.funnels import FunnelSpec
from touchpath.analytics.testing import journeys_for
from touchpath.events.match import Condition, TimeRange
from touchpath.maps.bind import _dfg_spec, bind_map, stage_step
from touchpath.maps.document import load_map
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath

DOC = load_map(
    """
name: shop
goal: {event: Order Completed}
window_days: 7
stages:
  - name: consideration
    touchpoints:
      - {name: Viewed, match: {event: Product Viewed}}
  - name: decision
    touchpoints:
      - {name: Checkout web, match: {event: Checkout Started, channel: direct}}
      - {name: Checkout app, match: {event: Checkout Started, channel: app}}
      - {name: Ordered, match: {event: Order Completed}}
  - name: experience
    touchpoints:
      - {name: Ticket, match: {event: Ticket Created, channel: support}}
      - {name: Resolved, match: {event: Ticket Resolved, channel: support}}
"""
)


def _at(day: int, hour: float = 0) -> str:
    return (datetime(2026, 10, 1) + timedelta(days=day, hours=hour)).isoformat()


def shop(store: Store) -> None:
    """20 web buyers of whom 18 order; 20 app buyers of whom 10 order; 4 slow tickets, 4 fast."""
    people: dict[str, list[dict[str, object]]] = {}
    for i in range(40):
        app = i >= 20
        evs: list[dict[str, object]] = [
            {"event": "Product Viewed", "timestamp": _at(i % 5), "channel": "direct"},
            {"event": "Checkout Started", "timestamp": _at(i % 5, 1), "channel": "app" if app else "direct"},
        ]  # fmt: skip
        ordered = (i < 18) if not app else (i < 30)
        if ordered:
            evs.append({"event": "Order Completed", "timestamp": _at(i % 5, 2)})
        if i % 4 == 0 and ordered:
            slow = i % 8 == 0
            wait = 40 if slow else 2
            comment = (
                "Nobody replied for two days, awful." if slow else "Quick and helpful, thanks!"
            )
            evs += [
                {"event": "Ticket Created", "timestamp": _at(i % 5 + 1), "channel": "support"},
                {"event": "Ticket Resolved", "timestamp": _at(i % 5 + 1, wait), "channel": "support",
                 "properties": {"wait_hours": wait}},
                {"event": "CSAT Survey Completed", "timestamp": _at(i % 5 + 1, wait + 1),
                 "properties": {"score": 1 if slow else 5, "comment": comment}},
            ]  # fmt: skip
        people[f"p{i}"] = evs
    journeys_for(store, people)
    store.wait_idle()  # commit listeners (sentiment) have run


def test_bound_numbers_are_the_funnel_numbers(store: Store) -> None:
    shop(store)
    bm = bind_map(store, DOC)
    for _, tp in DOC.touchpoints():
        assert DOC.goal is not None
        want = api.funnel(
            store, FunnelSpec(steps=(tp.match.model_dump(), DOC.goal.model_dump()), window="7d")
        ).groups[0]
        got = bm.touchpoint(tp.name).persona
        assert got.reach == want.steps[0].count
        assert got.to_goal == pytest.approx(want.steps[1].conversion)
    decision, experience = DOC.stages[1], DOC.stages[2]
    want = api.funnel(
        store, FunnelSpec(steps=(stage_step(decision), stage_step(experience)), window="7d")
    ).groups[0]
    got = bm.stage("decision").persona
    assert got.reach == want.steps[0].count
    assert got.to_next == pytest.approx(want.steps[1].conversion)
    # and the known answers of this data
    assert bm.touchpoint("Checkout web").persona.to_goal == pytest.approx(18 / 20)
    assert bm.touchpoint("Checkout app").persona.to_goal == pytest.approx(10 / 20)
    assert bm.persona_size == 40


def test_flow_channel_mix_and_feedback(tp: Touchpath) -> None:
    store = tp.store
    shop(store)
    bm = bind_map(store, DOC)
    flows = {(f.source, f.target): f for f in bm.flows}
    assert flows[("Viewed", "Checkout web")].count == 20
    assert flows[("Ticket", "Resolved")].count == 8
    assert bm.touchpoint("Checkout app").persona.channel_mix == {"app": 1.0}
    resolved = bm.touchpoint("Resolved").persona
    # 8 tickets: p0, p8, p16, p24 slow (CSAT 1), p4, p12, p20, p28 fast (CSAT 5)
    assert resolved.feedback == 8
    assert resolved.csat == pytest.approx(3.0)
    assert resolved.sentiment is not None


def test_pain_points_rank_the_app_checkout_first(tp: Touchpath) -> None:
    store = tp.store
    shop(store)
    bm = bind_map(store, DOC)
    top = bm.pain_points[0]
    assert (top.kind, top.touchpoint) == ("channel_gap", "Checkout app")
    assert top.numbers["loss"] == pytest.approx(0.5) and top.numbers["peer_loss"] == pytest.approx(
        0.1
    )
    assert any(
        o.text == "Checkout app loses 50% against 10% on Checkout web" for o in bm.opportunities
    )
    assert [p.rank for p in bm.pain_points] == list(range(1, len(bm.pain_points) + 1))
    assert [p.score for p in bm.pain_points] == sorted(
        (p.score for p in bm.pain_points), reverse=True
    )


def test_sorted_journey_copy_gives_the_same_map(tp: Touchpath) -> None:
    store = tp.store
    shop(store)
    before = bind_map(store, DOC)
    with store.reading() as cur:
        assert not journey.is_fresh(cur)
    after = bind_map(store, DOC, optimize=True)  # rebuilds the stale copy, then reads it
    with store.reading() as cur:
        assert journey.is_fresh(cur)
    assert after.model_dump(exclude={"bound_at"}) == before.model_dump(exclude={"bound_at"})


def test_touchpoints_on_a_property_read_the_copy_and_give_the_same_map(tp: Touchpath) -> None:
    """Resolved split by `wait_hours` (not in the copy): the DFG and the tagged pass still read
    the copy, taking `wait_hours` from the log for `Ticket Resolved` only; same numbers."""
    split = DOC.model_copy(deep=True)
    experience = split.stages[-1]
    resolved = experience.touchpoints[-1]
    experience.touchpoints[-1:] = [
        resolved.model_copy(update={"name": name, "match": resolved.match.model_copy(
            update={"where": (Condition(property="wait_hours", op=op, value=24),)})})
        for name, op in (("Resolved fast", "lte"), ("Resolved slow", "gt"))
    ]  # fmt: skip
    store = tp.store
    shop(store)
    before = bind_map(store, split)  # the log
    after = bind_map(store, split, optimize=True)
    assert DFG.copy(_dfg_spec(split, TimeRange())) and after.as_of is None
    assert after.model_dump(exclude={"bound_at"}) == before.model_dump(exclude={"bound_at"})
    assert after.touchpoint("Resolved fast").persona.reach == 4
    assert after.touchpoint("Resolved slow").persona.reach == 4
    assert {(f.source, f.target) for f in after.flows} >= {
        ("Ticket", "Resolved fast"),
        ("Ticket", "Resolved slow"),
    }


def test_a_lagging_copy_binds_every_number_as_of_its_time(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "t.duckdb", journey_max_lag_seconds=600)
    with Store(settings.db, settings) as store:
        shop(store)
        built = journey.optimize(store)
        before = bind_map(store, DOC)
        # 10 more app checkouts that never order, after the copy was built
        journeys_for(
            store,
            {
                f"late{i}": [
                    {"event": "Product Viewed", "timestamp": _at(1), "channel": "direct"},
                    {"event": "Checkout Started", "timestamp": _at(1, 1), "channel": "app"},
                ]
                for i in range(10)
            },
        )
        lagging = bind_map(store, DOC, optimize=True)  # the copy is readable: not rebuilt
        assert lagging.as_of == built.built_at and before.as_of is None
        assert lagging.model_dump(exclude={"bound_at", "as_of"}) == before.model_dump(
            exclude={"bound_at", "as_of"}
        )
    with Store(settings.db) as exact:  # no lag allowed: the whole log, 10 more app checkouts
        bm = bind_map(exact, DOC)
        assert bm.as_of is None and bm.persona_size == 50
        assert bm.touchpoint("Checkout app").persona.to_goal == pytest.approx(10 / 30)
