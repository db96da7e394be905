"""Events: filters in the URL, a breakdown, a property condition, the JSON drawer, rejections."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def _count(app: App, where: str, params: list[Any]) -> int:
    return int(app.store.query(f"SELECT count(*) FROM events WHERE {where}", params)[0][0])


def test_filter_break_down_and_open_an_event(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/events?event=Product+Viewed&breakdown=channel")
    trend = page.get_by_role("region", name="Trend")
    trend.wait_for()
    viewed = _count(demo_app, "event = ?", ["Product Viewed"])
    assert f"{viewed:,}" in trend.inner_text()
    table = page.get_by_role("table", name="Events by channel")
    direct = _count(demo_app, "event = ? AND channel = ?", ["Product Viewed", "direct"])
    assert f"{direct:,}" in table.get_by_role("row").filter(has_text="direct").first.inner_text()
    axe(page)
    shot(page, "events")

    # A property condition, added with the builder, lands in the URL and filters the counts.
    page.get_by_role("button", name="+ Property condition").click()
    cond = page.get_by_role("group", name="Condition 1")
    cond.get_by_label("Property").fill("channel")
    cond.get_by_label("Value").fill("direct")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_function(
        f"document.querySelector('[aria-label=Trend]').innerText.includes('{direct:,}')"
    )
    assert parse_qs(urlsplit(page.url).query)["w"] == ["channel:eq:direct"]

    page.get_by_role("table", name="Events", exact=True).get_by_role("row").nth(1).click()
    drawer = page.get_by_role("dialog")
    drawer.wait_for()
    data = drawer.get_by_label("Event JSON").inner_text()
    assert '"event": "Product Viewed"' in data and '"channel": "direct"' in data
    assert "seq=" in page.url  # the open event is part of the address
    axe(page)
    drawer.get_by_role("button", name="Close").click()
    assert "seq=" not in page.url


def test_rejected_messages_with_their_reason(demo_app: App, page: Any) -> None:
    demo_app.send([{"type": "track", "anonymousId": "a-bad"}])  # no event: rejected
    page.goto(demo_app.url + "/events?tab=rejected")
    table = page.get_by_role("table", name="Rejected messages")
    table.wait_for()
    assert "event: required for a track" in table.inner_text()
    axe(page)


def test_no_match_says_so(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/events?event=No+Such+Event")
    page.get_by_text("No events match these filters").wait_for()
