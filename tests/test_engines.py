"""The query is engine-independent: every analysis of the runtime rendered for ClickHouse and run
on chdb (ClickHouse's engine in-process) gives DuckDB's numbers, on random journeys (hypothesis)
and on BPIC 2012. This is the seam a store that outgrows one machine stands on."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpath.analytics import registry
from touchpath.analytics.engines import Chdb
from touchpath.analytics.testing import journeys_for
from touchpath.collect.importers import import_file
from touchpath.store import Store

T0 = datetime(2026, 1, 5, 9, 0)
NAMES = ["a", "b", "c"]
CHANNELS = ["email", "paid_search", "direct"]

SPECS: list[dict[str, Any]] = [
    *(
        {"kind": "funnel", "steps": [{"event": "a"}, {"event": "b"}, {"event": "c"}],
         "window": "1h", "order": order}
        for order in ("ordered", "strict", "any")
    ),
    {"kind": "funnel", "steps": [{"event": "a"}, {"event": "a"}, {"event": "c"}], "window": "2h",
     "max_step_gap": "40m", "breakdown": {"by": "channel"}, "trend": "day", "dropped_at": 2},
    {"kind": "retention", "cohort_event": {"event": "a"}, "return_event": {"event": "c"},
     "period": "day", "periods": 4},
    {"kind": "retention", "cohort_event": {"event": "b"}, "period": "day", "periods": 3,
     "mode": "on_or_after", "cohort_type": "recurring"},
    {"kind": "paths", "start": {"event": "a"}, "steps": 4, "session_gap": "30m"},
    {"kind": "paths", "end": {"event": "c"}, "steps": 3},
    {"kind": "dfg"},
    {"kind": "attribution", "conversion": {"event": "c"}, "revenue_property": None,
     "lookback": "1d", "half_life": "2h"},
]  # fmt: skip


def same(a: Any, b: Any, where: str = "") -> None:
    """Equal results, floats to 1e-9 relative (the engines sum in their own order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None, (where, a, b)
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (where, a, b)
    else:
        assert a == b, (where, a, b)


def check(store: Store, engine: Chdb, spec: dict[str, Any]) -> None:
    spec = {**spec, "allow_unknown": True}  # random journeys may lack a named event
    duck = registry.run(store, spec)
    click = registry.run(store, spec, engine=engine)
    assert (duck.source, click.source) == ("log", "engine")
    same(duck.model_dump(mode="json", exclude={"source"}),
         click.model_dump(mode="json", exclude={"source"}), spec["kind"])  # fmt: skip


@pytest.fixture(scope="module")
def engine() -> Iterator[Chdb]:
    with Chdb() as e:
        yield e


events = st.lists(
    st.tuples(st.sampled_from(NAMES), st.integers(0, 60 * 72), st.sampled_from(CHANNELS)),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(journeys=st.dictionaries(st.sampled_from([f"p{i}" for i in range(8)]), events, min_size=1))
def test_every_kind_equals_duckdb_on_random_journeys(
    tmp_path_factory: pytest.TempPathFactory, engine: Chdb, journeys: dict[str, Any]
) -> None:
    with Store(tmp_path_factory.mktemp("e") / "t.duckdb") as store:
        journeys_for(store, {
            p: [{"event": n, "timestamp": T0 + timedelta(minutes=m), "channel": c}
                for n, m, c in evs]
            for p, evs in journeys.items()
        })  # fmt: skip
        with store.reading() as cur:
            engine.load(cur)
        for spec in SPECS:
            check(store, engine, spec)


BPIC = [
    {"kind": "funnel", "steps": [{"event": e} for e in (
        "A_SUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "O_SENT", "A_APPROVED")],
     "window": "30d", "order": order}
    for order in ("ordered", "strict", "any")
] + [
    {"kind": "retention", "cohort_event": {"event": "A_SUBMITTED"},
     "return_event": {"event": "W_Completeren aanvraag"}, "period": "week", "periods": 6},
    {"kind": "paths", "start": {"event": "A_SUBMITTED"}, "steps": 5},
    {"kind": "dfg"},
    {"kind": "attribution", "conversion": {"event": "A_APPROVED"}, "by": "touchpoint",
     "touch": "event", "revenue_property": None, "lookback": "30d",
     "models": ["first_touch", "last_touch", "linear", "time_decay", "position_based"]},
]  # fmt: skip


@pytest.mark.slow
def test_bpic2012_on_clickhouse_equals_duckdb(tmp_path: Path, data_dir: Path, engine: Chdb) -> None:
    with Store(tmp_path / "bpic.duckdb") as store:
        report = import_file(
            store, data_dir / "bpic2012-loan-applications" / "bpic2012_events.csv.gz"
        )
        assert report.imported == 262_200
        with store.reading() as cur:
            assert engine.load(cur) == 262_200
        for spec in BPIC:
            check(store, engine, spec)
