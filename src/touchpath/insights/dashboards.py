"""Dashboards: a name, a description and saved insights in order (tables `dashboards` and
`dashboard_tiles`, migration 850). A dashboard holds insights by name; each is run when the
dashboard is read, so a dashboard is always current. An insight may be on many dashboards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb
from pydantic import Field, field_validator

from touchpath.errors import NotFound, Problem, SpecError
from touchpath.events.match import Frozen
from touchpath.insights.insights import Insight, _entry, _missing, name_problem
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = [
    "Dashboard",
    "add_to_dashboard",
    "delete_dashboard",
    "get_dashboard",
    "list_dashboards",
    "remove_from_dashboard",
    "save_dashboard",
]


class Dashboard(Frozen):
    """A dashboard and its insights, in order (each with its spec, ready to run)."""

    name: str
    description: str = ""
    insights: list[Insight] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        problem = name_problem(v)
        if problem is not None:
            raise ValueError(f"{v!r}: {problem}")
        return v


def _check_name(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        raise SpecError(problems=[Problem("invalid_name", "name", f"{name!r}: {problem}")])


def _check_insights(con: duckdb.DuckDBPyConnection, insights: Sequence[str]) -> None:
    known = {r[0] for r in con.execute("SELECT name FROM insights").fetchall()}
    problems = [
        Problem("not_found", f"insights[{i}]", f"no saved insight {n!r}")
        for i, n in enumerate(insights)
        if n not in known
    ]
    if problems:
        raise SpecError(problems=problems)


def _upsert(
    con: duckdb.DuckDBPyConnection, name: str, description: str | None, insights: Sequence[str]
) -> None:
    """Write dashboard `name` with `insights` (keeping its creation time, and its description
    when `description` is None)."""
    now = utcnow()
    row = con.execute(
        "SELECT created_at, description FROM dashboards WHERE name = ?", [name]
    ).fetchone()
    created, kept = (row[0], row[1]) if row else (now, "")
    con.execute("DELETE FROM dashboards WHERE name = ?", [name])
    con.execute(
        "INSERT INTO dashboards VALUES (?, ?, ?, ?)",
        [name, kept if description is None else description, created, now],
    )
    con.execute("DELETE FROM dashboard_tiles WHERE dashboard = ?", [name])
    if insights:
        con.executemany(
            "INSERT INTO dashboard_tiles VALUES (?, ?, ?)",
            [[name, i, insight] for i, insight in enumerate(insights)],
        )


def save_dashboard(
    store: Store, name: str, insights: Sequence[str] = (), description: str = ""
) -> Dashboard:
    """Create or replace dashboard `name` with these insights, in this order (each must be a
    saved insight; one named twice is kept once, where it first appears)."""
    _check_name(name)
    order = list(dict.fromkeys(insights))

    def save(con: duckdb.DuckDBPyConnection) -> None:
        _check_insights(con, order)
        _upsert(con, name, description, order)

    store.write_sync(save)
    return get_dashboard(store, name)


def add_to_dashboard(store: Store, name: str, insight: str) -> Dashboard:
    """Put `insight` at the end of dashboard `name`, making the dashboard when there is none
    (an insight already on it stays where it is)."""
    _check_name(name)

    def add(con: duckdb.DuckDBPyConnection) -> None:
        _check_insights(con, [insight])
        rows = con.execute(
            "SELECT insight FROM dashboard_tiles WHERE dashboard = ? ORDER BY position", [name]
        ).fetchall()
        have = [r[0] for r in rows]
        if insight not in have:
            _upsert(con, name, None, [*have, insight])

    store.write_sync(add)
    return get_dashboard(store, name)


def remove_from_dashboard(store: Store, name: str, insight: str) -> Dashboard:
    """Take `insight` off dashboard `name` (the insight itself stays saved)."""
    board = get_dashboard(store, name)
    if insight not in [i.name for i in board.insights]:
        on = ", ".join(i.name for i in board.insights) or "none"
        raise NotFound(f"dashboard {name!r}: has no insight {insight!r} (it has: {on})")
    rest = [i.name for i in board.insights if i.name != insight]
    store.write_sync(lambda con: _upsert(con, name, None, rest))
    return get_dashboard(store, name)


def _boards(store: Store, name: str | None) -> list[Dashboard]:
    where, params = ("WHERE d.name = ?", [name]) if name is not None else ("", [])
    heads = store.query(
        f"SELECT name, description, created_at, updated_at FROM dashboards d {where} "
        "ORDER BY updated_at DESC, name",
        params,
    )
    tiles = store.query(
        "SELECT t.dashboard, i.* FROM dashboard_tiles t JOIN insights i ON i.name = t.insight "
        f"{where.replace('d.name', 't.dashboard')} ORDER BY t.dashboard, t.position",
        params,
    )
    by: dict[str, list[Insight]] = {}
    for row in tiles:
        by.setdefault(row[0], []).append(_entry(row[1:]))
    return [
        Dashboard(name=n, description=d, insights=by.get(n, []), created_at=c, updated_at=u)
        for n, d, c, u in heads
    ]


def get_dashboard(store: Store, name: str) -> Dashboard:
    """Dashboard `name` with its insights; NotFound names the saved ones."""
    found = _boards(store, name)
    if not found:
        raise _missing(store, "dashboard", name, "dashboards")
    return found[0]


def list_dashboards(store: Store) -> list[Dashboard]:
    """Every dashboard with its insights, most recently changed first."""
    return _boards(store, None)


def delete_dashboard(store: Store, name: str) -> None:
    """Delete dashboard `name` (its insights stay saved)."""
    get_dashboard(store, name)

    def delete(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DELETE FROM dashboard_tiles WHERE dashboard = ?", [name])
        con.execute("DELETE FROM dashboards WHERE name = ?", [name])

    store.write_sync(delete)
