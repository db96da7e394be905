"""The built client is served by FastAPI: index.html for client routes (never cached), hashed
assets cached for good, and the API's own 404s left alone."""

from __future__ import annotations

import re

import httpx
from tests.conftest import Server

from touchpath.web.spa import DIST


def test_client_routes_assets_and_reserved_paths(server: Server) -> None:
    assert (DIST / "index.html").is_file(), "run scripts/setup.sh to build the web app"
    with httpx.Client(base_url=server.url) as c:
        for path in ("/", "/maps/demo-first-purchase", "/people/u1?x=1", "/admin/users"):
            r = c.get(path)
            assert r.status_code == 200 and '<div id="root">' in r.text, path
            assert r.headers["cache-control"] == "no-cache"
        asset = re.search(r'src="(/assets/[^"]+\.js)"', c.get("/").text)
        assert asset is not None
        a = c.get(asset.group(1))
        assert a.status_code == 200 and "immutable" in a.headers["cache-control"]
        assert c.get("/favicon.svg").headers["content-type"] == "image/svg+xml"
        missing = c.get("/api/no-such-route", headers=server.auth)
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
        assert c.get("/docs").status_code == 200 and "swagger" in c.get("/docs").text.lower()
        assert c.get("/assets/nope.js").status_code == 404
