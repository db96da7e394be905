"""Audiences: build one from behaviour with a live size preview, save it, read its members."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_build_preview_save_and_export(demo_app: App, page: Any) -> None:
    buyers = demo_app.store.query(
        "SELECT count(DISTINCT profile_id) FROM resolved_events WHERE event = 'Order Completed'"
    )[0][0]
    page.goto(demo_app.url + "/audiences")
    page.get_by_role("link", name="New audience").click()
    page.get_by_label("Name").fill("web buyers")
    leaf = page.get_by_role("group", name="Condition 1.1")
    leaf.get_by_label("Did event").fill("Order Completed")
    preview = page.get_by_role("complementary", name="Preview")
    preview.get_by_text(f"{buyers:,} of").wait_for()
    assert "c=" in page.url  # the draft is in the address

    # Narrow it: also viewed a product at least 3 times; the preview follows.
    page.get_by_role("button", name="+ Did an event").click()
    second = page.get_by_role("group", name="Condition 1.2")
    second.get_by_label("Did event").fill("Product Viewed")
    second.get_by_label("Times").fill("3")
    narrowed = demo_app.store.query(
        "SELECT count(*) FROM (SELECT profile_id FROM resolved_events GROUP BY 1 "
        "HAVING count(*) FILTER (event = 'Order Completed') >= 1 "
        "AND count(*) FILTER (event = 'Product Viewed') >= 3)"
    )[0][0]
    preview.get_by_text(f"{narrowed:,} of").wait_for()
    axe(page)
    shot(page, "audience-builder")

    page.get_by_role("button", name="Save audience").click()
    page.get_by_role("heading", name="web buyers", level=1).wait_for()
    members = page.get_by_role("region", name="Members")
    members.get_by_text(f"{narrowed:,} people").wait_for()
    axe(page)
    shot(page, "audience")
    csv = httpx.get(
        demo_app.url + "/api/audiences/web%20buyers/members?format=csv", headers=demo_app.auth
    ).text
    assert len(csv.strip().splitlines()) == narrowed + 1

    page.get_by_role("link", name="Audiences").first.click()
    row = (
        page.get_by_role("table", name="Audiences").get_by_role("row").filter(has_text="web buyers")
    )
    assert "did Order Completed at least 1 time" in row.inner_text()


def test_a_new_audiences_preview_is_asked_for_before_the_page_loads(
    demo_app: App, page: Any
) -> None:
    """The new-audience page opened by its address asks for its starting draft's size (any
    event, once) before the page's code is requested, once, and shows it."""
    loads: list[str] = []
    page.on("request", lambda r: loads.append(r.url))
    page.goto(demo_app.url + "/audiences/new")
    preview = page.get_by_role("complementary", name="Preview")
    preview.locator(".big-number").wait_for()
    (want,) = demo_app.store.query(
        "SELECT count(*) FROM profiles WHERE profile_id IN (SELECT profile_id FROM resolved_events)"
    )[0]
    assert preview.locator(".big-number").inner_text().startswith(f"{want:,} of"), loads
    asked = [i for i, u in enumerate(loads) if u.endswith("/api/explore/audience-preview")]
    chunk = next(i for i, u in enumerate(loads) if "/assets/AudienceEditPage-" in u)
    assert len(asked) == 1 and asked[0] < chunk, loads
