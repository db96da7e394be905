"""Moves that events and time cause, set-wise: entries (with the re-entry rules), exits, goals,
wait-for-event releases, time limits and scheduled entries.

`on_events(con, tick, first, last)` handles one range of committed events (the commit
listener's, or a dry run's single event): it reads the range once into `_jn_ev`, then enters,
exits, converts and releases people with a few statements per journey version, and moves the
people it touched as far as they go (`engine.advance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import duckdb

from touchpath.events.match import EventMatch, property_expr
from touchpath.orchestrate.document import ScheduleEntry
from touchpath.orchestrate.engine import ACTIVE, ENTRY, Tick, advance, finish, next_ids
from touchpath.orchestrate.node_types import WaitForEventNode
from touchpath.orchestrate.plan import AUDIENCE_EXITED, Plan, audience_match
from touchpath.orchestrate.sql import count, lit, one, ts

__all__ = [
    "Running",
    "enter",
    "enter_members",
    "on_events",
    "relevant_names",
    "running",
    "time_limits",
]

_ACTIVE = f"status IN ({', '.join(lit(s) for s in ACTIVE)})"


@dataclass(frozen=True)
class Running:
    """A journey version the engine looks after: people may enter it (`entering`: the live
    version of a live journey) or are still in it."""

    plan: Plan
    status: str
    entering: bool
    live_from_seq: int


def running(con: duckdb.DuckDBPyConnection, tick: Tick) -> list[Running]:
    """Every published version of every journey that is live, paused or draining."""
    rows = con.execute(
        "SELECT v.journey, v.version, j.status, v.version = j.live_version, "
        "coalesce(j.live_from_seq, 0) FROM journey_versions v JOIN journeys j ON j.name = v.journey "
        "WHERE v.published_at IS NOT NULL AND j.status IN ('live', 'paused', 'archived') "
        "ORDER BY v.journey, v.version"
    ).fetchall()
    return [
        Running(tick.plans(str(j), int(v)), str(st), bool(live) and st == "live", int(since))
        for j, v, st, live, since in rows
    ]


def relevant_names(versions: list[Running]) -> list[str] | None:
    """The names of the events these journey versions react to (None: any event may matter)."""
    return _names([m for r in versions for m in _matches(r)])


def _names(matches: list[EventMatch]) -> list[str] | None:
    """The event names worth reading, or None when some match takes any event."""
    names: set[str] = set()
    for m in matches:
        if m.event is None:
            return None
        names.add(m.event)
    return sorted(names)


def _matches(r: Running) -> list[EventMatch]:
    doc, out = r.plan.doc, []
    if r.entering and r.plan.entry_match is not None:
        out.append(r.plan.entry_match)
    out += list(doc.exit.events)
    out += [audience_match(AUDIENCE_EXITED, a) for a in doc.exit.audience_left]
    if r.plan.goal_match is not None:
        out.append(r.plan.goal_match)
    out += [n.event for n in doc.nodes.values() if isinstance(n, WaitForEventNode)]
    return out


def on_events(
    con: duckdb.DuckDBPyConnection, tick: Tick, first: int, last: int, only: str | None = None
) -> int:
    """Everything the events with seq in [first, last] do to journeys; returns people moved.
    `only`: one journey's exits, goals and releases, no entries (resuming after a pause)."""
    versions = running(con, tick)
    if only is not None:
        versions = [
            Running(r.plan, r.status, False, r.live_from_seq)
            for r in versions
            if r.plan.journey == only
        ]
    matches = [m for r in versions for m in _matches(r)]
    if not matches:
        return 0
    # People merged into another profile by these events continue as that profile.
    con.execute(
        "UPDATE journey_state SET profile_id = m.kept_profile_id FROM merges m "
        f"WHERE m.seq BETWEEN {int(first)} AND {int(last)} "
        "AND journey_state.profile_id = m.merged_profile_id"
    )
    names = _names(matches)
    only = "" if names is None else f"AND event IN ({', '.join(lit(n) for n in names)})"
    # Most ranges hold none of the names (the journeys' own step events): asked of the log
    # alone, without resolving every event to its profile (two joins with the identifiers).
    within = f"seq BETWEEN {int(first)} AND {int(last)} {only}"
    if not count(con, f"SELECT count(*) FROM (SELECT 1 FROM events WHERE {within} LIMIT 1)"):
        return 0
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _jn_ev AS SELECT * FROM resolved_events WHERE {within}"
    )
    moved = 0
    try:
        # The names the range holds: a version whose matches name none of them has nothing to
        # do here (most ranges hold one journey's event, and each statement has a fixed cost
        # that the person waiting for their next node waits for).
        present = {row[0] for row in con.execute("SELECT DISTINCT event FROM _jn_ev").fetchall()}
        if not present:
            return 0
        entering = [
            r
            for r in versions
            if r.entering and r.plan.entry_match is not None and _may(r.plan.entry_match, present)
        ]
        if entering:
            new_from = next_ids(con, "journey_state")
            if sum(_enter_from_events(con, tick, r) for r in entering):
                moved += advance(con, tick, f"SELECT * FROM journey_state WHERE id >= {new_from}")
        for r in versions:
            if r.status != "paused":
                _exits_and_goals(con, tick, r, present)
        moved += _release(con, tick, [r for r in versions if r.status != "paused"], present)
    finally:
        con.execute("DROP TABLE IF EXISTS _jn_ev")
    return moved


def _may(match: EventMatch, present: set[str | None]) -> bool:
    """Whether an event of a range holding the event names `present` can meet `match`."""
    return match.event is None or match.event in present


# ------------------------------------------------------------------------------ entering
def _key_sql(plan: Plan, default: str) -> str:
    """The entry key: the re-entry key property's value, else `default`."""
    key = plan.doc.re_entry.key
    if plan.doc.re_entry.mode == "per_key" and key is not None:
        return property_expr(key).sql("duckdb")
    return default


def _enter_from_events(con: duckdb.DuckDBPyConnection, tick: Tick, r: Running) -> int:
    assert r.plan.entry_match is not None
    key = _key_sql(r.plan, "message_id")
    cond = r.plan.entry_match.condition().sql("duckdb")
    return enter(
        con,
        tick,
        r.plan,
        f"SELECT profile_id, {key} AS entry_key, seq AS entry_seq, properties AS entry_props, "
        f"user_id, anonymous_id FROM _jn_ev WHERE seq > {r.live_from_seq} AND {cond}",
    )


def enter(con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, candidates: str) -> int:
    """Enter the people `candidates` selects (profile_id, entry_key, entry_seq, entry_props,
    user_id, anonymous_id) into `plan` at `tick.now`, as its re-entry rule allows: the first
    candidate per person (per person and key for `per_key`). Records their @entry steps; they
    are `run` at the first node, for the caller (or the timers) to advance."""
    rule = plan.doc.re_entry
    same = f"s.journey = {lit(plan.journey)} AND s.profile_id = c.profile_id"
    # The same entry key never enters twice, whatever the rule: handling a range of events
    # again (a resume, a catch-up) enters no one twice.
    blocked = {
        "never": same,
        "always": f"{same} AND (s.{_ACTIVE} OR s.entry_key = c.entry_key)",
        "cooldown": f"{same} AND (s.{_ACTIVE} OR s.entry_key = c.entry_key OR s.exited_at > "
        f"{ts(tick.now)} - to_seconds({rule.cooldown or 0}))",
        "per_key": f"{same} AND s.entry_key = c.entry_key",
    }[rule.mode]
    per = "profile_id, entry_key" if rule.mode == "per_key" else "profile_id"
    return _insert_entries(con, tick, plan, candidates, blocked, per)


def _insert_entries(
    con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, candidates: str, blocked: str, per: str
) -> int:
    now = ts(tick.now)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _jn_in AS
        SELECT * FROM ({candidates}) c
        WHERE entry_key IS NOT NULL AND profile_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM journey_state s WHERE {blocked})
        QUALIFY row_number() OVER (PARTITION BY {per} ORDER BY entry_seq NULLS FIRST) = 1
        """
    )
    n = count(con, "SELECT count(*) FROM _jn_in")
    if n:
        base = next_ids(con, "journey_state")
        con.execute(
            f"""
            INSERT INTO journey_state (id, journey, version, profile_id, entry_key, node, status,
                wake_at, step, listen_from, user_id, anonymous_id, entry_props, entry_seq,
                entered_at, updated_at)
            SELECT {base - 1} + row_number() OVER (ORDER BY entry_seq, profile_id, entry_key),
                {lit(plan.journey)}, {plan.version}, profile_id, entry_key,
                {lit(plan.doc.first_node())}, 'run', {now}, 0,
                coalesce(entry_seq, {tick.seq}), user_id, anonymous_id, entry_props,
                coalesce(entry_seq, {tick.seq}), {now}, {now}
            FROM _jn_in
            """
        )
        con.execute(
            f"""
            INSERT INTO journey_steps
            SELECT {tick.next_step - base} + id, id, '{ENTRY}', 0, journey, version, 'entered',
                NULL, NULL, NULL, entered_at, NULL
            FROM journey_state WHERE id >= {base}
            """
        )
        tick.next_step += n
    con.execute("DROP TABLE _jn_in")
    return n


def enter_members(
    con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, audience: str | None, entry_key: str
) -> int:
    """Enter an audience's members (everyone when None) with one entry key (a scheduled run,
    or publishing with `existing: true`); the timers move them on in batches."""
    people = (
        "SELECT profile_id FROM profiles"
        if audience is None
        else f"SELECT profile_id FROM audience_members WHERE audience = {lit(audience)}"
    )
    return enter(
        con,
        tick,
        plan,
        f"""
        SELECT p.profile_id, {_key_sql(plan, lit(entry_key))} AS entry_key,
            CAST(NULL AS BIGINT) AS entry_seq, CAST(NULL AS JSON) AS entry_props,
            CAST(NULL AS JSON) AS properties, i.user_id, i.anonymous_id
        FROM ({people}) p LEFT JOIN (
            SELECT profile_id, min(value) FILTER (WHERE kind = 'user_id') AS user_id,
                min(value) FILTER (WHERE kind = 'anonymous_id') AS anonymous_id
            FROM identifiers WHERE profile_id IN ({people}) GROUP BY profile_id
        ) i USING (profile_id)
        """,
    )


# ------------------------------------------------------------------------------ leaving
def _hits(r: Running, cond: str, after: str = "s.entry_seq", status: str = _ACTIVE) -> str:
    """Instances of `r`'s version whose person has an event of the range meeting `cond`
    after `after`, with the first such event's seq and time."""
    return (
        f"SELECT s.id, min(e.seq) AS seq, min(e.timestamp) AS ts FROM journey_state s "
        f"JOIN _jn_ev e ON e.profile_id = s.profile_id AND e.seq > coalesce({after}, 0) "
        f"WHERE s.journey = {lit(r.plan.journey)} AND s.version = {r.plan.version} "
        f"AND s.{status} AND ({cond}) GROUP BY s.id"
    )


def _exits_and_goals(
    con: duckdb.DuckDBPyConnection, tick: Tick, r: Running, present: set[str | None]
) -> None:
    """Goals reached and exit rules met by the range's events (`present`: its event names)."""
    doc = r.plan.doc
    goal = r.plan.goal_match
    if goal is not None and doc.goal is not None and _may(goal, present):
        cond = goal.condition().sql("duckdb")
        within = f"s.entered_at + to_seconds({doc.goal.within})"
        now = ts(tick.now)
        con.execute(
            f"UPDATE journey_state SET converted_at = {now} "
            f"FROM ({_hits(r, cond, status=f'converted_at IS NULL AND {within} >= {now} AND true')}) h "
            "WHERE journey_state.id = h.id"
        )
        if doc.exit.on_goal:
            finish(
                con,
                tick,
                f"SELECT id FROM journey_state WHERE journey = {lit(r.plan.journey)} "
                f"AND version = {r.plan.version} AND {_ACTIVE} AND converted_at = {now}",
                "goal",
            )
    if any(_may(m, present) for m in doc.exit.events):
        cond = " OR ".join(f"({m.condition().sql('duckdb')})" for m in doc.exit.events)
        finish(con, tick, _hits(r, cond), "exit_event")
    if any(_may(audience_match(AUDIENCE_EXITED, a), present) for a in doc.exit.audience_left):
        cond = " OR ".join(
            f"({audience_match(AUDIENCE_EXITED, a).condition().sql('duckdb')})"
            for a in doc.exit.audience_left
        )
        finish(con, tick, _hits(r, cond), "audience_left")


def _release(
    con: duckdb.DuckDBPyConnection, tick: Tick, versions: list[Running], present: set[str | None]
) -> int:
    """People waiting for an event that came go on to `on_event`; repeated while the range
    holds later events for the next wait (`present`: the range's event names)."""
    waits = [
        (r, nid, node.event)
        for r in versions
        for nid, node in r.plan.doc.nodes.items()
        if isinstance(node, WaitForEventNode) and _may(node.event, present)
    ]
    if not waits:
        return 0
    moved = 0
    for _round in range(50):
        for r, nid, match in waits:
            # An event after the wait's deadline is not heard: the timeout came first (the
            # timer may run late, after a restart or when behind, but the event's own time
            # decides, as in a dry run's replay).
            hits = _hits(
                r,
                f"({match.condition().sql('duckdb')}) AND e.timestamp <= s.wake_at",
                "s.listen_from",
                f"status = 'listen' AND s.node = {lit(nid)}",
            )
            con.execute(
                f"UPDATE journey_state SET status = 'heard', listen_from = h.seq, "
                f"wake_at = {ts(tick.now)} "
                f"FROM ({hits}) h WHERE journey_state.id = h.id"
            )
        heard = count(con, "SELECT count(*) FROM journey_state WHERE status = 'heard'")
        if not heard:
            break
        moved += advance(con, tick, "SELECT * FROM journey_state WHERE status = 'heard'")
    return moved


def time_limits(con: duckdb.DuckDBPyConnection, tick: Tick, versions: list[Running]) -> int:
    """End the journeys of people in longer than `exit.max_time`; run due scheduled entries."""
    ended = 0
    now = ts(tick.now)
    for r in versions:
        limit = r.plan.doc.exit.max_time
        if limit is not None and r.status != "paused":
            ended += finish(
                con,
                tick,
                f"SELECT id, entered_at + to_seconds({limit}) AS ts FROM journey_state "
                f"WHERE journey = {lit(r.plan.journey)} AND version = {r.plan.version} "
                f"AND {_ACTIVE} AND entered_at + to_seconds({limit}) <= {now}",
                "max_time",
                at="x.ts",
            )
    for r in versions:
        entry = r.plan.doc.entry
        if r.entering and isinstance(entry, ScheduleEntry):
            _scheduled(con, tick, r, entry)
    return ended


def _scheduled(
    con: duckdb.DuckDBPyConnection, tick: Tick, r: Running, entry: ScheduleEntry
) -> None:
    """Enter the schedule's people when its time has come; `journeys.next_run_at` is set when
    the version is published and cleared after the last run."""
    row = one(con, "SELECT next_run_at FROM journeys WHERE name = ?", [r.plan.journey])
    due = row[0] if row else None
    if due is None or due > tick.now:
        return
    enter_members(con, tick, r.plan, entry.audience, "schedule:" + due.isoformat())
    nxt = None
    if entry.every:
        nxt = due + timedelta(seconds=entry.every)
        while nxt <= tick.now:
            nxt += timedelta(seconds=entry.every)
    con.execute("UPDATE journeys SET next_run_at = ? WHERE name = ?", [nxt, r.plan.journey])
