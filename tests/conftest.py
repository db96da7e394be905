"""Shared fixtures: a real DuckDB file, a real HTTP server on 127.0.0.1, a write key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath
from touchpath.web.server import serving

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


@dataclass
class Server:
    url: str
    store: Store
    write_key: str
    source_id: str


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
        with serving(settings, store) as url:
            yield Server(url, store, src.write_key, src.id)


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


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
