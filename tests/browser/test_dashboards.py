"""Saved insights and dashboards: "Save insight" on every analysis page keeps what is on screen
under a name; the index lists them; a dashboard is made, filled and emptied in the browser, and
each tile draws its insight's chart from the result read now."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser

PAGES = {
    "funnel": "/insights/funnel?s=Product+Viewed&s=Order+Completed&window=7d",
    "paths": "/insights/paths?event=Home&steps=3",
    "retention": "/insights/retention?cohort=Signed+Up&return=Order+Completed",
    "dfg": "/insights/discovery?top=10",
    "attribution": "/insights/attribution",
    "feedback": "/insights/feedback",
}


def _save(page: Any, url: str, name: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Save insight").click()
    form = page.get_by_role("region", name="Save insight")
    form.get_by_label("Insight name").fill(name)
    form.get_by_role("button", name="Save", exact=True).click()
    form.get_by_role("status").get_by_role("link", name=name).wait_for()


def test_save_from_every_page_and_build_a_dashboard(demo_app: App, page: Any) -> None:
    for kind, path in PAGES.items():
        _save(page, demo_app.url + path, f"ui {kind}")
    saved = httpx.get(demo_app.url + "/api/insights", headers=demo_app.auth).json()
    kinds = {i["name"]: i["kind"] for i in saved}
    assert {f"ui {k}": k for k in PAGES}.items() <= kinds.items()
    funnel = next(i for i in saved if i["name"] == "ui funnel")
    assert [s["event"] for s in funnel["spec"]["steps"]] == ["Product Viewed", "Order Completed"]

    # From the last page saved, straight onto a new dashboard.
    form = page.get_by_role("region", name="Save insight")
    form.get_by_role("combobox", name="Add to dashboard").fill("Weekly")
    form.get_by_role("button", name="Add", exact=True).click()
    form.get_by_role("link", name="Weekly").click()
    page.get_by_role("heading", name="Weekly").wait_for()
    page.get_by_role("region", name="ui feedback").locator("svg").first.wait_for()

    for name in ("ui funnel", "ui dfg", "ui attribution"):
        page.get_by_label("Saved insight to add").select_option(name)
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_role("region", name=name).locator("svg").first.wait_for()
    want = httpx.post(
        demo_app.url + "/api/analyses/funnel",
        json=funnel["spec"],
        headers=demo_app.auth,
        timeout=60,
    ).json()["groups"][0]
    page.get_by_role("region", name="ui funnel").get_by_text(
        f"{want['entered']:,} entered Product Viewed"
    ).wait_for()
    axe(page)
    shot(page, "dashboard")

    page.get_by_role("region", name="ui dfg").get_by_role("button", name="Remove").click()
    page.get_by_role("region", name="ui dfg").wait_for(state="detached")
    board = httpx.get(demo_app.url + "/api/dashboards/Weekly", headers=demo_app.auth).json()
    assert [i["name"] for i in board["insights"]] == ["ui feedback", "ui funnel", "ui attribution"]

    # A tile's Edit opens the analysis page with the saved spec in the address.
    page.get_by_role("region", name="ui funnel").get_by_role("link", name="Edit").click()
    page.wait_for_url("**/insights/funnel?s=Product+Viewed&s=Order+Completed&window=7d")
    page.get_by_role("table", name="Funnel steps and conversion").wait_for()

    page.goto(demo_app.url + "/insights")
    index = page.get_by_role("table", name="Saved insights")
    for kind in PAGES:
        index.get_by_role("link", name=f"ui {kind}").wait_for()
    axe(page)
    page.goto(demo_app.url + "/dashboards")
    page.get_by_role("link", name="Weekly").wait_for()
    axe(page)


def test_new_dashboard_is_empty_and_says_how_to_fill_it(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/dashboards")
    form = page.get_by_role("form", name="New dashboard")
    form.get_by_label("New dashboard").fill("Empty one")
    form.get_by_role("button", name="Create").click()
    page.wait_for_url("**/dashboards/Empty%20one")
    page.get_by_text("This dashboard is empty").wait_for()
    axe(page)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete dashboard").click()
    page.wait_for_url("**/dashboards")
    assert (
        httpx.get(demo_app.url + "/api/dashboards/Empty%20one", headers=demo_app.auth).status_code
        == 404
    )
