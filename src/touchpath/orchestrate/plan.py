"""What the engine runs: a published journey with everything it refers to resolved.

A map touchpoint (as entry or goal) becomes its event definition when the version is published,
so editing the map later does not move people already in the journey; a send node without a
channel takes its destination's. The plan is stored with the version (`journey_versions.plan`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

from touchpath.errors import NotFound, SpecError
from touchpath.events.match import Condition, EventMatch
from touchpath.orchestrate.document import (
    AudienceEntry,
    EventEntry,
    Journey,
    TouchpointEntry,
    parse_journey,
)
from touchpath.orchestrate.node_types import SendNode, TouchpointRef, WebhookNode
from touchpath.orchestrate.sql import one

__all__ = [
    "DESTINATION_CHANNELS",
    "Plan",
    "audience_match",
    "has_table",
    "plan_from_json",
    "resolve",
]

AUDIENCE_ENTERED = "Audience Entered"
AUDIENCE_EXITED = "Audience Exited"
DESTINATION_CHANNELS = {
    "smtp": "email",
    "email": "email",
    "twilio": "sms",
    "sms": "sms",
    "fcm": "push",
    "push": "push",
    "webhook": "webhook",
}
"""The channel a destination of each kind sends on."""


@dataclass(frozen=True)
class Plan:
    """A journey version as the engine runs it."""

    journey: str
    version: int
    doc: Journey
    entry_match: EventMatch | None = None
    """The event that makes people enter (event, audience and touchpoint entries)."""
    goal_match: EventMatch | None = None
    channels: dict[str, str] = field(default_factory=dict)
    """The channel of each send and webhook node."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "definition": self.doc.model_dump(mode="json", exclude_none=True),
                "entry_match": _dump(self.entry_match),
                "goal_match": _dump(self.goal_match),
                "channels": self.channels,
            }
        )


def _dump(m: EventMatch | None) -> dict[str, Any] | None:
    return None if m is None else m.model_dump(mode="json", exclude_none=True)


def plan_from_json(journey: str, version: int, text: str) -> Plan:
    data = json.loads(text)
    return Plan(
        journey=journey,
        version=version,
        doc=parse_journey(data["definition"]),
        entry_match=EventMatch.model_validate(data["entry_match"]) if data["entry_match"] else None,
        goal_match=EventMatch.model_validate(data["goal_match"]) if data["goal_match"] else None,
        channels=dict(data.get("channels") or {}),
    )


def _touchpoint(ref: TouchpointRef, where: str, maps: Any) -> EventMatch:
    """The event definition of a map touchpoint (`maps` gives a map document by name)."""
    try:
        doc = maps(ref.map)
    except NotFound as exc:
        raise SpecError(f"{where}.map: {exc}") from None
    for _stage, tp in doc.touchpoints():
        if tp.name == ref.touchpoint:
            return EventMatch.model_validate(tp.match.model_dump())
    names = ", ".join(t.name for _, t in doc.touchpoints())
    raise SpecError(
        f"{where}.touchpoint: map {ref.map!r} has no touchpoint {ref.touchpoint!r} (it has {names})"
    )


def resolve(con: duckdb.DuckDBPyConnection, doc: Journey, version: int, maps: Any) -> Plan:
    """The plan of `doc`: touchpoints resolved through `maps(name) -> JourneyMap`, channels from
    the destinations table when it exists and the node names none."""
    entry: EventMatch | None = None
    e = doc.entry
    if isinstance(e, EventEntry):
        entry = e.event
    elif isinstance(e, AudienceEntry):
        entry = audience_match(AUDIENCE_ENTERED, e.audience)
    elif isinstance(e, TouchpointEntry):
        entry = _touchpoint(e, "entry", maps)
    goal: EventMatch | None = None
    if doc.goal is not None:
        goal = doc.goal.event
        if doc.goal.touchpoint is not None:
            goal = _touchpoint(doc.goal.touchpoint, "goal", maps)
    kinds = _destination_kinds(con)
    channels: dict[str, str] = {}
    problems: list[str] = []
    for nid, node in doc.nodes.items():
        if isinstance(node, WebhookNode):
            channels[nid] = "webhook"
        elif isinstance(node, SendNode):
            channel = node.channel or DESTINATION_CHANNELS.get(kinds.get(node.destination, ""))
            if channel is None:
                known = f" (destinations: {', '.join(sorted(kinds))})" if kinds else ""
                problems.append(
                    f"nodes.{nid}.channel: required, destination {node.destination!r} is not "
                    f"configured{known}"
                )
            else:
                channels[nid] = channel
    if problems:
        raise SpecError("; ".join(problems))
    return Plan(doc.name, version, doc, entry, goal, channels)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table `name` (an area that may not be installed)."""
    row = one(
        con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name]
    )
    return bool(row and row[0])


def audience_match(event: str, audience: str) -> EventMatch:
    """Audience Entered / Exited events of one audience."""
    return EventMatch(event=event, where=(Condition(property="audience", value=audience),))


def _destination_kinds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    # Asked first: a missing table's error would abort the caller's transaction.
    if not has_table(con, "destinations"):
        return {}
    rows = con.execute("SELECT name, kind FROM destinations").fetchall()
    return {str(n): str(k) for n, k in rows}
