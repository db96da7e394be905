"""Every /api route, read from the app's own OpenAPI document: 401 without a credential or with a
write key, 403 below its role, and through at its role. A route added without thought still needs
a viewer (the middleware), and one that changes things must say which role it needs."""

from __future__ import annotations

import re
from typing import Any

import httpx
from tests.conftest import Server

from touchpath.access import ROLES

# Routes that read although they are POSTed (a spec in the body): a viewer may call them. Any
# other POST, PUT, PATCH or DELETE must declare editor or admin (`require(...)` on the route).
READS_BY_POST = re.compile(
    r"^/api/(analytics/(?!funnel/save-dropped|optimize)|analyses/|maps/(validate|bind|discover)$"
    r"|experiments/(analyse|sample-size)$|explore/(events|trend|audience-preview|trait-preview)$"
    r"|decisions/([^/]+/)?preview$|auth/(logout|password)$)"
)
# What the access model promises for the routes that matter most.
EXPECTED = {
    ("POST", "/api/sources"): "admin",
    ("GET", "/api/sources"): "admin",
    ("POST", "/api/privacy/delete"): "admin",
    ("GET", "/api/privacy/suppressions"): "admin",
    ("POST", "/api/imports"): "admin",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/tokens"): "admin",
    ("GET", "/api/audit"): "admin",
    ("POST", "/api/profiles/rebuild"): "admin",
    ("PUT", "/api/audiences/{name}"): "editor",
    ("PUT", "/api/traits/{name}"): "editor",
    ("POST", "/api/maps"): "editor",
    ("PUT", "/api/experiments/{name}"): "editor",
    ("PUT", "/api/decisions/{name}"): "editor",
    ("POST", "/api/decisions/{name}/publish"): "editor",
    ("GET", "/api/personalize/profiles/{identifier}"): "viewer",
    ("GET", "/api/profiles/{ref}"): "viewer",
    ("GET", "/api/events"): "viewer",
}


def _routes(server: Server) -> list[tuple[str, str, dict[str, Any]]]:
    spec = httpx.get(f"{server.url}/openapi.json", timeout=60).json()
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        if path.startswith("/api/") and path != "/api/auth/login"
        for method, op in ops.items()
    ]


def test_every_route_declares_a_role_and_writes_need_more_than_viewer(server: Server) -> None:
    routes = _routes(server)
    assert len(routes) > 30
    declared = {(m, p): op.get("x-required-role") for m, p, op in routes}
    assert all(role in ROLES for role in declared.values()), declared
    for key, role in EXPECTED.items():
        assert declared[key] == role, key
    loose = [
        f"{m} {p}"
        for (m, p), role in declared.items()
        if m != "GET" and role == "viewer" and not READS_BY_POST.match(p)
    ]
    assert loose == [], f"these change state but a viewer may call them: {loose}"
    for m, p, op in routes:
        assert {"401", "403"} <= set(op["responses"]), f"{m} {p}: 401/403 not declared"


def test_each_route_answers_401_then_403_then_lets_its_role_through(server: Server) -> None:
    basic = httpx.BasicAuth(server.write_key, "")
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for method, path, op in _routes(server):
            url = re.sub(r"\{[^}]+\}", "nope", path)
            where = f"{method} {path}"
            r = http.request(method, url)
            assert r.status_code == 401, (where, r.text)
            assert r.json()["error"]["code"] == "unauthorized", where
            r = http.request(method, url, auth=basic)  # a write key is for /v1 only
            assert r.status_code == 401 and "/v1 only" in r.text, (where, r.text)
            r = http.request(method, url, headers={"Authorization": "Bearer tp_not-a-token"})
            assert r.status_code == 401, (where, r.text)
            role = op["x-required-role"]
            level = ROLES.index(role)
            if level > 0:
                below = ROLES[level - 1]
                r = http.request(method, url, headers=server.headers(below))
                assert r.status_code == 403, (where, below, r.text)
                assert f"needs the role {role}" in r.json()["error"]["message"], where
            r = http.request(method, url, headers=server.headers(role))
            assert r.status_code not in (401, 403), (where, role, r.text)
