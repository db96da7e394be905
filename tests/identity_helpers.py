"""Declarative test data for identity and profiles: people's messages in, a real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from touchpath.events.message import stage_messages
from touchpath.store import Store

T0 = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(days=3)


def msg(kind: str = "track", minute: int = 0, **fields: Any) -> dict[str, Any]:
    """A Segment message at T0 + `minute` minutes."""
    m: dict[str, Any] = {
        "type": kind,
        "timestamp": (T0 + timedelta(minutes=minute)).isoformat() + "Z",
    }
    if kind == "track":
        m.setdefault("event", "Product Viewed")
    m.update(fields)
    return m


def ingest(store: Store, messages: list[dict[str, Any]], source: str = "test") -> None:
    """Ingest and wait until identity has processed the batch."""
    raws = [json.dumps(m).encode() for m in messages]
    store.ingest(
        stage_messages(raws, source=source, received_at=datetime.now(UTC).replace(tzinfo=None))
    ).result()
    store.wait_idle()


def profile_of(store: Store, kind: str, value: str) -> str | None:
    rows = store.query(
        "SELECT profile_id FROM identifiers WHERE kind = ? AND value = ?", [kind, value]
    )
    return rows[0][0] if rows else None


def graph(store: Store) -> dict[tuple[str, str], str]:
    return {(k, v): p for k, v, p in store.query("SELECT kind, value, profile_id FROM identifiers")}
