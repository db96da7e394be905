"""Compiled passes over the sorted journey copy (touchpath.analytics.kernels) give exactly what
the SQL over the copy gives, and the planner picks them only where they are exact and once they
are loaded (the SQL answers meanwhile).

numba comes with the `kernels` extra (and `dev`). Without it, the tests that run a kernel are
skipped with that reason (shown by `-ra`), and the planner's fallback to SQL is still tested."""

from __future__ import annotations

import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpath.analytics import journey, kernels, registry
from touchpath.analytics.kernels import warm
from touchpath.analytics.planner import Plan
from touchpath.analytics.registry import Read
from touchpath.analytics.testing import journeys_for
from touchpath.settings import Settings
from touchpath.store import Store

T0 = datetime(2024, 3, 4, 9, 0, 0)
needs_numba = pytest.mark.skipif(
    not kernels.available(), reason="numba is not installed (the `kernels` extra): SQL only"
)
NAMES = ["a", "b", "c", "d"]


def ev(name: str, minutes: float, **kw: object) -> dict[str, object]:
    return {"event": name, "timestamp": (T0 + timedelta(minutes=minutes)).isoformat(), **kw}


def both(store: Store, spec: dict[str, Any]) -> tuple[Any, Any]:
    """The analysis run by its kernel and by its SQL, both over the copy."""
    parsed = registry.parse(spec)
    analysis = registry.get(parsed.kind)
    out = []
    for kernel in (True, False):
        with store.reading() as cur:
            read = Read(cur, Plan("copy", kernel=kernel), store.settings, store.memo)
            out.append(analysis.run(read, parsed))
    return out[0], out[1]


def log(store: Store, spec: dict[str, Any]) -> Any:
    """The analysis run by its SQL over the event log."""
    parsed = registry.parse(spec)
    with store.reading() as cur:
        return registry.get(parsed.kind).run(Read(cur, Plan("log"), store.settings), parsed)


def planned(store: Store, spec: dict[str, Any]) -> bool:
    """Whether the planner runs `spec` as a kernel in `store`."""
    parsed = registry.parse(spec)
    analysis = registry.get(parsed.kind)
    from touchpath.analytics import planner

    with store.reading() as cur:
        state = planner.copy_state(cur, 0.0)
        check = analysis.kernel_check(store)
        return planner.plan(cur, parsed, state, analysis.copy, analysis.fits, kernel=check).kernel


@needs_numba
def test_planner_picks_the_kernel_only_where_it_is_exact(store: Store) -> None:
    assert warm.WARMUP.wait(600), warm.WARMUP.error
    journeys_for(
        store,
        {
            "ann": [ev("view", 0), ev("cart", 1), ev("buy", 2)],
            "bob": [ev("view", 0, properties={"plan": "pro"}), ev("cart", 5)],
        },
    )
    funnel = {"kind": "funnel", "steps": [{"event": "view"}, {"event": "cart"}], "window": "1h"}
    assert not planned(store, funnel)  # no copy yet: the log
    journey.optimize(store)
    assert planned(store, funnel)
    assert registry.run(store, funnel).source == "copy"
    assert not planned(store, {**funnel, "breakdown": {"by": "channel"}})  # SQL over the copy
    assert planned(store, {"kind": "dfg"})
    # over stages: the pass reads the copy's memoised condition codes (a map's bind), exactly
    staged = {"kind": "dfg", "stages": [{"name": "s", "events": ["view"]},
                                        {"name": "t", "events": ["cart", "buy"]}]}  # fmt: skip
    assert planned(store, staged)
    kernel, sql = both(store, staged)
    assert kernel == sql and kernel.edges
    with_prop = {"kind": "dfg", "stages": [{"name": "pro", "events": [
        {"event": "view", "where": [{"property": "plan", "op": "eq", "value": "pro"}]}]}]}  # fmt: skip
    assert planned(store, {**with_prop, "audience": "x"}) is False  # an audience: SQL
    assert planned(store, {"kind": "paths", "start": {"event": "view"}})
    assert not planned(store, {"kind": "paths", "start": {"event": "view", "channel": "web"}})
    assert planned(store, {"kind": "retention", "cohort_event": {"event": "view"}})
    by_channel = {"kind": "retention", "breakdown": {"by": "channel"}}
    assert not planned(store, by_channel) and registry.run(store, by_channel).source == "log"
    kernel, sql = both(store, {**funnel, "trend": "day", "dropped_at": 2})
    assert kernel == sql and kernel.counts() == [2, 2]


@needs_numba
def test_the_sql_answers_while_the_kernels_load(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def loading() -> None:  # stands in for numba loading the kernels (seconds)
        release.wait(60)

    slow = warm.Warmup(job=loading)
    monkeypatch.setattr(warm, "WARMUP", slow)
    journeys_for(store, {"ann": [ev("view", 0), ev("cart", 1)], "bob": [ev("view", 2)]})
    journey.optimize(store)
    funnel = {"kind": "funnel", "steps": [{"event": "view"}, {"event": "cart"}], "window": "1h"}
    assert not planned(store, funnel)  # the first call starts the load and does not wait
    result = registry.run(store, funnel)
    assert result.source == "copy" and result.counts() == [2, 1]
    release.set()
    assert slow.wait(60) and slow.seconds is not None
    assert planned(store, funnel)  # loaded: the kernel from now on


@pytest.mark.parametrize("warmup", [True, False])
def test_a_server_loads_the_kernels_as_it_starts_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warmup: bool
) -> None:
    """A long-running process starts the load (the test suite turns it off for its servers);
    either way the first analysis a kernel could run starts it."""
    from touchpath.system import Touchpath

    started = threading.Event()
    loads = warm.Warmup(job=started.set)
    monkeypatch.setattr(warm, "WARMUP", loads)
    monkeypatch.setattr(kernels, "available", lambda: True)
    settings = Settings(db=tmp_path / "t.duckdb", analytics_kernels_warmup=warmup)
    with Touchpath.open(settings, background=True) as tp:
        if warmup:
            assert started.wait(60), "a server starts the load as it starts"
        else:
            assert loads._thread is None and not started.is_set()  # nothing started the load
            journeys_for(tp.store, {"ann": [ev("view", 0), ev("cart", 1)]})
            journey.optimize(tp.store)
            funnel = {"kind": "funnel", "steps": [{"event": "view"}, {"event": "cart"}]}
            assert registry.run(tp.store, funnel).counts() == [1, 1]  # the SQL, meanwhile
            assert started.wait(60), "the first analysis starts the load"


def test_without_numba_the_sql_runs(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "available", lambda: False)
    journeys_for(store, {"ann": [ev("view", 0), ev("cart", 1)]})
    journey.optimize(store)
    for spec in ({"kind": "dfg"}, {"kind": "paths"}):
        assert not planned(store, spec)
        assert registry.run(store, spec).source == "copy"


def test_kernels_off_by_setting(tmp_path: Path) -> None:
    with Store(tmp_path / "t.duckdb", Settings(analytics_kernels=False)) as store:
        journeys_for(store, {"ann": [ev("view", 0), ev("cart", 1)]})
        journey.optimize(store)
        assert not planned(store, {"kind": "dfg"})
        assert registry.run(store, {"kind": "dfg"}).source == "copy"


journeys = st.dictionaries(
    st.sampled_from([f"p{i}" for i in range(10)]),
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.integers(0, 40)),
        min_size=1,
        max_size=10,
        unique_by=lambda x: x[1],  # no ties within a profile: the copy is read
    ),
    min_size=1,
)


@needs_numba
@pytest.mark.slow
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    journeys=journeys,
    steps=st.lists(st.sampled_from(NAMES), min_size=2, max_size=4),
    window=st.integers(1, 15),
    gap=st.none() | st.integers(1, 6),
    start=st.none() | st.integers(0, 20),
    collapse=st.booleans(),
    exclude=st.lists(st.sampled_from(NAMES), max_size=1),
    tick=st.sampled_from([1, 600, 1440]),
    retention=st.tuples(st.sampled_from(["day", "week", "month"]), st.booleans(), st.booleans()),
)
def test_kernels_equal_the_sql_on_any_journeys(
    journeys: dict[str, list[tuple[str, int]]],
    steps: list[str],
    window: int,
    gap: int | None,
    start: int | None,
    collapse: bool,
    exclude: list[str],
    tick: int,
    retention: tuple[str, bool, bool],
) -> None:
    """Times are `tick` minutes apart (a day: journeys over weeks and months for retention)."""
    since = {"start": (T0 + timedelta(minutes=start * tick)).isoformat()} if start else {}
    with tempfile.TemporaryDirectory() as d, Store(Path(d) / "t.duckdb") as store:
        journeys_for(store, {p: [ev(e, t * tick) for e, t in evs] for p, evs in journeys.items()})
        journey.optimize(store)
        funnel: dict[str, Any] = {
            "kind": "funnel",
            "steps": [{"event": s} for s in steps],
            "window": window * 60 * tick,
            "time_range": since,
            "trend": "day",
            "dropped_at": 2,
        }
        for order in ("ordered", "strict", "any"):
            spec = {**funnel, "order": order}
            if gap is not None and order != "any":
                spec["max_step_gap"] = gap * 60 * tick
            kernel, sql = both(store, spec)
            assert kernel == sql, order  # counts, medians, p90s, histograms, trend, drop-offs
        dfg = {"kind": "dfg", "collapse_repeats": collapse, "exclude": exclude, "time_range": since}
        kernel, sql = both(store, dfg)
        assert kernel == sql  # nodes, edges, cases, starts, ends, medians and p90s to the bit
        visits = {**dfg, "case": "session", "session_gap": (gap or 10) * 60 * tick}
        kernel, sql = both(store, visits)
        assert kernel == sql == log(store, visits)  # sessions cut as the log cuts them
        from touchpath.analytics.kernels import paths as paths_kernel

        for anchor in ({}, {"start": {"event": steps[0]}}, {"end": {"event": steps[-1]}}):
            paths = {"kind": "paths", **anchor, "steps": len(steps) + 1, "session_gap": (gap or 10) * 60 * tick,
                     "collapse_repeats": collapse, "exclude": exclude, "time_range": since}  # fmt: skip
            kernel, sql = both(store, paths)
            assert kernel == sql, anchor  # totals, nodes, edges and top paths
            with (  # the aggregates' fallbacks: edges by sorting, paths' keys by their ranks
                mock.patch.object(paths_kernel, "DENSE_EDGES", 0),
                mock.patch.object(paths_kernel, "KEY_BITS", 0),
            ):
                assert both(store, paths)[0] == sql, anchor
        period, unbounded, recurring = retention
        kept = {"kind": "retention", "cohort_event": {"event": steps[0]}, "period": period,
                "return_event": {"event": steps[1]}, "time_range": since, "periods": 6,
                "mode": "on_or_after" if unbounded else "on",
                "cohort_type": "recurring" if recurring else "first_time"}  # fmt: skip
        kernel, sql = both(store, kept)
        assert kernel == sql == log(store, kept)  # cohorts, curve, repeat rate, gap quantiles


@needs_numba
def test_retention_kernel_known_answer(store: Store) -> None:
    """The compiled retention gives the hand-counted cohort table and repeat figures (the
    people of tests/test_retention.py), as the SQL over the copy and over the log do; periods
    begin up to the log's last event (here a browse by someone who never buys, three weeks
    after the last purchase)."""
    assert warm.WARMUP.wait(600), warm.WARMUP.error
    mon = datetime(2024, 3, 4, 12, 0, 0)

    def buy(week: int, day: int = 0) -> dict[str, object]:
        return {"event": "buy", "timestamp": (mon + timedelta(weeks=week, days=day)).isoformat()}

    journeys_for(
        store,
        {
            "a": [buy(0), buy(1), buy(3)],
            "b": [buy(0, 2), buy(2)],
            "c": [buy(1), buy(1, 1)],
            "d": [buy(3)],
            "e": [{"event": "browse", "timestamp": (mon + timedelta(weeks=6)).isoformat()}],
        },
    )
    journey.optimize(store)
    spec = {"kind": "retention", "cohort_event": {"event": "buy"}, "periods": 4}
    assert planned(store, spec)
    kernel, sql = both(store, spec)
    assert kernel == sql == log(store, spec)
    table = [(c.cohort.isoformat(), c.size, c.retained) for c in kernel.cohorts]
    assert table == [
        ("2024-03-04", 2, [2, 1, 1, 1]),
        ("2024-03-11", 1, [1, 0, 0, 0]),
        ("2024-03-25", 1, [1, 0, 0, 0]),
    ]
    rep = kernel.repeat
    assert (rep.profiles, rep.repeaters) == (4, 3)
    week, day = 7 * 86400.0, 86400.0  # gaps: a 1w, 2w; b 12d; c 1d
    assert rep.median_gap_s == (week + 12 * day) / 2
    assert rep.p90_gap_s == pytest.approx(12 * day + 0.7 * 2 * day)
    assert rep.median_first_to_second_s == week
    short = {**spec, "time_range": {"end": (mon + timedelta(weeks=3)).isoformat()}}
    kernel, sql = both(store, short)  # the last period is the range's: week 2 has begun, 3 not
    assert kernel == sql == log(store, short)
    assert [c.retained for c in kernel.cohorts] == [[2, 1, 1, None], [1, 0, None, None]]


@needs_numba
@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    journeys=journeys,
    steps=st.lists(st.sampled_from(NAMES), min_size=2, max_size=4),
    window=st.integers(1, 15),
    gap=st.none() | st.integers(1, 6),
    tick=st.sampled_from([0.5, 1, 600, 1440]),
)
def test_funnel_counts_from_the_pass_equal_the_sql(
    journeys: dict[str, list[tuple[str, int]]],
    steps: list[str],
    window: int,
    gap: int | None,
    tick: float,
) -> None:
    """Without a trend or drop-offs the kernel's funnel is aggregated in NumPy, not by the SQL
    over its rows: counts, medians, p90s and both histograms equal the SQL over the copy and
    the log's (ticks from 30 s to a day: every histogram bucket)."""
    with tempfile.TemporaryDirectory() as d, Store(Path(d) / "t.duckdb") as store:
        journeys_for(store, {p: [ev(e, t * tick) for e, t in evs] for p, evs in journeys.items()})
        journey.optimize(store)
        for order in ("ordered", "strict", "any"):
            spec: dict[str, Any] = {"kind": "funnel", "steps": [{"event": s} for s in steps],
                                    "window": int(window * 60 * tick), "order": order}  # fmt: skip
            if gap is not None and order != "any":
                spec["max_step_gap"] = int(gap * 60 * tick)
            kernel, sql = both(store, spec)
            assert kernel == sql == log(store, spec), order
