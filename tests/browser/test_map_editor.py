"""The map editor: change a touchpoint's event and see its numbers change; drag it to another
stage; save a new version."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_edit_a_map_and_see_the_numbers_change(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/maps/demo-first-purchase/edit")
    card = page.locator('[aria-label="Numbers of the draft"] [aria-label="Touchpoint Push opened"]')
    card.wait_for(timeout=60_000)
    before = card.inner_text()

    page.get_by_role("button", name="Push opened").click()
    form = page.get_by_role("region", name="Touchpoint Push opened")
    form.get_by_role("combobox", name="Event").fill("Order Completed")
    bound = httpx.post(
        demo_app.url + "/api/maps/bind",
        json={"name": "x", "stages": [{"name": "s", "touchpoints": [
            {"name": "o", "match": {"event": "Order Completed", "channel": "push"}}]}]},
        headers=demo_app.auth,
        timeout=60,
    ).json()  # fmt: skip
    want = bound["stages"][0]["touchpoints"][0]["persona"]["reach"]
    page.wait_for_function(
        '([t]) => { const c = document.querySelector(\'[aria-label="Numbers of the draft"] '
        '[aria-label="Touchpoint Push opened"]\'); '
        "return c && c.innerText.includes(t) && c.innerText.includes('Order Completed'); }",
        arg=[f"{want:,} people"],
        timeout=60_000,
    )
    # The draft's numbers are the new match's: its words and its count (which may equal the old).
    assert card.inner_text() != before and f"{want:,} people" in card.inner_text()

    chip = page.get_by_role("button", name="Push opened")
    chip.drag_to(page.get_by_role("group", name="Stage Retention", exact=False))
    assert (
        "Push opened" in page.get_by_role("group", name="Stage Retention", exact=False).inner_text()
    )
    axe(page)
    shot(page, "map-editor")

    page.get_by_role("button", name="Save new version").click()
    page.wait_for_url("**/maps/demo-first-purchase")
    page.get_by_role("table", name="Stages and touchpoints of", exact=False).wait_for()
    versions = httpx.get(
        demo_app.url + "/api/maps/demo-first-purchase/versions", headers=demo_app.auth
    ).json()
    assert versions[0] >= 1
    saved = httpx.get(demo_app.url + "/api/maps/demo-first-purchase", headers=demo_app.auth).json()[
        "document"
    ]
    retention = next(s for s in saved["stages"] if s["name"] == "retention")
    moved = next(t for t in retention["touchpoints"] if t["name"] == "Push opened")
    assert moved["match"]["event"] == "Order Completed"
