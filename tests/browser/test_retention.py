"""Retention: cohorts of a first event as a heatmap, with the average return in words."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_retention_heatmap(demo_app: App, page: Any) -> None:
    spec = {"cohort_event": {"event": "Product Viewed"}, "period": "week", "periods": 3}
    want = httpx.post(
        demo_app.url + "/api/analyses/retention", json=spec, headers=demo_app.auth, timeout=60
    ).json()
    page.goto(demo_app.url + "/insights/retention?cohort=Product+Viewed&periods=3")
    chart = page.get_by_role("region", name="Retention chart")
    chart.locator("svg").first.wait_for()
    first = want["cohorts"][0]
    assert f"{first['cohort']} ({first['size']})" in chart.inner_text()
    axe(page)
    shot(page, "retention")
