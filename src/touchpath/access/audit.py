"""The audit log: who did what to whom, and when, for admin actions (users, tokens, sources,
privacy). Written in the same transaction as the change it records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import orjson
from pydantic import BaseModel

from touchpath.clock import utcnow
from touchpath.store import Store

__all__ = ["AuditEntry", "audit_log", "record"]


class AuditEntry(BaseModel):
    at: datetime
    actor: str
    """Who: a user's email, `token <prefix>`, or `cli` for a command run on the store's machine."""
    action: str
    """What, as `<resource>.<verb>`: `user.create`, `token.revoke`, `privacy.delete`, ..."""
    target: str | None = None
    detail: dict[str, Any] | None = None


def record(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an entry (inside the caller's write)."""
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?)",
        [utcnow(), actor, action, target, orjson.dumps(detail).decode() if detail else None],
    )


def audit_log(store: Store, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
    """Newest first; `action` filters by prefix (`user.`, `privacy.delete`)."""
    sql = 'SELECT "at", actor, action, target, detail FROM audit_log'
    params: list[Any] = []
    if action:
        sql += " WHERE starts_with(action, ?)"
        params.append(action)
    rows = store.query(sql + ' ORDER BY "at" DESC LIMIT ?', [*params, limit])
    return [
        AuditEntry(
            at=r[0],
            actor=r[1],
            action=r[2],
            target=r[3],
            detail=orjson.loads(r[4]) if r[4] else None,
        )
        for r in rows
    ]
