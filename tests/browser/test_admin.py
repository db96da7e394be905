"""Admin pages: add a user (password shown once) and change their role; create and revoke an API
token (the token works, then stops); add a source and read its write key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_users_tokens_and_sources(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/admin/users")
    form = page.get_by_role("form", name="Add a user")
    form.get_by_label("Email").fill("vi@shop.example")
    form.get_by_role("button", name="Add user").click()
    secret = page.get_by_label("Password of vi@shop.example:")
    secret.wait_for()
    assert len(secret.inner_text()) >= 12
    page.get_by_label("Role of vi@shop.example").select_option("editor")
    page.wait_for_function(
        "async () => (await (await fetch('/api/users')).json())"
        ".some(u => u.email === 'vi@shop.example' && u.role === 'editor')"
    )
    axe(page)
    shot(page, "admin-users")

    page.get_by_role("link", name="API tokens").click()
    form = page.get_by_role("form", name="Create a token")
    form.get_by_label("Name").fill("reporting")
    form.get_by_role("button", name="Create token").click()
    token = page.get_by_label("The new token's secret:").inner_text()
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(demo_app.url + "/api/explore/summary", headers=headers).status_code == 200
    row = (
        page.get_by_role("table", name="API tokens").get_by_role("row").filter(has_text="reporting")
    )
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_function(
        "!document.querySelector('table[aria-label=\"API tokens\"]').innerText.includes('reporting')"
    )
    assert httpx.get(demo_app.url + "/api/explore/summary", headers=headers).status_code == 401
    axe(page)

    page.get_by_role("link", name="Sources & write keys").click()
    form = page.get_by_role("form", name="Add a source")
    form.get_by_label("Name").fill("ios app")
    form.get_by_role("button", name="Add source").click()
    key = page.get_by_label("New write key of ios app").inner_text()

    def track(k: str) -> int:
        r = httpx.post(
            demo_app.url + "/v1/track", json={"event": "Ping", "userId": "x"}, auth=(k, "")
        )
        return r.status_code

    assert track(key) == 200
    page.get_by_role("button", name="Done").click()
    panel = page.get_by_role("region", name="Source ios app")
    assert key[:8] in panel.inner_text() and key not in page.content()  # only its prefix now
    # Rotate with a grace period: both keys work; then revoke the old one.
    rotate = panel.get_by_role("form", name="Rotate the key of ios app")
    rotate.get_by_label("Old keys keep working for (hours)").fill("2")
    rotate.get_by_role("button", name="Rotate key").click()
    new = page.get_by_label("New write key of ios app").inner_text()
    assert new != key and track(new) == 200 and track(key) == 200
    assert "works until" in panel.get_by_role("table").inner_text()
    panel.get_by_role("button", name=f"Revoke {key[:8]}…").click()
    panel.get_by_text("revoked").wait_for()
    assert track(key) == 401 and track(new) == 200
    axe(page)
    shot(page, "admin-sources")
