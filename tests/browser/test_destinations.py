"""The messaging pages: add a destination (its secret shown once), test-send through it, see the
message in the delivery log with its attempts and in the dead letters, replay it; write a
template and preview it for a real person; add a subscription group."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, Watch, axe, shot

pytestmark = pytest.mark.browser


def test_destination_test_send_log_and_replay(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/destinations")
    page.get_by_role("button", name="Add a destination").click()
    form = page.get_by_role("region", name="Destination form")
    form.get_by_label("Name").fill("hooks")
    form.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    form.get_by_role("button", name="Save").click()
    secret = form.get_by_label("Signing secret", exact=True)
    secret.wait_for()
    assert secret.inner_text().startswith("whsec_")
    listed = httpx.get(f"{demo_app.url}/api/destinations/hooks", headers=demo_app.auth).json()
    assert listed["secrets_set"] and "whsec_" not in str(listed)

    card = page.get_by_role("region", name="Destination hooks")
    card.get_by_role("button", name="Test send").click()
    card.get_by_label("…or to an address").fill("ops")
    card.get_by_role("button", name="Send test").click()
    sent = card.get_by_role("status")
    sent.wait_for(timeout=30_000)
    # 127.0.0.1 is not a global address: the send is refused for good and lands in dead letters.
    assert "failed (dead letter)" in sent.inner_text(), sent.inner_text()
    axe(page)
    shot(page, "destinations")

    page.get_by_role("link", name="Delivery log", exact=True).click()
    page.wait_for_url("**/destinations/messages")
    page.locator(".toolbar select").first.select_option("hooks")
    row = page.get_by_role("row").filter(has_text="hooks")
    row.first.get_by_role("button").click()
    drawer = page.get_by_role("dialog", name="Message")
    drawer.get_by_text("Delivery attempts").wait_for()
    assert "refused" in drawer.inner_text() or "failed" in drawer.inner_text()
    axe(page)
    shot(page, "delivery-log")

    page.goto(demo_app.url + "/destinations/dead-letters")
    page.get_by_role("row").filter(has_text="hooks").first.wait_for()
    page.get_by_role("button", name="Replay all").click()
    assert "sent back to the outbox" in page.get_by_role("status").inner_text()
    axe(page)


def test_template_preview_and_groups(demo_app: App, page: Any, watch: Watch) -> None:
    # The preview follows the typing: a half-typed `{{ traits.` is answered 400 and shown.
    watch.expected.append("status of 400")
    person = httpx.get(
        f"{demo_app.url}/api/explore/people", params={"q": "@", "limit": 1}, headers=demo_app.auth
    ).json()[0]
    email = next(i["value"] for i in person["identifiers"] if i["kind"] == "email")
    page.goto(demo_app.url + "/destinations/templates")
    page.get_by_label("Name of the new template").fill("welcome-back")
    page.get_by_role("button", name="New template").click()
    form = page.get_by_role("region", name="Template welcome-back")
    form.get_by_label("subject").fill("Welcome back, {{ traits.email }}")
    form.get_by_label("As seen by").fill(email)
    form.get_by_role("button", name=email).click()
    preview = form.get_by_label("Preview")
    page.wait_for_function(
        "([e]) => document.querySelector('[aria-label=Preview]')?.innerText.includes(e)",
        arg=[email],
    )
    assert f"Welcome back, {email}" in preview.inner_text()
    form.get_by_role("button", name="Save template").click()
    refused = form.get_by_role("alert")
    refused.wait_for()
    assert "traits.email" in refused.inner_text()  # no default for a person without an email
    form.get_by_label("Defaults of variables", exact=False).fill('{"traits.email": "friend"}')
    form.get_by_role("button", name="Save template").click()
    form.get_by_role("status").wait_for()
    got = httpx.get(
        f"{demo_app.url}/api/destinations/templates/welcome-back", headers=demo_app.auth
    )
    assert got.json()["fields"]["subject"] == "Welcome back, {{ traits.email }}"
    axe(page, exclude=["iframe"])
    shot(page, "templates")

    page.get_by_role("link", name="Subscription groups").click()
    page.get_by_role("button", name="Add a group").click()
    g = page.get_by_role("region", name="Group form")
    g.get_by_label("Topic").fill("newsletter")
    g.get_by_label("email").check()
    g.get_by_label("opt-in", exact=False).check()
    g.get_by_role("button", name="Save group").click()
    row = page.get_by_role("row").filter(has_text="newsletter")
    row.wait_for()
    assert "opt-in" in row.inner_text() and "email" in row.inner_text()
    axe(page)
    shot(page, "subscription-groups")
