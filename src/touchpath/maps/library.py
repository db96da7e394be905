"""Saved maps: every version of every document in the `maps` table, plus the shipped examples.

A saved name shadows an example of the same name, so editing a shipped map and saving it works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from touchpath.errors import NotFound
from touchpath.maps.document import JourneyMap, dump_map, load_map, load_map_file
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = ["EXAMPLES", "MapEntry", "example", "get_map", "list_maps", "save_map"]

EXAMPLES = Path(__file__).parent / "examples"


@dataclass(frozen=True)
class MapEntry:
    name: str
    title: str | None
    type: str
    version: int | None
    """The saved version; None for a shipped example never saved."""
    origin: str
    """`saved` or `example`."""
    created_at: datetime | None = None


def example(name: str) -> JourneyMap:
    """A shipped example map by name."""
    path = EXAMPLES / f"{name}.yaml"
    if not path.is_file():
        raise NotFound(f"map {name!r}: no such example")
    return load_map_file(path)


def _examples() -> list[JourneyMap]:
    return [load_map_file(p) for p in sorted(EXAMPLES.glob("*.yaml"))]


def save_map(store: Store, doc: JourneyMap, text: str | None = None) -> int:
    """Save a new version of `doc` (its YAML as written, when given) and return the version."""
    yaml_text = text if text is not None else dump_map(doc)

    def save(con: duckdb.DuckDBPyConnection) -> int:
        row = con.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM maps WHERE name = ?", [doc.name]
        ).fetchone()
        version = int(row[0]) if row else 1
        con.execute(
            "INSERT INTO maps VALUES (?, ?, ?, ?, ?, ?)",
            [doc.name, version, yaml_text, doc.title, doc.type, utcnow()],
        )
        return version

    return store.write_sync(save)


def get_map(store: Store, name: str, version: int | None = None) -> tuple[JourneyMap, int | None]:
    """A saved map (the latest version unless one is named), else the example of that name."""
    sql = "SELECT yaml, version FROM maps WHERE name = ?"
    params: list[object] = [name]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    rows = store.query(sql + " ORDER BY version DESC LIMIT 1", params)
    if rows:
        return load_map(rows[0][0]), int(rows[0][1])
    if version is not None:
        raise NotFound(f"map {name!r}: no version {version}")
    return example(name), None


def list_maps(store: Store) -> list[MapEntry]:
    """The latest version of each saved map, then the examples not saved under their name."""
    rows = store.query(
        "SELECT name, title, type, version, created_at FROM maps "
        "QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name"
    )
    out = [MapEntry(r[0], r[1], r[2], int(r[3]), "saved", r[4]) for r in rows]
    saved = {e.name for e in out}
    out += [
        MapEntry(m.name, m.title, m.type, None, "example")
        for m in _examples()
        if m.name not in saved
    ]
    return out
