"""Declarative journeys for tests: people and their events in, rows of the real event log out.

`journeys_for` turns a dict of people to event dicts into Segment messages and ingests them
through the real store path (`stage_messages` + `Store.ingest`), so tests of an analysis read
`resolved_events` exactly as production does.

>>> msg = message_for("p1", {"event": "signup", "timestamp": "2024-01-01T10:00:00", "channel": "email"})
>>> msg["userId"], msg["event"], msg["properties"]["channel"]
('p1', 'signup', 'email')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from touchpath.events.message import stage_messages
from touchpath.store import IngestResult, Store

__all__ = ["journeys_for", "message_for", "profile_of"]

_KNOWN = {
    "event", "name", "timestamp", "type", "properties", "channel", "context", "traits",
    "user_id", "anonymous_id", "message_id",
}  # fmt: skip


def profile_of(person: str) -> str:
    """The profile id a person of `journeys_for` resolves to (before identity merges)."""
    return "u:" + person


def _iso(value: str | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    return value if value.endswith("Z") or "+" in value[10:] else value + "Z"


def message_for(person: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """One Segment message for `person` from a short event dict.

    Keys: `event` (or `name` for page/screen), `timestamp` (ISO text or datetime, UTC),
    `type` (default track, or page when only `name` is given), `properties`, `channel`
    (stored as the explicit `properties.channel`), `context`, `traits`, `user_id`
    (default: the person; None for an anonymous event), `anonymous_id`, `message_id`.
    """
    unknown = set(event) - _KNOWN
    if unknown:
        raise ValueError(f"{person}: unknown event keys {sorted(unknown)}")
    if "timestamp" not in event:
        raise ValueError(f"{person}: timestamp: required")
    kind = event.get("type") or ("page" if "name" in event and "event" not in event else "track")
    props = dict(event.get("properties") or {})
    if event.get("channel") is not None:
        props["channel"] = event["channel"]
    msg: dict[str, Any] = {
        "type": kind,
        "timestamp": _iso(event["timestamp"]),
        "properties": props,
        "context": dict(event.get("context") or {}),
    }
    if event.get("message_id") is not None:
        msg["messageId"] = event["message_id"]
    user_id = event.get("user_id", person)
    if user_id is not None:
        msg["userId"] = user_id
    if event.get("anonymous_id") is not None:
        msg["anonymousId"] = event["anonymous_id"]
    if kind == "track":
        msg["event"] = event.get("event")
    elif kind in ("page", "screen"):
        msg["name"] = event.get("name", event.get("event"))
    if event.get("traits") is not None:
        msg["traits"] = dict(event["traits"])
    return msg


def journeys_for(
    store: Store,
    journeys: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    source: str = "test",
) -> IngestResult:
    """Ingest every person's events through the real store path and wait for the commit.

    >>> # journeys_for(store, {"person1": [{"event": "signup", "timestamp": "2024-01-01T10:00:00"}]})
    """
    raws = [orjson.dumps(message_for(person, ev)) for person, evs in journeys.items() for ev in evs]
    if not raws:
        return IngestResult(accepted=0, rejected=0, duplicates=0)
    staged = stage_messages(raws, source=source, received_at=datetime.now(UTC).replace(tzinfo=None))
    result = store.ingest(staged).result()
    if result.rejected:
        reasons = store.query("SELECT reason FROM rejected ORDER BY received_at DESC LIMIT 3")
        raise ValueError(f"journeys_for: {result.rejected} events rejected: {reasons}")
    return result
