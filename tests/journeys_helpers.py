"""A journey test world: a real store with the engine on a clock the test moves.

- `world.publish(YAML)` saves and publishes a journey;
- `world.track("u1", "Cart Viewed", cart_id="c1")` sends an event at the clock's time;
- `world.later(hours=4)` moves the clock and runs the due timers;
- `world.where("u1")` is (node, status, exit reason) of u1's latest entry.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from touchpath.clock import ManualClock
from touchpath.events.message import stage_messages
from touchpath.orchestrate import JourneyEngine, load_journey, publish, save_journey
from touchpath.orchestrate.library import Published
from touchpath.settings import Settings
from touchpath.system import Touchpath

MONDAY = datetime(2026, 3, 2, 9, 0)
"""A Monday, 09:00 UTC."""


class World:
    def __init__(self, path: Path, start: datetime = MONDAY, **engine: Any) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.clock = ManualClock(start)
        self.tp = Touchpath.open(Settings(db=path / "touchpath.duckdb"), clock=self.clock)
        self.engine: JourneyEngine = self.tp.services["journeys"]
        for k, v in engine.items():
            setattr(self.engine, k, v)
        self.store = self.tp.store

    def close(self) -> None:
        self.tp.close()

    # ----------------------------------------------------------------- acting
    def settle(self) -> None:
        """Wait until everything queued is committed and every listener has seen it (events
        the listeners write, such as audience changes and journey steps, included)."""
        for _ in range(50):
            self.store.wait_idle()
            self.store.write_sync(lambda con: None)  # runs the listeners first
            if not self.store.pending:
                return

    def send(self, *messages: dict[str, Any]) -> None:
        """Ingest messages stamped with the clock's time and wait for every listener."""
        now = self.clock.now()
        raws = [json.dumps({"timestamp": now.isoformat() + "Z", **m}).encode() for m in messages]
        self.store.ingest(stage_messages(raws, source="test", received_at=now)).result()
        self.settle()

    def track(self, user: str, event: str, **properties: Any) -> None:
        self.send({"type": "track", "userId": user, "event": event, "properties": properties})

    def identify(self, user: str, **traits: Any) -> None:
        self.send({"type": "identify", "userId": user, "traits": traits})

    def publish(self, text: str, **kwargs: Any) -> Published:
        doc = load_journey(text)
        save_journey(self.engine, doc, text)
        return publish(self.engine, doc.name, **kwargs)

    def later(self, **delta: float) -> int:
        """Move the clock, run every due timer, wait for the events they wrote."""
        self.clock.advance(timedelta(**delta))
        moved = self.engine.drain()
        self.settle()
        return moved

    # ----------------------------------------------------------------- looking
    def profile(self, user: str) -> str:
        rows = self.store.query(
            "SELECT profile_id FROM identifiers WHERE kind = 'user_id' AND value = ?", [user]
        )
        return str(rows[0][0]) if rows else f"u:{user}"

    def instances(self, user: str, journey: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM journey_state WHERE profile_id = ?"
        params: list[Any] = [self.profile(user)]
        if journey is not None:
            sql += " AND journey = ?"
            params.append(journey)
        return self.store.query_dicts(sql + " ORDER BY id", params)

    def where(self, user: str, journey: str | None = None) -> tuple[str, str, str | None]:
        rows = self.instances(user, journey)
        assert rows, f"{user} never entered"
        r = rows[-1]
        return r["node"], r["status"], r["exit_reason"]

    def path(self, user: str, journey: str | None = None) -> list[str]:
        """Nodes of the user's latest entry, in order, with the outcome where there is one."""
        inst = self.instances(user, journey)[-1]["id"]
        rows = self.store.query(
            "SELECT node, outcome FROM journey_steps WHERE instance = ? ORDER BY step", [inst]
        )
        return [n if o is None or n == "@entry" else f"{n}:{o}" for n, o in rows]

    def events(self, event: str, user: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM events WHERE event = ?"
        params: list[Any] = [event]
        if user is not None:
            sql += " AND user_id = ?"
            params.append(user)
        rows = self.store.query_dicts(sql + " ORDER BY seq", params)
        for r in rows:
            r["properties"] = json.loads(r["properties"]) if r["properties"] else {}
        return rows
