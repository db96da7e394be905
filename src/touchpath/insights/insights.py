"""Saved insights: a name, a description and an analysis spec of any kind of the runtime
(`touchpath.analytics.registry`), in the `insights` table (migration 850). The spec is checked
by the registry when saved and again when run; the result is never stored, so an insight read
tomorrow counts tomorrow's events.

>>> name_problem("Checkout, web vs app")
>>> name_problem(" ")
'must not be blank'
>>> name_problem("a/b")
"must not contain '/' (it is part of the insight's address)"
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb
import orjson
from pydantic import Field, field_validator

from touchpath.analytics import registry
from touchpath.analytics.spec import Result, Spec, parse
from touchpath.errors import NotFound, Problem, SpecError
from touchpath.events.match import Frozen
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = [
    "Insight",
    "delete_insight",
    "get_insight",
    "list_insights",
    "name_problem",
    "run_insight",
    "save_insight",
    "spec_of",
]

NAME_MAX = 100


def name_problem(name: str) -> str | None:
    """Why `name` cannot name an insight or a dashboard, or None when it can. Any text a person
    would type is allowed (spaces, capitals, punctuation) but blanks, control characters and
    '/', which would break its address (`/api/insights/{name}`)."""
    if not name.strip():
        return "must not be blank"
    if name != name.strip():
        return "must not start or end with a space"
    if "/" in name:
        return "must not contain '/' (it is part of the insight's address)"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "must not contain control characters"
    if len(name) > NAME_MAX:
        return f"at most {NAME_MAX} characters"
    return None


class Insight(Frozen):
    """A saved insight: the analysis spec (only the fields that differ from their defaults, and
    its `kind`) under a name."""

    name: str
    description: str = ""
    kind: str = Field(description="The analysis kind (GET /api/analyses lists them).")
    spec: dict[str, Any] = Field(description="The spec, as POST /api/analyses/{kind} takes it.")
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        problem = name_problem(v)
        if problem is not None:
            raise ValueError(f"{v!r}: {problem}")
        return v


def spec_of(data: Any, kind: str | None = None) -> Spec:
    """The spec validated by the registry (`kind` from the spec, or the one given); its
    problems' paths start with `spec` (`spec.steps[1].event`), as in the saved insight."""
    if not isinstance(data, Spec | Mapping):
        raise SpecError(f"spec: expected a mapping, got {type(data).__name__}")
    try:
        return registry.parse(data, kind)
    except SpecError as exc:
        problems = [Problem(p.code, _under(p.path), p.problem) for p in exc.problems]
        raise SpecError(problems=problems) from None


def _under(path: str) -> str:
    """A problem's path inside the insight: `steps[1].event` -> `spec.steps[1].event`."""
    return "spec" if not path else "spec" + path if path.startswith("[") else f"spec.{path}"


def _stored(spec: Spec) -> dict[str, Any]:
    data: dict[str, Any] = spec.model_dump(mode="json", exclude_defaults=True)
    return {"kind": spec.kind, **{k: v for k, v in data.items() if k != "kind"}}


def save_insight(
    store: Store, name: str, spec: Spec | Mapping[str, Any], description: str = ""
) -> Insight:
    """Create or replace insight `name` (its creation time is kept). The spec is validated
    by the registry first: a bad one raises SpecError with the path of each problem."""
    checked = spec_of(spec)
    entry = parse(
        Insight,
        {"name": name, "description": description, "kind": checked.kind, "spec": _stored(checked)},
    )

    def save(con: duckdb.DuckDBPyConnection) -> Insight:
        now = utcnow()
        row = con.execute("SELECT created_at FROM insights WHERE name = ?", [name]).fetchone()
        created = row[0] if row else now
        con.execute("DELETE FROM insights WHERE name = ?", [name])
        con.execute(
            "INSERT INTO insights VALUES (?, ?, ?, ?, ?, ?)",
            [name, description, checked.kind, orjson.dumps(entry.spec).decode(), created, now],
        )
        return entry.model_copy(update={"created_at": created, "updated_at": now})

    return store.write_sync(save)


def _entry(row: tuple[Any, ...]) -> Insight:
    name, description, kind, spec, created, updated = row
    return Insight(
        name=name,
        description=description,
        kind=kind,
        spec=orjson.loads(spec),
        created_at=created,
        updated_at=updated,
    )


def _missing(store: Store, what: str, name: str, table: str) -> NotFound:
    names = [r[0] for r in store.query(f"SELECT name FROM {table} ORDER BY name LIMIT 20")]
    known = f"saved: {', '.join(names)}" if names else "none is saved yet"
    return NotFound(f"{what} {name!r}: not found ({known})")


def get_insight(store: Store, name: str) -> Insight:
    """The saved insight `name`; NotFound names the saved ones."""
    rows = store.query("SELECT * FROM insights WHERE name = ?", [name])
    if not rows:
        raise _missing(store, "insight", name, "insights")
    return _entry(rows[0])


def list_insights(store: Store, kind: str | None = None) -> list[Insight]:
    """Every saved insight (of `kind` when given), newest change first."""
    where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
    rows = store.query(f"SELECT * FROM insights {where} ORDER BY updated_at DESC, name", params)
    return [_entry(r) for r in rows]


def delete_insight(store: Store, name: str) -> list[str]:
    """Delete insight `name` and take it off every dashboard, in one transaction; return the
    dashboards it was on (NotFound when there is no such insight)."""
    get_insight(store, name)

    def delete(con: duckdb.DuckDBPyConnection) -> list[str]:
        on = con.execute(
            "SELECT DISTINCT dashboard FROM dashboard_tiles WHERE insight = ? ORDER BY 1", [name]
        ).fetchall()
        con.execute("DELETE FROM dashboard_tiles WHERE insight = ?", [name])
        con.execute("DELETE FROM insights WHERE name = ?", [name])
        return [r[0] for r in on]

    return store.write_sync(delete)


def run_insight(store: Store, name: str) -> Result:
    """The saved insight's result, read now through the registry (stamped with `as_of` and
    `source`). A spec that no longer validates (an analysis changed) raises SpecError naming
    the insight."""
    insight = get_insight(store, name)
    try:
        spec = registry.parse(insight.spec)
    except SpecError as exc:
        raise SpecError(f"insight {name!r}: the saved spec no longer validates: {exc}") from None
    return registry.run(store, spec)
