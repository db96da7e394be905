"""A living-demo test world: a real store and server on 127.0.0.1, the demo's real receivers
(SMTP, HTTP), the journey engine and the dispatcher on a clock the test moves, and the living
business answering what they deliver.

- `world.run(hours=6, step_minutes=10)`: move the clock step by step; at each step the business
  acts, posts through /v1, the engine runs its due timers and the outbox is delivered;
- `world.api`: an httpx client signed in as an owner (a personal token), for /api.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from touchpath.clock import ManualClock
from touchpath.demo.live import LiveBusiness, live_write_key
from touchpath.demo.live.runner import DEFAULT_START
from touchpath.demo.receivers import Received, demo_destinations
from touchpath.settings import Settings
from touchpath.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveWorld:
    def __init__(
        self,
        path: Path,
        *,
        rate: float = 200.0,
        seed: int = 7,
        start: datetime = DEFAULT_START,
        clock: Any = None,
    ) -> None:
        import uvicorn

        from touchpath.web.app import create_app

        path.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.settings = Settings(
            db=path / "live.duckdb",
            port=port,
            destinations_allow_hosts="127.0.0.1",
            public_url=f"http://127.0.0.1:{port}",
            outbox_poll_seconds=0.05,
            listener_idle_seconds=0.01,
        )
        self.clock = clock if clock is not None else ManualClock(start)
        self.store = Store(self.settings.db, self.settings)
        self.received: list[Received] = []
        self.business: LiveBusiness | None = None
        self._receivers = demo_destinations(self.store, lambda _: None, react=self._react)
        self.receivers = self._receivers.__enter__()
        self.app = create_app(self.settings, self.store, self.clock)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:  # a server that cannot start fails here, not at timeout
            assert self.thread.is_alive() and time.monotonic() < deadline, "no server started"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        self.tp = self.app.state.touchpath
        self.engine = self.tp.services["journeys"]
        self.dispatcher = self.tp.services["dispatcher"]
        self.business = LiveBusiness(
            self.store, self.clock, self.url, live_write_key(self.store), seed=seed, rate=rate
        )
        self._token: str | None = None

    def _react(self, r: Received) -> None:
        self.received.append(r)
        if self.business is not None:
            self.business.receive(r)

    def close(self) -> None:
        if self.business is not None:
            self.business.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self._receivers.__exit__(None, None, None)
        self.store.close()

    # ----------------------------------------------------------------- acting
    @property
    def api(self) -> httpx.Client:
        from touchpath import access

        if self._token is None:
            self._token = access.create_token(self.store, "owner", "live test")[1]
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self._token}"}, timeout=60
        )

    def settle(self) -> None:
        """Everything queued is committed and every listener has seen it."""
        for _ in range(50):
            self.store.wait_idle()
            self.store.write_sync(lambda con: None)
            if not self.store.pending:
                return

    def deliver(self, timeout: float = 30.0) -> None:
        """Wait until no message due now is pending or being sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (busy,) = self.store.query(
                "SELECT count(*) FROM outbox WHERE state = 'sending' OR (state = 'pending' "
                "AND next_attempt_at <= ?)",
                [self.clock.now()],
            )[0]
            if not busy:
                return
            self.dispatcher.wake()
            time.sleep(0.02)

    def step(self, minutes: float) -> None:
        assert self.business is not None
        self.clock.advance(timedelta(minutes=minutes))
        self.business.step()
        self.business.send()
        self.settle()
        self.engine.drain()
        self.settle()
        self.deliver()
        self.business.send()  # the reactions' link calls due now
        self.settle()

    def run(self, hours: float, step_minutes: float = 10.0) -> None:
        for _ in range(round(hours * 60 / step_minutes)):
            self.step(step_minutes)

    def count(self, sql: str, params: list[Any] | None = None) -> int:
        return int(self.store.query(sql, params)[0][0])
