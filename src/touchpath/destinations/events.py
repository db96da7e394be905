"""Message outcomes as events in the log (`touchpath.events.names`): Message Sent, Delivered,
Failed, Bounced, Opened, Clicked and Unsubscribed, from the source `touchpath.destinations`, on
the message's channel (`properties.channel`), tied to the message, its journey node and person.

Properties: `message_id`, `idempotency_key`, `destination`, `channel`, `template`, `journey`,
`version`, `node`, `entry_key`, and `url` (clicks), `reason` (failures, bounces, refusals,
unsubscribes), `status` (the last HTTP/SMTP status). Each event has a deterministic `messageId`,
so recording an outcome twice writes it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from touchpath.events.message import Staged, stage_internal

__all__ = ["SOURCE", "Outcome", "stage_outcomes"]

SOURCE = "touchpath.destinations"


@dataclass(frozen=True)
class Outcome:
    """One message event to write: `event` is one of `touchpath.events.names.MESSAGE_EVENTS`."""

    event: str
    message: dict[str, Any]
    """The outbox row (id, idempotency_key, destination, channel, profile_id, template,
    journey, journey_version, node, entry_key)."""
    at: datetime
    reason: str | None = None
    url: str | None = None
    status: int | None = None
    dedupe: str = ""
    """Extra text in the messageId for events that may repeat (each open, each click)."""


def _who(
    con: duckdb.DuckDBPyConnection, pids: list[str]
) -> dict[str, tuple[str | None, str | None]]:
    if not pids:
        return {}
    rows = con.execute(
        "SELECT profile_id, min(value) FILTER (WHERE kind = 'user_id'), "
        "min(value) FILTER (WHERE kind = 'anonymous_id') FROM identifiers "
        "WHERE profile_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY profile_id",
        [sorted(set(pids))],
    ).fetchall()
    return {p: (u, a) for p, u, a in rows}


def _fallback(pid: str) -> tuple[str | None, str | None]:
    prefix, _, value = pid.partition(":")
    if prefix == "u" and value:
        return value, None
    if prefix == "a" and value:
        return None, value
    return None, None


def stage_outcomes(
    con: duckdb.DuckDBPyConnection, outcomes: Sequence[Outcome], received_at: datetime
) -> Staged | None:
    """The events of `outcomes` for people the store knows (others have nobody to tie them to)."""
    with_person = [o for o in outcomes if o.message.get("profile_id")]
    if not with_person:
        return None
    who = _who(con, [o.message["profile_id"] for o in with_person])
    msgs: list[dict[str, Any]] = []
    for o in with_person:
        m = o.message
        uid, anon = who.get(m["profile_id"]) or _fallback(m["profile_id"])
        if uid is None and anon is None:
            continue
        props: dict[str, Any] = {
            "message_id": m["id"],
            "idempotency_key": m["idempotency_key"],
            "destination": m["destination"],
            "channel": m["channel"],
            "template": m.get("template"),
            "journey": m.get("journey"),
            "version": m.get("journey_version"),
            "node": m.get("node"),
            "entry_key": m.get("entry_key"),
            "profile_id": m["profile_id"],
        }
        for name, value in (("reason", o.reason), ("url", o.url), ("status", o.status)):
            if value is not None:
                props[name] = value
        key = f"{o.event}|{m['id']}|{o.dedupe}"
        msg: dict[str, Any] = {
            "type": "track",
            "event": o.event,
            "messageId": "dst-" + hashlib.sha256(key.encode()).hexdigest()[:32],
            "timestamp": o.at.isoformat() + "Z",
            "properties": props,
            "context": {"library": {"name": "touchpath-destinations"}},
        }
        if uid is not None:
            msg["userId"] = uid
        else:
            msg["anonymousId"] = anon
        msgs.append(msg)
    if not msgs:
        return None
    return stage_internal(msgs, source=SOURCE, received_at=received_at)
