"""Audiences: profiles meeting a condition on traits, computed traits and performed events.

A condition compiles to one SQL query: every leaf becomes a LEFT JOINed subquery giving one
value per profile, and AND/OR/NOT combine the leaf tests. Entering and leaving are appended to
the event log as `Audience Entered` / `Audience Exited` tracks (properties.audience) from the
`touchpath.audiences` source, with deterministic messageIds, so journeys can trigger on them.

A static audience is a saved list of profiles (e.g. a funnel's drop-offs, `save_static`): it
enters and exits the same way, but refreshes never recompute it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from touchpath.errors import BadRequest, NotFound
from touchpath.events.match import compare, literal
from touchpath.events.message import Staged, stage_messages
from touchpath.profiles.specs import (
    NAME,
    AllOf,
    AnyOf,
    Audience,
    ComputedCondition,
    Condition,
    Not,
    Performed,
    TraitCondition,
    parse_spec,
    spec_json,
)

__all__ = [
    "ENTERED",
    "EXITED",
    "SYSTEM_SOURCE",
    "Change",
    "audience_rows",
    "audience_sql",
    "define_audience",
    "list_audiences",
    "listed",
    "refresh_audiences",
    "remove_audience",
    "save_static",
    "stage_changes",
]

SYSTEM_SOURCE = "touchpath.audiences"
ENTERED = "Audience Entered"
EXITED = "Audience Exited"
_COUNTED = ("count", "unique_count", "sum")


@dataclass(frozen=True)
class Change:
    """A profile entering or leaving an audience."""

    audience: str
    profile_id: str
    entered: bool


class _Compiler:
    def __init__(self, con: duckdb.DuckDBPyConnection, now: datetime, events: str) -> None:
        self.con = con
        self.now = now
        self.events = events
        self.joins: list[str] = []
        self._computed_ops: dict[str, str] | None = None

    def leaf(self, sql: str) -> str:
        alias = f"l{len(self.joins)}"
        self.joins.append(f"LEFT JOIN ({sql}) {alias} ON {alias}.profile_id = p.profile_id")
        return alias

    def computed_op(self, name: str) -> str:
        if self._computed_ops is None:
            rows = self.con.execute("SELECT name, spec ->> '$.op' FROM computed_traits").fetchall()
            self._computed_ops = {n: op for n, op in rows}
        if name not in self._computed_ops:
            raise NotFound(f"computed trait {name!r}: no such computed trait")
        return self._computed_ops[name]

    def compile(self, cond: Condition) -> exp.Expr:
        if isinstance(cond, AllOf):
            return exp.and_(*[exp.Paren(this=self.compile(c)) for c in cond.all])
        if isinstance(cond, AnyOf):
            return exp.or_(*[exp.Paren(this=self.compile(c)) for c in cond.any])
        if isinstance(cond, Not):
            return exp.Not(this=exp.Paren(this=self.compile(cond.cond)))
        if isinstance(cond, Performed):
            where = cond.event.condition()
            if cond.within is not None:
                start = self.now - timedelta(seconds=cond.within)
                where = exp.and_(
                    where,
                    exp.GTE(
                        this=exp.column("timestamp"),
                        expression=exp.cast(
                            literal(start.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP")
                        ),
                    ),
                )
            alias = self.leaf(
                f"SELECT profile_id, count(*) AS v FROM {self.events} "
                f"WHERE {where.sql('duckdb')} GROUP BY profile_id"
            )
            n = exp.func("coalesce", exp.column("v", alias), exp.Literal.number(0))
            parts: list[exp.Expr] = []
            if cond.at_least is not None:
                parts.append(exp.GTE(this=n, expression=exp.Literal.number(cond.at_least)))
            if cond.at_most is not None:
                parts.append(exp.LTE(this=n, expression=exp.Literal.number(cond.at_most)))
            return exp.and_(*parts)
        if isinstance(cond, TraitCondition):
            alias = self.leaf(
                "SELECT profile_id, value ->> '$' AS v FROM profile_traits WHERE name = "
                + literal(cond.trait).sql("duckdb")
            )
            return compare(exp.column("v", alias), cond.op, cond.value)
        assert isinstance(cond, ComputedCondition)
        op = self.computed_op(cond.trait)
        alias = self.leaf(
            "SELECT profile_id, value ->> '$' AS v FROM computed_trait_values WHERE name = "
            + literal(cond.trait).sql("duckdb")
        )
        zero = 0 if op in _COUNTED else None
        return compare(exp.column("v", alias), cond.op, cond.value, default=zero)


def audience_sql(
    con: duckdb.DuckDBPyConnection,
    audience: Audience,
    now: datetime,
    scope: str | None,
    events: str = "resolved_events",
) -> str:
    """SELECT profile_id of the members of `audience` among the profiles in `scope`; performed
    conditions read `events` (resolved_events, or a table holding the scope's events)."""
    comp = _Compiler(con, now, events)
    cond = comp.compile(audience.condition).sql("duckdb")
    base = "profiles" if scope is None else f"(SELECT DISTINCT profile_id FROM {scope})"
    return f"SELECT p.profile_id FROM {base} p {' '.join(comp.joins)} WHERE coalesce({cond}, false)"


def list_audiences(con: duckdb.DuckDBPyConnection) -> list[Audience]:
    """Every rule-based audience, by name (static ones have no condition to evaluate)."""
    rows = con.execute(
        "SELECT name, spec FROM audiences WHERE kind = 'rule' ORDER BY name"
    ).fetchall()
    return [parse_spec(Audience, json.loads(s), f"audience {n!r}") for n, s in rows]


def audience_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every audience, rule-based and static, by name: name, kind, size, spec, created_at."""
    rows = con.execute(
        "SELECT a.name, a.kind, count(m.profile_id) AS size, a.spec, a.created_at "
        "FROM audiences a LEFT JOIN audience_members m ON m.audience = a.name "
        "GROUP BY ALL ORDER BY a.name"
    ).fetchall()
    return [
        {"name": n, "kind": k, "size": int(size), "spec": json.loads(spec), "created_at": at}
        for n, k, size, spec, at in rows
    ]


def listed(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Audiences as listed (CLI and REST): a rule's spec, or a static one's origin, with its
    kind and size."""
    rules = {a.name: a.model_dump(mode="json") for a in list_audiences(con)}
    rows = audience_rows(con)
    return [{**rules.get(r["name"], r["spec"]), "kind": r["kind"], "size": r["size"]} for r in rows]


def _kind_of(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    rows = con.execute("SELECT kind FROM audiences WHERE name = ?", [name]).fetchall()
    return str(rows[0][0]) if rows else None


def define_audience(con: duckdb.DuckDBPyConnection, audience: Audience, now: datetime) -> None:
    """Create or replace an audience (its membership is computed by the next refresh)."""
    if _kind_of(con, audience.name) == "static":
        raise BadRequest(
            f"audience {audience.name!r}: a static audience; remove it before defining a rule"
        )
    audience_sql(con, audience, now, None)  # fails early on unknown computed traits
    con.execute(
        "INSERT OR REPLACE INTO audiences (name, spec, created_at, kind) VALUES (?, ?, ?, 'rule')",
        [audience.name, spec_json(audience), now],
    )


def save_static(
    con: duckdb.DuckDBPyConnection,
    name: str,
    profiles_sql: str,
    now: datetime,
    origin: dict[str, Any] | None = None,
) -> list[Change]:
    """Save the profiles `profiles_sql` selects (one column of profile ids) as static audience
    `name`, creating or replacing it, and return who entered and left (for `stage_changes`).

    `origin` says where the list came from (e.g. the funnel and step); it is kept as the spec.
    Refreshes and settling leave a static audience's members alone.
    """
    if not re.match(NAME, name):
        raise BadRequest(f"audience name {name!r}: use letters, digits, _ . - and spaces (1-100)")
    if _kind_of(con, name) == "rule":
        raise BadRequest(
            f"audience {name!r}: a rule-based audience; remove it or pick another name"
        )
    spec = json.dumps({"name": name, "kind": "static", "origin": origin or {}}, sort_keys=True)
    con.execute(
        "INSERT OR REPLACE INTO audiences (name, spec, created_at, kind) VALUES (?, ?, ?, 'static')",
        [name, spec, now],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _static AS "
        f"SELECT DISTINCT CAST(pid AS VARCHAR) AS profile_id FROM ({profiles_sql}) t(pid) "
        "WHERE pid IS NOT NULL"
    )
    try:
        left = con.execute(
            "DELETE FROM audience_members WHERE audience = ? "
            "AND profile_id NOT IN (SELECT profile_id FROM _static) RETURNING profile_id",
            [name],
        ).fetchall()
        entered = con.execute(
            "INSERT INTO audience_members SELECT ?, profile_id, ? FROM _static "
            "WHERE profile_id NOT IN (SELECT profile_id FROM audience_members WHERE audience = ?) "
            "RETURNING profile_id",
            [name, now, name],
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _static")
    return [Change(name, p, False) for (p,) in sorted(left)] + [
        Change(name, p, True) for (p,) in sorted(entered)
    ]


def remove_audience(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete an audience and its memberships (no exit events)."""
    if not con.execute("SELECT 1 FROM audiences WHERE name = ?", [name]).fetchall():
        raise NotFound(f"audience {name!r}: no such audience")
    con.execute("DELETE FROM audience_members WHERE audience = ?", [name])
    con.execute("DELETE FROM audiences WHERE name = ?", [name])


def refresh_audiences(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    scope: str | None,
    names: list[str] | None = None,
    events: str = "resolved_events",
) -> list[Change]:
    """Recompute memberships for the profiles in `scope` and return who entered and left."""
    changes: list[Change] = []
    for aud in list_audiences(con):
        if names is not None and aud.name not in names:
            continue
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _members AS {audience_sql(con, aud, now, scope, events)}"
        )
        scoped = "" if scope is None else f"AND profile_id IN (SELECT profile_id FROM {scope})"
        left = con.execute(
            f"DELETE FROM audience_members WHERE audience = ? {scoped} "
            "AND profile_id NOT IN (SELECT profile_id FROM _members) RETURNING profile_id",
            [aud.name],
        ).fetchall()
        entered = con.execute(
            "INSERT INTO audience_members SELECT ?, profile_id, ? FROM _members "
            "WHERE profile_id NOT IN (SELECT profile_id FROM audience_members WHERE audience = ?) "
            "RETURNING profile_id",
            [aud.name, now, aud.name],
        ).fetchall()
        changes += [Change(aud.name, p, False) for (p,) in sorted(left)]
        changes += [Change(aud.name, p, True) for (p,) in sorted(entered)]
        con.execute("DROP TABLE _members")
    return changes


def _fallback_ids(profile_id: str) -> tuple[str | None, str | None]:
    """User or anonymous id of a profile identity has not resolved yet ('u:<id>', 'a:<id>')."""
    prefix, _, value = profile_id.partition(":")
    if prefix == "u" and value:
        return value, None
    if prefix == "a" and value:
        return None, value
    return None, None


def stage_changes(
    con: duckdb.DuckDBPyConnection, changes: list[Change], trigger: int, now: datetime
) -> Staged | None:
    """The Audience Entered/Exited messages for `changes`, keyed by the seq that caused them."""
    if not changes:
        return None
    pids = sorted({c.profile_id for c in changes})
    con.register("_pids_in", pa.table({"profile_id": pa.array(pids, pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE _pids AS SELECT * FROM _pids_in")
    con.unregister("_pids_in")
    who = {
        pid: (uid, anon)
        for pid, uid, anon in con.execute(
            "SELECT profile_id, min(value) FILTER (WHERE kind = 'user_id'), "
            "min(value) FILTER (WHERE kind = 'anonymous_id') FROM identifiers "
            "WHERE profile_id IN (SELECT profile_id FROM _pids) GROUP BY profile_id"
        ).fetchall()
    }
    con.execute("DROP TABLE _pids")
    raws: list[bytes] = []
    stamp = now.isoformat() + "Z"
    for c in changes:
        uid, anon = who.get(c.profile_id) or _fallback_ids(c.profile_id)
        if uid is None and anon is None:
            continue
        event = ENTERED if c.entered else EXITED
        key = f"{c.audience}|{c.profile_id}|{event}|{trigger}"
        msg: dict[str, Any] = {
            "type": "track",
            "event": event,
            "messageId": "aud-" + hashlib.sha256(key.encode()).hexdigest()[:32],
            "timestamp": stamp,
            "properties": {"audience": c.audience, "profile_id": c.profile_id},
            "context": {"library": {"name": "touchpath-audiences"}},
        }
        if uid is not None:
            msg["userId"] = uid
        else:
            msg["anonymousId"] = anon
        raws.append(json.dumps(msg).encode())
    if not raws:
        return None
    return stage_messages(raws, source=SYSTEM_SOURCE, received_at=now)
