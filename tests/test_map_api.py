"""Journey maps over REST and the CLI, on a real server and a real store; discovery; compare."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import Server, browser_sign_in
from typer.testing import CliRunner

from test_map_bind import DOC, shop
from touchpath.analytics import journey
from touchpath.cli import app
from touchpath.maps.bind import bind_map
from touchpath.maps.compare import compare_maps, render_compare
from touchpath.maps.discover import discover_map, load_taxonomy
from touchpath.maps.document import load_map
from touchpath.maps.library import save_map
from touchpath.maps.render.browser import open_page
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving


def test_rest_validate_save_bind_render(server) -> None:  # type: ignore[no-untyped-def]
    shop(server.store)
    with server.client() as c:
        bad = c.post(
            "/api/maps/validate",
            json={"yaml": "name: m\nstages: [{name: s, touchpoints: [{name: t, match: {}}]}]"},
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["message"] == "stages[0].touchpoints[0].match.event: required"
        doc = DOC.model_dump(mode="json")
        assert c.post("/api/maps", json=doc).json() == {"name": "shop", "version": 1}
        names = {m["name"]: m for m in c.get("/api/maps").json()}
        assert names["shop"]["version"] == 1 and names["demo-first-purchase"]["origin"] == "example"
        bound = c.get("/api/maps/shop/bind").json()
        app_checkout = next(
            t for s in bound["stages"] for t in s["touchpoints"] if t["name"] == "Checkout app"
        )
        assert app_checkout["persona"]["to_goal"] == pytest.approx(0.5)
        assert bound["pain_points"][0]["touchpoint"] == "Checkout app"
        # The server's map cache answers, saying what time its numbers are as of.
        freshness = bound["freshness"]
        assert freshness["fresh"] is True and freshness["next_refresh"] is None
        assert freshness["numbers_as_of"] <= bound["bound_at"]
        assert freshness["refresh_interval_seconds"] >= 10
        fast = c.get("/api/maps/shop/bind", params={"optimize": "true"}).json()
        assert fast["freshness"]["fresh"] is True
        assert fast["freshness"]["numbers_as_of"] >= freshness["numbers_as_of"]
        unset = {"bound_at": None, "freshness": None}
        assert {**fast, **unset} == {**bound, **unset}
        with server.store.reading() as cur:
            assert journey.is_fresh(cur)  # the stale journey copy was rebuilt first
        svg = c.get("/api/maps/shop/render.svg")
        assert svg.headers["content-type"] == "image/svg+xml" and ">Checkout app</text>" in svg.text
        assert c.get("/api/maps/shop/render.gif").status_code == 400
        assert c.get("/api/maps/nope/bind").status_code == 404
        page = c.get("/maps/shop")  # the web app's map viewer
        assert page.status_code == 200 and '<div id="root">' in page.text
        cmp = c.get("/api/maps/compare", params={"a": "shop", "b": "demo-first-purchase"}).json()
        assert cmp["a"]["map"]["name"] == "shop" and cmp["differences"]
        assert c.get("/api/maps/shop/versions").json() == [1]
        found = c.post("/api/maps/discover", json={"decision": ["Checkout Started"]}).json()
        assert [s["name"] for s in found["document"]["stages"]] == ["decision"]
        assert c.get("/api/maps/schema").json()["title"] == "JourneyMap"


def test_cli_validate_render_discover(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    with Store(db) as store:
        shop(store)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(
        "name: shop\nstages: [{name: d, touchpoints: [{name: c, match: {event: Checkout Started}}]}]"
    )
    bad.write_text("name: shop\nstages: [{name: d, touchpoints: [{name: c, match: {}}]}]")
    runner = CliRunner()
    r = runner.invoke(app, ["map", "validate", str(good), str(bad)])
    assert r.exit_code == 1
    assert "stages[0].touchpoints[0].match.event: required" in r.output.replace("\n", "")
    out = tmp_path / "m.svg"
    r = runner.invoke(app, ["map", "render", str(good), "--db", str(db), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("<svg") and "reach 40" in out.read_text()
    disc = tmp_path / "d.yaml"
    r = runner.invoke(app, ["map", "discover", "--db", str(db), "-o", str(disc)])
    assert r.exit_code == 0, r.output
    doc = load_map(disc.read_text())
    assert doc.goal is not None and doc.goal.event == "Order Completed"
    r = runner.invoke(app, ["map", "bind", str(good), "--db", str(db), "--optimize", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["stages"][0]["persona"]["reach"] == 40
    schema = tmp_path / "s.json"
    assert runner.invoke(app, ["map", "schema", "-o", str(schema)]).exit_code == 0
    assert (
        schema.read_text()
        == (Path(__file__).parents[1] / "schemas" / "journey-map.schema.json").read_text()
    )


def test_discovery_takes_stages_from_the_taxonomy(store: Store) -> None:
    shop(store)
    tax = load_taxonomy("look: [Product Viewed]\nbuy: [Checkout Started, Order Completed]\n")
    doc = discover_map(store, taxonomy=tax, per_stage=2)
    assert [s.name for s in doc.stages] == ["look", "buy"]
    buy = [(t.match.event, t.match.channel) for t in doc.stages[1].touchpoints]
    # the two most frequent pairs by people: Order Completed/direct (28), then a checkout (20)
    assert buy[0] == ("Order Completed", "direct") and buy[1][0] == "Checkout Started"
    bm = bind_map(store, doc)  # a discovered map binds like any other
    assert bm.stage("look").persona.reach == 40


@pytest.mark.browser
def test_compare_marks_differences(store: Store) -> None:
    shop(store)
    a = bind_map(store, DOC)
    edited = load_map(
        "name: shop\ngoal: {event: Order Completed}\nstages:\n"
        "  - {name: consideration, touchpoints: [{name: Viewed, match: {event: Product Viewed}}]}\n"
        "  - {name: decision, touchpoints: [{name: Checkout app, match: {event: Checkout Started, channel: app}},"
        " {name: One-click, match: {event: Order Completed}}]}\n"
    )
    b = bind_map(store, edited)
    diffs = {(d.where, d.what) for d in compare_maps(a, b)}
    assert ("experience", "stage only in the first") in diffs
    assert ("decision · One-click", "touchpoint added") in diffs
    assert ("decision · Checkout web", "touchpoint removed") in diffs
    html = render_compare(a, b, ("current", "future"))
    with open_page(html) as page:
        assert page.locator("#map svg").count() == 2
        assert page.locator("tr.changed").count() == len(compare_maps(a, b))


def test_the_map_page_says_what_time_its_numbers_are_as_of(tmp_path: Path, browser: Any) -> None:
    """A marketer sees "Numbers as of 14:32:05 UTC" on the map page, and, when events arrived
    that the next background bind will count, that they did and when that bind may start (a
    budget so small here that it is minutes away)."""
    settings = Settings(db=tmp_path / "touchpath.duckdb", port=0, map_refresh_cpu_share=0.001)
    with Store(settings.db, settings) as store:
        shop(store)
        save_map(store, DOC)
        with serving(settings, store) as url:
            server = Server(url, store, "", "")
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)  # a loaded machine
            browser_sign_in(page, server, "viewer")
            page.goto(f"{url}/maps/shop")
            line = page.get_by_test_id("map-freshness")
            line.wait_for(timeout=60_000)
            text = line.inner_text()
            assert re.match(r"Numbers as of \d\d:\d\d:\d\d UTC \(\d+ s ago\)", text), text
            assert "up to date with the events" in text
            page.screenshot(path=str(tmp_path / "map-fresh.png"))

            shop(store)  # the same people again: events the map names
            store.wait_idle()
            with httpx.Client(base_url=url, headers=server.headers("viewer")) as c:
                for _ in range(100):  # the cache looks at the commits on the next request
                    if not c.get("/api/maps/shop/bind").json()["freshness"]["fresh"]:
                        break
            page.reload()
            line.wait_for(timeout=60_000)
            stale = line.inner_text()
            assert re.search(r"newer events arrived; next refresh from \d\d:\d\d:\d\d UTC", stale)
            assert stale.startswith(text.split(" (")[0])  # the same numbers, as of the same time
            page.screenshot(path=str(tmp_path / "map-stale.png"))
