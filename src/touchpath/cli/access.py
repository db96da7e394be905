"""`touchpath users ...`, `touchpath tokens ...`, `touchpath audit`: people, roles, personal API
tokens and the audit log. Run on the machine that holds the store file (as its owner)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from touchpath import access
from touchpath.access import ROLES
from touchpath.cli.base import DbOpt, JsonOpt, app, console, print_rows
from touchpath.cli.remote import Remote, session
from touchpath.errors import SpecError
from touchpath.store import Store

__all__ = ["tokens_app", "users_app"]

users_app = typer.Typer(help="People who sign in, and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(
    help="Personal API tokens (Authorization: Bearer) for scripts and servers.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

RoleOpt = Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")]


@contextmanager
def _store(db: Path | None, create: bool = False) -> Iterator[Store | Remote]:
    """The store, or the API of the server that holds it."""
    with session(db, create=create) as tp:
        yield tp if isinstance(tp, Remote) else tp.store


@users_app.command("add")
def users_add(email: str, role: RoleOpt = "viewer", db: DbOpt = None) -> None:
    """Add a user and print a one-time password to hand over."""
    with _store(db, create=True) as store:
        if isinstance(store, Remote):
            made = store.call("POST", "/api/users", json={"email": email, "role": role})
            user, password = access.User(**made["user"]), made["password"]
        else:
            user, password = access.create_user(store, email, role)
    console.print(f"user [bold]{user.email}[/] ({user.role}, {user.id})")
    console.print(
        f"one-time password: [bold]{password}[/]  (shown once; change it after signing in)"
    )


@users_app.command("list")
def users_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List users with their roles."""
    with _store(db) as store:
        if isinstance(store, Remote):
            found = [access.User(**u) for u in store.call("GET", "/api/users")]
        else:
            found = access.list_users(store)
    keep = ["id", "email", "role", "created_at", "disabled_at"]
    rows = [u.model_dump() if as_json else _cells(u.model_dump(), keep) for u in found]
    print_rows(rows, "Users", as_json)


@users_app.command("role")
def users_role(email: str, role: RoleOpt, db: DbOpt = None) -> None:
    """Change a user's role."""
    with _store(db) as store:
        if isinstance(store, Remote):
            user = access.User(**store.call("PATCH", f"/api/users/{email}", json={"role": role}))
        else:
            user = access.set_role(store, email, role)
    console.print(f"{user.email} is now {user.role}")


@users_app.command("password")
def users_password(email: str, db: DbOpt = None) -> None:
    """Give a user a new one-time password (their sessions end)."""
    with _store(db) as store:
        if isinstance(store, Remote):
            made = store.call("POST", f"/api/users/{email}/password")
            user, password = access.User(**made["user"]), made["password"]
        else:
            user, password = access.set_password(store, email)
    console.print(f"new one-time password for {user.email}: [bold]{password}[/]")


@users_app.command("disable")
def users_disable(email: str, db: DbOpt = None) -> None:
    """Disable a user: their sessions end and their tokens are revoked."""
    with _store(db) as store:
        if isinstance(store, Remote):
            user = access.User(**store.call("DELETE", f"/api/users/{email}"))
        else:
            user = access.disable_user(store, email)
    console.print(f"{user.email} is disabled")


@tokens_app.command("create")
def tokens_create(
    role: RoleOpt = "viewer",
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
    user: Annotated[
        str | None, typer.Option(help="Email of the user the token acts for (role capped).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Make a token and print its secret once."""
    with _store(db) as store:
        if isinstance(store, Remote):
            if user:
                raise SpecError("--user: through a server a token acts for the caller's user")
            made = store.call("POST", "/api/tokens", json={"role": role, "name": name})
            token, secret = access.Token(**made["token"]), made["secret"]
        else:
            user_id = access.get_user(store, user).id if user else None
            token, secret = access.create_token(store, role, name, user_id)
    console.print(f"token [bold]{token.prefix}[/] ({token.role}, {token.id})")
    console.print(f"secret: [bold]{secret}[/]  (shown once; send as 'Authorization: Bearer ...')")


@tokens_app.command("list")
def tokens_list(
    db: DbOpt = None,
    revoked: Annotated[bool, typer.Option(help="Include revoked tokens.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List tokens (never their secrets) with when each was last used."""
    with _store(db) as store:
        if isinstance(store, Remote):
            got = store.call("GET", "/api/tokens", params={"revoked": revoked})
            found = [access.Token(**t) for t in got]
        else:
            found = access.list_tokens(store, revoked=revoked)
    keep = ["id", "name", "prefix", "role", "email", "created_at", "last_used_at"]
    if revoked:
        keep.append("revoked_at")
    rows = [
        t.model_dump(include=set(keep)) if as_json else _cells(t.model_dump(), keep) for t in found
    ]
    print_rows(rows, "Tokens", as_json)


def _cells(row: dict[str, object], keep: list[str]) -> dict[str, object]:
    """The columns of a table row, times to the second (a terminal is narrow)."""
    out: dict[str, object] = {}
    for k in keep:
        v = row[k]
        out[k] = f"{v:%Y-%m-%d %H:%M:%S}" if hasattr(v, "strftime") else ("" if v is None else v)
    return out


@tokens_app.command("revoke")
def tokens_revoke(
    ref: Annotated[str, typer.Argument(help="The token's id or prefix.")], db: DbOpt = None
) -> None:
    """Revoke a token; it stops working at once."""
    with _store(db) as store:
        if isinstance(store, Remote):
            token = access.Token(**store.call("DELETE", f"/api/tokens/{ref}"))
        else:
            token = access.revoke_token(store, ref)
    console.print(f"token {token.prefix} ({token.id}) is revoked")


@app.command()
def audit(
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    action: Annotated[str | None, typer.Option(help="Only actions starting with this.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the audit log of admin actions: who, what, on what, when."""
    with _store(db) as store:
        if isinstance(store, Remote):
            params: dict[str, object] = {"limit": limit, **({"action": action} if action else {})}
            found = [access.AuditEntry(**e) for e in store.call("GET", "/api/audit", params=params)]
        else:
            found = access.audit_log(store, limit, action)
    keep = ["at", "actor", "action", "target", "detail"]
    rows = [e.model_dump() if as_json else _cells(e.model_dump(), keep) for e in found]
    print_rows(rows, "Audit log", as_json)
