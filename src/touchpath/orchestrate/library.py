"""Journeys as the user manages them: save versions, publish one, pause, resume, archive, look.

Saving adds a draft version; publishing makes a version the one people enter. People already
in the journey stay on their version unless publishing moves them with an explicit node mapping
(`move={"old_node": "new_node"}`). Pausing stops entries and moves; resuming picks up the
events that came meanwhile for people waiting on one (entries of the paused time are not made
up). Archiving stops entries and lets the people in it finish (drain).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import duckdb
from pydantic import BaseModel

from touchpath.errors import BadRequest, NotFound, SpecError
from touchpath.identity import profile_id_for
from touchpath.maps.library import get_map
from touchpath.orchestrate.document import (
    AudienceEntry,
    Journey,
    Problem,
    ScheduleEntry,
    dump_journey,
    load_journey,
    parse_journey,
    problems_in,
)
from touchpath.orchestrate.engine import ACTIVE, Tick, advance, next_ids
from touchpath.orchestrate.moves import enter, enter_members, on_events
from touchpath.orchestrate.plan import Plan, resolve
from touchpath.orchestrate.service import JourneyEngine
from touchpath.orchestrate.sql import lit, one

__all__ = [
    "Entered",
    "JourneyDetail",
    "JourneySummary",
    "Published",
    "Status",
    "VersionInfo",
    "archive",
    "check",
    "enter_person",
    "get_journey",
    "list_journeys",
    "pause",
    "plan_of",
    "problems",
    "profile_of",
    "publish",
    "resume",
    "save_journey",
]

Status = Literal["draft", "live", "paused", "archived"]
_ACTIVE = f"status IN ({', '.join(lit(s) for s in ACTIVE)})"


class VersionInfo(BaseModel):
    version: int
    created_at: datetime
    published_at: datetime | None = None
    live: bool = False
    in_flight: int = 0
    """People in the journey on this version now."""


class JourneySummary(BaseModel):
    name: str
    title: str | None = None
    status: Status
    live_version: int | None = None
    latest_version: int
    entry: str
    """The entry's kind."""
    in_flight: int = 0
    entered: int = 0
    converted: int = 0
    updated_at: datetime


class JourneyDetail(JourneySummary):
    version: int
    """The version shown."""
    yaml: str
    definition: Journey
    versions: list[VersionInfo]


class Published(BaseModel):
    name: str
    version: int
    status: Status
    entered: int = 0
    """People who entered on publishing (`existing: true` audience entries)."""
    moved: int = 0
    """People in flight moved to this version by the node mapping."""


class Entered(BaseModel):
    entered: bool
    """False when the re-entry rule kept the person out."""
    instance: int | None = None
    profile_id: str
    entry_key: str
    node: str | None = None
    status: str | None = None


# ------------------------------------------------------------------------------ saving
def save_journey(engine: JourneyEngine, doc: Journey, text: str | None = None) -> int:
    """Save `doc` as a new (draft) version and return its number."""
    yaml_text = text if text is not None else dump_journey(doc)
    now = engine.clock.now()

    def save(con: duckdb.DuckDBPyConnection) -> int:
        row = one(
            con,
            "SELECT coalesce(max(version), 0) + 1 FROM journey_versions WHERE journey = ?",
            [doc.name],
        )
        version = int(row[0]) if row else 1
        con.execute(
            "INSERT INTO journey_versions (journey, version, yaml, created_at) VALUES (?, ?, ?, ?)",
            [doc.name, version, yaml_text, now],
        )
        con.execute(
            "INSERT INTO journeys (name, status, created_at, updated_at) VALUES (?, 'draft', ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
            [doc.name, now, now],
        )
        return version

    return engine.store.write_sync(save)


def problems(engine: JourneyEngine, data: Any) -> list[Problem]:
    """Everything wrong with a document (decoded YAML or JSON), by path and node: its shape,
    then what it refers to in this store. Empty when it can be published."""
    try:
        doc = data if isinstance(data, Journey) else parse_journey(data)
        check(engine, doc)
    except SpecError as exc:
        return problems_in(exc)
    return []


def check(engine: JourneyEngine, doc: Journey) -> Plan:
    """Resolve what `doc` refers to in this store (map touchpoints, destinations' channels,
    audiences); raises SpecError naming what is missing."""
    with engine.store.reading() as cur:
        plan = resolve(cur, doc, 0, lambda name: get_map(engine.store, name)[0])
        audiences = {str(r[0]) for r in cur.execute("SELECT name FROM audiences").fetchall()}
    wanted: list[tuple[str, str]] = []
    if isinstance(doc.entry, AudienceEntry):
        wanted.append(("entry.audience", doc.entry.audience))
    if isinstance(doc.entry, ScheduleEntry) and doc.entry.audience:
        wanted.append(("entry.audience", doc.entry.audience))
    wanted += [(f"exit.audience_left[{i}]", a) for i, a in enumerate(doc.exit.audience_left)]
    problems = [f"{path}: no audience {name!r}" for path, name in wanted if name not in audiences]
    if problems:
        raise SpecError("; ".join(problems))
    return plan


def _version_row(con: duckdb.DuckDBPyConnection, name: str, version: int | None) -> tuple[int, str]:
    sql = "SELECT version, yaml FROM journey_versions WHERE journey = ?"
    params: list[Any] = [name]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    row = one(con, sql + " ORDER BY version DESC LIMIT 1", params)
    if row is None:
        if version is not None and _exists(con, name):
            raise NotFound(f"journey {name!r}: no version {version}")
        raise NotFound(f"journey {name!r}: no such journey")
    return int(row[0]), str(row[1])


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT 1 FROM journeys WHERE name = ?", [name]).fetchall())


# ------------------------------------------------------------------------------ publishing
def publish(
    engine: JourneyEngine,
    name: str,
    version: int | None = None,
    move: Mapping[str, str] | None = None,
) -> Published:
    """Make a version (the latest by default) the live one. People in flight stay on their
    versions, except those `move` maps from a node to a node of this version."""
    with engine.store.reading() as cur:
        v, text = _version_row(cur, name, version)
    doc = load_journey(text)
    plan = check(engine, doc)
    plan = Plan(name, v, doc, plan.entry_match, plan.goal_match, plan.channels)
    for old, new in (move or {}).items():
        if new not in doc.nodes:
            raise BadRequest(f"move.{old}: version {v} has no node {new!r}")

    def run(con: duckdb.DuckDBPyConnection, tick: Tick) -> Published:
        con.execute(
            "UPDATE journey_versions SET plan = ?, published_at = coalesce(published_at, ?) "
            "WHERE journey = ? AND version = ?",
            [plan.to_json(), tick.now, name, v],
        )
        schedule = doc.entry.start if isinstance(doc.entry, ScheduleEntry) else None
        con.execute(
            "UPDATE journeys SET status = 'live', live_version = ?, live_from_seq = ?, "
            "next_run_at = ?, updated_at = ? WHERE name = ?",
            [v, tick.seq, schedule, tick.now, name],
        )
        moved = _move(con, tick, plan, dict(move or {})) if move else 0
        entered = 0
        if isinstance(doc.entry, AudienceEntry) and doc.entry.existing:
            entered = enter_members(
                con, tick, plan, doc.entry.audience, f"audience:{doc.entry.audience}:v{v}"
            )
        return Published(name=name, version=v, status="live", entered=entered, moved=moved)

    return engine.write(run)


def _move(con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, move: dict[str, str]) -> int:
    """Move people in flight on other versions to `plan`'s version at the mapped nodes: they
    keep waiting or listening when the new node is of the same kind, else run it now."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _jm AS
        SELECT id, version AS from_version, node AS from_node, step FROM journey_state
        WHERE journey = {lit(plan.journey)} AND version <> {plan.version} AND {_ACTIVE}
            AND node IN ({", ".join(lit(n) for n in move)})
        """
    )
    kinds = []
    for version, node in con.execute("SELECT DISTINCT from_version, from_node FROM _jm").fetchall():
        old = tick.plans(plan.journey, int(version)).doc.nodes.get(node)
        same = old is not None and old.kind == plan.doc.nodes[move[node]].kind
        kinds.append(f"(from_version = {int(version)} AND from_node = {lit(node)} AND {same})")
    same_kind = " OR ".join(kinds) or "false"
    target = "CASE " + " ".join(f"WHEN from_node = {lit(a)} THEN {lit(b)}" for a, b in move.items())
    now = f"TIMESTAMP '{tick.now.isoformat(sep=' ')}'"
    (n,) = one(con, "SELECT count(*) FROM _jm") or (0,)
    con.execute(
        f"""
        INSERT INTO journey_steps
        SELECT {tick.next_step - 1} + row_number() OVER (ORDER BY id), id, {target} END,
            step + 1, {lit(plan.journey)}, {plan.version}, 'moved', from_node, 'publish', NULL, {now},
            json_object('from_version', from_version, 'from_node', from_node)
        FROM _jm
        """
    )
    tick.next_step += int(n)
    con.execute(
        f"""
        UPDATE journey_state SET version = {plan.version}, node = {target} END,
            step = m.step + 1, updated_at = {now},
            status = CASE WHEN {same_kind} THEN journey_state.status ELSE 'run' END,
            wake_at = CASE WHEN {same_kind} THEN journey_state.wake_at ELSE {now} END
        FROM _jm m WHERE journey_state.id = m.id
        """
    )
    con.execute("DROP TABLE _jm")
    return int(n)


def _set_status(engine: JourneyEngine, name: str, status: Status, allowed: tuple[str, ...]) -> str:
    def run(con: duckdb.DuckDBPyConnection) -> str:
        row = one(con, "SELECT status FROM journeys WHERE name = ?", [name])
        if row is None:
            raise NotFound(f"journey {name!r}: no such journey")
        if row[0] == status:
            raise BadRequest(f"journey {name!r}: already {status}")
        if row[0] not in allowed:
            raise BadRequest(
                f"journey {name!r}: is {row[0]}; only a journey that is "
                f"{' or '.join(allowed)} can be set {status}"
            )
        con.execute(
            "UPDATE journeys SET status = ?, updated_at = ? WHERE name = ?",
            [status, engine.clock.now(), name],
        )
        return str(row[0])

    return engine.store.write_sync(run)


def pause(engine: JourneyEngine, name: str) -> None:
    """Stop entries and moves; people stay where they are."""
    _set_status(engine, name, "paused", ("live",))


def archive(engine: JourneyEngine, name: str) -> None:
    """Stop entries; people in the journey go on to its end (it drains)."""
    _set_status(engine, name, "archived", ("live", "paused"))


def resume(engine: JourneyEngine, name: str) -> None:
    """Go on after a pause: people whose awaited event came meanwhile move on now, timers that
    fell due run; no one enters for the events of the paused time."""
    _set_status(engine, name, "live", ("paused",))

    def run(con: duckdb.DuckDBPyConnection, tick: Tick) -> None:
        con.execute("UPDATE journeys SET live_from_seq = ? WHERE name = ?", [tick.seq, name])
        row = one(
            con,
            "SELECT min(listen_from) FROM journey_state WHERE journey = ? AND status = 'listen'",
            [name],
        )
        if row and row[0] is not None and int(row[0]) < tick.seq:
            on_events(con, tick, int(row[0]) + 1, tick.seq, only=name)

    engine.write(run)


# ------------------------------------------------------------------------------ entering
def enter_person(
    engine: JourneyEngine,
    name: str,
    *,
    profile_id: str | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    key: str | None = None,
    properties: Mapping[str, Any] | None = None,
) -> Entered:
    """Enter one person (by profile, user or anonymous id) into a live journey now, as an API
    entry; `key` makes the call idempotent (the same key enters once)."""
    if not (profile_id or user_id or anonymous_id):
        raise BadRequest("profile_id, user_id or anonymous_id: one is required")
    props = json.dumps(dict(properties or {}))

    def run(con: duckdb.DuckDBPyConnection, tick: Tick) -> Entered:
        row = one(con, "SELECT status, live_version FROM journeys WHERE name = ?", [name])
        if row is None:
            raise NotFound(f"journey {name!r}: no such journey")
        if row[0] != "live":
            raise BadRequest(f"journey {name!r}: is {row[0]}; people enter a live journey only")
        plan = tick.plans(name, int(row[1]))
        pid = profile_id or profile_of(con, user_id, anonymous_id)
        entry_key = key or f"api:{tick.now.isoformat()}"
        if plan.doc.re_entry.mode == "per_key" and plan.doc.re_entry.key:
            found = (properties or {}).get(plan.doc.re_entry.key)
            if found is None:
                raise BadRequest(
                    f"properties.{plan.doc.re_entry.key}: required (the journey "
                    "enters once per key)"
                )
            entry_key = str(found)
        base = next_ids(con, "journey_state")
        n = enter(
            con,
            tick,
            plan,
            f"SELECT {lit(pid)} AS profile_id, {lit(entry_key)} AS entry_key, "
            f"CAST(NULL AS BIGINT) AS entry_seq, CAST({lit(props)} AS JSON) AS entry_props, "
            f"{lit(user_id)} AS user_id, {lit(anonymous_id)} AS anonymous_id",
        )
        if not n:
            return Entered(entered=False, profile_id=pid, entry_key=entry_key)
        advance(con, tick, f"SELECT * FROM journey_state WHERE id >= {base}")
        state = one(con, "SELECT id, node, status FROM journey_state WHERE id = ?", [base])
        assert state is not None
        return Entered(
            entered=True,
            instance=int(state[0]),
            profile_id=pid,
            entry_key=entry_key,
            node=str(state[1]),
            status=str(state[2]),
        )

    return engine.write(run)


def profile_of(con: duckdb.DuckDBPyConnection, user_id: str | None, anon: str | None) -> str:
    """The profile of a user or anonymous id: identity's, or, for someone identity has not
    seen yet, the id identity gives a profile created by that identifier."""
    for kind, value in (("user_id", user_id), ("anonymous_id", anon)):
        if value:
            row = one(
                con,
                "SELECT profile_id FROM identifiers WHERE kind = ? AND value = ?",
                [kind, value],
            )
            if row:
                return str(row[0])
    return (
        profile_id_for("user_id", user_id)
        if user_id
        else profile_id_for("anonymous_id", anon or "")
    )


def plan_of(engine: JourneyEngine, name: str, version: int | None = None) -> Plan:
    """The plan of a version: the live one by default; a draft is resolved as publishing
    would."""
    with engine.store.reading() as cur:
        if version is None:
            row = one(cur, "SELECT live_version FROM journeys WHERE name = ?", [name])
            version = int(row[0]) if row and row[0] is not None else None
        v, text = _version_row(cur, name, version)
        published = one(
            cur,
            "SELECT plan IS NOT NULL FROM journey_versions WHERE journey = ? AND version = ?",
            [name, v],
        )
        if published and published[0]:
            return engine.plans(cur)(name, v)
    plan = check(engine, load_journey(text))
    return Plan(name, v, plan.doc, plan.entry_match, plan.goal_match, plan.channels)


# ------------------------------------------------------------------------------ reading
_SUMMARY = f"""
SELECT j.name, j.status, j.live_version, j.updated_at, v.latest, v.yaml,
    coalesce(c.in_flight, 0), coalesce(c.entered, 0), coalesce(c.converted, 0)
FROM journeys j
JOIN (SELECT journey, max(version) AS latest, arg_max(yaml, version) AS yaml
      FROM journey_versions GROUP BY journey) v ON v.journey = j.name
LEFT JOIN (SELECT journey, count(*) FILTER (WHERE {_ACTIVE}) AS in_flight, count(*) AS entered,
                  count(converted_at) AS converted
           FROM journey_state GROUP BY journey) c ON c.journey = j.name
"""


def _summary(row: tuple[Any, ...]) -> dict[str, Any]:
    doc = load_journey(row[5])
    return {
        "name": row[0],
        "status": row[1],
        "live_version": row[2],
        "updated_at": row[3],
        "latest_version": int(row[4]),
        "title": doc.title,
        "entry": doc.entry.kind,
        "in_flight": int(row[6]),
        "entered": int(row[7]),
        "converted": int(row[8]),
    }


def list_journeys(engine: JourneyEngine) -> list[JourneySummary]:
    """Every journey with its status and how many people are in it, entered and converted."""
    rows = engine.store.query(_SUMMARY + " ORDER BY j.name")
    return [JourneySummary(**_summary(r)) for r in rows]


def get_journey(engine: JourneyEngine, name: str, version: int | None = None) -> JourneyDetail:
    """One journey: a version's document (the latest by default) and every version."""
    with engine.store.reading() as cur:
        rows = cur.execute(_SUMMARY + " WHERE j.name = ?", [name]).fetchall()
        if not rows:
            raise NotFound(f"journey {name!r}: no such journey")
        v, text = _version_row(cur, name, version)
        versions = cur.execute(
            f"""
            SELECT v.version, v.created_at, v.published_at, v.version = j.live_version,
                (SELECT count(*) FROM journey_state s
                 WHERE s.journey = v.journey AND s.version = v.version AND s.{_ACTIVE})
            FROM journey_versions v JOIN journeys j ON j.name = v.journey
            WHERE v.journey = ? ORDER BY v.version
            """,
            [name],
        ).fetchall()
    doc = load_journey(text)
    return JourneyDetail(
        **_summary(rows[0]),
        version=v,
        yaml=text,
        definition=doc,
        versions=[
            VersionInfo(
                version=int(r[0]),
                created_at=r[1],
                published_at=r[2],
                live=bool(r[3]),
                in_flight=int(r[4]),
            )
            for r in versions
        ],
    )
