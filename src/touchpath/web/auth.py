"""Who may call what: every route but `/v1` needs a user session or a personal API token.

- `require(role)` is the FastAPI dependency a router or route declares:
  `APIRouter(dependencies=[Depends(require("viewer"))])`, or on a route that changes things
  `@router.put(..., dependencies=[Depends(require("editor"))])`. It answers 401 without a valid
  credential and 403 when the role is too low, with the project's JSON error body.
- `AuthMiddleware` resolves the credential once per request (`Authorization: Bearer <token>` or
  the session cookie), refuses any `/api` request without one (so a route that forgot to declare
  a role still needs a viewer), and checks the CSRF token of cookie-authenticated requests that
  change state: the client sends the session's token in `X-CSRF-Token` (it is in the
  `touchpath_csrf` cookie and in the answer of `/api/auth/login` and `/api/auth/me`).
- `PrincipalDep` hands a route the caller (for the audit log).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from touchpath.access import ROLES, Access, Principal, Role
from touchpath.errors import Forbidden, Unauthorized

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "OPEN_API_PATHS",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "PrincipalDep",
    "access_of",
    "current_principal",
    "declare_roles",
    "require",
    "required_role",
]

SESSION_COOKIE = "touchpath_session"
CSRF_COOKIE = "touchpath_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_API_PATHS = frozenset({"/api/auth/login"})
"""The only `/api` paths that answer without a credential."""

_ERRORS: dict[int, dict[str, Any]] = {
    401: {"description": "No credential, or one that is not valid (session cookie or Bearer)."},
    403: {"description": "The credential's role is too low, or the CSRF token is missing."},
}


def access_of(app: Any) -> Access:
    """The app's `Access` (made on first use from the app's store)."""
    access: Access | None = getattr(app.state, "access", None)
    if access is None:
        access = app.state.access = Access(app.state.store)
    return access


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def resolve(app: Any, headers: dict[str, str], cookies: dict[str, str]) -> Principal | None:
    """The principal of a request's credential, or None when it has none.

    Raises Unauthorized for a credential that is present but not valid (never falls back from a
    bad token to the cookie), and for a write key sent to a route that is not `/v1`."""
    auth = headers.get("authorization")
    if auth:
        token = _bearer(auth)
        if token is None:
            if auth.lower().startswith("basic "):
                raise Unauthorized(
                    "Authorization: write keys authenticate /v1 only; send a personal API token "
                    "as 'Authorization: Bearer <token>'"
                )
            raise Unauthorized("Authorization: expected 'Bearer <token>'")
        p = access_of(app).by_token(token)
        if p is None:
            raise Unauthorized("Authorization: the token is not valid (unknown or revoked)")
        return p
    session = cookies.get(SESSION_COOKIE)
    if session:
        p = access_of(app).by_session(session)
        if p is None:
            raise Unauthorized("session: expired or signed out; sign in again")
        return p
    return None


def _check_csrf(p: Principal, method: str, headers: dict[str, str]) -> None:
    if p.kind != "session" or method in SAFE_METHODS or p.csrf is None:
        return
    sent = headers.get(CSRF_HEADER.lower(), "")
    if not sent or not hmac.compare_digest(sent.encode(), p.csrf.encode()):
        raise Forbidden(
            f"{CSRF_HEADER}: missing or wrong; a signed-in browser sends the session's CSRF token "
            f"(cookie {CSRF_COOKIE}) with every {method}",
            code="csrf",
        )


def _cookies(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.split(";"):
        k, sep, v = part.strip().partition("=")
        if sep:
            out.setdefault(k, v)
    return out


class AuthMiddleware:
    """Resolves the credential of every request once (kept in `request.state.principal`), refuses
    `/api` requests without one, and checks CSRF on cookie-authenticated writes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"].startswith("/v1/")
            or scope["path"] in OPEN_API_PATHS
        ):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        try:
            p = resolve(scope["app"], headers, _cookies(headers.get("cookie", "")))
            if p is not None:
                _check_csrf(p, scope["method"], headers)
            elif path.startswith("/api/") and path not in OPEN_API_PATHS:
                raise Unauthorized(
                    f"{scope['method']} {path}: sign in, or send a personal API token as "
                    "'Authorization: Bearer <token>'"
                )
        except (Unauthorized, Forbidden) as exc:
            await _refuse(exc, scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = p
        await self.app(scope, receive, send)


async def _refuse(
    exc: Unauthorized | Forbidden, scope: Scope, receive: Receive, send: Send
) -> None:
    from starlette.responses import Response

    status = 401 if isinstance(exc, Unauthorized) else 403
    error = {"code": exc.code, "message": str(exc), "problems": []}
    body = orjson.dumps({"success": False, "error": error})
    headers = {"WWW-Authenticate": 'Bearer realm="touchpath"'} if status == 401 else {}
    await Response(body, status, headers, media_type="application/json")(scope, receive, send)


async def current_principal(request: Request) -> Principal:
    """The caller; 401 without a credential."""
    p: Principal | None = getattr(request.state, "principal", None)
    if p is None:
        p = resolve(request.app, dict(request.headers), dict(request.cookies))
        if p is None:
            raise Unauthorized(f"{request.method} {request.url.path}: sign in or send a token")
        _check_csrf(p, request.method, dict(request.headers))
    return p


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that lets through callers with `role` or higher (401 / 403 otherwise)."""
    if role not in ROLES:
        raise ValueError(f"require: {role!r} is not a role ({', '.join(ROLES)})")

    async def dependency(request: Request) -> Principal:
        p = await current_principal(request)
        if not p.may(role):
            who = p.email or (f"token {p.token_prefix}" if p.token_prefix else p.kind)
            raise Forbidden(
                f"{request.method} {request.url.path}: needs the role {role}; {who} is {p.role}"
            )
        return p

    dependency.__name__ = f"require_{role}"
    dependency.required_role = role  # type: ignore[attr-defined]
    return dependency


def _route_contexts(app: FastAPI) -> list[Any]:
    """Every API route of the app with its effective dependencies (FastAPI >= 0.16x includes
    routers lazily; older ones copy the routes into `app.routes`)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c for c in iter_route_contexts(app.routes) if hasattr(c, "dependant")]


def required_role(route: Any) -> Role | None:
    """The highest role a route's `require()` dependencies ask for, on the route, its router or
    nested in other dependencies (None: none declared)."""
    found: list[Role] = []
    todo = list(route.dependant.dependencies)
    while todo:
        dep = todo.pop()
        role = getattr(dep.call, "required_role", None)
        if role is not None:
            found.append(role)
        todo.extend(dep.dependencies)
    return max(found, key=ROLES.index) if found else None


def declare_roles(app: FastAPI) -> None:
    """Put each `/api` route's role (`x-required-role`) and its 401/403 answers in the OpenAPI
    document, so clients and the table-driven access test read them from there."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for route in _route_contexts(app):
            path = route.path_format or ""
            if not path.startswith("/api/") or path in OPEN_API_PATHS:
                continue
            role = required_role(route) or "viewer"
            for method in route.methods or ():
                op = schema["paths"].get(path, {}).get(method.lower())
                if op is None:
                    continue
                op["x-required-role"] = role
                for status, spec in _ERRORS.items():
                    op["responses"].setdefault(str(status), spec)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
