"""Many funnels in one pass over the sorted copy (touchpath.analytics.funnels.many) give what
each funnel gives run one by one through the registry, on a real demo store: every funnel of
the demo's maps, with and without a persona audience, and the bound maps themselves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from touchpath.analytics import journey, kernels, planner, registry
from touchpath.analytics.breakdown import Breakdown
from touchpath.analytics.funnels import FunnelResult, FunnelSpec, many
from touchpath.analytics.kernels import warm
from touchpath.events.match import TimeRange
from touchpath.events.message import stage_messages
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
    from touchpath.demo import DemoBusiness, DemoConfig

    path = tmp_path_factory.mktemp("many") / "demo.duckdb"
    with Touchpath.open(db=path) as tp:
        now = datetime.now(UTC).replace(tzinfo=None)
        source = tp.store.create_source("demo").id
        for batch in DemoBusiness(DemoConfig(customers=200, days=40, seed=4)).batches(2000):
            raws = [orjson.dumps(m) for m in batch]
            tp.store.ingest(stage_messages(raws, source=source, received_at=now)).result()
        tp.store.wait_idle(120)
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
        alone = [s for s in specs if not many.batchable(s)]
        assert len(alone) <= 2  # the two on `wait_hours`, which the copy does not hold
        batched = _counting(demo, specs, state, alone)
        assert [r.model_dump() for r in batched] == [
            r.model_dump()
            for r in _one_by_one(demo, specs, state)  # type: ignore[attr-defined]
        ]
    assert any(g.steps[0].count for r in batched for g in r.groups)  # not all empty


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
