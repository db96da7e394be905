"""Signing in, CSRF and signing out in a real browser (Debian's chromium), as the web client
does it: fetch from a page of the app's origin."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import Server, browser_sign_in

pytestmark = pytest.mark.browser

PUT_TRAIT = """async (csrf) => {
  const headers = {"Content-Type": "application/json"};
  if (csrf !== null) headers["X-CSRF-Token"] = csrf;
  const r = await fetch("/api/traits/orders", {method: "PUT", headers,
    body: JSON.stringify({op: "count", event: {event: "Order Completed"}})});
  return r.status;
}"""

STATUS = "async (url) => (await fetch(url)).status"


def test_sign_in_csrf_and_sign_out_in_chromium(server: Server, browser: Any) -> None:
    page = browser.new_page()
    page.goto(server.url + "/openapi.json")
    assert page.evaluate(STATUS, "/api/stats") == 401
    wrong = page.evaluate(
        """async () => {
          const r = await fetch("/api/auth/login", {method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({email: "nobody@example.com", password: "not it"})});
          return [r.status, (await r.json()).error.message];
        }"""
    )
    assert wrong == [401, "email or password: wrong"]

    email = browser_sign_in(page, server, "editor")
    me = page.evaluate("async () => (await fetch('/api/auth/me')).json()")
    assert me["email"] == email and me["role"] == "editor" and me["kind"] == "session"
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["touchpath_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert "touchpath_session" not in page.evaluate("document.cookie")  # scripts cannot read it
    csrf = cookies["touchpath_csrf"]["value"]
    assert csrf == me["csrf_token"] and f"touchpath_csrf={csrf}" in page.evaluate("document.cookie")
    assert page.evaluate(STATUS, "/api/stats") == 200
    assert page.evaluate(PUT_TRAIT, None) == 403  # the session alone does not change things
    assert page.evaluate(PUT_TRAIT, "forged") == 403
    assert page.evaluate(PUT_TRAIT, csrf) == 200

    out = "async (csrf) => (await fetch('/api/auth/logout', {method: 'POST', headers: {'X-CSRF-Token': csrf}})).status"
    assert page.evaluate(out, csrf) == 204
    assert "touchpath_session" not in {c["name"] for c in page.context.cookies()}
    assert page.evaluate(STATUS, "/api/stats") == 401
    page.close()
