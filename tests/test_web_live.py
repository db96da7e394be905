"""The live page in a real browser: counts, the event stream and rejected messages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.conftest import Server

pytestmark = pytest.mark.browser


def send(server: Server, batch: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(server.write_key, ""))
    assert r.status_code == 200, r.text


def test_live_page_shows_counts_stream_and_rejections(server: Server, browser: Any) -> None:
    send(
        server,
        [
            {"type": "page", "name": "Home", "anonymousId": "a1",
             "context": {"campaign": {"source": "google", "medium": "cpc"}}},
            {"type": "track", "event": "Product Viewed", "anonymousId": "a1"},
            {"type": "track", "event": "Order Completed", "userId": "u1",
             "properties": {"channel": "store", "revenue": 42}},
            {"type": "track", "anonymousId": "a2"},  # no event: rejected with a reason
        ],
    )  # fmt: skip
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    page.wait_for_function("document.getElementById('total-events').textContent === '3'")
    assert page.text_content("#total-rejected") == "1"
    channels = page.inner_text("#by-channel")
    assert "paid_search" in channels and "store" in channels
    page.wait_for_selector("#stream tbody tr:nth-child(3)")
    stream = page.inner_text("#stream")
    assert "Order Completed" in stream and "Product Viewed" in stream
    assert "event: required for a track" in page.inner_text("#rejected")

    send(server, [{"type": "track", "event": "Signed Up", "userId": "u9"}])
    page.wait_for_function("document.getElementById('total-events').textContent === '4'")
    page.wait_for_function("document.querySelector('#stream').innerText.includes('Signed Up')")
    assert errors == []

    # The journey maps are served next to the stream, bound to the same store.
    page.wait_for_selector("#maps a")
    titles = page.inner_text("#maps")
    assert "first purchase" in titles and "getting help" in titles and "BPIC 2012" in titles
    page.click("#maps a[href='/maps/demo-first-purchase']")
    page.wait_for_load_state("load")
    assert page.url.endswith("/maps/demo-first-purchase")
    assert "Checkout" in page.inner_text("body")
    assert errors == []
    page.close()
