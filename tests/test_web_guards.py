"""What guards the server's edge: the Host allow-list (DNS rebinding), CORS only on /v1, and the
collector alone on a port of its own."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from tests.conftest import Server, api_token, bearer

from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving


def test_other_host_headers_get_400(server: Server) -> None:
    r = httpx.get(f"{server.url}/api/stats", headers={**server.auth, "Host": "attacker.example"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_host"
    assert "TOUCHPATH_ALLOWED_HOSTS" in r.json()["error"]["message"]
    r = httpx.post(
        f"{server.url}/v1/track",
        json={"event": "x", "userId": "u"},
        auth=(server.write_key, ""),
        headers={"Host": "rebind.attacker.example:8000"},
    )
    assert r.status_code == 400
    for host in ("localhost", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"):
        r = httpx.get(f"{server.url}/api/stats", headers={**server.auth, "Host": host})
        assert r.status_code == 200, host


def test_allowed_hosts_setting(tmp_path: Path) -> None:
    settings = Settings(
        db=tmp_path / "t.duckdb", port=0, allowed_hosts="shop.example, other.example"
    )  # type: ignore[arg-type]
    assert settings.allowed_hosts == ["shop.example", "other.example"]
    with Store(settings.db, settings) as store, serving(settings, store) as url:
        auth = bearer(api_token(store, "viewer"))
        assert (
            httpx.get(f"{url}/api/stats", headers={**auth, "Host": "shop.example"}).status_code
            == 200
        )
        assert httpx.get(f"{url}/api/stats", headers=auth).status_code == 200  # the bound host
        assert (
            httpx.get(f"{url}/api/stats", headers={**auth, "Host": "localhost"}).status_code == 400
        )


def test_cors_only_on_v1(server: Server) -> None:
    origin = {"Origin": "https://shop.example"}
    pre = httpx.options(
        f"{server.url}/v1/batch",
        headers={**origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"},
    )  # fmt: skip
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    r = httpx.post(
        f"{server.url}/v1/track",
        json={"event": "Viewed", "anonymousId": "a"},
        auth=(server.write_key, ""),
        headers=origin,
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    r = httpx.get(f"{server.url}/api/stats", headers={**origin, **server.auth})
    assert r.status_code == 200 and not any(h.startswith("access-control") for h in r.headers)
    pre = httpx.options(
        f"{server.url}/api/stats", headers={**origin, "Access-Control-Request-Method": "GET"}
    )
    assert not any(h.startswith("access-control") for h in pre.headers)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_collector_alone_on_its_port(tmp_path: Path) -> None:
    port = _free_port()
    settings = Settings(db=tmp_path / "t.duckdb", port=0, collect_port=port)
    with Store(settings.db, settings) as store:
        key = store.create_source("web").write_key
        with serving(settings, store) as url:
            collect = f"http://127.0.0.1:{port}"
            r = httpx.post(
                f"{collect}/v1/track", json={"event": "A", "userId": "u"}, auth=(key, "")
            )
            assert r.status_code == 200 and r.json()["accepted"] == 1
            assert r.headers["access-control-allow-origin"] == "*"
            token = bearer(api_token(store, "owner"))
            for path in ("/api/stats", "/api/users", "/docs", "/openapi.json", "/"):
                assert httpx.get(collect + path, headers=token).status_code == 404, path
            assert (
                httpx.post(
                    f"{collect}/v1/track", json={"event": "A"}, auth=("nope", "")
                ).status_code
                == 401
            )
            assert httpx.get(f"{url}/api/stats", headers=token).json()["events"] == 1
