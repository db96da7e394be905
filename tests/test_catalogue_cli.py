"""The catalogue and did-you-mean from the command line and the REST API, on a small demo store:
the README's tour commands with typos fail with a readable message and a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from tests.conftest import Server

from touchpath.demo import DemoBusiness, DemoConfig
from touchpath.events.message import stage_messages
from touchpath.store import Store, utcnow
from touchpath.system import Touchpath


def _fill(store: Store) -> None:
    src = store.create_source("demo")
    business = DemoBusiness(DemoConfig(customers=40, days=10, seed=3))
    for batch in business.batches(500):
        raws = [json.dumps(m).encode() for m in batch]
        store.ingest(stage_messages(raws, source=src.id, received_at=utcnow())).result()
    store.wait_idle()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    db = tmp_path_factory.mktemp("cat") / "demo.duckdb"
    with Touchpath.open(db=db) as tp:
        _fill(tp.store)
    yield db


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOUCHPATH_DB": str(db), "COLUMNS": "200"}
    code = "from touchpath.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_tour_commands_with_typos_fail_naming_the_closest(demo_db: Path) -> None:
    out = _cli(demo_db, "funnel", "--step", "Product Viewd", "--step", "Checkout Started",
               "--step", "Order Completed", "--window", "7d")  # fmt: skip
    assert out.returncode != 0
    assert "steps[0].event: unknown event 'Product Viewd'; did you mean 'Product Viewed'" in (
        out.stderr
    )
    out = _cli(demo_db, "paths", "--start", "Hoem", "--steps", "5")
    assert out.returncode != 0
    assert "start.event: unknown event 'Hoem'; did you mean 'Home'" in out.stderr
    out = _cli(demo_db, "paths", "--start", "home", "--steps", "3")
    assert out.returncode != 0 and "did you mean 'Home'" in out.stderr
    ok = _cli(demo_db, "paths", "--start", "Hoem", "--steps", "3", "--allow-unknown", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["kind"] == "paths"
    ok = _cli(demo_db, "funnel", "--step", "Product Viewed", "--step", "Order Completed", "--json")
    assert ok.returncode == 0, ok.stderr


def test_catalogue_commands(demo_db: Path) -> None:
    out = _cli(demo_db, "catalogue", "events", "--json")
    assert out.returncode == 0, out.stderr
    events = {(e["type"], e["event"]): e for e in json.loads(out.stdout)}
    assert events[("track", "Product Viewed")]["count"] > 0
    assert ("page", "Home") in events
    with Store(demo_db) as store:
        (n,) = store.query("SELECT count(*) FROM events WHERE event = 'Product Viewed'")[0]
    assert events[("track", "Product Viewed")]["count"] == n
    out = _cli(demo_db, "catalogue", "props", "Product Viewed")
    assert out.returncode == 0, out.stderr
    assert "Properties of 'Product Viewed'" in out.stdout
    out = _cli(demo_db, "catalogue", "props", "Product Viewd")
    assert out.returncode != 0 and "did you mean 'Product Viewed'" in out.stderr
    out = _cli(demo_db, "catalogue", "rebuild")
    assert out.returncode == 0 and "catalogue rebuilt" in out.stdout


def test_rest_catalogue_and_did_you_mean(server: Server) -> None:
    _fill(server.store)
    viewer = server.client("viewer")
    r = viewer.get("/api/catalogue/events")
    assert r.status_code == 200
    names = {e["event"] for e in r.json()["events"]}
    assert {"Product Viewed", "Home", "Order Completed"} <= names
    r = viewer.get(f"/api/catalogue/properties?event={quote('Order Completed')}")
    assert r.status_code == 200
    assert {p["key"] for p in r.json()["properties"]} >= {"revenue"}
    assert viewer.get("/api/catalogue/properties?event=Nope").status_code == 404
    assert viewer.post("/api/catalogue/rebuild").status_code == 403
    assert server.client("admin").post("/api/catalogue/rebuild").status_code == 200
    spec = {"steps": [{"event": "Home"}, {"event": "Product Viewd"}]}
    r = viewer.post("/api/analyses/funnel", json=spec)
    assert r.status_code == 400, r.text
    (problem,) = r.json()["error"]["problems"]
    assert problem["path"] == "steps[1].event"
    assert "did you mean 'Product Viewed'" in problem["problem"]
    r = viewer.post("/api/analyses/funnel", json={**spec, "allow_unknown": True})
    assert r.status_code == 200, r.text


def test_audiences_and_traits_name_the_closest_too(server: Server) -> None:
    _fill(server.store)
    editor = server.client("editor")
    bad = {"condition": {"kind": "performed", "event": {"event": "Order Complted"}}}
    r = editor.put("/api/audiences/buyers", json=bad)
    assert r.status_code == 400, r.text
    (problem,) = r.json()["error"]["problems"]
    assert problem["path"] == "condition.event.event"
    assert "did you mean 'Order Completed'" in problem["problem"]
    assert editor.put("/api/audiences/buyers", json={**bad, "allow_unknown": True}).is_success
    r = editor.put("/api/traits/spent", json={"op": "sum", "event": {"event": "Order Completed"},
                                              "property": "revenu"})  # fmt: skip
    assert r.status_code == 400, r.text
    assert "did you mean 'revenue'" in r.json()["error"]["problems"][0]["problem"]
    ok = {"op": "sum", "event": {"event": "Order Completed"}, "property": "revenue"}
    assert editor.put("/api/traits/spent", json=ok).is_success


def test_plan_commands(demo_db: Path, tmp_path: Path) -> None:
    out = _cli(demo_db, "plan", "infer", "shop", "--save", "-o", str(tmp_path / "shop.yaml"))
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "shop.yaml").read_text()
    assert "Order Completed:" in text and "revenue:" in text
    (tmp_path / "tight.json").write_text(
        json.dumps(
            {
                "name": "tight",
                "events": {"Order Completed": {"type": "object", "required": ["revenue"]}},
            }
        )
    )
    assert _cli(demo_db, "plan", "import", str(tmp_path / "tight.json")).returncode == 0
    out = _cli(demo_db, "plan", "assign", "demo", "tight", "--mode", "block")
    assert out.returncode == 0, out.stderr
    out = _cli(demo_db, "plan", "list", "--json")
    rows = {r["plan"]: r for r in json.loads(out.stdout)}
    assert rows["tight"]["sources"] == "demo (block)" and rows["shop"]["sources"] == ""
    out = _cli(demo_db, "plan", "export", "tight", "-f", "json")
    assert json.loads(out.stdout)["events"]["Order Completed"]["required"] == ["revenue"]
    assert _cli(demo_db, "plan", "assign", "demo", "tight", "--mode", "loud").returncode != 0
    out = _cli(demo_db, "plan", "violations", "--by", "source", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == []
    assert _cli(demo_db, "plan", "unassign", "demo").returncode == 0
    assert _cli(demo_db, "plan", "delete", "tight").returncode == 0
    assert _cli(demo_db, "plan", "delete", "shop").returncode == 0
    assert json.loads(_cli(demo_db, "plan", "list", "--json").stdout) == []
