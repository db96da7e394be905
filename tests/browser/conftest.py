"""The web app in Debian's chromium: one server with a small demo business and one empty server
for the whole session, one browser (tests/conftest.py), a fresh page per test.

Every page refuses network outside the app (a request elsewhere fails the test), fails the test
on a console error, and `axe(page)` runs axe-core against it (no serious or critical violation).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, REPO

from touchpath import access
from touchpath.demo import DemoBusiness, DemoConfig
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving
from touchpath.web.spa import DIST

pytestmark = pytest.mark.browser

AXE = REPO / "src/touchpath/web/ui/node_modules/axe-core/axe.min.js"
DEMO = DemoConfig(customers=120, days=21, seed=4)  # seed 4: every event the demo maps name occurs


OWNER = ("owner@example.com", "correct horse battery")


@dataclass
class App:
    url: str
    store: Store
    write_key: str
    token: str = ""
    """An owner's API token, for requests the test makes itself."""

    @property
    def auth(self) -> dict[str, str]:
        """The owner token's header, for the test's own requests."""
        return {"Authorization": f"Bearer {self.token}"}

    def sign_in(self, ctx: Any) -> None:
        """Sign the browser context in as the owner (POST /api/auth/login sets its cookies)."""
        email, password = OWNER
        r = ctx.request.post(
            f"{self.url}/api/auth/login", data={"email": email, "password": password}
        )
        assert r.ok, r.text()

    def send(self, batch: list[dict[str, Any]]) -> None:
        """Send messages through the collector, as an SDK would."""
        r = httpx.post(f"{self.url}/v1/batch", json={"batch": batch}, auth=(self.write_key, ""))
        assert r.status_code == 200, r.text


def _serve(root: Path, demo: DemoConfig | None) -> Iterator[App]:
    if not (DIST / "index.html").is_file():
        pytest.fail(f"{DIST}: the web app is not built; run scripts/setup.sh")
    settings = Settings(db=root / "touchpath.duckdb", port=0)
    with Store(settings.db, settings) as store:
        source = store.create_source("web")
        access.create_user(store, OWNER[0], "owner", OWNER[1])
        token = access.create_token(store, "owner", "browser tests")[1]
        with serving(settings, store) as url:
            app = App(url, store, source.write_key, token)
            if demo is not None:
                for batch in DemoBusiness(demo).batches(400):
                    body = orjson.dumps({"batch": batch})
                    r = httpx.post(
                        f"{url}/v1/batch",
                        content=body,
                        headers={"Content-Type": "application/json"},
                        auth=(source.write_key, ""),
                        timeout=60,
                    )
                    assert r.status_code == 200, r.text
            yield app


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's chromium for this package only: Playwright's sync API allows one instance per
    thread, and later tests (map rendering) start their own."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="package")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """A server holding a small demo retailer (sent over /v1/batch)."""
    yield from _serve(tmp_path_factory.mktemp("demo-app"), DEMO)


@pytest.fixture(scope="package")
def empty_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """A new store: one source, no events."""
    yield from _serve(tmp_path_factory.mktemp("empty-app"), None)


@dataclass
class Watch:
    """What a page did that a test must not allow: console errors and requests elsewhere."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    """Console errors a test provokes on purpose (e.g. the browser's log of a 404)."""

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(x in e for x in self.expected)]


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def context(browser: Any, watch: Watch, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A browser context whose requests may only reach 127.0.0.1 (the apps under test), signed
    in as the owner of the app the test uses (cookies are per host, not per port: one app a
    test)."""
    ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    ctx.set_default_timeout(60_000)  # waits for a condition, not a time: patient on a loaded CI
    apps = [n for n in ("demo_app", "empty_app") if n in request.fixturenames]
    assert len(apps) <= 1, "one app per test: the session cookie of 127.0.0.1 is shared"
    for name in apps:
        request.getfixturevalue(name).sign_in(ctx)

    def route(r: Any) -> None:
        host = urlsplit(r.request.url).hostname
        if host == "127.0.0.1" or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            watch.outside.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    yield ctx
    ctx.close()
    assert watch.outside == [], f"requests outside the app: {watch.outside}"


@pytest.fixture
def page(context: Any, watch: Watch) -> Iterator[Any]:
    p = context.new_page()
    p.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: watch.errors.append(str(e)))
    yield p
    assert watch.unexpected() == [], f"console errors: {watch.errors}"


def axe(page: Any, exclude: list[str] | None = None) -> None:
    """Run axe-core (WCAG 2 A/AA rules) on the page; fail on serious or critical violations."""
    if not AXE.is_file():
        pytest.fail(f"{AXE}: missing; run scripts/setup.sh (npm ci of the web app)")
    if page.evaluate("typeof axe") == "undefined":  # once a document
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (exclude) => await axe.run({include: [document], exclude: exclude},
             {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""",
        [[s] for s in (exclude or [])],
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], "accessibility: " + "; ".join(bad)


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of the page under out/screens/ (for the docs and for looking at)."""
    out = REPO / "out" / "screens"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
