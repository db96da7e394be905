"""Sends and webhooks leave through the destinations' outbox, in the transaction that moves the
person, with a deterministic idempotency key: (journey, version, profile, entry key, node,
step). A step that ran is never run again, and the outbox skips a key it already holds, so a
crash and a restart send nothing twice.

The send policy (consent and subscriptions, suppression, frequency caps, quiet hours) is the
destinations' dispatcher's, checked when a message is about to leave; the journey only says
what to send to whom.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb

from touchpath.orchestrate.engine import Tick
from touchpath.orchestrate.node_types import SendNode, WebhookNode
from touchpath.orchestrate.plan import Plan
from touchpath.orchestrate.sql import lit, ts

__all__ = ["KEY_SQL", "detail_sql", "enqueue_group", "message", "outbox_enqueue", "test_key"]

KEY_SQL = (
    "'journey:' || journey || ':v' || version || ':' || profile_id || ':' || entry_key || ':' "
    "|| node || ':' || (step + 1)"
)
"""The idempotency key of the send a work row makes at its next step (the format of
`touchpath.destinations.outbox.journey_key`)."""


def detail_sql(plan: Plan, nid: str) -> str:
    """What the step records about the send: where it went and its key."""
    node = plan.doc.nodes[nid]
    assert isinstance(node, SendNode | WebhookNode)
    template = node.template if isinstance(node, SendNode) else None
    return (
        f"json_object('idempotency_key', {KEY_SQL}, 'destination', {lit(node.destination)}, "
        f"'channel', {lit(plan.channels.get(nid))}, 'template', {lit(template)})"
    )


def enqueue_group(
    con: duckdb.DuckDBPyConnection,
    tick: Tick,
    plan: Plan,
    nid: str,
    node: SendNode | WebhookNode,
    where: str,
) -> int:
    """Write the group's messages to the outbox; returns how many were new."""
    if isinstance(node, SendNode):
        return _enqueue_sends(con, tick, plan, nid, node, where)
    rows = con.execute(
        f"SELECT {KEY_SQL} AS key, profile_id, entry_key, entry_props FROM _jc WHERE {where}"
    ).fetchall()
    messages = [
        message(plan, nid, key, profile_id, entry_key, json.loads(props) if props else {})
        for key, profile_id, entry_key, props in rows
    ]
    return outbox_enqueue(con, messages, tick.now)


def _enqueue_sends(
    con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, nid: str, node: SendNode, where: str
) -> int:
    """A send node's messages for all the group's people in one INSERT (the fields `message`
    gives each, built by the database). What `enqueue` checks per message the node's model
    has checked once (a destination, a channel, a template or content)."""
    try:
        from touchpath.destinations.outbox import enqueue_rows
    except ImportError:  # the destinations area has not landed: the steps keep what was decided
        return 0
    data = f", 'data', {lit(json.dumps(node.data))}::JSON" if node.data else ""
    content = lit(json.dumps(dict(node.content))) if node.content else "NULL"
    return int(
        enqueue_rows(
            con,
            f"""
            SELECT {KEY_SQL} AS idempotency_key, {lit(node.destination)} AS destination,
                {lit(plan.channels[nid])} AS channel, profile_id, NULL AS recipient,
                {lit(node.topic)} AS topic, {lit(node.template)} AS template,
                {content} AS content,
                json_object('journey', {lit(plan.journey)}, 'version', {plan.version},
                    'node', {lit(nid)}, 'entry_key', entry_key,
                    'properties', coalesce(entry_props, '{{}}'::JSON){data}) AS context,
                true AS render, {lit(plan.journey)} AS journey, {plan.version} AS journey_version,
                {lit(nid)} AS node, entry_key, {ts(tick.now)} AS next_attempt_at,
                'message' AS purpose
            FROM _jc WHERE {where}
            """,
            tick.now,
        )
    )


def message(
    plan: Plan,
    nid: str,
    key: str,
    profile_id: str,
    entry_key: str,
    properties: Mapping[str, Any],
) -> dict[str, Any]:
    """The outbox message (`touchpath.destinations.outbox.OutboxMessage` fields) a send or
    webhook node makes for one person. Templates see `journey`, `version`, `node`,
    `entry_key`, the entry event's `properties` and the node's `data`."""
    node = plan.doc.nodes[nid]
    assert isinstance(node, SendNode | WebhookNode)
    base = {"journey": plan.journey, "version": plan.version, "node": nid}
    context: dict[str, Any] = {**base, "entry_key": entry_key, "properties": dict(properties)}
    msg: dict[str, Any] = {
        "idempotency_key": key,
        "destination": node.destination,
        "channel": plan.channels[nid],
        "profile_id": profile_id,
        "context": context,
        "journey": plan.journey,
        "journey_version": plan.version,
        "node": nid,
        "entry_key": entry_key,
    }
    if isinstance(node, WebhookNode):
        payload = {**node.body, **base, "profile_id": profile_id, "properties": dict(properties)}
        msg["content"] = {"payload": payload}
    else:
        msg["template"] = node.template
        msg["topic"] = node.topic
        if node.content:
            msg["content"] = dict(node.content)
        if node.data:
            context["data"] = node.data
    return msg


def test_key(journey: str, node: str, profile_id: str, at: datetime) -> str:
    """The idempotency key of a test send (one per person, node and second)."""
    return f"journey-test:{journey}:{node}:{profile_id}:{at.isoformat(timespec='seconds')}"


def outbox_enqueue(
    con: duckdb.DuckDBPyConnection, messages: Sequence[Mapping[str, Any]], now: datetime
) -> int:
    """The one place journeys hand messages to `touchpath.destinations.outbox.enqueue`."""
    if not messages:
        return 0
    try:
        from touchpath.destinations.outbox import OutboxMessage, enqueue
    except ImportError:  # the destinations area has not landed: the steps keep what was decided
        return 0
    return int(enqueue(con, [OutboxMessage(**m) for m in messages], now=now))
