"""The event forwarding and sending policy pages: an admin writes a forwarding rule (source,
event with a property condition, rename and drop) to a webhook destination and reads it back in
words; sets frequency caps and quiet hours and reads the policy as sentences; both saved as the
REST API returns them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_forwarding_rule(demo_app: App, page: Any) -> None:
    r = httpx.put(f"{demo_app.url}/api/destinations/crm-hook", headers=demo_app.auth,
                  json={"config": {"kind": "webhook", "url": "http://127.0.0.1:9/crm"}})  # fmt: skip
    assert r.status_code == 200, r.text
    page.goto(demo_app.url + "/destinations/forwarding")
    page.get_by_role("button", name="Add a rule").click()
    form = page.get_by_role("region", name="Forwarding rule form")
    form.get_by_label("Rule name").fill("orders")
    form.get_by_label("Send to (a webhook destination)").select_option("crm-hook")
    form.get_by_role("checkbox", name="web").check()
    event = form.get_by_role("group", name="Event 1", exact=True)
    event.get_by_role("combobox", name="Event").fill("Order Completed")
    event.get_by_role("button", name="+ Property condition").click()
    cond = form.get_by_role("group", name="Event 1 property 1")
    cond.get_by_role("combobox", name="Property").fill("revenue")
    cond.get_by_label("Operator").select_option("gte")
    cond.get_by_label("Value").fill("50")
    form.get_by_role("button", name="+ Rename").click()
    form.get_by_label("Path", exact=True).fill("properties.revenue")
    form.get_by_label("New path").fill("properties.value")
    form.get_by_label("Drop (comma-separated paths)").fill("context.ip")
    summary = "Order Completed where revenue ≥ 50, from web"
    assert summary in form.inner_text()
    axe(page)
    shot(page, "forwarding-form")
    form.get_by_role("button", name="Save rule").click()
    row = (
        page.get_by_role("table", name="Forwarding rules")
        .get_by_role("row")
        .filter(has_text="orders")
    )
    row.wait_for()
    text = row.inner_text()
    assert summary in text and "renames properties.revenue to properties.value" in text, text
    saved = httpx.get(f"{demo_app.url}/api/destinations/forwarding", headers=demo_app.auth).json()
    assert saved["orders"]["destination"] == "crm-hook"
    assert saved["orders"]["sources"] == ["web"]
    assert saved["orders"]["match"][0]["where"][0] == {
        "property": "revenue",
        "op": "gte",
        "value": 50,
    }
    assert saved["orders"]["mapping"]["drop"] == ["context.ip"]
    axe(page)
    shot(page, "forwarding")


def test_sending_policy(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/destinations/policy")
    says = page.get_by_role("region", name="What the policy does")
    says.get_by_text("No frequency caps").wait_for()
    page.get_by_label("SMS a day").fill("2")
    page.get_by_role("checkbox", name="Hold messages at night").check()
    page.get_by_label("From").fill("22:00")
    page.get_by_role("combobox", name="Fallback time zone").fill("Europe/Berlin")
    assert "No SMS or push notifications between 22:00 and 08:00" in says.inner_text()
    page.get_by_role("button", name="Save policy").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    saved = httpx.get(f"{demo_app.url}/api/destinations/policy", headers=demo_app.auth).json()
    assert saved["caps"] == {"sms": 2}
    assert saved["quiet_hours"]["start"].startswith("22:00")
    assert saved["fallback_timezone"] == "Europe/Berlin"
    page.reload()
    assert "at most 2 SMS a day" in says.inner_text()
    axe(page)
    shot(page, "sending-policy")
