"""Variants and attribution on the sorted journey copy (`touchpath optimize`) give the same
results as on the event log, and are used only when the copy is fresh and holds what they read."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from touchpath.analytics import journey
from touchpath.analytics.api import attribution, discover_dfg, discover_variants
from touchpath.analytics.attribution import (
    AttributionResult,
    AttributionSpec,
    attribution_sql,
    transitions_sql,
)
from touchpath.analytics.attribution import can_use_sorted as attribution_can_use_sorted
from touchpath.analytics.discovery import (
    DfgSpec,
    Stage,
    VariantsSpec,
    can_use_sorted,
    variants_sql,
)
from touchpath.analytics.testing import journeys_for
from touchpath.events.match import EventMatch, TimeRange
from touchpath.store import Store

T0 = datetime(2024, 5, 1)
PAGES = ["Home", "Product", "Cart", "Checkout"]
CHANNELS = ["direct", "email", "paid_search", "social", None]


def random_journeys(seed: int, people: int = 25) -> dict[str, list[dict[str, Any]]]:
    """Sessions of pages and app opens over 40 days with orders; ties and 30-minute gaps."""
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {}
    for p in range(people):
        t = T0 + timedelta(minutes=rng.randrange(0, 600))
        evs: list[dict[str, Any]] = []
        for _ in range(rng.randrange(1, 18)):
            t += timedelta(minutes=rng.choice([0, 0, 1, 5, 20, 31, 45, 300, 2000, 9000]))
            roll = rng.random()
            if roll < 0.5:
                evs.append(
                    {"name": rng.choice(PAGES), "timestamp": t, "channel": rng.choice(CHANNELS)}
                )
            elif roll < 0.65:
                evs.append({"event": "Application Opened", "timestamp": t, "channel": "app"})
            elif roll < 0.8:
                evs.append({"event": "Email Delivered", "timestamp": t, "channel": "email"})
            else:
                revenue = rng.choice([None, 20.5, 99.0, 250.25])
                props = {} if revenue is None else {"revenue": revenue}
                evs.append({"event": "Order Completed", "timestamp": t, "properties": props})
        out[f"p{p}"] = evs
    return out


STAGES = (
    Stage(name="browse", events=("Home", "Product")),
    Stage(name="buy", events=("Cart", "Checkout", "Order Completed")),
    Stage(name="app", events=("Application Opened",)),
)
VARIANTS = [
    VariantsSpec(),
    VariantsSpec(stages=STAGES, limit=50),
    VariantsSpec(collapse_repeats=True, coverage=0.8, exclude=("Email Delivered",)),
    VariantsSpec(case="session", collapse_repeats=True, stages=STAGES),
]
DFGS = [
    DfgSpec(),
    DfgSpec(collapse_repeats=True, exclude=("Email Delivered",), min_frequency=2),
    DfgSpec(include=(EventMatch(type="page"), "Application Opened"), top_k=5),
    DfgSpec(case="session", exclude=("Email Delivered",)),
    DfgSpec(case="session", session_gap=2700, collapse_repeats=True, stages=STAGES),
]
ATTRIBUTIONS = [
    AttributionSpec(touches=(EventMatch(type="page"), "Application Opened")),
    AttributionSpec(by="touchpoint", exclude_touches=("Email Delivered",), lookback_days=3),
    AttributionSpec(
        touch="event",
        exclude_channels=("direct",),
        revenue_property=None,
        time_range=TimeRange(start=T0 + timedelta(days=2)),
        models=("linear", "time_decay", "markov"),
    ),
]


def credits(r: AttributionResult) -> dict[str, dict[str, tuple[float, float]]]:
    return {
        row.key: {m: (c.conversions, c.revenue) for m, c in row.credit.items()} for row in r.rows
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_results_on_the_copy(store: Store, seed: int) -> None:
    journeys_for(store, random_journeys(seed))
    before_v = [discover_variants(store, s) for s in VARIANTS]
    before_a = [attribution(store, s) for s in ATTRIBUTIONS]
    before_d = [discover_dfg(store, s) for s in DFGS]
    journey.optimize(store)
    with store.reading() as cur:
        assert journey.is_fresh(cur)
    for spec, before in zip(VARIANTS, before_v, strict=True):
        assert can_use_sorted(spec)
        assert store.query(variants_sql(spec, True)) == store.query(variants_sql(spec))
        assert discover_variants(store, spec) == before
    for dspec, dfg in zip(DFGS, before_d, strict=True):
        assert can_use_sorted(dspec)
        assert discover_dfg(store, dspec) == dfg  # by the names' codes on the copy
    for aspec, prior in zip(ATTRIBUTIONS, before_a, strict=True):
        assert attribution_can_use_sorted(aspec)
        if "markov" in aspec.models:
            a = sorted(store.query(transitions_sql(aspec, True)))
            assert a == sorted(store.query(transitions_sql(aspec)))
        rows = store.query(attribution_sql(aspec, True))
        assert len(rows) == len(store.query(attribution_sql(aspec)))
        after = attribution(store, aspec)
        # `source` says what was read (copy, log): provenance, not a number of the result
        assert after.model_dump(exclude={"rows", "removal_effects", "source"}) == prior.model_dump(
            exclude={"rows", "removal_effects", "source"}
        )
        assert_close(after, prior)
        assert after.removal_effects == pytest.approx(prior.removal_effects)
    assert before_a[0].attributed_conversions > 0  # the data has something to attribute


def assert_close(a: AttributionResult, b: AttributionResult) -> None:
    ca, cb = credits(a), credits(b)
    assert ca.keys() == cb.keys()
    for k in ca:
        assert ca[k].keys() == cb[k].keys()
        for m in ca[k]:
            assert ca[k][m] == pytest.approx(cb[k][m], abs=0.011)  # rounding of float sums


def test_what_the_copy_cannot_hold() -> None:
    assert not can_use_sorted(VariantsSpec(audience="vip"))
    assert not attribution_can_use_sorted(AttributionSpec(by="touchpoint", touchpoint_property="x"))
    cond = EventMatch(
        event="Order Completed", where=[{"property": "revenue", "op": "gt", "value": 1}]
    )
    assert not attribution_can_use_sorted(AttributionSpec(conversion=cond))
    assert attribution_can_use_sorted(AttributionSpec(conversion=EventMatch(event="Signed Up")))


def test_a_stale_copy_is_not_read(store: Store) -> None:
    journeys_for(store, random_journeys(4, people=5))
    journey.optimize(store)
    journeys_for(store, {"late": [{"event": "Order Completed", "timestamp": T0}]})
    with store.reading() as cur:
        assert not journey.is_fresh(cur)
    # The new order only exists in the log: a result that counts it did not read the copy.
    before = sum(v.cases for v in discover_variants(store, VariantsSpec(limit=1000)).variants)
    assert before == len(random_journeys(4, people=5)) + 1
    assert attribution(store, AttributionSpec()).conversions == 1 + sum(
        e.get("event") == "Order Completed"
        for evs in random_journeys(4, people=5).values()
        for e in evs
    )


@pytest.mark.parametrize("seed", range(4, 12))
def test_markov_steps_streamed_on_the_copy_equal_the_sorted_windows(
    store: Store, seed: int
) -> None:
    """On the copy the Markov chain's steps are linked by one streaming pass over the touches
    (`query._streamed`) instead of windows sorted per path; the counts are the windows' own,
    over the same touches, for every spec (ties, conversions at the same time, lookbacks that
    cut paths, a time range, excluded channels, every event a touch)."""
    from touchpath.analytics.attribution import query
    from touchpath.analytics.dialects import render

    journeys_for(store, random_journeys(seed, people=60))
    journey.optimize(store)
    specs = [*ATTRIBUTIONS, AttributionSpec(), AttributionSpec(lookback_days=1, session_gap=600)]
    for spec in specs:
        ctes = query.base(spec, sorted_copy=True)
        streamed = store.query(render(query.transitions(spec, ctes, sorted_copy=True)))
        windows = store.query(render(query.transitions(spec, ctes, sorted_copy=False)))
        assert sorted(streamed) == sorted(windows), spec
        assert sorted(streamed) == sorted(store.query(transitions_sql(spec))), spec  # the log
        assert sum(n for _, _, n in streamed) > 0
