"""Browser sessions: a random secret in an HttpOnly cookie (the store keeps its SHA-256) and a
CSRF token bound to the session, which every state-changing request echoes in `X-CSRF-Token`."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import duckdb

from touchpath.access.tokens import hash_secret
from touchpath.access.users import User
from touchpath.clock import utcnow
from touchpath.store import Store

__all__ = ["create_session", "end_session", "lookup_session"]


def create_session(store: Store, user: User, lifetime: timedelta) -> tuple[str, str]:
    """Start a session; returns (cookie secret, CSRF token). Expired sessions are swept here."""
    secret, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(24), utcnow()

    def create(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DELETE FROM sessions WHERE expires_at < ?", [now])
        con.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
            [hash_secret(secret), user.id, csrf, now, now + lifetime],
        )

    store.write_sync(create)
    return secret, csrf


def lookup_session(
    con: duckdb.DuckDBPyConnection, secret: str, now: datetime | None = None
) -> tuple[User, str] | None:
    """The enabled user of a live session and its CSRF token, or None."""
    r = con.execute(
        "SELECT u.id, u.email, u.role, u.created_at, s.csrf FROM sessions s "
        "JOIN users u ON u.id = s.user_id "
        "WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL",
        [hash_secret(secret), now or utcnow()],
    ).fetchone()
    if r is None:
        return None
    return User(id=r[0], email=r[1], role=r[2], created_at=r[3]), str(r[4])


def end_session(store: Store, secret: str) -> None:
    """Sign out: the session row goes."""
    store.write_sync(
        lambda con: con.execute("DELETE FROM sessions WHERE id_hash = ?", [hash_secret(secret)])
    )
