"""axe-core (served from the app's node_modules, no CDN) on every page of the web app: each
address in the navigation (read from shell/nav.ts, so a page added there is checked without
touching this test) and a detail page of each kind, with the demo's data; no serious or
critical WCAG 2.1 A/AA violation on any of them. The pages are opened in one document as the
app's links open them (each page's own test opens it by its address)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.browser.conftest import App, axe
from tests.conftest import REPO

pytestmark = pytest.mark.browser

NAV = REPO / "src/touchpath/web/ui/src/shell/nav.ts"


def _pages(app: App) -> list[str]:
    nav = re.findall(r'to: "(/[^"]*)"', NAV.read_text())
    assert "/insights/discovery" in nav and "/admin/users" in nav, "nav.ts changed shape"
    h = app.auth
    maps = httpx.get(f"{app.url}/api/maps", headers=h, timeout=30).json()
    spec = {"kind": "funnel", "steps": [{"event": "Product Viewed"}, {"event": "Order Completed"}]}
    r = httpx.put(f"{app.url}/api/insights/a11y", json={"spec": spec}, headers=h, timeout=30)
    assert r.status_code == 200, r.text
    r = httpx.put(
        f"{app.url}/api/dashboards/a11y", json={"insights": ["a11y"]}, headers=h, timeout=30
    )
    assert r.status_code == 200, r.text
    decision = {"variants": {"plain": {"t": "Hi"}, "vip": {"t": "Welcome back"}}, "default": "plain",
                "rules": [{"name": "vips", "when": {"kind": "trait", "trait": "plan", "op": "eq",
                                                    "value": "vip"}, "variant": "vip"}],
                "holdout": 0.1, "goal": {"event": "Order Completed"}}  # fmt: skip
    r = httpx.put(f"{app.url}/api/decisions/a11y", json=decision, headers=h, timeout=30)
    assert r.status_code == 200, r.text
    extra = [
        "/decisions/a11y?person=nobody&page=/sale",
        "/decisions/new?name=draft",
        "/destinations/forwarding?edit=",
        "/destinations/policy",
        "/events?event=Product+Viewed&breakdown=channel",
        "/insights/funnel?s=Product+Viewed&s=Order+Completed&trend=day",
        "/insights/saved/a11y",
        "/dashboards/a11y",
        "/audiences/new",
        "/maps/compare",
        "/no-such-page",
    ]
    (user,) = app.store.query(
        "SELECT user_id FROM events WHERE event = 'Order Completed' AND user_id IS NOT NULL LIMIT 1"
    )[0]
    extra.append(f"/people/{quote(user)}")
    demo_map = next(m["name"] for m in maps if m["name"] == "demo-first-purchase")
    extra.append(f"/maps/{demo_map}")  # its editor: test_map_editor runs axe there
    return nav + extra


def _open(page: Any, path: str) -> None:
    """Show `path` as the app does when a link is followed (history.pushState, then the router
    renders the route), and wait for the new page's heading: the document, the app's code and
    axe-core stay loaded, instead of loading them again for each of the ~40 pages (a third of
    the test's time). Through the not-found page first, so the heading waited for is always a
    new element, even where two addresses in a row share a page component."""
    here, hop = page.evaluate("location.pathname + location.search"), "/no-such-page"
    for step in [] if here == path else [path] if hop in (here, path) else [hop, path]:
        page.evaluate(  # the entry as the router's own history writes it
            """(path) => { window.__tpShown = document.querySelector("main h1");
                 const idx = (history.state?.idx ?? 0) + 1, key = Math.random().toString(36).slice(2, 10);
                 history.pushState({usr: null, key, idx}, "", path);
                 dispatchEvent(new PopStateEvent("popstate")); }""",
            step,
        )
        page.wait_for_function(
            """() => { const h = document.querySelector("main h1");
                 return h !== null && h !== window.__tpShown; }"""
        )


def test_no_serious_violation_on_any_page(demo_app: App, page: Any) -> None:
    failures = []
    page.goto(demo_app.url + "/")  # the app's document, once; then each page in it
    page.locator("main h1").first.wait_for()
    for path in _pages(demo_app):
        _open(page, path)
        page.locator(".state.loading").first.wait_for(state="detached", timeout=30_000)
        try:
            axe(page)
        except AssertionError as e:
            failures.append(f"{path}: {e}")
    assert failures == [], "\n".join(failures)
