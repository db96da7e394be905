"""People who sign in: create, list, change role or password, disable. Emails are kept
lower-case; passwords only as argon2id hashes."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import datetime
from typing import Any

import duckdb
from pydantic import BaseModel

from touchpath.access import passwords
from touchpath.access.audit import record
from touchpath.access.roles import Role, parse_role
from touchpath.clock import utcnow
from touchpath.errors import NotFound, SpecError
from touchpath.store import Store

__all__ = [
    "User",
    "authenticate",
    "create_user",
    "disable_user",
    "get_user",
    "list_users",
    "set_password",
    "set_role",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_COLUMNS = "id, email, role, created_at, disabled_at"


class User(BaseModel):
    """A person who signs in. The password hash never leaves the store."""

    id: str
    email: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None = None


def _email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise SpecError(f"email: {value!r} is not an email address")
    return email


def _row(r: tuple[Any, ...]) -> User:
    return User(id=r[0], email=r[1], role=r[2], created_at=r[3], disabled_at=r[4])


def _find(con: duckdb.DuckDBPyConnection, ref: str) -> User:
    r = con.execute(
        f"SELECT {_COLUMNS} FROM users WHERE id = ? OR email = ?", [ref, ref.strip().lower()]
    ).fetchone()
    if r is None:
        raise NotFound(f"user {ref!r}: no such user")
    return _row(r)


def create_user(
    store: Store, email: str, role: str, password: str | None = None, actor: str = "cli"
) -> tuple[User, str]:
    """Create a user; returns it with its password (a generated one-time password when none is
    given: show it once, it is not kept)."""
    email, chosen = _email(email), parse_role(role)
    if password is not None and len(password) < passwords.MIN_LENGTH:
        raise SpecError(f"password: at least {passwords.MIN_LENGTH} characters")
    secret = password if password is not None else passwords.generate()
    hashed = passwords.hash_password(secret)  # slow on purpose: outside the writer

    def create(con: duckdb.DuckDBPyConnection) -> User:
        if con.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
            raise SpecError(f"email: a user {email!r} already exists")
        user = User(id="usr_" + secrets.token_hex(6), email=email, role=chosen, created_at=utcnow())
        con.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, NULL)",
            [user.id, user.email, user.role, hashed, user.created_at],
        )
        record(con, actor, "user.create", user.email, {"role": user.role})
        return user

    return store.write_sync(create), secret


def list_users(store: Store) -> list[User]:
    """Every user, oldest first."""
    return [_row(r) for r in store.query(f"SELECT {_COLUMNS} FROM users ORDER BY created_at")]


def get_user(store: Store, ref: str) -> User:
    """A user by id or email."""
    with store.reading() as con:
        return _find(con, ref)


def _owners_left(con: duckdb.DuckDBPyConnection, without: str) -> int:
    r = con.execute(
        "SELECT count(*) FROM users WHERE role = 'owner' AND disabled_at IS NULL AND id <> ?",
        [without],
    ).fetchone()
    return int(r[0]) if r else 0


def set_role(store: Store, ref: str, role: str, actor: str = "cli") -> User:
    """Change a user's role; the last owner cannot step down."""
    chosen = parse_role(role)

    def change(con: duckdb.DuckDBPyConnection) -> User:
        user = _find(con, ref)
        if user.role == "owner" and chosen != "owner" and not _owners_left(con, user.id):
            raise SpecError(f"role: {user.email} is the last owner; make another owner first")
        con.execute("UPDATE users SET role = ? WHERE id = ?", [chosen, user.id])
        record(con, actor, "user.role", user.email, {"from": user.role, "to": chosen})
        return user.model_copy(update={"role": chosen})

    return store.write_sync(change)


def set_password(
    store: Store, ref: str, password: str | None = None, actor: str = "cli"
) -> tuple[User, str]:
    """Set a new password (a generated one-time password when none is given) and end the
    user's sessions."""
    if password is not None and len(password) < passwords.MIN_LENGTH:
        raise SpecError(f"password: at least {passwords.MIN_LENGTH} characters")
    secret = password if password is not None else passwords.generate()
    hashed = passwords.hash_password(secret)

    def change(con: duckdb.DuckDBPyConnection) -> User:
        user = _find(con, ref)
        con.execute("UPDATE users SET password_hash = ? WHERE id = ?", [hashed, user.id])
        con.execute("DELETE FROM sessions WHERE user_id = ?", [user.id])
        record(con, actor, "user.password", user.email)
        return user

    return store.write_sync(change), secret


def disable_user(store: Store, ref: str, actor: str = "cli") -> User:
    """Disable a user: their sessions end and their tokens stop working at once."""

    def disable(con: duckdb.DuckDBPyConnection) -> User:
        user = _find(con, ref)
        if user.role == "owner" and not _owners_left(con, user.id):
            raise SpecError(f"user {user.email}: the last owner cannot be disabled")
        now = utcnow()
        con.execute("UPDATE users SET disabled_at = ? WHERE id = ?", [now, user.id])
        con.execute("DELETE FROM sessions WHERE user_id = ?", [user.id])
        con.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            [now, user.id],
        )
        record(con, actor, "user.disable", user.email)
        return user.model_copy(update={"disabled_at": now})

    return store.write_sync(disable)


def authenticate(store: Store, email: str, password: str) -> User | None:
    """The enabled user with this email and password, or None. Hashes even when no user has the
    email, so the answer takes as long either way."""
    r = store.query(
        f"SELECT {_COLUMNS}, password_hash FROM users WHERE email = ?", [email.strip().lower()]
    )
    if not r:
        passwords.verify(_dummy_hash(), password)
        return None
    user, stored = _row(r[0]), str(r[0][5])
    if not passwords.verify(stored, password) or user.disabled_at is not None:
        return None
    return user


@functools.cache
def _dummy_hash() -> str:
    """A real hash to verify against when the email is unknown (made once, holds no secret)."""
    return passwords.hash_password(secrets.token_urlsafe(16))
