"""Many funnels in one pass over the sorted copy (touchpath.analytics.funnels.many) give what
each funnel gives run one by one through the registry, on a real demo store: every funnel of
the demo's maps, with and without a persona audience, and the bound maps themselves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from demo_helpers import ingest_demo
from touchpath.analytics import journey, kernels, planner, registry
from touchpath.analytics.breakdown import Breakdown
from touchpath.analytics.funnels import FunnelResult, FunnelSpec, many
from touchpath.analytics.kernels import warm
from touchpath.events.match import TimeRange
from touchpath.maps import bind
from touchpath.maps.library import example
from touchpath.profiles import audiences as aud
from touchpath.profiles.audiences import Audience
from touchpath.store import Store, utcnow
from touchpath.system import Touchpath

pytestmark = pytest.mark.skipif(
    not kernels.available(), reason="numba is not installed (the `kernels` extra): SQL only"
)
MAPS = ("demo-first-purchase", "demo-support")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The demo business (200 people, 40 days), its journey copy built, an audience `app`."""
    from touchpath.demo import DemoConfig

    path = tmp_path_factory.mktemp("many") / "demo.duckdb"
    with Touchpath.open(db=path) as tp:
        ingest_demo(tp.store, DemoConfig(customers=200, days=40, seed=4))
        app = Audience.model_validate(
            {"name": "app", "condition": {"kind": "performed", "event": {"channel": "app"}}}
        )
        tp.store.write_sync(lambda con: aud.define_audience(con, app, utcnow()))
        journey.optimize(tp.store)
        assert warm.WARMUP.wait(600), warm.WARMUP.error
        yield tp.store


def _specs(name: str, audience: str | None, time_range: TimeRange) -> list[FunnelSpec]:
    doc = example(name)
    bd = Breakdown(by="audience", audiences=(audience,)) if audience else None
    return [
        FunnelSpec(steps=tuple(steps), window=doc.window, time_range=time_range, breakdown=bd)
        for steps in bind._funnel_jobs(doc).values()
    ]


def _counting(
    store: Store, specs: list[FunnelSpec], state: planner.CopyState, alone: list[FunnelSpec]
) -> list[FunnelResult]:
    """`run_many`, checking that exactly the funnels `alone` ran one by one."""
    real, ran = registry.run, []

    def counted(store: Store, spec: object, **kw: object) -> object:
        ran.append(spec)
        return real(store, spec, **kw)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "run", counted)
        got = many.run_many(store, specs, state)
    assert ran == alone
    return got


def _one_by_one(store: Store, specs: list[FunnelSpec], state: planner.CopyState) -> list[object]:
    return [registry.run(store, s, copy=state, names=False) for s in specs]


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("audience", [None, "app"])
def test_the_batched_funnels_are_the_funnels_one_by_one(
    demo: Store, name: str, audience: str | None
) -> None:
    with demo.reading() as cur:
        state = planner.copy_state(cur, 0.0)
    assert state.usable and state.as_of is None
    for time_range in (
        TimeRange(),
        TimeRange(start=datetime(2026, 10, 5), end=datetime(2026, 10, 25)),
    ):
        specs = _specs(name, audience, time_range)
        # every funnel is batched: those on `wait_hours` (which the copy does not hold) look
        # it up by `seq` for `Ticket Resolved` rows
        assert all(many.batchable(s) for s in specs)
        batched = _counting(demo, specs, state, [])
        looked = [i for i, s in enumerate(specs) if _on_property(s)]
        assert (name == "demo-first-purchase") == bool(looked)
        for i, (got, alone) in enumerate(
            zip(batched, _one_by_one(demo, specs, state), strict=True)
        ):
            assert got.source == "copy"
            if i in looked:  # alone, they read the log: the same numbers
                assert alone.source == "log"  # type: ignore[attr-defined]
                got = got.model_copy(update={"source": "log"})
            assert got.model_dump() == alone.model_dump()  # type: ignore[attr-defined]
    assert any(g.steps[0].count for r in batched for g in r.groups)  # not all empty
    if name == "demo-first-purchase":  # the property funnels count someone
        assert any(batched[i].groups[0].steps[0].count for i in looked)


def _on_property(spec: FunnelSpec) -> bool:
    """Whether a step tests a property the copy does not hold (`wait_hours`)."""
    from touchpath.analytics.funnels import can_use_sorted

    return not can_use_sorted(spec)


def test_identical_funnels_run_once_and_keep_their_names(demo: Store) -> None:
    steps = ({"event": "Product Viewed", "name": "a"}, {"event": "Order Completed", "name": "b"})
    first = FunnelSpec.model_validate({"steps": steps, "window": "7d"})
    renamed = FunnelSpec.model_validate(
        {"steps": [{**s, "name": s["name"] + "2"} for s in steps], "window": "7d"}
    )
    with demo.reading() as cur:
        state = planner.copy_state(cur, 0.0)
    a, b = many.run_many(demo, [first, renamed], state)
    assert a.steps == ["a", "b"] and b.steps == ["a2", "b2"]
    assert a.groups[0].model_dump(exclude={"steps"}) == b.groups[0].model_dump(exclude={"steps"})
    assert a.model_dump() == registry.run(demo, first, copy=state, names=False).model_dump()


@pytest.mark.parametrize("name", MAPS)
def test_the_bound_map_is_the_map_bound_one_funnel_at_a_time(
    demo: Store, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = example(name)
    batched = bind.bind_map(demo, doc)
    monkeypatch.setattr(many, "_kernels_ready", lambda store: False)  # every funnel alone
    alone = bind.bind_map(demo, doc)
    assert batched.model_dump(exclude={"bound_at"}) == alone.model_dump(exclude={"bound_at"})
    assert batched.as_of is None and batched.persona_size > 0


def test_a_stale_copy_runs_every_funnel_on_the_log(tmp_path: Path) -> None:
    with Store(tmp_path / "t.duckdb") as store:
        from touchpath.analytics.testing import journeys_for

        journeys_for(store, {"p": [{"event": "a", "timestamp": "2026-01-01T00:00:00"},
                                   {"event": "b", "timestamp": "2026-01-01T00:01:00"}]})  # fmt: skip
        spec = FunnelSpec.model_validate({"steps": [{"event": "a"}, {"event": "b"}]})
        with store.reading() as cur:
            state = planner.copy_state(cur, 0.0)
        assert not state.usable
        (got,) = many.run_many(store, [spec], state)
        assert got.source == "log" and got.counts() == [1, 1]


def test_steps_that_tie_in_the_copy_run_one_by_one(tmp_path: Path) -> None:
    """`a` and `b` at the same time: the streaming pass cannot chain them exactly, so that
    funnel runs alone (on the log, as the planner says); `a` then `c` is batched."""
    from touchpath.analytics.testing import journeys_for

    with Store(tmp_path / "t.duckdb") as store:
        at = "2026-01-01T00:00:00"
        journeys_for(store, {"p": [{"event": "a", "timestamp": at}, {"event": "b", "timestamp": at},
                                   {"event": "c", "timestamp": "2026-01-01T00:05:00"}],
                             "q": [{"event": "a", "timestamp": at}]})  # fmt: skip
        journey.optimize(store)
        assert warm.WARMUP.wait(600), warm.WARMUP.error
        tied, fine = (
            FunnelSpec.model_validate({"steps": [{"event": "a"}, {"event": x}]}) for x in "bc"
        )
        with store.reading() as cur:
            state = planner.copy_state(cur, 0.0)
        got = _counting(store, [tied, fine], state, [tied])
        assert [r.counts() for r in got] == [[2, 1], [2, 1]]
        assert [r.source for r in got] == ["log", "copy"]


def _sql_dfg(store: Store, spec: object, state: planner.CopyState) -> object:
    """The DFG as SQL over the copy (the map's DFG before the compiled pass took stages)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry.Analysis, "kernel_check", lambda self, store: None)
        return registry.run(store, spec, copy=state, names=False)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", MAPS)
def test_the_map_dfg_from_the_condition_codes_is_the_sql_dfg(demo: Store, name: str) -> None:
    """The map's DFG over its touchpoints (stages, one with `wait_hours`) from the funnels'
    condition codes and the compiled pass: the same graph as the SQL over the copy."""
    import importlib

    dfg_module = importlib.import_module("touchpath.analytics.discovery.dfg")
    doc = example(name)
    with demo.reading() as cur:
        state = planner.copy_state(cur, 0.0)
    for time_range in (TimeRange(), TimeRange(start=datetime(2026, 10, 5), end=datetime(2026, 10, 25))):  # fmt: skip
        spec = bind._dfg_spec(doc, time_range)
        with demo.reading() as cur:  # the compiled pass computes it
            assert dfg_module._staged(cur, spec, demo.memo) is not None
        got = registry.run(demo, spec, copy=state, names=False)
        sql = _sql_dfg(demo, spec, state)
        assert got.model_dump() == sql.model_dump()  # type: ignore[attr-defined]
        assert got.edges and got.source == "copy"  # type: ignore[attr-defined]


def test_staged_dfg_and_funnels_look_properties_up(tmp_path: Path) -> None:
    """Known answers: a stage and a funnel step on a property the copy does not hold, met by
    the one row of the named event whose property says so (and by no other event's row)."""
    from touchpath.analytics.discovery import DfgSpec, Stage
    from touchpath.analytics.testing import journeys_for
    from touchpath.events.match import EventMatch

    def at(minute: int) -> str:
        return f"2026-01-01T00:{minute:02d}:00"

    with Store(tmp_path / "t.duckdb") as store:
        journeys_for(store, {
            "p": [{"event": "a", "timestamp": at(0), "properties": {"wait": 10}},
                  {"event": "b", "timestamp": at(1), "properties": {"wait": 99}}],
            "q": [{"event": "a", "timestamp": at(0), "properties": {"wait": 30}},
                  {"event": "b", "timestamp": at(2)}, {"event": "b", "timestamp": at(3)}],
        })  # fmt: skip
        journey.optimize(store)
        assert warm.WARMUP.wait(600), warm.WARMUP.error
        with store.reading() as cur:
            state = planner.copy_state(cur, 0.0)
        fast = {"event": "a", "where": [{"property": "wait", "op": "lte", "value": 24}]}
        slow = {"event": "a", "where": [{"property": "wait", "op": "gt", "value": 24}]}
        specs = [
            FunnelSpec.model_validate({"steps": [step, {"event": "b"}]}) for step in (fast, slow)
        ]
        got = _counting(store, specs, state, [])
        assert [r.counts() for r in got] == [[1, 1], [1, 1]]
        assert [g.steps[1].time_from_previous.median_s for r in got for g in r.groups] == [60, 120]  # type: ignore[union-attr]
        spec = DfgSpec(
            stages=(
                Stage(name="fast", events=(EventMatch.model_validate(fast),)),
                Stage(name="slow", events=(EventMatch.model_validate(slow),)),
                Stage(name="b", events=("b",)),
            )
        )
        dfg = registry.run(store, spec, copy=state, names=False)
        edges = {(e.source, e.target): (e.cases, e.median_seconds) for e in dfg.edges}  # type: ignore[attr-defined]
        assert edges == {("fast", "b"): (1, 60.0), ("slow", "b"): (1, 120.0)}
        assert dfg.model_dump() == _sql_dfg(store, spec, state).model_dump()  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("audience", [None, "app"])
def test_map_feedback_in_one_call_is_the_two_calls(
    demo: Store, name: str, audience: str | None
) -> None:
    """The map's stages as groups of its touchpoints (`grouped_spec`, one call) give the rows
    the second call with the stage spec gave, and the touchpoint rows are unchanged."""
    from touchpath.analytics import api
    from touchpath.maps import feedback as fb

    doc = example(name)
    answers = 0
    for members in (True, False) if audience else (True,):
        by_tp, by_stage = (
            s.model_copy(update={"allow_unknown": True})
            for s in fb.feedback_specs(doc, TimeRange(), audience, members)
        )
        one = api.feedback(demo, fb.grouped_spec(doc, by_tp))
        tp, stage = api.feedback(demo, by_tp), api.feedback(demo, by_stage)
        assert one.model_dump(exclude={"groups"}) == tp.model_dump(exclude={"groups"})
        assert [r.model_dump() for r in one.groups] == [r.model_dump() for r in stage.stages]
        assert sum(r.responses for r in one.groups) == one.overall.responses
        answers += one.overall.responses
        mine = fb.map_feedback(demo, doc, TimeRange(), audience, members)
        two = fb.MapFeedback(doc, tp, stage)
        assert mine.touchpoints == two.touchpoints and mine.stages == two.stages
    assert answers > 0


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("audience", [None, "app"])
def test_the_tagged_pass_from_the_condition_codes_is_the_sql_pass(
    demo: Store, name: str, audience: str | None
) -> None:
    """The map's tagged pass (channel mix, population, contacts, errors, switches, shop to
    online) with the copy's rows tagged from the condition codes, by position, gives what
    the CASE over every row (and the join to the log for `wait_hours`) gave."""
    from touchpath.analytics.discovery import DFG
    from touchpath.maps import touches as t

    doc = example(name)
    for time_range in (TimeRange(), TimeRange(start=datetime(2026, 10, 5), end=datetime(2026, 10, 25))):  # fmt: skip
        copy = DFG.copy(bind._dfg_spec(doc, time_range))
        assert copy
        with demo.reading() as cur:
            assert t._row_tags(cur, doc, demo.memo) is not None  # the codes path runs
            coded = t.touches(cur, doc, time_range, copy, audience, 7, demo.memo)
            sql = t.touches(cur, doc, time_range, copy, audience, 7)
        assert coded == sql
        assert coded.channel_mix and coded.population
        if name == "demo-first-purchase" and audience is None:  # switches: members only
            assert coded.switches
