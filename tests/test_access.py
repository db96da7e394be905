"""Users, roles, tokens, sessions with CSRF, the sign-in rate limit and the audit log, through the
real server and the CLI."""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pytest
from tests.conftest import Server, bearer, signed_in
from typer.testing import CliRunner

from touchpath import access
from touchpath.cli import app
from touchpath.errors import SpecError
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving


def test_a_token_works_until_revoked_and_is_kept_only_hashed(server: Server) -> None:
    with server.client("admin") as admin:
        made = admin.post("/api/tokens", json={"role": "viewer", "name": "reporting"})
        assert made.status_code == 201
        secret = made.json()["secret"]
        prefix = made.json()["token"]["prefix"]
        assert secret.startswith(prefix) and "secret" not in str(admin.get("/api/tokens").json())
        assert httpx.get(f"{server.url}/api/stats", headers=bearer(secret)).status_code == 200
        # A viewer token reads but changes nothing.
        r = httpx.put(f"{server.url}/api/traits/x", headers=bearer(secret), json={})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert admin.delete(f"/api/tokens/{prefix}").json()["revoked_at"] is not None
    r = httpx.get(f"{server.url}/api/stats", headers=bearer(secret))
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    server.store.wait_idle()
    raw = server.store.path.read_bytes() + _wal(server.store.path)
    assert secret.encode() not in raw
    listed = {t.prefix: t for t in access.list_tokens(server.store, revoked=True)}
    assert listed[prefix].last_used_at is not None  # recorded when it was used


def _wal(path: Path) -> bytes:
    wal = Path(str(path) + ".wal")
    return wal.read_bytes() if wal.exists() else b""


def test_a_users_token_follows_the_user_down_and_out(store: Store) -> None:
    user, _ = access.create_user(store, "ed@shop.io", "editor")
    _, secret = access.create_token(store, "editor", "mine", user.id)
    with pytest.raises(SpecError, match="above the user's own role"):
        access.create_token(store, "admin", "", user.id)
    a = access.Access(store, cache_seconds=0)
    assert (p := a.by_token(secret)) is not None and p.role == "editor"
    access.set_role(store, "ed@shop.io", "viewer")
    assert (p := a.by_token(secret)) is not None and p.role == "viewer"
    access.disable_user(store, "ed@shop.io")
    assert a.by_token(secret) is None
    access.create_user(store, "own@shop.io", "owner")
    with pytest.raises(SpecError, match="last owner"):
        access.set_role(store, "own@shop.io", "admin")
    actions = [e.action for e in access.audit_log(store)]
    assert actions[:3] == ["user.create", "user.disable", "user.role"]


def test_admins_manage_users_but_grant_no_more_than_they_have(server: Server) -> None:
    with server.client("admin") as admin:
        r = admin.post("/api/users", json={"email": "Vi@Shop.io", "role": "viewer"})
        assert r.status_code == 201
        password = r.json()["password"]
        assert r.json()["user"]["email"] == "vi@shop.io" and len(password) >= 12
        r = admin.post("/api/users", json={"email": "boss@shop.io", "role": "owner"})
        assert r.status_code == 403 and "cannot grant owner" in r.text
        assert (
            admin.patch("/api/users/vi@shop.io", json={"role": "editor"}).json()["role"] == "editor"
        )
        r = admin.post("/api/users", json={"email": "vi@shop.io", "role": "viewer"})
        assert r.status_code == 400 and "already exists" in r.text
        log = admin.get("/api/audit").json()
        assert [e["action"] for e in log][:2] == ["user.role", "user.create"]
        assert log[0]["actor"].startswith("token tp_") and log[0]["target"] == "vi@shop.io"
    with server.client("editor") as editor:
        assert editor.get("/api/users").status_code == 403
        assert editor.get("/api/audit").status_code == 403
    with httpx.Client(base_url=server.url) as browser:
        r = browser.post("/api/auth/login", json={"email": "vi@shop.io", "password": password})
        assert r.status_code == 200 and r.json()["role"] == "editor"


def test_sessions_are_httponly_and_every_write_needs_the_csrf_token(server: Server) -> None:
    c = signed_in(server, "editor")
    cookie = next(x for x in c.cookies.jar if x.name == "touchpath_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    set_cookie = c.post("/api/auth/login", json={"email": "x@y.z", "password": "wrong"})
    assert set_cookie.status_code == 401
    csrf = c.headers.pop("X-CSRF-Token")
    body = {"op": "count", "event": {"event": "Order Completed"}}
    r = c.put("/api/traits/orders", json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    r = c.put("/api/traits/orders", json=body, headers={"X-CSRF-Token": "guess"})
    assert r.status_code == 403
    assert c.put("/api/traits/orders", json=body, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert c.get("/api/auth/me").json()["csrf_token"] == csrf  # reads need none
    # The hole of issue #11: a page elsewhere posting text/plain with the operator's cookie.
    r = c.post(
        "/api/imports",
        content=b'{"path": "/etc/passwd"}',
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 403
    assert c.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert c.get("/api/stats").status_code == 401


def test_sign_in_is_rate_limited_per_account_and_per_address(tmp_path: Path) -> None:
    settings = Settings(
        db=tmp_path / "t.duckdb", port=0, login_max_failures_per_account=3,
        login_max_failures_per_address=5,
    )  # fmt: skip
    with Store(settings.db, settings) as store, serving(settings, store) as url:
        access.create_user(store, "ann@shop.io", "viewer", "right password!")
        access.create_user(store, "bob@shop.io", "viewer", "right password!")
        with httpx.Client(base_url=url) as c:

            def login(email: str, password: str) -> httpx.Response:
                return c.post("/api/auth/login", json={"email": email, "password": password})

            assert [login("ann@shop.io", "nope").status_code for _ in range(3)] == [401] * 3
            r = login("ann@shop.io", "right password!")  # locked, even with the right one
            assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
            assert r.json()["error"]["code"] == "rate_limited"
            assert login("bob@shop.io", "right password!").status_code == 200
            assert [login("bob@shop.io", "nope").status_code for _ in range(2)] == [401] * 2
            # Five failures from this address in all: now every account waits.
            assert login("bob@shop.io", "right password!").status_code == 429


def test_cli_adds_users_and_tokens_that_the_server_accepts(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    with Store(db):
        pass
    run = CliRunner().invoke(
        app, ["users", "add", "Ops@Shop.io", "--role", "admin", "--db", str(db)]
    )
    assert run.exit_code == 0, run.output
    password = run.output.split("one-time password:")[1].split()[0]
    run = CliRunner().invoke(app, ["tokens", "create", "--role", "editor", "--db", str(db)])
    assert run.exit_code == 0, run.output
    secret = run.output.split("secret:")[1].split()[0]
    bad = CliRunner().invoke(app, ["users", "add", "x@y.z", "--role", "boss", "--db", str(db)])
    assert bad.exit_code != 0 and "not a role" in str(bad.exception)
    settings = Settings(db=db, port=0)
    with Store(db, settings) as store, serving(settings, store) as url:
        r = httpx.post(f"{url}/api/auth/login", json={"email": "ops@shop.io", "password": password})
        assert r.status_code == 200 and r.json()["role"] == "admin"
        me = httpx.get(f"{url}/api/auth/me", headers=bearer(secret)).json()
        assert me["role"] == "editor" and me["kind"] == "token"
        prefix = access.list_tokens(store)[0].prefix
    run = CliRunner().invoke(app, ["tokens", "revoke", prefix, "--db", str(db)])
    assert run.exit_code == 0 and "revoked" in run.output
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute("SELECT password_hash FROM users").fetchone()
    con.close()
    assert stored is not None and stored[0].startswith("$argon2id$")
