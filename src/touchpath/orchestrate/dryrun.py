"""Before going live: replay one person's history through a journey, and send one test message.

A dry run copies the person's events, identifiers, traits, computed traits and audience
memberships into a scratch database in memory and runs the real engine there, event by event
in time order, with the timers run at the moments they fall due: the path shown is the one the
engine would take, not a second implementation of it. Nothing is written to the store, nothing
is sent. Branches read the person's traits and memberships as they are now; the send policy
(caps, quiet hours, consent) is the dispatcher's and is not replayed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
from pydantic import BaseModel

from touchpath.errors import BadRequest, NotFound
from touchpath.orchestrate.document import ApiEntry, ScheduleEntry
from touchpath.orchestrate.engine import ACTIVE, Tick, advance
from touchpath.orchestrate.moves import enter, on_events, relevant_names, running, time_limits
from touchpath.orchestrate.node_types import SendNode, WebhookNode
from touchpath.orchestrate.plan import Plan, has_table
from touchpath.orchestrate.sends import message, outbox_enqueue, test_key
from touchpath.orchestrate.service import JourneyEngine
from touchpath.orchestrate.sql import lit, one, ts
from touchpath.store.migrations import discover

__all__ = ["DryEntry", "DryMessage", "DryRun", "DryStep", "TestSend", "dry_run", "send_test"]

MAX_EVENTS = 20_000
"""The most events of one person a dry run replays (the latest ones)."""


class DryStep(BaseModel):
    node: str
    kind: str
    at: datetime
    via: str | None = None
    outcome: str | None = None


class DryMessage(BaseModel):
    node: str
    at: datetime
    """When it would be handed to the outbox (the send policy may still defer or refuse it)."""
    destination: str | None = None
    channel: str | None = None
    template: str | None = None
    idempotency_key: str | None = None


class DryEntry(BaseModel):
    entry_key: str
    version: int
    entered_at: datetime
    steps: list[DryStep]
    messages: list[DryMessage]
    status: str
    """Where it stands at the end of the replay: done, or still waiting (wait, listen, run)."""
    node: str
    exit_reason: str | None = None
    exited_at: datetime | None = None
    converted_at: datetime | None = None


class DryRun(BaseModel):
    journey: str
    version: int
    profile_id: str
    events: int
    """Events of the person replayed (those the journey reacts to)."""
    start: datetime | None
    until: datetime
    entries: list[DryEntry]


_PERSON_TABLES = (
    "identifiers",
    "profiles",
    "profile_traits",
    "computed_trait_values",
    "audience_members",
)


def _scratch(store_con: duckdb.DuckDBPyConnection, profile_id: str) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the store's schema and one person's data."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    for m in discover():
        con.execute(m.sql)
    pid = lit(profile_id)
    for table in _PERSON_TABLES:
        rows = store_con.sql(f"SELECT * FROM {table} WHERE profile_id = {pid}").to_arrow_table()
        con.register("_src", rows)
        con.execute(f"INSERT INTO {table} SELECT * FROM _src")
        con.unregister("_src")
    # The person's events, numbered again in time order (the replay's commit order).
    events = store_con.sql(
        f"""
        SELECT * EXCLUDE (profile_id) FROM resolved_events WHERE profile_id = {pid}
        ORDER BY timestamp DESC, seq DESC LIMIT {MAX_EVENTS}
        """
    ).to_arrow_table()
    con.register("_src", events)
    con.execute(
        "INSERT INTO events SELECT * REPLACE (row_number() OVER (ORDER BY timestamp, seq) AS seq)"
        " FROM _src"
    )
    con.unregister("_src")
    return con


def dry_run(
    engine: JourneyEngine,
    plan: Plan,
    profile_id: str,
    start: datetime | None = None,
    until: datetime | None = None,
) -> DryRun:
    """Replay `profile_id`'s events from `start` (all by default) to `until` (the engine's
    clock by default) through `plan`. An API or scheduled journey enters the person at `start`
    (or their first event)."""
    until = until or engine.clock.now()
    with engine.store.reading() as cur:
        if not one(cur, "SELECT 1 FROM identifiers WHERE profile_id = ?", [profile_id]):
            raise NotFound(f"profile {profile_id!r}: no such person")
        con = _scratch(cur, profile_id)
    try:
        return _replay(con, plan, profile_id, start, until)
    finally:
        con.close()


def _replay(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    profile_id: str,
    start: datetime | None,
    until: datetime,
) -> DryRun:
    name, v = plan.journey, plan.version
    con.execute(
        "INSERT INTO journeys VALUES (?, 'live', ?, 0, NULL, ?, ?)", [name, v, until, until]
    )
    con.execute(
        "INSERT INTO journey_versions VALUES (?, ?, '', ?, ?, ?)",
        [name, v, plan.to_json(), until, until],
    )

    def plans(journey: str, version: int) -> Plan:
        return plan

    tick = Tick(con, start or until, plans, seq=0)
    names = relevant_names(running(con, tick))
    where = [f"timestamp <= {ts(until)}"]
    if start is not None:
        where.append(f"timestamp >= {ts(start)}")
    if names is not None:
        where.append(f"event IN ({', '.join(lit(n) for n in names)})")
    events = con.execute(
        f"SELECT seq, timestamp FROM events WHERE {' AND '.join(where)} ORDER BY seq"
    ).fetchall()
    first = start or (events[0][1] if events else until)
    if isinstance(plan.doc.entry, ApiEntry | ScheduleEntry):
        _run_timers(con, plan, plans, first, 0)
        tick = Tick(con, first, plans, seq=0)
        enter(
            con,
            tick,
            plan,
            f"SELECT {lit(profile_id)} AS profile_id, 'dry-run' AS entry_key, "
            "NULL::BIGINT AS entry_seq, NULL::JSON AS entry_props, NULL AS user_id, "
            "NULL AS anonymous_id",
        )
        advance(con, tick, "SELECT * FROM journey_state")
    for seq, at in events:
        # The timers due by the event's time run before it: a wait they begin listens from the
        # event before this one, so this event is heard (as live, where it commits after them).
        _run_timers(con, plan, plans, at, int(seq) - 1)
        on_events(con, Tick(con, at, plans, seq=int(seq)), int(seq), int(seq))
    _run_timers(con, plan, plans, until, int(events[-1][0]) if events else 0)
    return DryRun(
        journey=name,
        version=v,
        profile_id=profile_id,
        events=len(events),
        start=start,
        until=until,
        entries=_entries(con, plan),
    )


def _run_timers(
    con: duckdb.DuckDBPyConnection, plan: Plan, plans: Any, upto: datetime, seq: int
) -> None:
    """Run every timer due up to `upto` (waits, timeouts, the time limit), each at the moment
    it falls due."""
    active = ", ".join(lit(s) for s in ACTIVE)
    limits = []
    if plan.doc.exit.max_time:
        limits.append(
            f"SELECT min(entered_at + to_seconds({plan.doc.exit.max_time})) FROM journey_state "
            f"WHERE status IN ({active})"
        )
    for _ in range(10_000):
        sql = f"SELECT min(wake_at) FROM journey_state WHERE status IN ({active})"
        times = [r[0] for q in [sql, *limits] if (r := one(con, q)) and r[0] is not None]
        if not times or min(times) > upto:
            return
        tick = Tick(con, min(times), plans, seq=seq)
        time_limits(con, tick, running(con, tick))
        advance(
            con,
            tick,
            f"SELECT * REPLACE ({seq} AS listen_from) FROM journey_state "
            f"WHERE status IN ('run', 'wait', 'listen') AND wake_at <= {ts(tick.now)}",
        )


def _entries(con: duckdb.DuckDBPyConnection, plan: Plan) -> list[DryEntry]:
    out = []
    for row in con.execute(
        "SELECT id, entry_key, version, entered_at, status, node, exit_reason, exited_at, "
        "converted_at FROM journey_state ORDER BY id"
    ).fetchall():
        steps = con.execute(
            "SELECT node, kind, ts, via, outcome, detail FROM journey_steps WHERE instance = ? "
            "ORDER BY step",
            [row[0]],
        ).fetchall()
        messages = [
            DryMessage(
                node=s[0],
                at=s[2],
                **{k: d.get(k) for k in ("destination", "channel", "template", "idempotency_key")},
            )
            for s in steps
            if s[1] in ("send", "webhook") and (d := json.loads(s[5] or "{}")) is not None
        ]
        out.append(
            DryEntry(
                entry_key=row[1],
                version=row[2],
                entered_at=row[3],
                status=row[4],
                node=row[5],
                exit_reason=row[6],
                exited_at=row[7],
                converted_at=row[8],
                steps=[
                    DryStep(node=s[0], kind=s[1], at=s[2], via=s[3], outcome=s[4]) for s in steps
                ],
                messages=messages,
            )
        )
    return out


# ------------------------------------------------------------------------------ test send
class TestSend(BaseModel):
    """A test message handed to the outbox."""

    __test__ = False  # not a pytest test class

    journey: str
    node: str
    profile_id: str
    idempotency_key: str
    queued: bool
    """False until the destinations' outbox is installed in this store."""


def send_test(engine: JourneyEngine, plan: Plan, node: str, profile_id: str) -> TestSend:
    """Send what node `node` would send, to one person, now (its own idempotency key; the send
    policy applies as for any message)."""
    spec = plan.doc.nodes.get(node)
    if not isinstance(spec, SendNode | WebhookNode):
        kinds = [n for n, s in plan.doc.nodes.items() if isinstance(s, SendNode | WebhookNode)]
        raise BadRequest(
            f"node: {node!r} sends nothing (send and webhook nodes: {', '.join(kinds) or 'none'})"
        )
    now = engine.clock.now()
    key = test_key(plan.journey, node, profile_id, now)

    def run(con: duckdb.DuckDBPyConnection) -> int:
        if not one(con, "SELECT 1 FROM identifiers WHERE profile_id = ?", [profile_id]):
            raise NotFound(f"profile {profile_id!r}: no such person")
        msg = message(plan, node, key, profile_id, "test", {})
        msg["context"] = {**msg["context"], "test": True}
        return outbox_enqueue(con, [msg], now) if has_table(con, "outbox_messages") else 0

    queued = engine.store.write_sync(run)
    return TestSend(
        journey=plan.journey,
        node=node,
        profile_id=profile_id,
        idempotency_key=key,
        queued=bool(queued),
    )
