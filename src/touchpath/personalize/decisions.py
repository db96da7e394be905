"""Saved decisions: every change is a new version; a source answers the version published to it.

Tables (migration 600): `decision_versions` (name, version, spec, who and when) and
`decision_publications` (source, name, version). Saving a spec equal to the latest version
makes no new version. Publishing pins a version for a source, so an edit goes live only when it
is published again; unpublishing takes it off that source; deleting removes every version and
publication.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb
from pydantic import BaseModel, Field

from touchpath.errors import NotFound
from touchpath.personalize.spec import Decision, parse_decision
from touchpath.store import Store
from touchpath.store.store import utcnow

log = logging.getLogger(__name__)

__all__ = [
    "DecisionInfo",
    "Publication",
    "SavedDecision",
    "delete_decision",
    "get_decision",
    "list_decisions",
    "list_versions",
    "publications",
    "publish",
    "published",
    "save_decision",
    "unpublish",
]


class SavedDecision(BaseModel):
    """One version of a decision."""

    name: str
    version: int
    spec: Decision
    created_at: datetime
    created_by: str
    new: bool = Field(default=False, description="Whether saving made this version.")


class Publication(BaseModel):
    """A version of a decision that a source answers."""

    name: str
    version: int
    source_id: str
    source: str = Field(description="The source's name.")
    published_at: datetime
    published_by: str


class DecisionInfo(BaseModel):
    """A decision as listed: its latest version and where it is published."""

    name: str
    description: str
    latest: int
    updated_at: datetime
    updated_by: str
    variants: list[str]
    rules: int
    holdout: float
    publications: list[Publication]


def _spec_text(spec: Decision) -> str:
    return json.dumps(spec.model_dump(mode="json"), sort_keys=True)


def _version(row: tuple[Any, ...], new: bool = False) -> SavedDecision:
    name, version, spec, created_at, created_by = row
    return SavedDecision(
        name=name,
        version=int(version),
        spec=Decision.model_validate_json(spec),
        created_at=created_at,
        created_by=created_by,
        new=new,
    )


def save_decision(
    store: Store, spec: Decision | Mapping[str, Any], actor: str = "cli"
) -> SavedDecision:
    """Save `spec` as the next version of its decision (none when it equals the latest)."""
    decision = parse_decision(spec)
    text = _spec_text(decision)

    def save(con: duckdb.DuckDBPyConnection) -> SavedDecision:
        row = con.execute(
            "SELECT name, version, spec, created_at, created_by FROM decision_versions "
            "WHERE name = ? ORDER BY version DESC LIMIT 1",
            [decision.name],
        ).fetchone()
        if row is not None and _spec_text(_version(row).spec) == text:
            return _version(row)
        version = 1 if row is None else int(row[1]) + 1
        new = (decision.name, version, text, utcnow(), actor)
        con.execute("INSERT INTO decision_versions VALUES (?, ?, ?, ?, ?)", list(new))
        return _version(new, new=True)

    return store.write_sync(save)


def get_decision(store: Store, name: str, version: int | None = None) -> SavedDecision:
    """A version of a decision (the latest when `version` is None)."""
    sql = "SELECT name, version, spec, created_at, created_by FROM decision_versions WHERE name = ?"
    params: list[Any] = [name]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    rows = store.query(sql + " ORDER BY version DESC LIMIT 1", params)
    if not rows:
        if version is not None and store.query(
            "SELECT 1 FROM decision_versions WHERE name = ?", [name]
        ):
            raise NotFound(f"decision {name!r}: has no version {version}")
        raise NotFound(f"decision {name!r}: no such decision")
    return _version(rows[0])


def list_versions(store: Store, name: str) -> list[SavedDecision]:
    """Every version of a decision, newest first."""
    rows = store.query(
        "SELECT name, version, spec, created_at, created_by FROM decision_versions "
        "WHERE name = ? ORDER BY version DESC",
        [name],
    )
    if not rows:
        raise NotFound(f"decision {name!r}: no such decision")
    return [_version(r) for r in rows]


_PUBLICATIONS = (
    "SELECT p.name, p.version, p.source_id, coalesce(s.name, p.source_id), p.published_at, "
    "p.published_by FROM decision_publications p LEFT JOIN sources s ON s.id = p.source_id"
)


def _publication(row: tuple[Any, ...]) -> Publication:
    keys = ("name", "version", "source_id", "source", "published_at", "published_by")
    return Publication(**dict(zip(keys, row, strict=True)))


def list_decisions(store: Store) -> list[DecisionInfo]:
    """Every decision by name, with its latest version and publications."""
    pubs: dict[str, list[Publication]] = {}
    for row in store.query(_PUBLICATIONS + " ORDER BY p.name, 4"):
        pubs.setdefault(row[0], []).append(_publication(row))
    rows = store.query(
        "SELECT name, version, spec, created_at, created_by FROM decision_versions "
        "QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name"
    )
    out = []
    for row in rows:
        v = _version(row)
        out.append(
            DecisionInfo(
                name=v.name,
                description=v.spec.description,
                latest=v.version,
                updated_at=v.created_at,
                updated_by=v.created_by,
                variants=sorted(v.spec.variants),
                rules=len(v.spec.rules),
                holdout=v.spec.holdout,
                publications=pubs.get(v.name, []),
            )
        )
    return out


def publications(store: Store, name: str) -> list[Publication]:
    """Where a decision is published."""
    return [_publication(r) for r in store.query(_PUBLICATIONS + " WHERE p.name = ?", [name])]


def delete_decision(store: Store, name: str) -> int:
    """Delete every version and publication of a decision; returns how many versions went."""

    def delete(con: duckdb.DuckDBPyConnection) -> int:
        (n,) = con.execute(
            "SELECT count(*) FROM decision_versions WHERE name = ?", [name]
        ).fetchone() or (0,)
        if not n:
            raise NotFound(f"decision {name!r}: no such decision")
        con.execute("DELETE FROM decision_publications WHERE name = ?", [name])
        con.execute("DELETE FROM decision_versions WHERE name = ?", [name])
        return int(n)

    return store.write_sync(delete)


def publish(
    store: Store, name: str, source: str, version: int | None = None, actor: str = "cli"
) -> Publication:
    """Make `source` (a name or id) answer `version` of a decision (the latest when None)."""
    src = store.source(source)
    saved = get_decision(store, name, version)

    def pub(con: duckdb.DuckDBPyConnection) -> Publication:
        if not con.execute(
            "SELECT 1 FROM decision_versions WHERE name = ? AND version = ?",
            [name, saved.version],
        ).fetchone():
            raise NotFound(f"decision {name!r}: deleted meanwhile")
        row = (name, saved.version, src.id, src.name, utcnow(), actor)
        con.execute(
            "INSERT OR REPLACE INTO decision_publications VALUES (?, ?, ?, ?, ?)",
            [src.id, name, saved.version, row[4], actor],
        )
        return _publication(row)

    return store.write_sync(pub)


def unpublish(store: Store, name: str, source: str) -> Publication:
    """Stop answering a decision on `source`; returns what was published."""
    src = store.source(source)

    def unpub(con: duckdb.DuckDBPyConnection) -> Publication:
        row = con.execute(
            _PUBLICATIONS + " WHERE p.name = ? AND p.source_id = ?", [name, src.id]
        ).fetchone()
        if row is None:
            raise NotFound(f"decision {name!r}: not published on source {src.name!r}")
        con.execute(
            "DELETE FROM decision_publications WHERE name = ? AND source_id = ?", [name, src.id]
        )
        return _publication(row)

    return store.write_sync(unpub)


def published(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, tuple[int, Decision]]]:
    """What each source answers: source id -> decision name -> (version, spec)."""
    rows = con.execute(
        "SELECT p.source_id, p.name, p.version, v.spec FROM decision_publications p "
        "JOIN decision_versions v ON v.name = p.name AND v.version = p.version"
    ).fetchall()
    out: dict[str, dict[str, tuple[int, Decision]]] = {}
    for source_id, name, version, spec in rows:
        try:
            decision = Decision.model_validate_json(spec)
        except ValueError:  # saved by an older release and no longer valid: not answered
            log.exception("decision %r v%s: cannot be read; it is not answered", name, version)
            continue
        out.setdefault(source_id, {})[name] = (int(version), decision)
    return out
