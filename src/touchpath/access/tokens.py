"""Personal API tokens: `Authorization: Bearer tp_...`. The secret is shown once, when made;
the store keeps its SHA-256 and a prefix. Tokens are revocable and remember when they were last
used. A token's role is capped by its user's current role (a token made from the CLI has no user
and keeps its own role).

A "read" token for a server (e.g. one that reads profiles for personalisation) is a token with the
role `viewer`: it can read every `/api` route and change nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

import duckdb
from pydantic import BaseModel

from touchpath.access.audit import record
from touchpath.access.roles import ROLES, Role, parse_role
from touchpath.clock import utcnow
from touchpath.errors import NotFound, SpecError
from touchpath.store import Store

__all__ = [
    "PREFIX",
    "Token",
    "create_token",
    "hash_secret",
    "list_tokens",
    "lookup_token",
    "revoke_token",
    "touch_tokens",
]

PREFIX = "tp_"
_SHOWN = 10  # characters of the secret kept and shown to tell tokens apart
_COLUMNS = (
    "t.id, t.name, t.prefix, t.role, t.user_id, u.email, t.created_at, t.last_used_at, t.revoked_at"
)


class Token(BaseModel):
    """A personal API token as listed: never its secret."""

    id: str
    name: str
    prefix: str
    role: Role
    user_id: str | None = None
    email: str | None = None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def hash_secret(secret: str) -> str:
    """What the store keeps of a token (or session) secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _row(r: tuple[Any, ...]) -> Token:
    keys = ("id", "name", "prefix", "role", "user_id", "email", "created_at", "last_used_at")
    return Token(**dict(zip(keys, r, strict=False)), revoked_at=r[8])


def create_token(
    store: Store, role: str, name: str = "", user_id: str | None = None, actor: str = "cli"
) -> tuple[Token, str]:
    """Make a token; returns it with its secret (shown once, not kept). With a `user_id`, the role
    may not exceed the user's."""
    chosen = parse_role(role)
    secret = PREFIX + secrets.token_urlsafe(32)

    def create(con: duckdb.DuckDBPyConnection) -> Token:
        email = None
        if user_id is not None:
            r = con.execute(
                "SELECT email, role FROM users WHERE id = ? AND disabled_at IS NULL", [user_id]
            ).fetchone()
            if r is None:
                raise NotFound(f"user {user_id!r}: no such user")
            email, user_role = r
            if ROLES.index(chosen) > ROLES.index(user_role):
                raise SpecError(f"role: {chosen!r} is above the user's own role {user_role!r}")
        token = Token(
            id="tok_" + secrets.token_hex(6),
            name=name.strip() or chosen,
            prefix=secret[:_SHOWN],
            role=chosen,
            user_id=user_id,
            email=email,
            created_at=utcnow(),
        )
        con.execute(
            "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            [
                token.id,
                token.name,
                token.prefix,
                hash_secret(secret),
                token.role,
                user_id,
                token.created_at,
            ],
        )
        record(con, actor, "token.create", token.prefix, {"role": token.role, "name": token.name})
        return token

    return store.write_sync(create), secret


def list_tokens(store: Store, user_id: str | None = None, revoked: bool = False) -> list[Token]:
    """Tokens, newest first (of one user when `user_id` is given; revoked ones on request)."""
    where = ["TRUE"]
    params: list[Any] = []
    if user_id is not None:
        where.append("t.user_id = ?")
        params.append(user_id)
    if not revoked:
        where.append("t.revoked_at IS NULL")
    rows = store.query(
        f"SELECT {_COLUMNS} FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id "
        f"WHERE {' AND '.join(where)} ORDER BY t.created_at DESC",
        params,
    )
    return [_row(r) for r in rows]


def revoke_token(store: Store, ref: str, actor: str = "cli") -> Token:
    """Revoke a token by id or prefix; it stops working at once."""

    def revoke(con: duckdb.DuckDBPyConnection) -> Token:
        rows = con.execute(
            f"SELECT {_COLUMNS} FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id "
            "WHERE t.id = ? OR t.prefix = ?",
            [ref, ref],
        ).fetchall()
        if not rows:
            raise NotFound(f"token {ref!r}: no such token (give its id or prefix)")
        if len(rows) > 1:
            raise SpecError(f"token {ref!r}: the prefix names {len(rows)} tokens; give the id")
        token = _row(rows[0])
        if token.revoked_at is None:
            token = token.model_copy(update={"revoked_at": utcnow()})
            con.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ?", [token.revoked_at, token.id]
            )
            record(con, actor, "token.revoke", token.prefix)
        return token

    return store.write_sync(revoke)


def lookup_token(con: duckdb.DuckDBPyConnection, secret: str) -> Token | None:
    """The live token with this secret, its role capped by its user's; None when unknown,
    revoked, or its user is disabled."""
    if not secret.startswith(PREFIX):
        return None
    r = con.execute(
        f"SELECT {_COLUMNS}, u.role, u.disabled_at FROM api_tokens t "
        "LEFT JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?",
        [hash_secret(secret)],
    ).fetchone()
    if r is None or r[8] is not None:
        return None
    token = _row(r)
    user_role, disabled = r[9], r[10]
    if token.user_id is not None:
        if user_role is None or disabled is not None:
            return None
        if ROLES.index(user_role) < ROLES.index(token.role):
            token = token.model_copy(update={"role": user_role})
    return token


def touch_tokens(con: duckdb.DuckDBPyConnection, used: dict[str, datetime]) -> None:
    """Record when tokens were last used (batched by the caller)."""
    for token_id, at in used.items():
        con.execute(
            "UPDATE api_tokens SET last_used_at = greatest(coalesce(last_used_at, ?), ?) "
            "WHERE id = ?",
            [at, at, token_id],
        )
