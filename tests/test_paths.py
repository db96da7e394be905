"""Paths: sessions, anchors, cleaning, exclusions, edge filters, paths after a funnel drop-off."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from typer.testing import CliRunner

from touchpath.analytics import api
from touchpath.analytics.paths import PathsResult
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.store import Store

T0 = datetime(2024, 3, 4, 9, 0, 0)


def pg(name: str, minutes: float) -> dict[str, object]:
    return {"name": name, "timestamp": (T0 + timedelta(minutes=minutes)).isoformat()}


def tr(name: str, minutes: float) -> dict[str, object]:
    return {"event": name, "timestamp": (T0 + timedelta(minutes=minutes)).isoformat()}


SHOP = {
    "a": [pg("Home", 0), pg("Product/1", 1), pg("Product/2", 2), tr("Order Completed", 3)],
    "b": [pg("Home", 0), pg("Product/3", 1), pg("Help", 2)],
    "c": [pg("Home", 0), pg("Help", 1), pg("Home", 50), pg("Product/1", 51)],
}
CLEAN = [{"pattern": "Product/*", "replacement": "Product"}]


def edges(result: PathsResult) -> list[tuple[str, str, int]]:
    return sorted((e.source, e.target, e.weight) for e in result.edges)


def test_paths_from_a_start_event_split_by_sessions_and_cleaned(store: Store) -> None:
    journeys_for(store, SHOP)
    r = api.paths(store, {"start": {"event": "Home"}, "steps": 3, "cleaning": CLEAN})
    # c has two sessions (49 minutes apart), so four paths start at Home.
    assert r.total == 4
    assert edges(r) == [
        ("1:Home", "2:Help", 1),
        ("1:Home", "2:Product", 3),
        ("2:Product", "3:Help", 1),
        ("2:Product", "3:Product", 1),
    ]
    assert {n.id: n.count for n in r.nodes}["2:Product"] == 3
    assert sorted(p.path for p in r.top_paths) == [
        ["Home", "Help"],
        ["Home", "Product"],
        ["Home", "Product", "Help"],
        ["Home", "Product", "Product"],
    ]


def test_longer_session_gap_joins_sessions_and_repeats_collapse(store: Store) -> None:
    journeys_for(store, SHOP)
    spec = {"start": {"event": "Home"}, "steps": 6, "cleaning": CLEAN, "session_gap": "1h"}
    assert api.paths(store, spec).total == 3
    collapsed = api.paths(store, {**spec, "collapse_repeats": True})
    assert ["Home", "Product", "Order Completed"] in [p.path for p in collapsed.top_paths]


def test_paths_to_an_end_event_exclusions_and_edge_filters(store: Store) -> None:
    journeys_for(store, SHOP)
    r = api.paths(store, {"end": {"event": "Help"}, "steps": 3, "cleaning": CLEAN})
    # Paths end at step 3; a path shorter than 3 events starts at a later step.
    assert edges(r) == [
        ("1:Home", "2:Product", 1),
        ("2:Home", "3:Help", 1),
        ("2:Product", "3:Help", 1),
    ]
    r = api.paths(
        store, {"start": {"event": "Home"}, "steps": 3, "cleaning": CLEAN, "exclude": ["Prod*"]}
    )
    assert ("1:Home", "2:Order Completed", 1) in edges(r)
    r = api.paths(
        store, {"start": {"event": "Home"}, "cleaning": CLEAN, "min_edge_weight": 2, "top_edges": 1}
    )
    assert edges(r) == [("1:Home", "2:Product", 3)]


def test_paths_after_dropping_off_a_funnel_step(store: Store) -> None:
    journeys_for(store, SHOP)
    funnel = {"steps": [{"event": "Home"}, {"event": "Order Completed"}], "window": "1d"}
    r = api.paths(store, {"after_dropoff": {"funnel": funnel, "step": 2}, "cleaning": CLEAN})
    # b and c never ordered: their paths start at their first Home.
    assert r.total == 2
    assert sorted(p.path for p in r.top_paths) == [["Home", "Help"], ["Home", "Product", "Help"]]


def test_rest_paths_and_bad_spec(server) -> None:  # type: ignore[no-untyped-def]
    journeys_for(server.store, SHOP)
    ok = httpx.post(
        f"{server.url}/api/analyses/paths", headers=server.auth, json={"start": {"event": "Home"}}
    )
    assert ok.status_code == 200 and ok.json()["total"] == 4
    bad = httpx.post(
        f"{server.url}/api/analyses/paths",
        headers=server.auth,
        json={"start": {"event": "Home"}, "end": {"event": "Help"}},
    )
    assert bad.status_code == 400
    assert "start and end: give only one anchor" in bad.json()["error"]["message"]


def test_cli_paths_table_and_json(store: Store) -> None:
    journeys_for(store, SHOP)
    db = str(store.path)
    store.close()
    out = CliRunner().invoke(app, ["paths", "--db", db, "--start", "Home", "--json"])
    assert out.exit_code == 0, out.output
    assert '"total": 4' in out.output
    out = CliRunner().invoke(app, ["paths", "--db", db, "--start", "Home", "--steps", "2"])
    assert out.exit_code == 0 and "Top paths" in out.output
