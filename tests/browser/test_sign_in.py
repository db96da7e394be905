"""Signing in through the web app: a deep link asks for the password, then opens where it points;
signing out asks again."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser.conftest import OWNER, App, Watch, axe, shot

pytestmark = pytest.mark.browser


def test_sign_in_keeps_the_address_and_sign_out(demo_app: App, page: Any, watch: Watch) -> None:
    watch.expected.append("401 (Unauthorized)")  # the browser logs the /api/auth/me probe
    page.context.clear_cookies()
    page.goto(demo_app.url + "/events?event=Order+Completed")
    page.get_by_role("heading", name="Sign in to Touchpath").wait_for()
    axe(page)
    shot(page, "sign-in")
    page.get_by_label("Email").fill(OWNER[0])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="email or password: wrong").wait_for()
    page.get_by_label("Password").fill(OWNER[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Events", exact=True).wait_for()
    assert page.url.endswith("/events?event=Order+Completed")
    assert OWNER[0] in page.get_by_role("complementary").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to Touchpath").wait_for()
