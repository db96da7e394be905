"""Funnels: declarative journeys in, per-step counts out; ordered levels equal windowFunnel's."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import chdb
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from touchpath.analytics import api
from touchpath.analytics.testing import journeys_for, profile_of
from touchpath.cli import app
from touchpath.errors import SpecError
from touchpath.store import Store

T0 = datetime(2024, 3, 4, 9, 0, 0)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def ev(name: str, minutes: float, **kw: object) -> dict[str, object]:
    return {"event": name, "timestamp": at(minutes), **kw}


STEPS = [{"event": "view"}, {"event": "cart"}, {"event": "buy"}]


def test_ordered_counts_conversion_and_dropped(store: Store) -> None:
    journeys_for(
        store,
        {
            "ann": [ev("view", 0), ev("other", 1), ev("cart", 2), ev("buy", 3)],
            "bob": [ev("view", 0), ev("cart", 5)],
            "cat": [ev("cart", 0), ev("view", 1)],  # wrong order: only step 1
            "dan": [ev("buy", 0)],
        },
    )
    r = api.funnel(store, {"steps": STEPS, "window": "1h", "dropped_at": 3})
    assert r.counts() == [3, 2, 1]
    assert [s.step_conversion for s in r.overall.steps] == [1.0, 2 / 3, 0.5]
    assert r.overall.conversion == pytest.approx(1 / 3)
    assert r.overall.steps[1].dropped == 1
    assert r.dropped is not None and r.dropped.profiles == [profile_of("bob")]


def test_window_is_inclusive_and_measured_from_the_first_step(store: Store) -> None:
    journeys_for(
        store,
        {
            "edge": [ev("view", 0), ev("cart", 30), ev("buy", 60)],
            "late": [ev("view", 0), ev("cart", 30), ev("buy", 60.02)],
        },
    )
    assert api.funnel(store, {"steps": STEPS, "window": "1h"}).counts() == [2, 2, 1]


def test_equal_timestamps_chain_in_step_order_and_one_event_fills_two_identical_steps(
    store: Store,
) -> None:
    journeys_for(
        store,
        {
            "tie": [ev("cart", 0), ev("view", 0)],
            "once": [ev("view", 0)],
        },
    )
    assert api.funnel(store, {"steps": STEPS[:2], "window": 60}).counts() == [2, 1]
    # windowFunnel semantics: a single `view` satisfies the steps view -> view.
    assert api.funnel(store, {"steps": [STEPS[0], STEPS[0]], "window": 60}).counts() == [2, 2]


def test_latest_start_wins_the_window(store: Store) -> None:
    journeys_for(store, {"p": [ev("view", 0), ev("view", 50), ev("cart", 70), ev("buy", 100)]})
    assert api.funnel(store, {"steps": STEPS, "window": "1h"}).counts() == [1, 1, 1]


def test_max_step_gap_uses_the_latest_previous_step(store: Store) -> None:
    journeys_for(store, {"p": [ev("view", 0), ev("cart", 1), ev("cart", 4), ev("buy", 8)]})
    spec = {"steps": STEPS, "window": "1h", "max_step_gap": "5m"}
    assert api.funnel(store, spec).counts() == [1, 1, 1]
    assert api.funnel(store, {**spec, "max_step_gap": "3m"}).counts() == [1, 1, 0]


def test_strict_needs_consecutive_events(store: Store) -> None:
    journeys_for(
        store,
        {
            "tight": [ev("view", 0), ev("cart", 1), ev("buy", 2)],
            "loose": [ev("view", 0), ev("help", 1), ev("cart", 2), ev("buy", 3)],
        },
    )
    assert api.funnel(store, {"steps": STEPS, "order": "strict"}).counts() == [2, 1, 1]
    assert api.funnel(store, {"steps": STEPS, "order": "ordered"}).counts() == [2, 2, 2]


def test_any_order_counts_distinct_steps_within_the_window(store: Store) -> None:
    journeys_for(
        store,
        {
            "rev": [ev("buy", 0), ev("cart", 1), ev("view", 2)],
            "two": [ev("cart", 0), ev("cart", 1), ev("view", 2)],
            "far": [ev("buy", 0), ev("view", 120)],
        },
    )
    r = api.funnel(store, {"steps": STEPS, "order": "any", "window": "1h"})
    assert r.counts() == [3, 2, 1]
    assert r.overall.steps[1].time_from_previous is None


def test_exclusion_between_steps_breaks_the_chain(store: Store) -> None:
    journeys_for(
        store,
        {
            "clean": [ev("view", 0), ev("cart", 1), ev("buy", 2)],
            "left": [ev("view", 0), ev("cart", 1), ev("coupon", 1.5), ev("buy", 2)],
            "before": [ev("coupon", 0), ev("view", 1), ev("cart", 2), ev("buy", 3)],
            # A fresh chain after the excluded event still counts.
            "retry": [ev("view", 0), ev("coupon", 1), ev("view", 2), ev("cart", 3), ev("buy", 4)],
        },
    )
    spec = {"steps": STEPS, "exclusions": [{"event": "coupon", "after": 1, "before": 3}]}
    assert api.funnel(store, spec).counts() == [4, 4, 3]


def test_time_to_convert_median_p90_and_histogram(store: Store) -> None:
    journeys_for(
        store,
        {f"p{i}": [ev("view", 0), ev("cart", m)] for i, m in enumerate([0.5, 2, 3, 10, 120])},
    )
    step = api.funnel(store, {"steps": STEPS[:2], "window": "1d"}).overall.steps[1]
    assert step.time_from_previous is not None
    assert step.time_from_previous.median_s == 180
    assert step.time_from_previous.p90_s == pytest.approx(10 * 60 + 0.6 * 110 * 60)
    hist = step.time_from_previous.histogram
    assert (hist["<1m"], hist["1-5m"], hist["5-30m"], hist["1-6h"]) == (1, 2, 1, 1)


def test_breakdown_by_channel_keeps_top_n_and_other(store: Store) -> None:
    channels = ["email"] * 3 + ["sms"] * 2 + ["push", "social"]
    journeys_for(
        store,
        {
            f"p{i}": [ev("view", 0, channel=c), *([ev("cart", 1)] if i % 2 == 0 else [])]
            for i, c in enumerate(channels)
        },
    )
    r = api.funnel(store, {"steps": STEPS[:2], "breakdown": {"by": "channel", "top": 2}})
    assert [(g.value, g.entered, g.converted) for g in r.groups] == [
        (None, 7, 4),
        ("email", 3, 2),
        ("Other", 2, 1),
        ("sms", 2, 1),
    ]


def test_breakdown_by_event_and_profile_property_and_first_touch(store: Store) -> None:
    journeys_for(
        store,
        {
            "a": [
                {"type": "identify", "timestamp": at(-5), "traits": {"plan": "pro"}},
                ev("ad", -1, channel="paid_social"),
                ev("view", 0, properties={"platform": "ios"}),
                ev("cart", 1),
            ],
            "b": [ev("view", 0, properties={"platform": "web"})],
        },
    )

    def groups(bd: dict[str, object]) -> list[tuple[str | None, int]]:
        r = api.funnel(store, {"steps": STEPS[:2], "breakdown": bd})
        return [(g.value, g.converted) for g in r.groups[1:]]

    assert groups({"by": "event_property", "property": "platform"}) == [("ios", 1), ("web", 0)]
    assert groups({"by": "profile_property", "property": "plan"}) == [("(none)", 0), ("pro", 1)]
    assert groups({"by": "first_touch_channel"}) == [("direct", 0), ("paid_social", 1)]


def test_trend_by_week_of_entry(store: Store) -> None:
    journeys_for(
        store,
        {
            "w1a": [ev("view", 0), ev("cart", 1)],
            "w1b": [ev("view", 0)],
            "w2": [ev("view", 7 * 24 * 60), ev("cart", 7 * 24 * 60 + 1)],
        },
    )
    r = api.funnel(store, {"steps": STEPS[:2], "trend": "week"})
    assert r.trend is not None
    assert [(p.period.isoformat(), p.entered, p.converted) for p in r.trend] == [
        ("2024-03-04", 2, 1),
        ("2024-03-11", 1, 1),
    ]


def test_identified_history_joins_the_profile(store: Store) -> None:
    journeys_for(
        store,
        {
            "anon": [{"event": "view", "timestamp": at(0), "user_id": None, "anonymous_id": "d1"}],
            "u1": [ev("cart", 1)],
        },
    )
    assert api.funnel(store, {"steps": STEPS[:2]}).counts() == [1, 0]
    store.write_sync(
        lambda con: con.execute(
            "INSERT OR REPLACE INTO identifiers (kind, value, profile_id) "
            "VALUES ('anonymous_id', 'd1', 'p1'), ('user_id', 'u1', 'p1')"
        )
    )
    assert api.funnel(store, {"steps": STEPS[:2]}).counts() == [1, 1]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"steps": [{"event": "a"}]}, "steps: Tuple should have at least 2 items"),
        ({"steps": [{"event": "a"}, {"event": " "}]}, "steps[1].event: must not be blank"),
        ({"steps": STEPS, "window": "soon"}, "window: not a duration: 'soon'"),
        ({"steps": STEPS, "dropped_at": 4}, "dropped_at: 4 is past the last step (3)"),
        ({"steps": STEPS, "exclusions": [{"event": "x", "after": 3}]}, "exclusions[0]: needs"),
        ({"steps": STEPS, "breakdown": {"by": "event_property"}}, "breakdown: property: required"),
        ({"steps": STEPS, "colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_bad_specs_say_where(spec: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as info:
        api.funnel_spec(spec)
    assert message in str(info.value)


# ---------------------------------------------------------------- windowFunnel equivalence
NAMES = ["a", "b", "c"]
journeys = st.dictionaries(
    st.sampled_from([f"p{i}" for i in range(8)]),
    st.lists(st.tuples(st.sampled_from(NAMES), st.integers(0, 12)), min_size=1, max_size=8),
    min_size=1,
)


def window_funnel_levels(
    rows: list[tuple[str, int, str]], steps: list[str], window: int
) -> list[int]:
    """Per-step counts from ClickHouse's windowFunnel (chdb) on the same events."""
    values = ",".join(f"('{p}',{t},'{e}')" for p, t, e in rows)
    conds = ", ".join(f"e='{s}'" for s in steps)
    out = chdb.query(
        f"SELECT windowFunnel({window})(ts, {conds}) AS level FROM "
        f"values('pid String, ts UInt32, e String', {values}) GROUP BY pid",
        "CSV",
    )
    levels = [int(x) for x in str(out).split()]
    return [sum(1 for lv in levels if lv >= k) for k in range(1, len(steps) + 1)]


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    journeys=journeys,
    steps=st.lists(st.sampled_from(NAMES), min_size=2, max_size=4),
    window=st.integers(0, 8),
)
def test_ordered_levels_equal_clickhouse_window_funnel(
    journeys: dict[str, list[tuple[str, int]]], steps: list[str], window: int
) -> None:
    rows = [(p, t * 60, e) for p, evs in journeys.items() for e, t in evs]
    with tempfile.TemporaryDirectory() as d, Store(Path(d) / "t.duckdb") as store:
        journeys_for(store, {p: [ev(e, t) for e, t in evs] for p, evs in journeys.items()})
        ours = api.funnel(
            store,
            # generated journeys may lack a step's event: not a typo
            {"steps": [{"event": s} for s in steps], "window": max(window * 60, 1),
             "allow_unknown": True},
        )  # fmt: skip
    assert ours.counts() == window_funnel_levels(rows, steps, max(window * 60, 1))


def test_rest_funnel_and_bad_spec(server) -> None:  # type: ignore[no-untyped-def]
    journeys_for(server.store, {"a": [ev("view", 0), ev("cart", 1)], "b": [ev("view", 0)]})
    ok = httpx.post(
        f"{server.url}/api/analyses/funnel", headers=server.auth, json={"steps": STEPS[:2]}
    )
    assert ok.status_code == 200
    assert [s["count"] for s in ok.json()["groups"][0]["steps"]] == [2, 1]
    bad = httpx.post(
        f"{server.url}/api/analyses/funnel",
        headers=server.auth,
        json={"steps": [{"event": "a"}, {"event": ""}]},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("steps[1].event: must not be blank")


def test_cli_funnel_table_and_json(server) -> None:  # type: ignore[no-untyped-def]
    journeys_for(server.store, {"a": [ev("view", 0), ev("cart", 1)], "b": [ev("view", 0)]})
    db = str(server.store.path)
    args = ["funnel", "--db", db, "--step", "view", "--step", "cart", "--window", "1d"]
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    assert '"conversion": 0.5' in out.output
    out = CliRunner().invoke(app, [*args, "--breakdown", "channel", "--trend", "day"])
    assert out.exit_code == 0 and "Funnel: direct" in out.output and "50.0%" in out.output
