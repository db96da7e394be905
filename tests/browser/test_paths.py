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


def test_a_detached_sankey_waits_for_its_area(demo_app: App, page: Any) -> None:
    """A page being left is out of the document before React runs its effects' clean-ups, and
    a chart's ResizeObserver or pending draw can run in between: it must not lay out in no area
    (ECharts measures a detached chart 0 px wide, and its Sankey then throws "Cannot read
    properties of null (reading '0')" from `_updateViewCoordSys`, a console error the page
    fixture fails on), and must draw again, in its place, once back."""
    page.goto(demo_app.url + "/insights/paths?event=Home")
    chart = page.get_by_role("region", name="Paths chart")
    chart.locator("svg").first.wait_for()
    page.evaluate(
        """async () => {
             const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
             const main = document.querySelector("main"), parent = main.parentNode, next = main.nextSibling;
             main.remove();
             await frames(); // the ResizeObserver has seen the chart out of the document
             parent.insertBefore(main, next);
             await frames();
           }"""
    )
    box = chart.locator("svg").first.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
