"""Run the app with uvicorn in this process: blocking (`serve`) or on a thread (`serving`).

The app and uvicorn are imported when a server starts: the CLI reads `server_file` from here
without building the app."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from touchpath.errors import TouchpathError
from touchpath.settings import Settings

if TYPE_CHECKING:
    from touchpath.clock import Clock
    from touchpath.store import Store
    from touchpath.system import Touchpath

__all__ = ["Collector", "announce", "serve", "server_file", "serving", "withdraw"]


def serve(settings: Settings, store: Store | None = None) -> None:
    """Serve until interrupted."""
    import uvicorn

    from touchpath.web.app import create_app

    app = create_app(settings, store)
    announce(settings.db, f"http://{settings.host}:{settings.port}")
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        withdraw(settings.db)


@contextmanager
def serving(
    settings: Settings,
    store: Store | None = None,
    clock: Clock | None = None,
    touchpath: Touchpath | None = None,
    startup: float = 30,
) -> Iterator[str]:
    """Serve on a background thread; yields the base URL and stops the server on exit.
    (`touchpath.web.app.create_app` says what `clock` and `touchpath` do; `startup`: seconds
    the server may take to start, more for a large store on a loaded machine.)"""
    import uvicorn

    from touchpath.web.app import create_app

    app = create_app(settings, store, clock, touchpath)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="touchpath-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise TouchpathError(f"could not serve on {settings.host}:{settings.port}")
        time.sleep(0.02)
    port = settings.port
    if port == 0:
        port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://{settings.host}:{port}"
    announce(settings.db, url)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        withdraw(settings.db)


class Collector:
    """The collector-only app (`create_collect_app`) on its own port and thread, started and
    stopped by the main app's lifespan (so `serve` and `serving` both get it)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        import uvicorn

        assert settings.collect_port is not None
        config = uvicorn.Config(
            app,
            host=settings.collect_host,
            port=settings.collect_port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="touchpath-collect", daemon=True
        )
        self.url = ""

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise TouchpathError(
                    f"could not serve the collector on {self._server.config.host}:"
                    f"{self._server.config.port}"
                )
            time.sleep(0.02)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


def server_file(db: Path) -> Path:
    """Where a server leaves its address next to the store file it holds (for the CLI)."""
    return db.with_name(db.name + ".server.json")


def announce(db: Path, url: str) -> None:
    """Say, next to the store file, that this process serves it at `url`."""
    with suppress(OSError):  # a read-only folder: the CLI then says the store is held
        server_file(db).write_text(json.dumps({"url": url, "pid": os.getpid()}))


def withdraw(db: Path) -> None:
    """Remove this process's announcement (not another's)."""
    path = server_file(db)
    with suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
