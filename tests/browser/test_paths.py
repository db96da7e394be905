"""Paths: a Sankey from an event, the most common paths, and a change re-rendered from the URL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_paths_from_an_event(demo_app: App, page: Any) -> None:
    want = httpx.post(
        demo_app.url + "/api/analyses/paths",
        json={"start": {"event": "Home"}, "steps": 3, "top_edges": 60},
        headers=demo_app.auth,
        timeout=60,
    ).json()
    page.goto(demo_app.url + "/insights/paths?event=Home")
    chart = page.get_by_role("region", name="Paths chart")
    chart.locator("svg").first.wait_for()
    page.get_by_label("Steps").fill("3")
    page.get_by_role("button", name="Show paths").click()
    page.wait_for_url("**steps=3*")
    chart.get_by_text(f"{want['total']:,} journeys from Home").wait_for()
    top = page.get_by_role("table", name="Most common paths")
    first = want["top_paths"][0]
    assert " → ".join(first["path"]) in top.get_by_role("row").nth(1).inner_text()
    axe(page)
    shot(page, "paths")
