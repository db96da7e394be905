"""Write keys of sources: kept as SHA-256 hashes with an 8-character prefix in clear; the whole
key is shown once, when it is made (a new source, a rotation).

A source may have several keys at once: rotating makes a new key and gives the live ones an end
(`expires_at`, the grace period during which SDKs still sending the old key keep working);
revoking ends a key (or all of a source's keys) at once. A key is live when it is not revoked and
its end, if any, is in the future. Write keys authenticate `/v1` only (and personalisation
decisions); they are public in browsers and apps, so a SHA-256 of a 192-bit random key is enough
(no slow hash: every ingest request checks one, from a cache in `Store`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from touchpath.clock import utcnow
from touchpath.errors import NotFound, SpecError

__all__ = [
    "PREFIX_LEN",
    "Source",
    "WriteKey",
    "hash_key",
    "live_key",
    "new_key",
    "revoke",
    "rotate",
]

PREFIX_LEN = 8


@dataclass(frozen=True)
class WriteKey:
    """One write key of a source, without the key itself."""

    prefix: str
    created_at: datetime
    expires_at: datetime | None = None
    """End of its grace period after a rotation; None: no end."""
    revoked_at: datetime | None = None
    live: bool = True


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    created_at: datetime
    keys: list[WriteKey] = field(default_factory=list)
    """Its keys, newest first, live or not."""
    write_key: str | None = None
    """The whole key: only on the Source that `create_source` or a rotation returns."""

    @property
    def key_prefix(self) -> str | None:
        """The prefix of its newest live key."""
        return next((k.prefix for k in self.keys if k.live), None)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(con: duckdb.DuckDBPyConnection, source_id: str, now: datetime) -> str:
    """Make a key for the source; the whole key is returned, never kept."""
    key = secrets.token_urlsafe(24)
    con.execute(
        "INSERT INTO source_keys VALUES (?, ?, ?, ?, NULL, NULL)",
        [hash_key(key), source_id, key[:PREFIX_LEN], now],
    )
    return key


def _live(now: datetime) -> str:
    return f"revoked_at IS NULL AND (expires_at IS NULL OR expires_at > TIMESTAMP '{now}')"


def rotate(con: duckdb.DuckDBPyConnection, source_id: str, grace: timedelta) -> str:
    """A new key; the source's live keys keep working for `grace` more (none: they end now)."""
    if grace < timedelta(0):
        raise SpecError("grace: must not be negative")
    now = utcnow()
    end = now + grace
    con.execute(
        f"UPDATE source_keys SET expires_at = least(coalesce(expires_at, ?), ?) "
        f"WHERE source_id = ? AND {_live(now)}",
        [end, end, source_id],
    )
    return new_key(con, source_id, now)


def revoke(con: duckdb.DuckDBPyConnection, source_id: str, prefix: str | None) -> int:
    """End the source's key with this prefix (None: every live key) now; how many ended."""
    now = utcnow()
    sql = f"UPDATE source_keys SET revoked_at = ? WHERE source_id = ? AND {_live(now)}"
    params: list[object] = [now, source_id]
    if prefix is not None:
        sql += " AND prefix = ?"
        params.append(prefix)
    row = con.execute(sql + " RETURNING prefix", params).fetchall()
    if prefix is not None and not row:
        raise NotFound(f"key {prefix!r}: the source has no live key with this prefix")
    return len(row)


def live_key(con: duckdb.DuckDBPyConnection, key: str) -> tuple[str, datetime | None] | None:
    """The source id of a live key and the key's end, or None."""
    row = con.execute(
        f"SELECT source_id, expires_at FROM source_keys WHERE hash = ? AND {_live(utcnow())}",
        [hash_key(key)],
    ).fetchone()
    return (str(row[0]), row[1]) if row else None


def keys_of(rows: list[tuple[object, ...]], now: datetime) -> list[WriteKey]:
    """WriteKeys from (prefix, created_at, expires_at, revoked_at) rows."""
    out = []
    for prefix, created, expires, revoked in rows:
        live = revoked is None and (expires is None or expires > now)  # type: ignore[operator]
        out.append(WriteKey(str(prefix), created, expires, revoked, live))  # type: ignore[arg-type]
    return out
