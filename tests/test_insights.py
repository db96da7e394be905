"""Saved insights and dashboards from Python, REST (a real server on 127.0.0.1) and the CLI (on
the file, and beside a server holding it), on a real DuckDB file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import Server
from tests.test_cli_remote import held as held
from typer.testing import CliRunner

from touchpath import insights
from touchpath.analytics import registry
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.errors import NotFound, SpecError
from touchpath.store import Store

T = "2026-03-0{}T10:00:00"
SHOP = {  # 4 view, 3 add to cart, 2 order: the funnel below converts 2 of 4
    "ann": [{"event": "Product Viewed", "timestamp": T.format(1)},
            {"event": "Product Added", "timestamp": T.format(2)},
            {"event": "Order Completed", "timestamp": T.format(3)}],
    "bob": [{"event": "Product Viewed", "timestamp": T.format(1)},
            {"event": "Product Added", "timestamp": T.format(2)},
            {"event": "Order Completed", "timestamp": T.format(4)}],
    "cat": [{"event": "Product Viewed", "timestamp": T.format(1)},
            {"event": "Product Added", "timestamp": T.format(2)}],
    "dan": [{"event": "Product Viewed", "timestamp": T.format(1)}],
}  # fmt: skip
FUNNEL = {
    "kind": "funnel",
    "steps": [
        {"event": "Product Viewed"},
        {"event": "Product Added"},
        {"event": "Order Completed"},
    ],
    "window": "7d",
}
PATHS = {"kind": "paths", "start": {"event": "Product Viewed"}, "steps": 3}


def test_python_save_run_and_dashboards(store: Store) -> None:
    journeys_for(store, SHOP)
    saved = insights.save_insight(store, "Checkout, all channels", FUNNEL, "view to order")
    assert saved.spec == {**FUNNEL, "window": 7 * 86400}  # durations in seconds, defaults left out
    result = insights.run_insight(store, "Checkout, all channels")
    assert result == registry.run(store, FUNNEL)
    assert [s.count for s in result.groups[0].steps] == [4, 3, 2]  # type: ignore[attr-defined]

    again = insights.save_insight(store, "Checkout, all channels", {**FUNNEL, "window": "1d"})
    assert again.created_at == saved.created_at and again.description == ""
    insights.save_insight(store, "from views", PATHS)
    assert [i.name for i in insights.list_insights(store)] == [
        "from views",
        "Checkout, all channels",
    ]
    assert [i.name for i in insights.list_insights(store, "paths")] == ["from views"]

    board = insights.add_to_dashboard(store, "Weekly", "from views")  # made on first add
    board = insights.add_to_dashboard(store, "Weekly", "Checkout, all channels")
    board = insights.add_to_dashboard(store, "Weekly", "from views")  # already there: kept once
    assert [i.name for i in board.insights] == ["from views", "Checkout, all channels"]
    assert board.insights[1].spec["window"] == 86400
    board = insights.save_dashboard(store, "Weekly", ["Checkout, all channels"], "for Monday")
    assert [i.name for i in board.insights] == ["Checkout, all channels"]
    assert board.description == "for Monday"
    insights.add_to_dashboard(store, "Weekly", "from views")
    assert insights.get_dashboard(store, "Weekly").description == "for Monday"  # kept

    assert insights.delete_insight(store, "from views") == ["Weekly"]
    assert [i.name for i in insights.get_dashboard(store, "Weekly").insights] == [
        "Checkout, all channels"
    ]
    board = insights.remove_from_dashboard(store, "Weekly", "Checkout, all channels")
    assert board.insights == [] and insights.list_insights(store)  # the insight stays
    insights.delete_dashboard(store, "Weekly")
    assert insights.list_dashboards(store) == []


def test_python_errors_say_what_and_where(store: Store) -> None:
    with pytest.raises(SpecError) as bad:
        insights.save_insight(store, "x", {**FUNNEL, "steps": [{"event": "A"}, {"event": " "}]})
    assert str(bad.value) == "spec.steps[1].event: must not be blank"
    with pytest.raises(SpecError, match="kind: unknown analysis 'funel'; did you mean 'funnel'"):
        insights.save_insight(store, "x", {**FUNNEL, "kind": "funel"})
    with pytest.raises(SpecError, match="name: 'a/b': must not contain '/'"):
        insights.save_insight(store, "a/b", FUNNEL)
    with pytest.raises(SpecError, match="name: ' ': must not be blank"):
        insights.save_insight(store, " ", FUNNEL)
    insights.save_insight(store, "checkout", FUNNEL)
    with pytest.raises(NotFound, match=r"insight 'checkuot': not found \(saved: checkout\)"):
        insights.run_insight(store, "checkuot")
    with pytest.raises(SpecError, match=r"insights\[1\]: no saved insight 'nope'"):
        insights.save_dashboard(store, "board", ["checkout", "nope"])
    with pytest.raises(NotFound, match="dashboard 'board': not found"):
        insights.get_dashboard(store, "board")
    insights.add_to_dashboard(store, "board", "checkout")
    with pytest.raises(NotFound, match=r"has no insight .paths. \(it has: checkout\)"):
        insights.remove_from_dashboard(store, "board", "paths")


def test_rest_viewer_reads_editor_writes(server: Server) -> None:
    journeys_for(server.store, SHOP)
    with server.client("editor") as c:
        r = c.put("/api/insights/Checkout funnel", json={"spec": FUNNEL, "description": "d"})
        assert r.status_code == 200, r.text
        assert r.json()["spec"]["kind"] == "funnel" and r.json()["description"] == "d"
        got = c.get("/api/insights/Checkout funnel/result").json()
        want = c.post("/api/analyses/funnel", json=FUNNEL).json()
        assert got["groups"] == want["groups"] and got["source"] == want["source"]
        assert c.put("/api/insights/views", json={"spec": PATHS}).status_code == 200
        assert [i["name"] for i in c.get("/api/insights").json()] == ["views", "Checkout funnel"]
        assert [i["name"] for i in c.get("/api/insights?kind=paths").json()] == ["views"]

        bad = {"spec": {**FUNNEL, "steps": [{"event": "A"}, {"event": ""}]}}
        r = c.put("/api/insights/x", json=bad)
        assert r.status_code == 400
        assert r.json()["error"]["problems"][0]["path"] == "spec.steps[1].event"
        r = c.put("/api/insights/x", json={"spec": {"steps": FUNNEL["steps"]}})  # no kind
        assert r.status_code == 400 and "spec" in r.json()["error"]["message"]
        r = c.get("/api/insights/nope/result")
        assert r.status_code == 404 and "saved: Checkout funnel, views" in r.text

        r = c.post("/api/dashboards/Monday/insights", json={"insight": "views"})
        assert [i["name"] for i in r.json()["insights"]] == ["views"]
        r = c.put(
            "/api/dashboards/Monday",
            json={"insights": ["Checkout funnel", "views"], "description": "weekly"},
        )
        assert r.status_code == 200 and r.json()["description"] == "weekly"
        board = c.get("/api/dashboards/Monday").json()
        assert [i["spec"]["kind"] for i in board["insights"]] == ["funnel", "paths"]
        r = c.put("/api/dashboards/Monday", json={"insights": ["nope"]})
        assert r.status_code == 400 and "insights[0]: no saved insight 'nope'" in r.text
        with server.client("viewer") as v:
            assert v.get("/api/dashboards").json()[0]["name"] == "Monday"
            assert v.get("/api/insights/views/result").status_code == 200
            assert v.put("/api/insights/x", json={"spec": PATHS}).status_code == 403
            assert (
                v.post("/api/dashboards/x/insights", json={"insight": "views"}).status_code == 403
            )
            assert v.delete("/api/insights/views").status_code == 403
        r = c.delete("/api/dashboards/Monday/insights/views")
        assert [i["name"] for i in r.json()["insights"]] == ["Checkout funnel"]
        assert c.delete("/api/insights/Checkout funnel").json() == {"removed_from": ["Monday"]}
        assert c.get("/api/dashboards/Monday").json()["insights"] == []
        assert c.delete("/api/dashboards/Monday").status_code == 204
        assert c.get("/api/dashboards/Monday").status_code == 404


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_cli_on_the_file(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    with Store(db) as store:
        journeys_for(store, SHOP)
    spec = tmp_path / "checkout.yaml"
    spec.write_text(yaml.safe_dump({k: v for k, v in FUNNEL.items() if k != "kind"}))
    with pytest.raises(SpecError, match=r"--kind: required, .* names no kind \(one of funnel"):
        _cli("insights", "save", "checkout", "--spec", str(spec), "--db", str(db))
    out = _cli("insights", "save", "checkout", "--spec", str(spec), "--kind", "funnel",
               "--description", "view to order", "--db", str(db))  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "saved insight checkout (funnel)" in out.output
    out = _cli("insights", "run", "checkout", "--db", str(db))
    assert "4 entered Product Viewed, 2 reached Order Completed (50.0%)" in out.output
    shown = yaml.safe_load(_cli("insights", "show", "checkout", "--db", str(db)).output)
    assert shown["steps"][2] == {"event": "Order Completed"} and shown["window"] == 7 * 86400
    assert "view to order" in _cli("insights", "list", "--db", str(db)).output
    out = _cli("dashboards", "add", "Monday", "checkout", "--db", str(db))
    assert "dashboard Monday: checkout" in out.output
    with pytest.raises(SpecError, match=r"insights\[0\]: no saved insight 'checkuot'"):
        _cli("dashboards", "add", "Monday", "checkuot", "--db", str(db))
    out = _cli("dashboards", "show", "Monday", "--db", str(db))
    assert "checkout (funnel): 4 entered Product Viewed" in out.output
    out = _cli("insights", "delete", "checkout", "--db", str(db))
    assert "deleted insight checkout; taken off Monday" in out.output
    assert "no insight yet" in _cli("dashboards", "show", "Monday", "--db", str(db)).output


def test_cli_beside_a_server(
    held: tuple[Path, str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, _url, token = held
    monkeypatch.setenv("TOUCHPATH_TOKEN", token)
    spec = tmp_path / "paths.json"
    spec.write_text('{"kind": "paths", "steps": 3}')
    out = _cli("insights", "save", "all paths", "--spec", str(spec), "--db", str(db))
    assert out.exit_code == 0, out.output
    out = _cli("dashboards", "add", "Board", "all paths", "--db", str(db))
    assert "dashboard Board: all paths" in out.output
    out = _cli("dashboards", "show", "Board", "--db", str(db))
    assert "all paths (paths): 0 journeys" in out.output
    assert "Board" in _cli("dashboards", "list", "--db", str(db)).output
    out = _cli("dashboards", "delete", "Board", "--db", str(db))
    assert "deleted dashboard Board" in out.output
