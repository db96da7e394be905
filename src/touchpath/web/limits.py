"""`BodyLimit`: caps request bodies while they are read, so an upload over the limit is refused
with 413 before it fills a disk. A Content-Length over the limit is refused at once; a chunked
body is counted as it streams."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit"]


def _too_large(limit: int) -> str:
    return f"body: over {limit} bytes; the limit for this route is {limit}"


class BodyLimit:
    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        for k, v in scope["headers"]:
            if k == b"content-length" and v.isdigit() and int(v) > limit:
                body = orjson.dumps(
                    {"success": False, "error": {"code": "too_large", "message": _too_large(limit)}}
                )
                await Response(body, 413, media_type="application/json")(scope, receive, send)
                return
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, capped, send)
