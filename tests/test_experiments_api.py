"""Experiments over REST (a real server on 127.0.0.1) and the CLI, on a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Server
from tests.test_experiments_log import _planted
from typer.testing import CliRunner

from touchpath.cli import app
from touchpath.store import Store

SPEC = {
    "experiment_id": "journey:abandoned-cart:split_1",
    "control": "holdout",
    "primary": {"name": "orders", "event": {"event": "Order Completed"}, "window": "7d"},
    "guardrails": [
        {
            "name": "revenue",
            "kind": "sum",
            "property": "revenue",
            "event": {"event": "Order Completed"},
        },
    ],
}


def test_rest_save_read_and_errors(server: Server) -> None:
    _planted(server.store, 1200, {"holdout": 0.15, "sms": 0.3}, seed=2)
    with server.client() as c:
        r = c.put("/api/experiments/cart-sms", json={"description": "SMS reminder", "spec": SPEC})
        assert r.status_code == 200, r.text
        assert r.json()["spec"]["experiment_id"] == SPEC["experiment_id"]
        assert [e["name"] for e in c.get("/api/experiments").json()] == ["cart-sms"]
        res = c.get("/api/experiments/cart-sms/results").json()
        assert res["verdict"] == "winner" and res["winner"] == "sms"
        assert res["exposures"] == {"holdout": 600, "sms": 600}
        assert [m["name"] for m in res["metrics"]] == ["orders", "revenue"]
        assert res["series"][-1]["lift_ci"] is not None
        same = c.post("/api/analyses/experiment", json=SPEC).json()
        assert same["metrics"] == res["metrics"]

        bad = {**SPEC, "primary": {"name": "orders", "event": {"event": " "}}}
        r = c.put("/api/experiments/cart-sms", json={"spec": bad})
        assert r.status_code == 400
        assert r.json()["error"]["message"] == "spec.primary.event.event: must not be blank"
        r = c.post("/api/analyses/experiment", json={**SPEC, "control": "nobody"})
        assert r.status_code == 400 and "control: 'nobody' is not an arm" in r.text
        r = c.get("/api/experiments/cart-smz/results")
        assert r.status_code == 404 and "saved: cart-sms" in r.text
        r = c.put("/api/experiments/Cart SMS", json={"spec": SPEC})
        assert r.status_code == 400 and "lower-case" in r.text

        size = c.post(
            "/api/experiments/sample-size", json={"baseline": 0.1, "mde": 0.1, "per_day": 2000}
        ).json()
        assert size == {
            "per_arm": 14749,
            "per_arm_sequential": size["per_arm_sequential"],
            "days": 15,
            "days_sequential": size["days_sequential"],
        }
        r = c.post("/api/experiments/sample-size", json={"baseline": 2, "mde": 0.1})
        assert r.status_code == 400 and "baseline" in r.text

        r = c.post("/api/experiments/cart-sms/audiences")
        assert r.json() == [
            {"arm": "holdout", "audience": "experiment cart-sms holdout", "size": 600},
            {"arm": "sms", "audience": "experiment cart-sms sms", "size": 600},
        ]
        with server.client("viewer") as v:  # a viewer reads results but changes nothing
            assert v.get("/api/experiments/cart-sms/results").status_code == 200
            assert v.put("/api/experiments/x", json={"spec": SPEC}).status_code == 403
            assert v.post("/api/experiments/cart-sms/audiences").status_code == 403
        assert c.delete("/api/experiments/cart-sms").status_code == 204
        assert c.get("/api/experiments/cart-sms").status_code == 404


def test_cli_save_results_and_typos(tmp_path: Path) -> None:
    db = tmp_path / "touchpath.duckdb"
    with Store(db) as store:
        _planted(store, 1200, {"holdout": 0.15, "sms": 0.3}, seed=2)
    run = CliRunner().invoke
    r = run(
        app,
        [
            "experiments",
            "save",
            "cart-sms",
            "--db",
            str(db),
            "--experiment-id",
            SPEC["experiment_id"],
            "--goal",
            "Order Completed",
            "--control",
            "holdout",
        ],
    )
    assert r.exit_code == 0, r.output
    r = run(app, ["experiments", "results", "cart-sms", "--db", str(db)], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "winner: sms beats holdout on Order Completed" in r.output
    r = run(
        app, ["experiments", "results", "cart-sms", "--db", str(db), "--daily"], terminal_width=200
    )
    assert "lift with everyone exposed so far" in r.output and "2026-03-15" in r.output
    r = run(app, ["experiments", "results", "cart-sms", "--db", str(db), "--json"])
    assert '"verdict": "winner"' in r.output
    r = run(app, ["experiments", "list", "--db", str(db)])
    assert "cart-sms" in r.output
    r = run(app, ["experiments", "show", "cart-sms", "--db", str(db)])
    assert "experiment_id: journey:abandoned-cart:split_1" in r.output
    spec = tmp_path / "experiment.yaml"
    spec.write_text(r.output)
    r = run(app, ["experiments", "results", "--spec", str(spec), "--db", str(db), "--json"])
    assert '"winner": "sms"' in r.output
    spec.write_text("experiment_id: x\nprimary: {name: a, event: {event: ''}}\n")
    r = run(app, ["experiments", "results", "--spec", str(spec), "--db", str(db)])
    assert "primary.event.event: must not be blank" in str(r.exception)
    r = run(
        app,
        ["experiments", "sample-size", "--baseline", "0.1", "--mde", "0.1", "--per-day", "2000"],
        terminal_width=200,
    )
    assert "14,749 people per arm" in r.output and "15 days" in r.output
    r = run(app, ["experiments", "audiences", "cart-sms", "--db", str(db)], terminal_width=200)
    assert "audience experiment cart-sms sms: 600 people" in r.output, r.output
    with Store(db) as store:
        members = store.query(
            "SELECT audience, count(*) FROM audience_members GROUP BY 1 ORDER BY 1"
        )
        assert members == [("experiment cart-sms holdout", 600), ("experiment cart-sms sms", 600)]
        (entered,) = store.query("SELECT count(*) FROM events WHERE event = 'Audience Entered'")[0]
        assert entered == 1200
    r = run(app, ["experiments", "results", "cart-smz", "--db", str(db)])
    assert r.exit_code != 0
    assert "experiment 'cart-smz': not found (saved: cart-sms)" in str(r.exception)
    r = run(app, ["experiments", "delete", "cart-sms", "--db", str(db)])
    assert r.exit_code == 0
