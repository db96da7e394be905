"""Sources and their write keys, the part of `Store` that `/v1` asks on every request."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from touchpath.clock import utcnow
from touchpath.errors import NotFound, SpecError
from touchpath.store import keys
from touchpath.store.keys import Source

__all__ = ["SourcesMixin"]

T = TypeVar("T")


class SourcesMixin:
    """Sources, their keys and the cache of live keys."""

    _keys_by_write_key: dict[str, tuple[str, float | None]]
    """Live write keys seen: source id and the key's end (epoch seconds)."""

    if TYPE_CHECKING:

        def write_sync(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T: ...
        def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]: ...
        def reading(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]: ...

    def create_source(self, name: str) -> Source:
        """Create a source and give it a new write key (on the returned Source only: kept hashed)."""
        if not name or not name.strip():
            raise SpecError("source name: must not be empty")
        name = name.strip()

        def create(con: duckdb.DuckDBPyConnection) -> Source:
            if con.execute("SELECT 1 FROM sources WHERE name = ?", [name]).fetchone():
                raise SpecError(f"source {name!r}: already exists")
            sid, now = "src_" + secrets.token_hex(6), utcnow()
            con.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?)", [sid, name, "hashed:" + sid, now]
            )
            key = keys.new_key(con, sid, now)
            return Source(
                sid, name, now, keys.keys_of([(key[: keys.PREFIX_LEN], now, None, None)], now), key
            )

        return self.write_sync(create)

    def sources(self) -> list[Source]:
        """Every source, oldest first, with its keys (prefixes only)."""
        rows = self.query("SELECT id, name, created_at FROM sources ORDER BY created_at")
        key_rows = self.query(
            "SELECT source_id, prefix, created_at, expires_at, revoked_at FROM source_keys "
            "ORDER BY created_at DESC"
        )
        now = utcnow()
        by_source: dict[str, list[tuple[object, ...]]] = {}
        for r in key_rows:
            by_source.setdefault(r[0], []).append(tuple(r[1:]))
        return [Source(r[0], r[1], r[2], keys.keys_of(by_source.get(r[0], []), now)) for r in rows]

    def source(self, name: str) -> Source:
        """The source called `name` (or with this id)."""
        for src in self.sources():
            if src.name == name or src.id == name:
                return src
        raise NotFound(f"source {name!r}: no such source")

    def rotate_source_key(
        self,
        name: str,
        grace: timedelta,
        also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> Source:
        """A new write key for the source (on the returned Source); its live keys keep working
        for `grace`. `also` runs in the same transaction (the audit log)."""
        sid = self.source(name).id

        def job(con: duckdb.DuckDBPyConnection) -> str:
            key = keys.rotate(con, sid, grace)
            if also is not None:
                also(con)
            return key

        key = self.write_sync(job)
        self._keys_by_write_key.clear()
        src = self.source(sid)
        return Source(src.id, src.name, src.created_at, src.keys, key)

    def revoke_source_key(
        self,
        name: str,
        prefix: str | None = None,
        also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> Source:
        """End the source's key with this prefix (None: all its keys) at once."""
        sid = self.source(name).id

        def job(con: duckdb.DuckDBPyConnection) -> None:
            keys.revoke(con, sid, prefix)
            if also is not None:
                also(con)

        self.write_sync(job)
        self._keys_by_write_key.clear()
        return self.source(sid)

    def source_for_key(self, write_key: str) -> str | None:
        """The id of the source for which this write key is live, or None."""
        hit = self._keys_by_write_key.get(write_key)
        if hit is not None and (hit[1] is None or hit[1] > time.time()):
            return hit[0]
        with self.reading() as con:
            found = keys.live_key(con, write_key)
        if found is None:
            self._keys_by_write_key.pop(write_key, None)
            return None
        sid, end = found
        if len(self._keys_by_write_key) > 10_000:
            self._keys_by_write_key.clear()
        self._keys_by_write_key[write_key] = (
            sid,
            end.replace(tzinfo=UTC).timestamp() if end else None,
        )
        return sid
