"""`HostAllowList`: refuses requests whose Host header is not one of the allowed names (400), so a
page on another site cannot reach a server on 127.0.0.1 by DNS rebinding (a name of theirs that
resolves to 127.0.0.1 arrives with their name in Host).

>>> host_name("127.0.0.1:8000"), host_name("[::1]:8000"), host_name("Shop.Example")
('127.0.0.1', '::1', 'shop.example')
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LOOPBACK", "HostAllowList", "host_name"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def host_name(header: str) -> str:
    """The name of a Host header without its port, lower-case."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1 : h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


class HostAllowList:
    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = {host_name(a) for a in allowed}
        self.any = "*" in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any:
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if host_name(host) in self.allowed:
            await self.app(scope, receive, send)
            return
        message = (
            f"Host: {host!r} is not served here; add it to TOUCHPATH_ALLOWED_HOSTS "
            f"(now {', '.join(sorted(self.allowed))})"
        )
        body = orjson.dumps({"success": False, "error": {"code": "bad_host", "message": message}})
        await Response(body, 400, media_type="application/json")(scope, receive, send)
