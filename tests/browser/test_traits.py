"""Computed traits: define one with a live preview, save it, see it on a person's page."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_define_a_computed_trait(demo_app: App, page: Any) -> None:
    spenders = demo_app.store.query(
        "SELECT count(DISTINCT profile_id) FROM resolved_events WHERE event = 'Order Completed' "
        "AND json_extract_string(properties, '$.revenue') IS NOT NULL"
    )[0][0]
    page.goto(demo_app.url + "/traits")
    form = page.get_by_role("region", name="Define a computed trait")
    form.get_by_label("Name").fill("lifetime_revenue")
    form.get_by_label("Compute").select_option("sum")
    form.get_by_role("combobox", name="Property").fill("revenue")
    form.get_by_role("combobox", name="Of events").fill("Order Completed")
    preview = page.get_by_role("complementary", name="Preview")
    preview.get_by_text(f"{spenders:,} people would have a value").wait_for()
    assert "op=sum" in page.url
    axe(page)
    shot(page, "traits")
    form.get_by_role("button", name="Save computed trait").click()
    row = page.get_by_role("table", name="Computed traits").get_by_role("row")
    row.filter(has_text="sum of revenue over Order Completed").wait_for()

    user = demo_app.store.query(
        "SELECT user_id FROM events WHERE event = 'Order Completed' AND user_id IS NOT NULL "
        "ORDER BY seq LIMIT 1"
    )[0][0]
    page.goto(f"{demo_app.url}/people/{user}")
    page.get_by_role("region", name="Traits and audiences").get_by_text(
        "lifetime_revenue"
    ).wait_for()
