"""Shared fixtures: a real DuckDB file, a real HTTP server on 127.0.0.1, a write key, and API
tokens for every role.

- `server`: a served store with a source; `server.client(role)` is an httpx.Client with that
  role's token (`owner` by default), `server.headers(role)` the bare header, `server.tokens` the
  secrets by role. A route's 401/403 are checked by tests/test_access_routes.py for every route.
- `api_token(store, role)` / `bearer(token)`: for tests that build their own server.
- `browser_sign_in(page, server, role)`: the same in Chromium (the page's cookies).
- `signed_in(server, role)`: a user with that role and an httpx.Client signed in with the session
  cookie (and `X-CSRF-Token` set), as the web client is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from touchpath import access
from touchpath.access import ROLES
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath
from touchpath.web.server import serving

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"

PATIENCE = httpx.Timeout(120.0)
"""How long a test's own request waits for a server it started (httpx's default is 5 s)."""


def _patient_httpx() -> None:
    """A test's request without a timeout of its own waits up to `PATIENCE`: on a loaded 2-core
    CI machine a request to a test server can take longer than httpx's 5 s default (a fixture's
    first /v1/batch timed out at load 20), and a test must fail on a wrong answer, not a slow
    one. Only defaults change: a timeout a call names still applies, and Touchpath's own calls
    (cli/remote.py, demo/) always name theirs."""
    for call in (httpx.request, httpx.get, httpx.post, httpx.put, httpx.patch, httpx.delete,
                 httpx.head, httpx.options, httpx.Client.__init__, httpx.AsyncClient.__init__):  # fmt: skip
        defaults = call.__kwdefaults__
        assert defaults is not None and "timeout" in defaults, call
        defaults["timeout"] = PATIENCE


_patient_httpx()

# The suite's servers (in this process and the ones tests start, which inherit the environment)
# do not load the analysis kernels as they start: most run no analysis, and each load costs a
# process 1.4 CPU-s from numba's cache, 18 CPU-s compiling when the cache is cold (a fresh
# clone, or while another process is still writing it). The first analysis that could use a
# kernel still starts the load (tests/test_kernels.py checks both ways).
os.environ.setdefault("TOUCHPATH_ANALYTICS_KERNELS_WARMUP", "false")


def api_token(store: Store, role: str = "owner", name: str = "") -> str:
    """A new personal API token's secret, made directly in the store (as `tokens create` does)."""
    return access.create_token(store, role, name or f"test {role}")[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Server:
    url: str
    store: Store
    write_key: str
    source_id: str
    tokens: dict[str, str] = field(default_factory=dict)
    """A token secret per role."""

    def headers(self, role: str = "owner") -> dict[str, str]:
        """`Authorization: Bearer` for a token with this role."""
        if role not in self.tokens:
            self.tokens[role] = api_token(self.store, role)
        return bearer(self.tokens[role])

    @property
    def auth(self) -> dict[str, str]:
        """The owner's header (`httpx.post(url, headers=server.auth)`)."""
        return self.headers("owner")

    def client(self, role: str = "owner", **kwargs: Any) -> httpx.Client:
        """An httpx.Client on the server with this role's token."""
        kwargs.setdefault("timeout", 60)
        return httpx.Client(base_url=self.url, headers=self.headers(role), **kwargs)


def signed_in(
    server: Server, role: str = "owner", password: str = "correct horse battery"
) -> httpx.Client:
    """A user with `role` signed in through POST /api/auth/login, as a browser is: the session
    cookie, and X-CSRF-Token on every request."""
    email = f"{role}-{len(access.list_users(server.store))}@example.com"
    access.create_user(server.store, email, role, password)
    c = httpx.Client(base_url=server.url, timeout=60)
    r = c.post("/api/auth/login", json={"email": email, "password": password})
    r.raise_for_status()
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def browser_sign_in(page: Any, server: Server, role: str = "owner") -> str:
    """Make a user with `role` and sign the page in as the web client does (POST
    /api/auth/login from a page of the app's origin, which sets the cookies); returns the email."""
    password = "correct horse battery"
    email = f"{role}-{len(access.list_users(server.store))}@example.com"
    access.create_user(server.store, email, role, password)
    if not page.url.startswith(server.url):
        page.goto(server.url + "/openapi.json")
    status = page.evaluate(
        """async ([email, password]) => (await fetch("/api/auth/login", {method: "POST",
             headers: {"Content-Type": "application/json"},
             body: JSON.stringify({email, password})})).status""",
        [email, password],
    )
    assert status == 200, status
    return email


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "touchpath.duckdb") as s:
        yield s


@pytest.fixture
def tp(store: Store) -> Iterator[Touchpath]:
    """The `store` with what runs beside it in every process (identity and profiles, sentiment),
    built by the composition root as the server and the CLI build it."""
    with Touchpath.open(store=store) as t:
        yield t


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = Settings(db=tmp_path / "touchpath.duckdb", port=0)
    with Store(settings.db, settings) as store:
        src = store.create_source("test")
        tokens = {role: api_token(store, role) for role in ROLES}
        with serving(settings, store) as url:
            yield Server(url, store, src.write_key, src.id, tokens)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"{DATA}: the shared data sets are missing; clone next to ../shared")
    return DATA


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (never a downloaded browser). Per module: Playwright's
    sync API keeps an event loop running while it is open, and the map renderer
    (touchpath.maps.render.browser) starts its own in other modules."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
