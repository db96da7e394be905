"""/docs and /redoc work with no internet: their scripts and styles come from the app."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests.conftest import Server


def test_docs_pages_name_only_the_apps_own_assets(server: Server) -> None:
    for page in ("/docs", "/redoc"):
        html = httpx.get(server.url + page).text
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(
            r"""url:\s*'([^']+)'""", html
        )
        assert urls, page
        assert [u for u in urls if u.startswith(("http:", "https:", "//"))] == [], (page, urls)
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        r = httpx.get(f"{server.url}/docs-assets/{asset}")
        assert r.status_code == 200 and len(r.content) > 10_000, asset


@pytest.mark.browser
@pytest.mark.parametrize(("page", "ready"), [("/docs", ".swagger-ui .info"), ("/redoc", "h1")])
def test_docs_render_in_chromium_without_the_internet(
    server: Server, browser: Any, page: str, ready: str
) -> None:
    ctx = browser.new_context()
    outside: list[str] = []

    def route(r: Any) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            outside.append(f"{r.request.resource_type} {r.request.url}")
            r.abort()

    ctx.route("**/*", route)
    p = ctx.new_page()
    p.goto(server.url + page)
    p.wait_for_selector(ready, timeout=30_000)
    assert "Touchpath" in p.inner_text("body")
    # Nothing it needs comes from elsewhere: ReDoc's bundle asks for its decorative "powered by"
    # logo on its CDN, and renders the same without it.
    assert [x for x in outside if not x.startswith("image ")] == [], outside
    ctx.close()
