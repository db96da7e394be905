"""The living demo's panel (/demo): a business running on its accelerated clock shows its
state, rate and people active; pause and resume reach the business; the planted truths stay
hidden until the user clicks reveal (and the reveal is in the URL)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.browser.conftest import axe, shot

from touchpath import access
from touchpath.clock import ScaledClock
from touchpath.demo.live import LiveBusiness, LiveRunner, live_write_key
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving

pytestmark = pytest.mark.browser

OWNER = ("owner@live.example", "correct horse battery")


def test_living_demo_panel(tmp_path: Path, context: Any, page: Any) -> None:
    settings = Settings(db=tmp_path / "live.duckdb", port=0)
    with Store(settings.db, settings) as store:
        access.create_user(store, OWNER[0], "owner", OWNER[1])
        clock = ScaledClock(datetime(2026, 11, 2, 9), factor=120.0, running=False)
        with serving(settings, store, clock) as url:
            r = context.request.post(
                f"{url}/api/auth/login", data={"email": OWNER[0], "password": OWNER[1]}
            )
            assert r.ok, r.text()
            business = LiveBusiness(store, clock, url, live_write_key(store), rate=600)
            runner = LiveRunner(business, clock, tick_seconds=0.2).start()
            try:
                _panel(page, url, store)
            finally:
                runner.stop()
                business.close()


def _panel(page: Any, url: str, store: Store) -> None:
    page.goto(url + "/demo")
    now = page.get_by_role("region", name="The business now")
    now.get_by_text("running").wait_for()
    deadline = time.monotonic() + 60
    while "of 0" in now.inner_text() and time.monotonic() < deadline:
        time.sleep(0.5)  # people arrive on the accelerated clock
    assert "600 per simulated hour" in now.inner_text()
    assert "120× the wall" in now.inner_text()
    # the planted truths are hidden until asked for
    truths = page.get_by_role("region", name="Planted truths")
    assert "payment goes through" not in truths.inner_text()
    axe(page)
    now.get_by_role("button", name="Pause").click()
    now.get_by_text("paused").wait_for()
    status = httpx.get(f"{url}/api/demo/live", cookies=_cookies(page)).json()
    assert status["paused"] is True
    now.get_by_role("button", name="Resume").click()
    now.get_by_text("running").wait_for()
    truths.get_by_role("button", name="Reveal the planted truths").click()
    truths.get_by_text("payment goes through 60% of the time in the app").wait_for()
    assert "truth=1" in page.url
    truths.get_by_text("No messages have reached the business's people yet").wait_for()
    axe(page)
    shot(page, "living-demo")


def _cookies(page: Any) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}
