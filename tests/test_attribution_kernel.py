"""Attribution's compiled pass over the sorted journey copy (touchpath.analytics.kernels.attribution)
gives what the SQL over the copy gives, and the planner picks it where the copy is read.

Every count, key, row order, total, transition and removal effect is equal. A credit is a float
sum that the SQL adds in the order of its hash aggregate, which differs from run to run (the
same SQL twice can differ in a credit's last rounded digit: 12 of 25 spec and data pairs of
tests/test_insights_copy.py's journeys did, six runs each); the pass adds in stored order, so a
credit may differ from the SQL's by one unit of the rounding (1e-6 conversions and shares,
0.01 revenue) and by nothing more.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo_helpers import ingest_demo
from touchpath.analytics import journey, kernels, planner, registry
from touchpath.analytics.attribution import AttributionResult, AttributionSpec
from touchpath.analytics.kernels import warm
from touchpath.analytics.planner import Plan
from touchpath.analytics.registry import Read
from touchpath.analytics.testing import journeys_for
from touchpath.events.match import EventMatch
from touchpath.store import Store

pytestmark = pytest.mark.skipif(
    not kernels.available(), reason="numba is not installed (the `kernels` extra): SQL only"
)
T0 = datetime(2024, 3, 4, 9, 0, 0)
PAGES = ["Home", "Product", "Cart"]
CHANNELS = ["direct", "email", "paid_search", "app", None]
REVENUES: list[Any] = [None, 20.5, 99.0, 250.25, 0.1, "n/a"]
UNITS = {"conversions": 1.01e-6, "share": 1.01e-6, "revenue": 0.0101}


def run(store: Store, spec: AttributionSpec, plan: Plan) -> AttributionResult:
    with store.reading() as cur:
        read = Read(cur, plan, store.settings, store.memo)
        got = registry.get("attribution").run(read, spec)
    assert isinstance(got, AttributionResult)
    return got


def assert_same(kernel: AttributionResult, sql: AttributionResult) -> None:
    """Equal, but for a credit's (and a revenue total's) last rounded digit."""
    head = {"rows", "revenue", "attributed_revenue"}
    assert kernel.model_dump(exclude=head) == sql.model_dump(exclude=head)
    assert abs(kernel.revenue - sql.revenue) <= UNITS["revenue"]
    assert abs(kernel.attributed_revenue - sql.attributed_revenue) <= UNITS["revenue"]
    assert [r.key for r in kernel.rows] == [r.key for r in sql.rows]
    for mine, theirs in zip(kernel.rows, sql.rows, strict=True):
        assert mine.credit.keys() == theirs.credit.keys(), mine.key
        for model, credit in mine.credit.items():
            other = theirs.credit[model].model_dump()
            for field, value in credit.model_dump().items():
                assert abs(value - other[field]) <= UNITS[field], (mine.key, model, field)


def both(store: Store, spec: AttributionSpec) -> tuple[AttributionResult, AttributionResult]:
    """The spec run by the compiled pass and by the SQL, both over the copy."""
    return run(store, spec, Plan("copy", kernel=True)), run(store, spec, Plan("copy"))


def planned(store: Store, spec: AttributionSpec) -> bool:
    """Whether the planner runs `spec` as the compiled pass in `store`."""
    analysis = registry.get("attribution")
    with store.reading() as cur:
        state = planner.copy_state(cur, 0.0)
        check = analysis.kernel_check(store)
        return planner.plan(cur, spec, state, analysis.copy, None, kernel=check).kernel


def event(kind: str, minutes: float, channel: str | None, revenue: Any) -> dict[str, Any]:
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    if kind == "buy":
        props = {} if revenue is None else {"revenue": revenue}
        return {"event": "Order Completed", "timestamp": at, "properties": props}
    if kind == "open":
        return {"event": "Application Opened", "timestamp": at, "channel": channel}
    if kind == "mail":
        return {"event": "Email Delivered", "timestamp": at, "channel": "email"}
    if kind == "Home-screen":  # a screen named as a page: one activity code, two types
        return {"name": "Home", "type": "screen", "timestamp": at, "channel": channel}
    return {"name": kind, "timestamp": at, "channel": channel}


journeys = st.dictionaries(
    st.sampled_from([f"p{i}" for i in range(8)]),
    st.lists(
        st.tuples(
            st.sampled_from([*PAGES, "Home-screen", "open", "mail", "buy", "buy"]),
            st.integers(0, 60),
            st.sampled_from(CHANNELS),
            st.sampled_from(REVENUES),
        ),
        min_size=1,
        max_size=14,
    ),
    min_size=1,
)
specs = st.fixed_dictionaries(
    {
        "by": st.sampled_from(["channel", "touchpoint"]),
        "touch": st.sampled_from(["session", "event"]),
        "touches": st.sampled_from([(), ({"type": "page"}, "Application Opened")]),
        "exclude_touches": st.sampled_from([(), ("Email Delivered",)]),
        "exclude_channels": st.sampled_from([(), ("direct",)]),
        "revenue_property": st.sampled_from(["revenue", None]),
        "session_gap": st.integers(1, 20),
        "lookback": st.integers(1, 40),
        "half_life": st.integers(1, 30),
        "position_first": st.sampled_from([0.4, 0.3, 0.0, 0.5]),
        "position_last": st.sampled_from([0.4, 0.45, 0.0, 0.5]),
        "start": st.none() | st.integers(0, 50),
        "end": st.none() | st.integers(10, 70),
    }
)


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(journeys=journeys, spec=specs, tick=st.sampled_from([1, 30, 1440]))
def test_the_pass_equals_the_sql_on_any_journeys(
    journeys: dict[str, list[tuple[str, int, str | None, Any]]],
    spec: dict[str, Any],
    tick: int,
) -> None:
    """Times are `tick` minutes apart, durations in ticks (a day: lookbacks and half-lives of
    weeks); ties, conversions at the same time, touches at a conversion's time, lookbacks that
    cut paths, a time range, excluded touches and channels, and every event a touch. Profiles
    in ranges of one (the pass's parallel split, with each range's revenue found by profile)."""
    from touchpath.analytics.kernels import attribution as kernel

    def at(ticks: int | None) -> str | None:
        return None if ticks is None else (T0 + timedelta(minutes=ticks * tick)).isoformat()

    start, end = spec.pop("start"), spec.pop("end")
    spec = {**spec, "time_range": {"start": at(start), "end": at(end)}}
    for k in ("session_gap", "lookback", "half_life"):
        spec[k] *= 60 * tick
    parsed = AttributionSpec.model_validate(
        {**spec, "position_last": min(spec["position_last"], 1 - spec["position_first"])}
    )
    with tempfile.TemporaryDirectory() as d, Store(Path(d) / "t.duckdb") as store:
        journeys_for(store, {p: [event(k, t * tick, c, r) for k, t, c, r in evs]
                             for p, evs in journeys.items()})  # fmt: skip
        journey.optimize(store)
        assert warm.WARMUP.wait(600), warm.WARMUP.error
        assert planned(store, parsed)
        got, sql = both(store, parsed)
        assert_same(got, sql)
        with mock.patch.object(kernel, "PROFILES_PER_RANGE", 1):
            assert_same(run(store, parsed, Plan("copy", kernel=True)), sql)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The demo business (300 people, 60 days) with its journey copy built."""
    from touchpath.demo import DemoConfig
    from touchpath.system import Touchpath

    path = tmp_path_factory.mktemp("attribution") / "demo.duckdb"
    with Touchpath.open(db=path) as tp:
        ingest_demo(tp.store, DemoConfig(customers=300, days=60, seed=5))
        journey.optimize(tp.store)
        assert warm.WARMUP.wait(600), warm.WARMUP.error
        yield tp.store


TOUCHES = (EventMatch(type="page"), "Application Opened")
DEMO_SPECS = [
    AttributionSpec(by="channel", touches=TOUCHES),  # bench/journey_analytics.py's two
    AttributionSpec(by="touchpoint", models=("first_touch", "last_touch", "linear")),
    AttributionSpec(),
    AttributionSpec(by="touchpoint", touch="event", exclude_touches=("Email Delivered",),
                    lookback="7d", half_life="2d"),
    AttributionSpec(exclude_channels=("direct",), session_gap="10m", revenue_property=None),
    AttributionSpec(conversion=EventMatch(event="Signed Up"), position_first=0.3,
                    position_last=0.6),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("spec", DEMO_SPECS, ids=range(len(DEMO_SPECS)))
def test_the_pass_equals_the_sql_on_the_demo(demo: Store, spec: AttributionSpec) -> None:
    """On the demo business (identity resolution, every channel, real revenue): the planner
    runs the pass, whose result is the SQL's over the copy and close to the log's."""
    assert planned(demo, spec)
    result = registry.run(demo, spec)
    assert result.source == "copy" and result.attributed_conversions > 0
    got, sql = both(demo, spec)
    assert_same(got, sql)
    assert_same(got, run(demo, spec, Plan("log")))
    assert result.model_dump(exclude={"source"}) == got.model_dump(exclude={"source"})


@pytest.mark.slow
def test_what_the_copy_cannot_hold_or_no_numba_runs_as_sql(
    demo: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A touchpoint property is not in the copy: the log. Without numba: the SQL over the copy."""
    by_property = AttributionSpec(by="touchpoint", touchpoint_property="context.page.path")
    assert registry.run(demo, by_property).source == "log"
    monkeypatch.setattr(kernels, "available", lambda: False)
    assert not planned(demo, AttributionSpec())
    assert registry.run(demo, AttributionSpec()).source == "copy"


def test_the_boundaries_known_answer(store: Store) -> None:
    """A touch exactly the lookback before its conversion is in its path; an eligible row
    exactly the session gap after the one before is not a new touch, one a microsecond later
    is; a touch at its conversion's time but stored after it is in its path; a second
    conversion at the same time has no touch; the touches after the last conversion end in
    (null). By the pass, the SQL over the copy and the SQL over the log alike."""
    day = T0.replace(hour=0)

    def page(at: timedelta, channel: str, name: str = "Home") -> dict[str, Any]:
        return {"name": name, "timestamp": (day + at).isoformat(), "channel": channel}

    def buy(at: timedelta, revenue: float) -> dict[str, Any]:
        return {"event": "Order Completed", "timestamp": (day + at).isoformat(),
                "properties": {"revenue": revenue}}  # fmt: skip

    hours = timedelta(hours=1)
    journeys_for(store, {"a": [
        page(0 * hours, "paid_search"),  # exactly the lookback (a day) before
        page(10 * hours, "email"),
        page(10.5 * hours, "direct", "Product"),  # exactly the gap after: the same visit
        page(11 * hours + timedelta(microseconds=1), "referral"),  # a new visit
        buy(24 * hours, 100.0),
        page(24 * hours, "sms", "Cart"),  # the conversion's time, stored after it
        buy(24 * hours, 50.0),  # no touch left
        page(29 * hours, "social"),  # after the last conversion: to (null)
    ]})  # fmt: skip
    journey.optimize(store)
    assert warm.WARMUP.wait(600), warm.WARMUP.error
    spec = AttributionSpec(lookback="1d", session_gap="30m")
    assert planned(store, spec)
    got, sql = both(store, spec)
    for result in (got, sql, run(store, spec, Plan("log"))):
        credit = {r.key: {m: c.conversions for m, c in r.credit.items()} for r in result.rows}
        assert set(credit.pop("social")) == {"markov"}  # a key of the chain only
        assert (result.conversions, result.attributed_conversions) == (2, 1)
        assert (result.revenue, result.attributed_revenue) == (150.0, 100.0)
        assert {k: c["first_touch"] for k, c in credit.items()} == {
            "paid_search": 1.0, "email": 0.0, "referral": 0.0, "sms": 0.0}  # fmt: skip
        assert {k: c["last_touch"] for k, c in credit.items()}["sms"] == 1.0
        assert {k: c["linear"] for k, c in credit.items()} == {
            "paid_search": 0.25, "email": 0.25, "referral": 0.25, "sms": 0.25}  # fmt: skip
        assert set(result.removal_effects) == {"paid_search", "email", "referral", "sms", "social"}
        assert result.removal_effects["social"] == 0.0  # only on the path to (null)
    assert_same(got, sql)


def test_too_many_channels_run_as_sql(store: Store) -> None:
    """Past `MAX_CHANNELS` channels the planner keeps the SQL over the copy."""
    from touchpath.analytics.attribution import compiled

    journeys_for(store, {"a": [event("Home", 0, "email", None), event("Cart", 5, "app", None),
                               event("buy", 9, None, 10.0)]})  # fmt: skip
    journey.optimize(store)
    assert warm.WARMUP.wait(600), warm.WARMUP.error
    with mock.patch.object(compiled, "MAX_CHANNELS", 1):
        assert not planned(store, AttributionSpec())
        result = registry.run(store, AttributionSpec())
    assert result.source == "copy" and result.attributed_conversions == 1
