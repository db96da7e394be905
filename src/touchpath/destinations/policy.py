"""The send policy, checked as a message to a person is about to leave (not when it is decided):
suppression, subscriptions and consent per channel and topic, frequency caps per person, channel
and calendar day in the person's time zone (across journeys), and quiet hours in that zone.

A refusal is final and recorded with its reason; quiet hours defer the message to the next time
they allow (in the person's zone, correct across daylight-saving changes), they never refuse it.
Forwarded events and audience updates are data, not messages to a person: no policy applies.

>>> from datetime import datetime, time
>>> berlin = ZoneInfo("Europe/Berlin")
>>> # 22:00 in Berlin the night clocks go forward: deferred to 08:00 CEST, which is 06:00 UTC.
>>> quiet_until(datetime(2026, 3, 28, 21, 0), berlin, time(21), time(8))
datetime.datetime(2026, 3, 29, 6, 0)
>>> quiet_until(datetime(2026, 3, 28, 12, 0), berlin, time(21), time(8)) is None
True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from touchpath.destinations.protocol import CHANNELS
from touchpath.errors import BadRequest

__all__ = [
    "Decision",
    "Facts",
    "QuietHours",
    "SendPolicy",
    "decide",
    "gather",
    "get_policy",
    "local_day_start",
    "put_policy",
    "quiet_until",
    "zone",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Model):
    """No message on `channels` between `start` and `end`, local time (may span midnight)."""

    start: time = time(21, 0)
    end: time = time(8, 0)
    channels: tuple[str, ...] = ("sms", "push")


class SendPolicy(_Model):
    """The send policy's configuration (`touchpath destinations policy`, PUT
    /api/destinations/policy)."""

    caps: dict[str, int] = Field(
        default_factory=dict,
        description="Most messages per person per calendar day (in their zone), by channel.",
    )
    quiet_hours: QuietHours | None = None
    fallback_timezone: str = Field(
        default="UTC", description="The zone of a person with no `timezone` trait or context."
    )

    @field_validator("caps")
    @classmethod
    def _channels(cls, v: dict[str, int]) -> dict[str, int]:
        for ch, n in v.items():
            if ch not in CHANNELS:
                raise ValueError(f"caps.{ch}: not a channel ({', '.join(CHANNELS)})")
            if n < 0:
                raise ValueError(f"caps.{ch}: must be >= 0")
        return v

    @field_validator("fallback_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


def get_policy(con: duckdb.DuckDBPyConnection) -> SendPolicy:
    rows = con.execute("SELECT policy FROM send_policy WHERE id = 1").fetchall()
    return SendPolicy.model_validate_json(rows[0][0]) if rows else SendPolicy()


def put_policy(con: duckdb.DuckDBPyConnection, policy: SendPolicy, now: datetime) -> SendPolicy:
    con.execute(
        "INSERT OR REPLACE INTO send_policy VALUES (1, ?, ?)", [policy.model_dump_json(), now]
    )
    return policy


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """The zone called `name`, or the fallback when it is unset or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(fallback)


def _local(now: datetime, tz: ZoneInfo) -> datetime:
    return now.replace(tzinfo=UTC).astimezone(tz)


def _utc(wall: datetime) -> datetime:
    return wall.astimezone(UTC).replace(tzinfo=None)


def local_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """UTC time of the start of `now`'s calendar day in `tz`."""
    local = _local(now, tz)
    return _utc(datetime.combine(local.date(), time(0), tzinfo=tz))


def _inside(t: time, start: time, end: time) -> bool:
    if start == end:
        return False
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_until(now: datetime, tz: ZoneInfo, start: time, end: time) -> datetime | None:
    """When quiet hours that hold at `now` (naive UTC) end, in naive UTC; None when they do not
    hold. The end is a wall time in `tz`: on a day whose clocks change it is still `end` there."""
    local = _local(now, tz)
    if not _inside(local.time().replace(tzinfo=None), start, end):
        return None
    day: date = local.date()
    if local.time().replace(tzinfo=None) >= end:
        day += timedelta(days=1)
    until = _utc(datetime.combine(day, end, tzinfo=tz))
    # An end that falls in a gap (clocks skipped it) maps past the gap; check and step on.
    while _inside(_local(until, tz).time().replace(tzinfo=None), start, end):
        until += timedelta(minutes=15)
    return until


@dataclass
class Facts:
    """What the policy needs to know about the people of one batch, read set-wise."""

    suppressed: set[str] = field(default_factory=set)
    choices: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(profile, channel, topic) -> subscribed/unsubscribed; topic '*' is every topic."""
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    consent: dict[str, dict[str, Any]] = field(default_factory=dict)
    zones: dict[str, str | None] = field(default_factory=dict)
    approved: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)
    """(profile, channel) -> times messages were let out lately (for caps)."""
    bounced: dict[str, str] = field(default_factory=dict)
    """Email addresses (lower-cased) and people (profile id) whose address hard-bounced ->
    the DSN's status (`touchpath.destinations.bounces`)."""


@dataclass(frozen=True)
class Decision:
    action: Literal["send", "refuse", "defer"]
    reason: str | None = None
    until: datetime | None = None


def _pids_table(con: duckdb.DuckDBPyConnection, pids: Sequence[str]) -> None:
    con.register("_pol_in", pa.table({"profile_id": pa.array(sorted(set(pids)), pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE _pol_pids AS SELECT * FROM _pol_in")
    con.unregister("_pol_in")


def gather(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[dict[str, Any]],
    policy: SendPolicy,
    now: datetime,
) -> Facts:
    """Read the facts about the people of `rows` (each with profile_id, channel, topic)."""
    facts = Facts()
    _read_bounced(con, facts, rows)
    pids = [r["profile_id"] for r in rows if r.get("profile_id")]
    if not pids:
        return facts
    _pids_table(con, pids)
    try:
        _read_facts(con, facts, rows, policy, now)
    finally:
        con.execute("DROP TABLE IF EXISTS _pol_pids")
    return facts


def _read_bounced(
    con: duckdb.DuckDBPyConnection, facts: Facts, rows: Sequence[dict[str, Any]]
) -> None:
    """Hard-bounced addresses among the email rows: named by the row, or the person's `email`."""
    email = [
        r for r in rows if r["channel"] == "email" and r.get("purpose", "message") == "message"
    ]
    if not email:
        return
    named = sorted({str(r["recipient"]).lower() for r in email if r.get("recipient")})
    people = sorted(
        {r["profile_id"] for r in email if r.get("profile_id") and not r.get("recipient")}
    )
    for key, status in con.execute(
        "SELECT address, status FROM bounced_addresses WHERE address IN (SELECT unnest($a::VARCHAR[])) "
        "UNION ALL SELECT t.profile_id, b.status FROM profile_traits t "
        "JOIN bounced_addresses b ON b.address = lower(t.value ->> '$') "
        "WHERE t.name = 'email' AND t.profile_id IN (SELECT unnest($p::VARCHAR[]))",
        {"a": named, "p": people},
    ).fetchall():
        facts.bounced[key] = status


_IDS = """
    SELECT profile_id, kind, value FROM identifiers WHERE profile_id IN (SELECT profile_id FROM _pol_pids)
    UNION ALL SELECT profile_id, 'user_id', substr(profile_id, 3) FROM _pol_pids WHERE profile_id LIKE 'u:%'
    UNION ALL SELECT profile_id, 'anonymous_id', substr(profile_id, 3) FROM _pol_pids WHERE profile_id LIKE 'a:%'
"""


def _read_facts(
    con: duckdb.DuckDBPyConnection,
    facts: Facts,
    rows: Sequence[dict[str, Any]],
    policy: SendPolicy,
    now: datetime,
) -> None:
    facts.suppressed = {
        p
        for (p,) in con.execute(
            f"SELECT DISTINCT i.profile_id FROM ({_IDS}) i "
            "JOIN suppressions s ON s.kind = i.kind AND s.value = i.value"
        ).fetchall()
    }
    for p, ch, topic, status in con.execute(
        "SELECT profile_id, channel, topic, status FROM subscriptions "
        "WHERE profile_id IN (SELECT profile_id FROM _pol_pids)"
    ).fetchall():
        facts.choices[(p, ch, topic)] = status
    for topic, channels, opt_in, category in con.execute(
        "SELECT topic, channels, opt_in, consent_category FROM subscription_groups"
    ).fetchall():
        facts.groups[topic] = {
            "channels": json.loads(channels),
            "opt_in": opt_in,
            "consent_category": category,
        }
    topics = {r.get("topic") for r in rows}
    if any(facts.groups.get(t or "", {}).get("consent_category") for t in topics):
        for p, prefs in con.execute(
            f"""
            SELECT i.profile_id, arg_max(json_extract(e.context, '$.consent.categoryPreferences'),
                                         e.timestamp)::VARCHAR
            FROM ({_IDS}) i JOIN events e
              ON (i.kind = 'user_id' AND e.user_id = i.value)
              OR (i.kind = 'anonymous_id' AND e.anonymous_id = i.value)
            WHERE json_extract(e.context, '$.consent.categoryPreferences') IS NOT NULL
            GROUP BY i.profile_id
            """
        ).fetchall():
            facts.consent[p] = json.loads(prefs) if prefs else {}
    if policy.caps or policy.quiet_hours:
        _read_zones(con, facts)
    if policy.caps:
        # What was let out: finished, in flight, or waiting to be tried again after an attempt
        # that may have reached the person (a timed-out send); never the messages being decided
        # (a retry's own earlier approval is not another message).
        since = now - timedelta(days=2)
        for p, ch, at in con.execute(
            "SELECT profile_id, channel, approved_at FROM outbox "
            "WHERE profile_id IN (SELECT profile_id FROM _pol_pids) AND approved_at >= ? "
            "AND state IN ('sending', 'delivered', 'sent', 'pending') AND purpose = 'message' "
            "AND id NOT IN (SELECT unnest(?::VARCHAR[]))",
            [since, sorted({str(r["id"]) for r in rows if r.get("id")})],
        ).fetchall():
            facts.approved.setdefault((p, ch), []).append(at)


def _read_zones(con: duckdb.DuckDBPyConnection, facts: Facts) -> None:
    """The `timezone` trait, else the latest `context.timezone` of the person's events."""
    for p, tz in con.execute(
        "SELECT profile_id, value ->> '$' FROM profile_traits WHERE name = 'timezone' "
        "AND profile_id IN (SELECT profile_id FROM _pol_pids)"
    ).fetchall():
        facts.zones[p] = tz
    missing = con.execute(
        "SELECT count(*) FROM _pol_pids WHERE profile_id NOT IN "
        "(SELECT profile_id FROM profile_traits WHERE name = 'timezone')"
    ).fetchall()[0][0]
    if not missing:
        return
    for p, tz in con.execute(
        f"""
        SELECT i.profile_id, arg_max(json_extract_string(e.context, '$.timezone'), e.timestamp)
        FROM ({_IDS}) i JOIN events e
          ON (i.kind = 'user_id' AND e.user_id = i.value)
          OR (i.kind = 'anonymous_id' AND e.anonymous_id = i.value)
        WHERE json_extract_string(e.context, '$.timezone') IS NOT NULL
        GROUP BY i.profile_id
        """
    ).fetchall():
        facts.zones.setdefault(p, tz)


def _subscription(row: dict[str, Any], facts: Facts) -> str | None:
    pid, channel, topic = row["profile_id"], row["channel"], row.get("topic")
    if facts.choices.get((pid, channel, "*")) == "unsubscribed":
        return f"unsubscribed: every {channel} message"
    if topic is None:
        return None
    choice = facts.choices.get((pid, channel, topic))
    if choice == "unsubscribed":
        return f"unsubscribed: {channel} {topic}"
    group = facts.groups.get(topic)
    if group is None or (group["channels"] and channel not in group["channels"]):
        return None
    if group["opt_in"] and choice != "subscribed":
        return f"not subscribed: {channel} {topic} is opt-in"
    category = group["consent_category"]
    if category and facts.consent.get(pid, {}).get(category) is not True:
        return f"no consent: category {category!r}"
    return None


def decide(row: dict[str, Any], facts: Facts, policy: SendPolicy, now: datetime) -> Decision:
    """May this message leave now? Call in claim order: a `send` counts against the caps of the
    messages decided after it."""
    pid = row.get("profile_id")
    if row.get("purpose", "message") != "message":
        return Decision("send")
    if pid and pid in facts.suppressed:
        return Decision("refuse", "suppressed")
    reason = _subscription(row, facts) if pid else None
    if reason:
        return Decision("refuse", reason)
    if row["channel"] == "email":
        key = str(row["recipient"]).lower() if row.get("recipient") else pid
        if key in facts.bounced:
            return Decision("refuse", f"the address hard-bounced ({facts.bounced[key]})")
    if not pid:
        return Decision("send")
    channel = row["channel"]
    tz = zone(facts.zones.get(pid), policy.fallback_timezone)
    quiet = policy.quiet_hours
    if quiet is not None and channel in quiet.channels:
        until = quiet_until(now, tz, quiet.start, quiet.end)
        if until is not None:
            return Decision("defer", f"quiet hours in {tz.key}", until)
    cap = policy.caps.get(channel)
    if cap is not None:
        start = local_day_start(now, tz)
        sent = facts.approved.setdefault((pid, channel), [])
        if sum(1 for at in sent if at >= start) >= cap:
            return Decision("refuse", f"frequency cap: {cap} {channel} per day in {tz.key}")
        sent.append(now)
    return Decision("send")


def check_topic(topic: str) -> str:
    if not topic or topic != topic.strip() or len(topic) > 100:
        raise BadRequest(f"topic {topic!r}: 1-100 characters, no surrounding spaces")
    return topic
