"""Subscription groups and each person's choices, which the send policy reads.

A group is a topic (e.g. `newsletter`) on some channels: opt-out (everyone gets it until they
unsubscribe) or opt-in (only those who subscribed), optionally tied to a consent category of
Segment's Consent Management (`context.consent.categoryPreferences`), which must then be true in
the person's latest consent. An unsubscribe from a message's link sets the person's choice for
the message's channel and topic; one for topic `*` stops every message of the channel.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from touchpath.destinations.protocol import CHANNELS
from touchpath.errors import BadRequest, NotFound

__all__ = [
    "Group",
    "list_groups",
    "person_subscriptions",
    "put_group",
    "remove_group",
    "set_subscription",
]


TOPIC = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""A subscription group's name."""


class Group(BaseModel):
    """A subscription group (`touchpath destinations groups`, /api/destinations/groups)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(min_length=1, max_length=100, pattern=TOPIC)
    channels: list[str] = Field(default_factory=list, description="Channels; [] is every one.")
    opt_in: bool = Field(default=False, description="Only people who subscribed get it.")
    consent_category: str | None = Field(
        default=None, description="A consent category that must be true for the person."
    )
    description: str | None = None

    @field_validator("channels")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for ch in v:
            if ch not in CHANNELS:
                raise ValueError(f"{ch!r} is not a channel ({', '.join(CHANNELS)})")
        return v


def put_group(con: duckdb.DuckDBPyConnection, group: Group, now: datetime) -> Group:
    con.execute(
        "INSERT OR REPLACE INTO subscription_groups VALUES (?, ?, ?, ?, ?, ?)",
        [
            group.topic,
            json.dumps(group.channels),
            group.opt_in,
            group.consent_category,
            group.description,
            now,
        ],
    )
    return group


def list_groups(con: duckdb.DuckDBPyConnection) -> list[Group]:
    rows = con.execute(
        "SELECT topic, channels, opt_in, consent_category, description FROM subscription_groups "
        "ORDER BY topic"
    ).fetchall()
    return [
        Group(topic=t, channels=json.loads(c), opt_in=o, consent_category=k, description=d)
        for t, c, o, k, d in rows
    ]


def remove_group(con: duckdb.DuckDBPyConnection, topic: str) -> None:
    if not con.execute(
        "DELETE FROM subscription_groups WHERE topic = ? RETURNING topic", [topic]
    ).fetchall():
        raise NotFound(f"subscription group {topic!r}: no such group")


def set_subscription(
    con: duckdb.DuckDBPyConnection,
    profile_id: str,
    channel: str,
    topic: str,
    subscribed: bool,
    now: datetime,
    via: str = "api",
    message_id: str | None = None,
) -> None:
    """Record a person's choice for a channel and topic (`*`: every topic of the channel)."""
    if channel not in CHANNELS:
        raise BadRequest(f"channel: one of {', '.join(CHANNELS)}, not {channel!r}")
    if not topic:
        raise BadRequest("topic: required ('*' for every topic)")
    con.execute(
        "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            profile_id,
            channel,
            topic,
            "subscribed" if subscribed else "unsubscribed",
            now,
            via,
            message_id,
        ],
    )


def person_subscriptions(con: duckdb.DuckDBPyConnection, profile_id: str) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT channel, topic, status, updated_at, via, message_id FROM subscriptions "
        "WHERE profile_id = ? ORDER BY channel, topic",
        [profile_id],
    )
    names = [d[0] for d in rows.description or []]
    return [dict(zip(names, r, strict=True)) for r in rows.fetchall()]
