"""REST API of access: sign in and out (/api/auth), users, personal API tokens, the audit log.

The web client signs in with `POST /api/auth/login`, which sets two cookies: `touchpath_session`
(HttpOnly, SameSite=Lax) and `touchpath_csrf` (readable by the page). Every request that changes
state (POST, PUT, PATCH, DELETE) made with the session cookie sends the CSRF token back as
`X-CSRF-Token`; requests with `Authorization: Bearer <token>` need no CSRF token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from touchpath import access
from touchpath.access import ROLES, AuditEntry, LoginLimiter, Principal, Role, Token, User
from touchpath.errors import BadRequest, Forbidden, TooManyAttempts, Unauthorized
from touchpath.web.auth import CSRF_COOKIE, SESSION_COOKIE, PrincipalDep, access_of, require
from touchpath.web.deps import StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api")
auth = APIRouter(prefix="/auth", tags=["auth"])
users = APIRouter(prefix="/users", tags=["users"], dependencies=[Depends(require("admin"))])
tokens = APIRouter(prefix="/tokens", tags=["tokens"], dependencies=[Depends(require("admin"))])
audit = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(require("admin"))])


class Login(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    """The caller: a signed-in user (`kind: session`) or a token."""

    kind: str
    role: Role
    user_id: str | None = None
    email: str | None = None
    token_prefix: str | None = None
    csrf_token: str | None = None
    """Send as `X-CSRF-Token` with every state-changing request made with the session cookie."""


class PasswordChange(BaseModel):
    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=12, max_length=1024)


class UserIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    role: Role = "viewer"
    password: str | None = Field(
        default=None, min_length=12, max_length=1024, description="None: a one-time password."
    )


class UserCreated(BaseModel):
    user: User
    password: str
    """The password to hand over; shown once, not kept."""


class UserPatch(BaseModel):
    role: Role


class TokenIn(BaseModel):
    role: Role = "viewer"
    name: str = Field(default="", max_length=200)


class TokenCreated(BaseModel):
    token: Token
    secret: str
    """Send as `Authorization: Bearer <secret>`; shown once, not kept."""


def _me(p: Principal) -> Me:
    return Me(
        kind=p.kind,
        role=p.role,
        user_id=p.user_id,
        email=p.email,
        token_prefix=p.token_prefix,
        csrf_token=p.csrf,
    )


def _limiter(request: Request) -> LoginLimiter:
    lim: LoginLimiter | None = getattr(request.app.state, "login_limiter", None)
    if lim is None:
        s = request.app.state.settings
        lim = request.app.state.login_limiter = LoginLimiter(
            s.login_max_failures_per_account,
            s.login_max_failures_per_address,
            s.login_window_seconds,
        )
    return lim


@auth.post("/login", response_model=Me, responses={401: {}, 429: {}})
async def login(body: Login, request: Request, response: Response, store: StoreDep) -> Me:
    """Sign in with email and password; sets the session and CSRF cookies."""
    email, address = body.email.strip().lower(), request.client.host if request.client else "?"
    limiter = _limiter(request)
    wait = limiter.retry_after(email, address)
    if wait:
        raise TooManyAttempts(f"sign-in: too many failed attempts; retry in {wait} s", wait)
    user = await run_in_threadpool(access.authenticate, store, email, body.password)
    if user is None:
        limiter.fail(email, address)
        raise Unauthorized("email or password: wrong")
    limiter.succeed(email)
    settings = request.app.state.settings
    secret, csrf = await run_in_threadpool(
        access.create_session, store, user, timedelta(hours=settings.session_hours)
    )
    secure = request.url.scheme == "https"
    age = int(settings.session_hours * 3600)
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=age, httponly=True, samesite="lax", secure=secure
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=age, httponly=False, samesite="lax", secure=secure
    )
    return Me(kind="session", role=user.role, user_id=user.id, email=user.email, csrf_token=csrf)


@auth.post("/logout", status_code=204, response_class=Response)
def logout(request: Request, p: PrincipalDep, store: StoreDep) -> Response:
    """Sign out: the session ends and its cookies are cleared."""
    secret = request.cookies.get(SESSION_COOKIE)
    if p.kind == "session" and secret:
        access.end_session(store, secret)
        access_of(request.app).forget()
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE)
    out.delete_cookie(CSRF_COOKIE)
    return out


@auth.get("/me", response_model=Me)
def me(p: PrincipalDep) -> Me:
    """Who is signed in (or whose token this is), the role, and the session's CSRF token."""
    return _me(p)


@auth.post("/password", status_code=204, response_class=Response)
def change_password(
    body: PasswordChange, request: Request, p: PrincipalDep, store: StoreDep
) -> Response:
    """Change your own password (ends your other sessions; sign in again)."""
    if p.email is None or p.kind != "session":
        raise BadRequest("password: only a signed-in user changes their own password")
    if access.authenticate(store, p.email, body.current) is None:
        raise Unauthorized("current: wrong password")
    access.set_password(store, p.email, body.new, actor=p.label)
    access_of(request.app).forget()
    return Response(status_code=204)


def _grantable(p: Principal, role: str) -> None:
    if ROLES.index(role) > ROLES.index(p.role):
        raise Forbidden(f"role: {p.label} ({p.role}) cannot grant {role}")


@users.get("", response_model=list[User])
def list_users(store: StoreDep) -> list[User]:
    """Every user with their role."""
    return access.list_users(store)


@users.post("", response_model=UserCreated, status_code=201)
def add_user(body: UserIn, p: PrincipalDep, store: StoreDep) -> UserCreated:
    """Add a user; the answer carries their password (a one-time one unless given), once."""
    _grantable(p, body.role)
    user, password = access.create_user(store, body.email, body.role, body.password, actor=p.label)
    return UserCreated(user=user, password=password)


@users.patch("/{ref}", response_model=User)
def change_user(
    ref: str, body: UserPatch, request: Request, p: PrincipalDep, store: StoreDep
) -> User:
    """Change a user's role (by id or email); the last owner cannot step down."""
    _grantable(p, body.role)
    _grantable(p, access.get_user(store, ref).role)
    user = access.set_role(store, ref, body.role, actor=p.label)
    access_of(request.app).forget()
    return user


@users.post("/{ref}/password", response_model=UserCreated)
def reset_password(ref: str, request: Request, p: PrincipalDep, store: StoreDep) -> UserCreated:
    """Give a user a new one-time password; their sessions end."""
    _grantable(p, access.get_user(store, ref).role)
    user, password = access.set_password(store, ref, actor=p.label)
    access_of(request.app).forget()
    return UserCreated(user=user, password=password)


@users.delete("/{ref}", response_model=User)
def disable_user(ref: str, request: Request, p: PrincipalDep, store: StoreDep) -> User:
    """Disable a user: sessions end, tokens are revoked."""
    _grantable(p, access.get_user(store, ref).role)
    user = access.disable_user(store, ref, actor=p.label)
    access_of(request.app).forget()
    return user


@tokens.get("", response_model=list[Token])
def list_tokens(
    store: StoreDep, revoked: Annotated[bool, Query(description="Include revoked ones.")] = False
) -> list[Token]:
    """Personal API tokens (never their secrets), newest first, with when each was last used."""
    return access.list_tokens(store, revoked=revoked)


@tokens.post("", response_model=TokenCreated, status_code=201)
def create_token(body: TokenIn, p: PrincipalDep, store: StoreDep) -> TokenCreated:
    """Make a token for the caller with a role up to the caller's; the secret is shown once."""
    _grantable(p, body.role)
    token, secret = access.create_token(store, body.role, body.name, p.user_id, actor=p.label)
    return TokenCreated(token=token, secret=secret)


@tokens.delete("/{ref}", response_model=Token)
def revoke_token(ref: str, request: Request, p: PrincipalDep, store: StoreDep) -> Token:
    """Revoke a token by id or prefix; it stops working at once."""
    token = access.revoke_token(store, ref, actor=p.label)
    access_of(request.app).forget()
    return token


@audit.get("", response_model=list[AuditEntry])
def audit_log(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    action: Annotated[str | None, Query(description="Only actions starting with this.")] = None,
) -> list[AuditEntry]:
    """Admin actions, newest first: who, what, on what, when."""
    return access.audit_log(store, limit, action)


for _sub in (auth, users, tokens, audit):
    router.include_router(_sub)
