"""Home: the day's numbers and live stream on the demo; the first-event guide on a new store."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_home_shows_the_day_and_the_live_stream(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/")
    page.get_by_role("heading", name="Home").wait_for()
    cards = page.get_by_role("region", name="Totals")
    cards.get_by_text("Events, all time").wait_for()
    total = demo_app.store.query("SELECT count(*) FROM events")[0][0]
    assert f"{total:,}" in cards.inner_text()
    page.get_by_role("img", name="Events by channel", exact=False).first.wait_for()
    stream = page.get_by_role("table", name="Newest events")
    stream.wait_for()

    demo_app.send([{"type": "track", "event": "Live Test Ping", "userId": "live-u1"}])
    page.wait_for_function(
        "document.querySelector('table[aria-label=\"Newest events\"]').innerText"
        ".includes('Live Test Ping')",
        timeout=60_000,  # the stream polls; a loaded machine takes a while
    )
    axe(page)
    shot(page, "home")

    page.get_by_role("link", name="Journey maps").first.click()
    page.get_by_role("heading", name="Journey maps").wait_for()
    assert page.url.endswith("/maps")
    assert "first purchase" in page.get_by_role("table", name="Journey maps").inner_text()
    axe(page)
    shot(page, "maps")


def test_new_store_says_how_to_send_the_first_event(empty_app: App, page: Any) -> None:
    page.goto(empty_app.url + "/")
    page.get_by_role("heading", name="Send your first event").wait_for()
    # The key is kept hashed: the page names its prefix and makes a new one on request.
    region = page.get_by_role("region", name="Send your first event")
    region.get_by_text(f"{empty_app.write_key[:8]}…").first.wait_for()  # sources load after
    assert "YOUR_WRITE_KEY" in page.get_by_label("curl snippet").inner_text()
    page.get_by_role("button", name="Make a new write key").click()
    key = page.get_by_label("Write key").inner_text()
    assert (
        key != empty_app.write_key
        and f"-u '{key}:'" in page.get_by_label("curl snippet").inner_text()
    )
    store = empty_app.store  # no event is sent: the store stays empty for the other tests
    assert store.source_for_key(key) == store.source_for_key(empty_app.write_key) is not None
    page.get_by_role("tab", name="Python").click()
    assert "analytics.host" in page.get_by_label("Python snippet").inner_text()
    axe(page)
    shot(page, "home-empty")


def test_client_routes_and_api_404s(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/no/such/page")
    page.get_by_role("heading", name="Page not found").wait_for()
    page.get_by_role("main").get_by_role("link", name="home").click()
    page.get_by_role("heading", name="Home").wait_for()
    assert httpx.get(demo_app.url + "/api/no-such-route").status_code == 401  # no credential
    r = httpx.get(
        demo_app.url + "/api/no-such-route", headers={"Authorization": f"Bearer {demo_app.token}"}
    )
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    assert httpx.get(demo_app.url + "/maps").status_code == 200
    assert '<div id="root">' in httpx.get(demo_app.url + "/events?start=2026-10-01").text
