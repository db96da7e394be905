"""Discovery: DFG, variants, coverage, stage flow and conformance on declarative journeys."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from touchpath.analytics import journey
from touchpath.analytics.api import conformance, discover_dfg, discover_variants
from touchpath.analytics.api import discover_stage_flow as stage_flow
from touchpath.analytics.discovery import (
    ConformanceSpec,
    DfgSpec,
    Stage,
    VariantsSpec,
    can_use_sorted,
)
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.errors import SpecError
from touchpath.events.match import Condition, EventMatch, TimeRange
from touchpath.store import Store


def ev(name: str, at: str, **extra: object) -> dict[str, object]:
    return {"event": name, "timestamp": f"2026-03-01T{at}:00", **extra}


ABC = {
    "p1": [ev("A", "10:00"), ev("B", "10:05"), ev("C", "10:20"),
           {"type": "identify", "timestamp": "2026-03-01T10:30:00", "traits": {"plan": "x"}}],
    "p2": [ev("A", "10:00"), ev("B", "10:10"), ev("C", "11:10")],
    "p3": [ev("A", "10:00"), ev("C", "10:30")],
    "p4": [ev("B", "09:00"), ev("A", "09:01")],
}  # fmt: skip


def edges(result: object) -> dict[tuple[str, str], tuple[int, int, float, float]]:
    return {
        (e.source, e.target): (e.frequency, e.cases, e.median_seconds, e.p90_seconds)
        for e in result.edges  # type: ignore[attr-defined]
    }


def test_dfg_frequencies_and_transition_times(store: Store) -> None:
    journeys_for(store, ABC)
    result = discover_dfg(store, DfgSpec())
    assert result.cases == 4
    assert result.events == 10  # the identify call is not a journey step
    assert edges(result) == {
        ("A", "B"): (2, 2, 450.0, 570.0),  # 5 and 10 minutes
        ("B", "C"): (2, 2, 2250.0, 3330.0),  # 15 and 60 minutes
        ("A", "C"): (1, 1, 1800.0, 1800.0),
        ("B", "A"): (1, 1, 60.0, 60.0),
    }
    nodes = {n.activity: (n.frequency, n.cases, n.starts, n.ends) for n in result.nodes}
    assert nodes == {"A": (4, 4, 3, 1), "B": (3, 3, 1, 0), "C": (3, 3, 0, 3)}
    assert [e.source + e.target for e in result.edges][:2] == ["AB", "BC"]


def test_dfg_edge_filters_and_time_range(store: Store) -> None:
    journeys_for(store, ABC)
    assert set(edges(discover_dfg(store, DfgSpec(min_frequency=2)))) == {("A", "B"), ("B", "C")}
    assert set(edges(discover_dfg(store, DfgSpec(top_k=1)))) == {("A", "B")}
    early = DfgSpec(time_range=TimeRange(end=datetime(2026, 3, 1, 10, 6)))
    assert set(edges(discover_dfg(store, early))) == {("A", "B"), ("B", "A")}
    no_b = DfgSpec(exclude=("B",))
    assert edges(discover_dfg(store, no_b))[("A", "C")][0] == 3


def test_variants_with_share_and_coverage(store: Store) -> None:
    journeys_for(store, ABC)
    result = discover_variants(store, VariantsSpec())
    assert result.cases == 4 and result.distinct_variants == 3
    got = [(v.steps, v.cases, v.share, v.cumulative_share) for v in result.variants]
    assert got == [
        (["A", "B", "C"], 2, 0.5, 0.5),
        (["A", "C"], 1, 0.25, 0.75),
        (["B", "A"], 1, 0.25, 1.0),
    ]
    assert result.variants[0].median_duration_seconds == (1200 + 4200) / 2
    covered = discover_variants(store, VariantsSpec(coverage=0.5))
    assert [v.steps for v in covered.variants] == [["A", "B", "C"]]
    assert len(discover_variants(store, VariantsSpec(coverage=0.6)).variants) == 2
    # coverage filtering of the DFG keeps only the cases of the top variants
    dfg = discover_dfg(store, DfgSpec(coverage=0.5))
    assert dfg.cases == 2
    assert edges(dfg) == {("A", "B"): (2, 2, 450.0, 570.0), ("B", "C"): (2, 2, 2250.0, 3330.0)}


def test_sessions_split_after_inactivity(store: Store) -> None:
    journeys_for(store, {"s": [ev("A", "10:00"), ev("B", "10:10"), ev("C", "12:00")]})
    assert set(edges(discover_dfg(store, DfgSpec(case="session")))) == {("A", "B")}
    assert discover_dfg(store, DfgSpec(case="session")).cases == 2
    wide = DfgSpec(case="session", session_gap_minutes=200)
    assert set(edges(discover_dfg(store, wide))) == {("A", "B"), ("B", "C")}


STAGES = (
    Stage(name="awareness", events=(EventMatch(event="Home", type="page"), "Product Viewed")),
    Stage(name="decision", events=("Checkout Started",)),
    Stage(name="purchase", events=("Order Completed",)),
)

STAGED = {
    "q1": [{"name": "Home", "timestamp": "2026-03-01T10:00:00"}, ev("Product Viewed", "10:01"),
           ev("Checkout Started", "10:02"), ev("Order Completed", "10:03")],
    "q2": [ev("Product Viewed", "10:00"), ev("Checkout Started", "10:01"),
           ev("Product Viewed", "10:02"), ev("Checkout Started", "10:03")],
    "q3": [ev("Checkout Started", "10:00"), ev("Order Completed", "10:05")],
    "q4": [{"name": "Home", "timestamp": "2026-03-01T10:00:00"}, ev("Order Completed", "11:00")],
    "q5": [ev("Ticket Created", "10:00")],
}  # fmt: skip


def test_stage_flow_collapses_repeats_and_drops_unmapped_events(store: Store) -> None:
    journeys_for(store, STAGED)
    result = stage_flow(store, DfgSpec(stages=STAGES))
    assert result.cases == 4  # q5 has no mapped event
    got = {k: v[:2] for k, v in edges(result).items()}
    assert got == {
        ("awareness", "decision"): (3, 2),
        ("decision", "purchase"): (2, 2),
        ("decision", "awareness"): (1, 1),
        ("awareness", "purchase"): (1, 1),
    }
    with pytest.raises(SpecError, match="stages"):
        stage_flow(store, DfgSpec())


def test_conformance_share_and_deviations(store: Store) -> None:
    journeys_for(store, STAGED)
    lenient = conformance(store, ConformanceSpec(stages=STAGES))
    assert (lenient.cases, lenient.conforming, lenient.share_conforming) == (4, 3, 0.75)
    assert [(d.kind, d.from_stage, d.to_stage, d.cases, d.share) for d in lenient.deviations] == [
        ("backward", "decision", "awareness", 1, 0.25)
    ]
    assert [(s.stage, s.cases) for s in lenient.stages] == [
        ("awareness", 3), ("decision", 3), ("purchase", 3),
    ]  # fmt: skip
    strict = conformance(
        store, ConformanceSpec(stages=STAGES, allow_skips=False, require_start=True)
    )
    assert (strict.conforming, strict.share_conforming) == (1, 0.25)
    assert sorted((d.kind, d.from_stage, d.to_stage) for d in strict.deviations) == [
        ("backward", "decision", "awareness"),
        ("late_start", None, "decision"),
        ("skip", "awareness", "purchase"),
    ]


def test_specs_are_validated() -> None:
    with pytest.raises(ValidationError, match="at least 2 stages"):
        ConformanceSpec(stages=STAGES[:1])
    with pytest.raises(ValidationError, match="unique"):
        DfgSpec(stages=(STAGES[0], STAGES[0]))
    with pytest.raises(ValidationError):
        DfgSpec(coverage=1.5)
    with pytest.raises(ValidationError):
        DfgSpec.model_validate({"kind": "dfg", "bogus": 1})
    assert DfgSpec.model_validate_json(DfgSpec(stages=STAGES).model_dump_json()).stages == STAGES


def test_rest_and_cli(server: Any, tmp_path: Path) -> None:
    journeys_for(server.store, STAGED)
    stages = [{"name": s.name, "events": [e if isinstance(e, str) else e.model_dump()
                                          for e in s.events]} for s in STAGES]  # fmt: skip
    r = httpx.post(
        f"{server.url}/api/analyses/conformance", headers=server.auth, json={"stages": stages}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["cases"], r.json()["conforming"]) == (4, 3)
    r = httpx.post(
        f"{server.url}/api/analyses/dfg", headers=server.auth, json={"stages": stages, "top_k": 1}
    )
    assert r.json()["edges"] == [
        {"source": "awareness", "target": "decision", "frequency": 3, "cases": 2,
         "median_seconds": 60.0, "p90_seconds": 108.0},  # 120 s (from Home), 60 s, 60 s
    ]  # fmt: skip
    r = httpx.post(f"{server.url}/api/analyses/variants", headers=server.auth, json={"limit": 1})
    assert r.json()["variants"][0]["cases"] == 1 and r.json()["cases"] == 5
    bad = httpx.post(f"{server.url}/api/analyses/dfg", headers=server.auth, json={"coverage": 2})
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("coverage:")
    bad = httpx.post(
        f"{server.url}/api/analyses/conformance", headers=server.auth, json={"stages": stages[:1]}
    )
    assert bad.status_code == 400 and "at least 2 stages" in bad.json()["error"]["message"]

    db = ["--db", str(server.store.path)]
    out = CliRunner().invoke(
        app, ["conformance", *db, "--stage", "awareness=Home,Product Viewed",
              "--stage", "decision=Checkout Started", "--stage", "purchase=Order Completed",
              "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["share_conforming"] == 0.75
    spec = tmp_path / "dfg.yaml"
    spec.write_text("include: [Checkout Started, Order Completed]\n")
    out = CliRunner().invoke(app, ["dfg", *db, "--spec", str(spec)])
    assert out.exit_code == 0, out.output
    assert "Checkout Started" in out.output and "Order Completed" in out.output
    assert "Product Viewed" not in out.output
    out = CliRunner().invoke(app, ["variants", *db, "--limit", "2"])
    assert out.exit_code == 0 and "Variants" in out.output
    out = CliRunner().invoke(app, ["dfg", *db, "--stage", "oops"])
    assert out.exit_code != 0


@pytest.mark.parametrize(
    "spec",
    [
        DfgSpec(),
        DfgSpec(stages=STAGES),
        DfgSpec(exclude=("Product Viewed",), time_range=TimeRange(end=datetime(2026, 3, 1, 10, 3))),
        DfgSpec(stages=STAGES, collapse_repeats=False, top_k=2),
    ],
    ids=["events", "stages", "filters", "stages-uncollapsed"],
)
def test_sorted_journey_copy_gives_the_same_dfg(store: Store, spec: DfgSpec) -> None:
    journeys_for(store, {**ABC, **STAGED})
    assert can_use_sorted(spec)
    before = discover_dfg(store, spec)
    journey.optimize(store)
    with store.reading() as cur:
        assert journey.is_fresh(cur)
    assert discover_dfg(store, spec) == before
    assert can_use_sorted(DfgSpec(case="session"))  # cut into sessions in stored order
    assert not can_use_sorted(DfgSpec(audience="vip"))
    assert not can_use_sorted(
        DfgSpec(include=(EventMatch(event="A", where=(Condition(property="x", value=1),)),))
    )


def test_sorted_journey_copy_gives_the_same_conformance(store: Store) -> None:
    journeys_for(store, {**ABC, **STAGED})
    specs = [
        ConformanceSpec(stages=STAGES),
        ConformanceSpec(stages=STAGES, allow_skips=False, require_start=True),
    ]
    before = [conformance(store, s) for s in specs]
    journey.optimize(store)
    assert [conformance(store, s) for s in specs] == before
