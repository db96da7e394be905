"""Run the app with uvicorn in this process: blocking (`serve`) or on a thread (`serving`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from touchpath.errors import TouchpathError
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.app import create_app

__all__ = ["serve", "serving"]


def serve(settings: Settings, store: Store | None = None) -> None:
    """Serve until interrupted."""
    app = create_app(settings, store)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


@contextmanager
def serving(settings: Settings, store: Store | None = None) -> Iterator[str]:
    """Serve on a background thread; yields the base URL and stops the server on exit."""
    app = create_app(settings, store)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="touchpath-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise TouchpathError(f"could not serve on {settings.host}:{settings.port}")
        time.sleep(0.02)
    port = settings.port
    if port == 0:
        port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{settings.host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
