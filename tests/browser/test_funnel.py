"""Funnels: build one from the URL and the form, see its chart, open who dropped at a step and
save them as an audience."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser

STEPS = ["Product Viewed", "Checkout Started", "Order Completed"]


def test_build_a_funnel_and_save_who_dropped(demo_app: App, page: Any) -> None:
    want = httpx.post(
        demo_app.url + "/api/analyses/funnel",
        json={"steps": [{"event": s} for s in STEPS], "window": "7d"},
        headers=demo_app.auth,
        timeout=60,
    ).json()["groups"][0]["steps"]
    page.goto(demo_app.url + "/insights/funnel")
    page.get_by_text("Choose at least two steps").wait_for()
    page.get_by_role("combobox", name="Step 1").fill(STEPS[0])
    page.get_by_role("combobox", name="Step 2").fill(STEPS[1])
    page.get_by_role("button", name="+ Step").click()
    page.get_by_role("combobox", name="Step 3").fill(STEPS[2])
    page.get_by_label("Within").select_option("7d")
    page.get_by_role("button", name="Show funnel").click()
    table = page.get_by_role("table", name="Funnel steps and conversion")
    table.wait_for()
    rows = table.get_by_role("row")
    for i, step in enumerate(want):
        assert f"{step['count']:,}" in rows.nth(i + 1).inner_text()
    assert "window=7d" in page.url and page.url.count("s=") == 3
    page.get_by_role("img", name="Funnel: people at each step").wait_for()
    axe(page)
    shot(page, "funnel")

    rows.nth(3).get_by_role("button").click()  # who dropped before Order Completed
    region = page.get_by_role("region", name="Who dropped")
    region.get_by_text(f"{want[2]['dropped']:,} people made step 2").wait_for()
    region.get_by_label("Audience name").fill("checkout droppers")
    region.get_by_role("button", name="Save as audience").click()
    region.get_by_role("status").get_by_role("link", name="checkout droppers").click()
    page.get_by_role("region", name="Members").get_by_text(
        f"{want[2]['dropped']:,} people"
    ).wait_for()


def test_step_conditions_and_time_to_convert(demo_app: App, page: Any) -> None:
    spec = {
        "steps": [
            {"event": "Product Viewed"},
            {
                "event": "Order Completed",
                "where": [{"property": "revenue", "op": "gt", "value": 50}],
            },
        ],
        "window": "14d",
    }
    want = httpx.post(
        demo_app.url + "/api/analyses/funnel", json=spec, headers=demo_app.auth, timeout=60
    ).json()
    page.goto(demo_app.url + "/insights/funnel?s=Product+Viewed&s=Order+Completed")
    page.get_by_role("table", name="Funnel steps and conversion").wait_for()
    page.get_by_role("button", name="+ where on step 2").click()
    cond = page.get_by_role("group", name="Step 2 condition 1")
    cond.get_by_role("combobox", name="Property").fill("revenue")
    cond.get_by_label("Operator").select_option("gt")
    cond.get_by_role("combobox", name="Value").fill("50")
    page.get_by_role("button", name="Show funnel").click()
    page.wait_for_url("**w=2%3Arevenue%3Agt%3A50*")
    last = want["groups"][0]["steps"][1]
    row = page.get_by_role("table", name="Funnel steps and conversion").get_by_role("row").nth(2)
    row.get_by_text(f"{last['count']:,}", exact=True).wait_for()
    region = page.get_by_role("region", name="Time to convert")
    region.get_by_role("img", name="Time to convert, people per duration").locator("svg").wait_for()
    assert "median" in region.inner_text()
    axe(page)
    shot(page, "funnel-conditions")


def test_a_funnels_first_load_asks_only_for_its_numbers(demo_app: App, page: Any) -> None:
    """The autocomplete's lookups (the catalogue's names, the latest events' keys: full scans)
    wait until a field has focus, so a shared funnel's first numbers do not queue behind them;
    the funnel itself is asked for before the page's code loads."""
    asked: list[str] = []
    loads: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/" in r.url else None)
    page.on("request", lambda r: loads.append(r.url))
    page.goto(demo_app.url + "/insights/funnel?s=Product+Viewed&s=Order+Completed&window=7d")
    page.get_by_role("table", name="Funnel steps and conversion").wait_for()
    lookups = [u for u in asked if "/api/catalogue/" in u or "/api/explore/properties" in u]
    assert lookups == [] and any("/api/analyses/funnel" in u for u in asked), asked
    # The funnel is asked for once, by main.tsx before the page's code is even requested (no
    # waterfall index -> page chunk -> request); the page then reads that same answer.
    funnels = [i for i, u in enumerate(loads) if "/api/analyses/funnel" in u]
    chunk = next(i for i, u in enumerate(loads) if "/assets/FunnelPage-" in u)
    assert len(funnels) == 1 and funnels[0] < chunk, loads
    page.get_by_role("combobox", name="Step 1").focus()
    page.wait_for_function("() => document.querySelectorAll('datalist option').length > 0")
    assert any("/api/catalogue/events" in u for u in asked), asked
