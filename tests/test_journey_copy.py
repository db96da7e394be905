"""The sorted journey copy (`touchpath optimize`): funnels read it only while it is fresh and
exact, and then give the same rows as the ASOF joins and the same levels as windowFunnel."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from test_funnels import window_funnel_levels
from touchpath.analytics import api, journey
from touchpath.analytics.funnels import funnel_sql, use_sorted
from touchpath.analytics.paths import can_use_sorted as paths_can_use_sorted
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.store import Store

T0 = datetime(2024, 3, 4, 9, 0, 0)
STEPS = [{"event": "view"}, {"event": "cart"}, {"event": "buy"}]


def ev(name: str, minutes: float, **kw: object) -> dict[str, object]:
    return {"event": name, "timestamp": (T0 + timedelta(minutes=minutes)).isoformat(), **kw}


def rows(store: Store, spec: api.FunnelSpec, sorted_copy: bool) -> list[tuple[object, ...]]:
    return store.query(f"SELECT * FROM ({funnel_sql(spec, sorted_copy)}) ORDER BY ALL")


def split_rows(store: Store, spec: api.FunnelSpec, parts: int) -> list[tuple[object, ...]]:
    """`rows` on the copy, its pass split into `parts` ranges of profiles."""
    with store.reading() as cur:
        layout = journey.layout(cur, [s.event for s in spec.steps], parts)
    return store.query(f"SELECT * FROM ({funnel_sql(spec, True, layout)}) ORDER BY ALL")


def fast(store: Store, spec: api.FunnelSpec) -> bool:
    with store.reading() as cur:
        return use_sorted(cur, spec)


def test_used_only_while_fresh(store: Store) -> None:
    journeys_for(store, {"ann": [ev("view", 0), ev("cart", 1)], "bob": [ev("view", 0)]})
    spec = api.funnel_spec({"steps": STEPS[:2], "window": "1h"})
    assert not fast(store, spec)  # never built
    built = journey.optimize(store)
    assert (built.events, built.profiles) == (3, 2)
    assert fast(store, spec)
    assert api.funnel(store, spec).counts() == [2, 1]
    journeys_for(store, {"bob": [ev("cart", 2)]})  # a new event: the copy is stale
    assert not fast(store, spec)
    assert api.funnel(store, spec).counts() == [2, 2]
    journey.optimize(store)
    assert fast(store, spec) and api.funnel(store, spec).counts() == [2, 2]
    store.write_sync(  # identity links bob to ann: stale again
        lambda con: con.execute(
            "INSERT INTO identifiers (kind, value, profile_id) VALUES ('user_id', 'bob', 'p1'), "
            "('user_id', 'ann', 'p1')"
        )
    )
    assert not fast(store, spec)
    assert api.funnel(store, spec).counts() == [1, 1]


def test_not_used_for_ties_properties_or_other_orders(store: Store) -> None:
    journeys_for(store, {"tie": [ev("cart", 0), ev("view", 0)], "ok": [ev("view", 0)]})
    assert journey.optimize(store).ties == 1
    spec = api.funnel_spec({"steps": STEPS[:2]})
    # Equal times across steps chain in step order: only the joins do that exactly.
    assert not fast(store, spec)
    assert api.funnel(store, spec).counts() == [2, 1]
    assert fast(store, api.funnel_spec({"steps": STEPS[1:]}))
    assert fast(store, api.funnel_spec({"steps": STEPS, "order": "strict"}))  # no tie issue
    any_order = api.funnel_spec({"steps": STEPS[:2], "order": "any"})
    assert fast(store, any_order)  # nor for any order
    assert rows(store, any_order, True) == rows(store, any_order, False)
    assert api.funnel(store, any_order).counts() == [2, 1]
    for other in (
        {"steps": STEPS, "exclusions": [{"event": "help"}]},
        {"steps": [{"event": "view", "where": [{"property": "sku", "value": "x"}]}, STEPS[1]]},
        {"steps": STEPS, "breakdown": {"by": "event_property", "property": "sku"}},
    ):
        assert not fast(store, api.funnel_spec(other)), other


def test_same_rows_as_the_joins_with_breakdown_trend_and_gap(store: Store) -> None:
    journeys_for(
        store,
        {
            "ann": [ev("view", 0, channel="email"), ev("cart", 3), ev("view", 10), ev("buy", 12)],
            "bob": [ev("view", 0, channel="web"), ev("cart", 90), ev("buy", 91)],
            "cat": [ev("cart", 0), ev("view", 1), ev("cart", 2), ev("cart", 5)],
            "dan": [ev("view", 0), ev("view", 200), ev("cart", 201), ev("buy", 500)],
        },
    )
    spec = api.funnel_spec(
        {
            "steps": STEPS,
            "window": "5h",
            "max_step_gap": "1h",
            "breakdown": {"by": "channel"},
            "trend": "day",
            "dropped_at": 3,
        }
    )
    from_the_log = api.funnel(store, spec)
    journey.optimize(store)
    assert fast(store, spec)
    assert api.funnel(store, spec) == from_the_log
    assert from_the_log.dropped is not None and from_the_log.dropped.total == 2
    assert rows(store, spec, True) == rows(store, spec, False)
    assert split_rows(store, spec, 3) == rows(store, spec, False)
    assert api.funnel(store, spec).counts() == [4, 3, 1]
    first_touch = api.funnel_spec(
        {**spec.model_dump(exclude={"breakdown"}), "breakdown": {"by": "first_touch_channel"}}
    )
    assert fast(store, first_touch)
    assert rows(store, first_touch, True) == rows(store, first_touch, False)
    any_order = api.funnel_spec(
        {**spec.model_dump(exclude={"max_step_gap"}), "order": "any", "window": "30m"}
    )
    assert fast(store, any_order)
    assert rows(store, any_order, True) == rows(store, any_order, False)
    assert api.funnel(store, any_order).counts() == [4, 4, 1]  # only ann does all in 30 min
    strict = api.funnel_spec({**first_touch.model_dump(), "order": "strict", "window": "1d"})
    assert fast(store, strict)
    assert rows(store, strict, True) == rows(store, strict, False)
    assert api.funnel(store, strict).counts() == [4, 3, 0]  # ann, cat, dan: view then cart


journeys = st.dictionaries(
    st.sampled_from([f"p{i}" for i in range(8)]),
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 30)),
        min_size=1,
        max_size=8,
        unique_by=lambda x: x[1],  # no two events of a profile at one time: the copy is used
    ),
    min_size=1,
)


@pytest.mark.slow
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    journeys=journeys,
    steps=st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=4),
    window=st.integers(1, 12),
)
def test_sorted_pass_equals_window_funnel_and_the_joins(
    journeys: dict[str, list[tuple[str, int]]], steps: list[str], window: int
) -> None:
    events = [(p, t * 60, e) for p, evs in journeys.items() for e, t in evs]
    spec = api.funnel_spec(
        {"steps": [{"event": s} for s in steps], "window": window * 60, "allow_unknown": True}
    )  # random journeys may lack a step's event
    with tempfile.TemporaryDirectory() as d, Store(Path(d) / "t.duckdb") as store:
        journeys_for(store, {p: [ev(e, t) for e, t in evs] for p, evs in journeys.items()})
        from_the_log = api.funnel(store, spec)
        journey.optimize(store)
        assert fast(store, spec)
        assert api.funnel(store, spec) == from_the_log  # counts, medians, p90s, histograms
        assert rows(store, spec, True) == rows(store, spec, False)
        assert split_rows(store, spec, 3) == rows(store, spec, False)
        strict = api.funnel_spec({**spec.model_dump(), "order": "strict"})
        assert rows(store, strict, True) == rows(store, strict, False)
        any_order = api.funnel_spec({**spec.model_dump(), "order": "any"})
        assert rows(store, any_order, True) == rows(store, any_order, False)
        ours = api.funnel(store, spec)
    assert ours.counts() == window_funnel_levels(events, steps, window * 60)


def test_cli_and_rest_optimize(server) -> None:  # type: ignore[no-untyped-def]
    journeys_for(server.store, {"ann": [ev("view", 0), ev("cart", 1)]})
    r = httpx.post(f"{server.url}/api/analyses/optimize", headers=server.auth)
    assert r.status_code == 200 and r.json()["events"] == 2
    db = str(server.store.path)
    journeys_for(server.store, {"bob": [ev("view", 0)]})
    server.store.close()
    out = CliRunner().invoke(app, ["optimize", "--db", db])
    assert out.exit_code == 0, out.output
    assert "sorted 3 journey events of 2 profiles" in out.output


def test_paths_on_the_copy_equal_paths_on_the_log(store: Store) -> None:
    def pg(name: str, minutes: float, **kw: object) -> dict[str, object]:
        return {"name": name, "timestamp": (T0 + timedelta(minutes=minutes)).isoformat(), **kw}

    journeys_for(
        store,
        {
            "a": [pg("Home", 0), pg("Product/1", 1), pg("Product/2", 2), ev("buy", 3)],
            "b": [pg("Home", 0), pg("Product/3", 1), pg("Help", 2), pg("Help", 3)],
            "c": [pg("Home", 0), pg("Help", 1), pg("Home", 50), pg("Product/1", 51)],
            "d": [pg("Help", 0), ev("buy", 5, channel="email"), pg("Home", 6)],
        },
    )
    clean = [{"pattern": "Product/*", "replacement": "Product"}]
    specs = [
        {"start": {"event": "Home"}, "steps": 3, "cleaning": clean},
        {"end": {"event": "Help"}, "steps": 3},
        {"start": {"event": "Home"}, "collapse_repeats": True, "cleaning": clean},
        {"steps": 4, "exclude": ["Help"], "session_gap": "1h"},
        {"start": {"event": "buy", "channel": "email"}},
    ]
    before = [api.paths(store, s) for s in specs]
    journey.optimize(store)
    for spec, expected in zip(specs, before, strict=True):
        assert paths_can_use_sorted(api.paths_spec(spec))
        assert api.paths(store, spec) == expected, spec
    assert not paths_can_use_sorted(
        api.paths_spec({"start": {"event": "Home", "where": [{"property": "x", "value": 1}]}})
    )


def test_sorted_pass_never_chains_across_neighbouring_profiles(store: Store) -> None:
    # In stored order "a1" (view, cart) is followed by "a2" (cart, buy) and "a3" (buy): the
    # last hits carried over the stream belong to the profile before and must not chain.
    journeys_for(
        store,
        {
            "a1": [ev("view", 0), ev("cart", 1)],
            "a2": [ev("cart", 2), ev("buy", 3)],
            "a3": [ev("buy", 4), ev("view", 5)],
        },
    )
    spec = api.funnel_spec({"steps": STEPS, "window": "1h"})
    journey.optimize(store)
    assert fast(store, spec)
    assert rows(store, spec, True) == rows(store, spec, False)
    result = api.funnel(store, spec)
    assert result.counts() == [2, 1, 0]
    assert result.overall.steps[1].time_from_previous is not None
    assert result.overall.steps[1].time_from_previous.median_s == 60.0


def test_layout_splits_profiles_and_filters_by_code(store: Store) -> None:
    journeys_for(store, {f"p{i}": [ev("view", i), ev("cart", i + 1)] for i in range(7)})
    journey.optimize(store)
    with store.reading() as cur:
        layout = journey.layout(cur, ["view", "nowhere"], parts=3)
        assert journey.layout(cur, ["view"]).parts == 1  # one part unless asked for more
    assert layout.ranges() == [(0, 2), (2, 4), (4, 7)]  # (lo, hi] over pno 1..7
    assert layout.code_filter(["view", "nowhere"]) == f"code IN ({layout.codes['view']})"
    assert layout.code_filter(["nowhere"]) == "false"  # no such activity: no row
    assert layout.code_filter(["view", None]) is None  # any event: no pre-filter
    # A step no event matches: the split pass still gives the joins' rows (none past it).
    spec = api.funnel_spec(
        {"steps": [STEPS[0], {"event": "nowhere"}], "window": "1h", "allow_unknown": True}
    )
    assert split_rows(store, spec, 3) == rows(store, spec, False)
    assert api.funnel(store, spec).counts() == [7, 0]


page_journeys = st.dictionaries(
    st.sampled_from([f"p{i}" for i in range(6)]),
    st.lists(
        st.tuples(
            st.sampled_from(["Home", "Product/1", "Product/2", "Help", "buy"]), st.integers(0, 200)
        ),
        min_size=1,
        max_size=10,
        unique_by=lambda x: x[1],
    ),
    min_size=1,
)


@pytest.mark.slow
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(journeys=page_journeys, steps=st.integers(2, 4))
def test_paths_on_the_copy_equal_the_log_on_any_journeys(
    journeys: dict[str, list[tuple[str, int]]], steps: int
) -> None:
    # Sessions break after 30 quiet minutes; neighbouring profiles sit next to each other in
    # the copy, so anchors, cuts and collapsed repeats near their edges are all exercised.
    def one(name: str, minutes: int) -> dict[str, object]:
        if name == "buy":
            return ev(name, minutes)
        return {"name": name, "timestamp": (T0 + timedelta(minutes=minutes)).isoformat()}

    clean = [{"pattern": "Product/*", "replacement": "Product"}]
    specs = [
        {"start": {"event": "Home"}, "steps": steps},
        {"end": {"event": "buy"}, "steps": steps, "cleaning": clean},
        {"steps": steps, "collapse_repeats": True, "cleaning": clean},
        {"start": {"event": "Help"}, "steps": steps, "exclude": ["Product*"]},
    ]
    # random journeys may lack a named event: not a typo
    specs = [{**s, "allow_unknown": True} for s in specs]
    with tempfile.TemporaryDirectory() as d, Store(Path(d) / "t.duckdb") as store:
        journeys_for(store, {p: [one(e, t) for e, t in evs] for p, evs in journeys.items()})
        before = [api.paths(store, s) for s in specs]
        journey.optimize(store)
        for spec, expected in zip(specs, before, strict=True):
            assert paths_can_use_sorted(api.paths_spec(spec))
            assert api.paths(store, spec) == expected, spec
