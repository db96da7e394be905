"""The Segment-spec tracking API: POST /v1/track|identify|page|screen|group|alias|batch.

Any app instrumented with Segment or RudderStack can send here by changing only the host.
The write key comes as the HTTP Basic username (empty password) or as `writeKey` in the body.
A request is answered 200 only after its messages are committed; SDKs retry 429 and 5xx with
the same messageId, and duplicates are dropped by the store.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import zlib
from typing import Annotated, Any

import msgspec
import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from touchpath.errors import BadRequest, Unauthorized
from touchpath.events.message import stage_messages
from touchpath.settings import Settings
from touchpath.store import Store, utcnow

__all__ = ["CollectCors", "StoreDep", "decode_request", "get_store", "nesting_depth", "router"]

router = APIRouter(prefix="/v1", tags=["collect"])


class _BatchBody(msgspec.Struct):
    batch: list[msgspec.Raw]
    writeKey: str | None = None
    sentAt: str | None = None


class _SingleBody(msgspec.Struct):
    writeKey: str | None = None
    sentAt: str | None = None


_decode_batch = msgspec.json.Decoder(_BatchBody).decode
_decode_single = msgspec.json.Decoder(_SingleBody).decode


def _gunzip(body: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"body: not valid gzip: {exc}") from exc
    if len(out) > limit or d.unconsumed_tail:
        raise BadRequest(f"body: over {limit} bytes once decompressed; the limit is {limit}")
    return out


def _basic_username(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Authorization: not valid Basic credentials") from None
    return decoded.split(":", 1)[0] or None


def decode_request(
    body: bytes, route_type: str | None, settings: Settings
) -> tuple[list[bytes], str | None, str | None]:
    """Split a request body into raw messages; returns (raws, body write key, batch sentAt)."""
    try:
        body.decode("utf-8")  # JSON is UTF-8; msgspec does not look inside the raw messages
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body: not UTF-8 at byte {exc.start}") from None
    try:
        if route_type is None:
            parsed = _decode_batch(body)
            raws = [bytes(r) for r in parsed.batch]
            where = "batch"
        else:
            single = _decode_single(body)
            parsed_key, sent = single.writeKey, None
            raws = [body]
            where = "message"
    except msgspec.ValidationError as exc:
        raise BadRequest(f"body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"body: invalid JSON: {exc}") from None
    if route_type is None:
        parsed_key, sent = parsed.writeKey, parsed.sentAt
        if len(raws) > settings.max_batch_messages:
            raise BadRequest(
                f"batch: {len(raws)} messages; the limit is {settings.max_batch_messages}"
            )
    depth = settings.max_json_depth
    for i, raw in enumerate(raws):
        if len(raw) > settings.max_message_bytes:
            at = f"batch[{i}]" if where == "batch" else "message"
            raise BadRequest(
                f"{at}: {len(raw)} bytes; the limit is {settings.max_message_bytes} per message"
            )
        if raw.count(b"{") + raw.count(b"[") > depth and nesting_depth(raw) > depth:
            at = f"batch[{i}]" if where == "batch" else "message"
            raise BadRequest(f"{at}: objects and arrays nested deeper than {depth} levels")
    return raws, parsed_key, sent


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")


def nesting_depth(raw: bytes) -> int:
    """How deeply objects and arrays nest in a JSON text (brackets inside strings do not count).

    >>> nesting_depth(b'{"a": [1, {"b": "[[["}]}'), nesting_depth(b'"x"')
    (3, 0)
    """
    only = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if not only:
        return 0
    steps = np.frombuffer(only, dtype=np.uint8)
    levels = np.cumsum(np.where((steps == ord("{")) | (steps == ord("[")), 1, -1))
    return int(levels.max())


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise BadRequest(f"body: {length} bytes; the limit is {limit} per request")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"body: over {limit} bytes; the limit is {limit} per request")
        chunks.append(chunk)
    return b"".join(chunks)


async def get_store(request: Request) -> Store:
    """The app's store. Async so FastAPI does not hop to a worker thread for every request."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


async def _collect(request: Request, store: Store, route_type: str | None) -> JSONResponse:
    settings = store.settings
    received_at = utcnow()
    body = await _read_body(request, settings.max_request_bytes)
    if "gzip" in request.headers.get("content-encoding", "").lower():
        body = _gunzip(body, settings.max_request_bytes)
    header_key = _basic_username(request.headers.get("authorization"))
    raws, body_key, sent_at = decode_request(body, route_type, settings)
    write_key = header_key or body_key
    if not write_key:
        raise Unauthorized("write key: missing; send it as the Basic username or as writeKey")
    source = store.source_for_key(write_key)
    if source is None:
        raise Unauthorized("write key: no source has this write key")
    staged = stage_messages(
        raws, source=source, received_at=received_at, route_type=route_type, batch_sent_at=sent_at
    )
    result = await asyncio.wrap_future(store.ingest(staged))
    return JSONResponse(
        {
            "success": True,
            "accepted": result.accepted,
            "rejected": result.rejected,
            "duplicates": result.duplicates,
        }
    )


class MessageIn(BaseModel):
    """A Segment-spec message, as documented (the body is read by msgspec, not by this model:
    a message that is not valid goes to `rejected` with the reason, and the others are kept)."""

    model_config = ConfigDict(extra="allow")

    type: str | None = Field(
        default=None, description="track, identify, page, screen, group, alias."
    )
    event: str | None = Field(default=None, description="A track message's event name.")
    name: str | None = Field(default=None, description="A page's or screen's name.")
    userId: str | None = None
    anonymousId: str | None = None
    groupId: str | None = None
    previousId: str | None = None
    messageId: str | None = Field(default=None, description="Duplicates of one id are dropped.")
    timestamp: str | None = Field(default=None, description="ISO-8601; corrected by sentAt.")
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None


class BatchIn(BaseModel):
    batch: list[MessageIn]
    writeKey: str | None = None
    sentAt: str | None = None


class Ingested(BaseModel):
    """Answered only after the messages are committed."""

    success: bool
    accepted: int
    rejected: int
    duplicates: int


def _body(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    if model is BatchIn:
        schema["properties"]["batch"]["items"] = MessageIn.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not JSON, not an object, too large or nested too deep."},
    401: {"description": "No write key (Basic username or writeKey), or an unknown one."},
    429: {"description": "The store is busy; retry after Retry-After seconds."},
    503: {"description": "The store cannot take writes now; retry."},
}


@router.post(
    "/batch",
    summary="Send many messages of any type at once",
    response_model=Ingested,
    responses=_ANSWERS,
    openapi_extra=_body(BatchIn),
)
async def batch(request: Request, store: StoreDep) -> JSONResponse:
    return await _collect(request, store, None)


def _single(kind: str) -> Any:
    async def endpoint(request: Request, store: StoreDep) -> JSONResponse:
        return await _collect(request, store, kind)

    endpoint.__name__ = kind
    return endpoint


for _kind in ("track", "identify", "page", "screen", "group", "alias"):
    router.add_api_route(
        f"/{_kind}",
        _single(_kind),
        methods=["POST"],
        summary=f"Send one {_kind} message",
        response_model=Ingested,
        responses=_ANSWERS,
        openapi_extra=_body(MessageIn),
    )


_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (b"access-control-allow-headers", b"Authorization, Content-Type, Content-Encoding"),
    (b"access-control-max-age", b"86400"),
]


class CollectCors:
    """CORS for the tracking API only: `/v1` answers any origin's preflight (browser SDKs send
    from the shop's pages with a Basic write key) and its answers may be read by any origin.
    Nothing else gets a CORS header, so no other site's script can read `/api`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await Response(status_code=204, headers={k.decode(): v.decode() for k, v in _CORS})(
                scope, receive, send
            )
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), _CORS[0]]
            await send(message)

        await self.app(scope, receive, with_cors)
