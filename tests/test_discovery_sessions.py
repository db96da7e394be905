"""Process discovery per visit (`case: session`) on the sorted journey copy gives exactly what
the event log gives, on the demo business with identity resolution (anonymous visits joined to
their customer): the graph, the variants and conformance, read once from the log and once from
the copy, with the DFG's compiled pass and its SQL both. A person with gaps at and just past the
session gap checks the boundary (a gap equal to it does not start a visit)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from touchpath.analytics import journey, kernels, registry
from touchpath.analytics.kernels import warm
from touchpath.analytics.planner import Plan
from touchpath.analytics.registry import Read
from touchpath.analytics.testing import journeys_for
from touchpath.events.message import stage_messages
from touchpath.store import Store, utcnow

pytestmark = pytest.mark.slow

T0 = datetime(2026, 3, 2, 9, 0, 0)
GAP = 1800
EDGE = [  # gaps 0, GAP (same visit), GAP + 1 µs (a new one), 10 s, GAP (same), then a day
    ("Edge A", 0), ("Edge A", 0), ("Edge B", GAP), ("Edge C", GAP + 1e-6), ("Edge D", 10),
    ("Edge E", GAP), ("Edge A", 86_400),
]  # fmt: skip
STAGES = [
    {"name": "browse", "events": ["Home", "Category", "Product Viewed"]},
    {"name": "buy", "events": ["Cart", "Checkout Started", "Order Completed"]},
]
SPECS: list[dict[str, Any]] = [
    {"kind": "dfg", "case": "session", "top_k": 25},  # the web page's graph
    {"kind": "variants", "case": "session", "limit": 15},  # and its variants
    {"kind": "dfg", "case": "session", "collapse_repeats": True, "exclude": ["Email Delivered"]},
    {"kind": "dfg", "case": "session", "stages": STAGES, "session_gap": 600},
    {"kind": "variants", "case": "session", "stages": STAGES, "limit": 200, "coverage": 0.9},
    {"kind": "variants", "case": "session", "collapse_repeats": True, "limit": 10_000,
     "time_range": {"start": "2026-01-15T00:00:00"}},
    {"kind": "conformance", "case": "session", "stages": STAGES},
]  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from touchpath.demo import DemoBusiness, DemoConfig
    from touchpath.system import Touchpath

    business = DemoBusiness(DemoConfig(customers=400, seed=11))
    with Touchpath.open(db=tmp_path_factory.mktemp("visits") / "demo.duckdb") as tp:
        raws = [orjson.dumps(m) for batch in business.batches(500) for m in batch]
        tp.store.ingest(stage_messages(raws, source="demo", received_at=utcnow())).result()
        tp.store.wait_idle(120)
        t = T0
        edge = []
        for name, after in EDGE:
            t += timedelta(seconds=after)
            edge.append({"event": name, "timestamp": t.isoformat()})
        journeys_for(tp.store, {"edge": edge})
        yield tp.store


def by(store: Store, spec: dict[str, Any], plan: Plan) -> Any:
    parsed = registry.parse(spec)
    with store.reading() as cur:
        return registry.get(parsed.kind).run(Read(cur, plan, store.settings, store.memo), parsed)


def test_visits_on_the_copy_equal_the_log(demo: Store) -> None:
    logged = [registry.run(demo, s) for s in SPECS]
    assert {r.source for r in logged} == {"log"}  # no copy yet
    people = registry.run(demo, {"kind": "dfg", "top_k": 1})
    assert logged[0].cases > 2 * people.cases  # the demo's people come back: many visits each
    journey.optimize(demo)
    for spec, before in zip(SPECS, logged, strict=True):
        after = registry.run(demo, spec)
        assert after.source == "copy", spec
        assert after == before, spec
    if kernels.available():  # the DFG's compiled pass and its SQL over the copy
        assert warm.WARMUP.wait(600), warm.WARMUP.error
        for spec, before in zip(SPECS, logged, strict=True):
            if spec["kind"] == "dfg" and "stages" not in spec:
                assert by(demo, spec, Plan("copy", kernel=True)) == before, spec
                assert by(demo, spec, Plan("copy", kernel=False)) == before, spec


def test_the_gap_boundary(demo: Store) -> None:
    """The edge person's visits: a gap of exactly the session gap stays in the visit."""
    journey.optimize(demo)
    spec = {"kind": "variants", "case": "session", "include": sorted({n for n, _ in EDGE})}
    want = [["Edge A"], ["Edge A", "Edge A", "Edge B"], ["Edge C", "Edge D", "Edge E"]]
    for plan in (Plan("log"), Plan("copy")):
        assert sorted(v.steps for v in by(demo, spec, plan).variants) == want, plan
