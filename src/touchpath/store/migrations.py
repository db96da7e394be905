"""Each area owns its tables: its migrations are SQL files in `touchpath/<area>/migrations/`.

A file is named `<version>_<name>.sql`; versions are unique across the project and migrations
run in version order, each in its own transaction, recorded in `schema_migrations`. The store
finds the files as package data, so it never imports the areas above it. The store's own (the
event log, sources, rejected messages, suppressions) are in `touchpath/store/migrations/`, beside
this module; the `resolved_events` view is identity's (`touchpath/identity/migrations/`). Ranges by area keep work
in parallel from colliding:

| versions | area |
|---|---|
| 1-9 | store, collect: the event log, sources, rejected messages, suppressions |
| 10-19 | identity and profiles |
| 20-29 | analytics: the journey copy, sentiment |
| 30-39 | maps |
| 100-199 | access: users, sessions, tokens, audit log, write-key rotation |
| 200-299 | destinations: destinations, outbox, templates, subscriptions |
| 300-399 | orchestrate: journeys, their state and steps |
| 400-499 | events catalogue and tracking plans |
| 500-599 | experiments |
| 600-699 | personalisation |
| 700-799 | demo and its simulation |
| 800-899 | the analysis runtime and the web app (saved insights, dashboards) |

>>> [m.version for m in discover()] == sorted(m.version for m in discover())
True
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable

import duckdb

__all__ = ["Migration", "apply_migrations", "discover"]

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d+)_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    area: str = "store"


def _area_files(root: Traversable) -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for area in root.iterdir():
        if not area.is_dir() or area.name.startswith(("_", ".")):
            continue
        folder = area / "migrations"
        if folder.is_dir():
            out.extend((area.name, f) for f in folder.iterdir() if f.name.endswith(".sql"))
    return out


def discover(package: str = "touchpath") -> tuple[Migration, ...]:
    """Every migration of every area, in version order. Fails on a misnamed file or a version
    used twice, so a clash between areas is found by any test that opens a store."""
    found: list[Migration] = []
    for area, f in _area_files(resources.files(package)):
        m = _NAME.match(f.name)
        if m is None:
            raise RuntimeError(f"{area}/migrations/{f.name}: name it <version>_<name>.sql")
        found.append(
            Migration(int(m.group(1)), m.group(2).replace("_", " "), f.read_text("utf-8"), area)
        )
    found.sort(key=lambda m: m.version)
    for a, b in itertools.pairwise(found):
        if a.version == b.version:
            raise RuntimeError(
                f"migration version {a.version} is used twice ({a.area}: {a.name!r}, "
                f"{b.area}: {b.name!r})"
            )
    return tuple(found)


def apply_migrations(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Run the migrations `schema_migrations` does not list yet, each in its own transaction
    (the store, when it opens its file)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for m in discover():  # in version order
        if m.version in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(m.sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [m.version, m.name, now])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        log.info("applied migration %s: %s", m.version, m.name)
