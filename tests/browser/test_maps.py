"""Journey maps: the index, the viewer bound to live numbers, missing events, compare, discover."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_open_a_map_and_see_its_numbers(demo_app: App, page: Any) -> None:
    bound = httpx.get(
        demo_app.url + "/api/maps/demo-first-purchase/bind", timeout=60, headers=demo_app.auth
    ).json()
    first = bound["stages"][0]
    page.goto(demo_app.url + "/maps")
    page.get_by_role("link", name=bound["map"]["title"]).click()
    journey = page.get_by_role("table", name="Stages and touchpoints of", exact=False)
    journey.wait_for()
    header = journey.get_by_role("columnheader").first
    assert first["title"] in header.inner_text()
    assert f"{first['persona']['reach']:,}" in header.inner_text()
    tp = first["touchpoints"][0]
    card = page.get_by_label(f"Touchpoint {tp['name']}")
    assert f"{tp['persona']['reach']:,}" in card.inner_text()
    missing = page.get_by_role("status").filter(has_text="no events named")
    assert missing.count() == 0, missing.all_inner_texts()
    axe(page)
    shot(page, "map-viewer")
    png = httpx.get(
        demo_app.url + "/api/maps/demo-first-purchase/render.png", timeout=60, headers=demo_app.auth
    )
    assert png.headers["content-type"] == "image/png"


def test_a_map_whose_events_are_absent_says_so(demo_app: App, page: Any) -> None:
    doc = {
        "name": "callcentre",
        "title": "Call centre",
        "stages": [
            {"name": "contact", "touchpoints": [
                {"name": "Called", "match": {"event": "Call Center Contacted"}},
                {"name": "Viewed", "match": {"event": "Product Viewed"}},
            ]},
        ],
    }  # fmt: skip
    assert (
        httpx.post(demo_app.url + "/api/maps", json=doc, headers=demo_app.auth).status_code == 201
    )
    page.goto(demo_app.url + "/maps/callcentre")
    banner = page.get_by_role("status").filter(has_text="no events named")
    banner.wait_for()
    assert "Call Center Contacted" in banner.inner_text()
    assert "Product Viewed" not in banner.inner_text()


def test_compare_two_maps(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/maps/compare?a=demo-first-purchase&b=demo-support")
    diffs = page.get_by_role("region", name="Differences")
    diffs.get_by_text("differences").first.wait_for()
    assert "stage only in the first" in diffs.inner_text()
    assert page.locator(".marked").count() > 0
    axe(page)
    shot(page, "map-compare")


def test_discover_a_map_in_one_step(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/maps")
    page.get_by_role("button", name="Discover a map from the events").click()
    page.wait_for_url("**/maps/discovered*", timeout=60000)
    page.get_by_role("table", name="Stages and touchpoints of", exact=False).wait_for()
    assert httpx.get(
        demo_app.url + "/api/maps/discovered/versions", headers=demo_app.auth
    ).json() == [1]


def test_compare_the_arms_of_an_experiment_on_a_map(demo_app: App, page: Any) -> None:
    """100 people an arm saw `map-banner`; 10% of control and 40% of `bold` ordered."""
    batch = []
    for i in range(200):
        arm, user = ("control" if i % 2 else "bold"), f"mb-{i}"
        batch.append({"type": "track", "event": "Experiment Viewed", "userId": user,
                      "properties": {"experiment_id": "map-banner", "variation_id": arm}})  # fmt: skip
        if (i // 2) % 10 < (1 if arm == "control" else 4):
            batch.append({"type": "track", "event": "Order Completed", "userId": user,
                          "properties": {"revenue": 40}})  # fmt: skip
    demo_app.send(batch)
    spec = {"experiment_id": "map-banner", "control": "control",
            "primary": {"name": "orders", "event": {"event": "Order Completed"}, "window": "2d"}}  # fmt: skip
    put = httpx.put(
        demo_app.url + "/api/experiments/map-banner", json={"spec": spec}, headers=demo_app.auth
    )
    assert put.status_code == 200, put.text
    page.goto(demo_app.url + "/maps/compare?a=demo-first-purchase&experiment=map-banner")
    page.get_by_role("heading", name="arm control", exact=False).wait_for(timeout=240_000)
    assert "(100 people)" in page.get_by_role("heading", name="arm bold", exact=False).inner_text()
    diffs = page.get_by_role("region", name="Differences")
    assert "control" in diffs.inner_text() and "bold" in diffs.inner_text()
    assert page.get_by_label("Arms of an experiment").input_value() == "map-banner"
    axe(page)
    shot(page, "map-compare-arms")
