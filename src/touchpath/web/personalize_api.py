"""REST API of personalisation (docs/personalize.md).

- `POST /v1/decide`: public, like the tracking API. A page or app sends its source's write key
  (Basic username or `writeKey`) and the visitor's `anonymousId` or `userId`; the answer holds
  only the variants of that source's published decisions, never the profile. Answered from the
  read model without waiting on the writer; each answer is recorded as an exposure.
- `/api/decisions`: define (editor), read, preview for a chosen person and read the numbers
  (viewer) of decisions.
- `GET /api/personalize/profiles/{identifier}`: a whole profile for a server, with a personal
  API token (a viewer token is the read scope); a write key gets 401.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from datetime import datetime
from typing import Any

import msgspec
import orjson
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from touchpath.errors import BadRequest, SpecError, StoreUnavailable, Unauthorized
from touchpath.events.match import EventMatch
from touchpath.personalize import (
    DecisionInfo,
    DecisionNumbers,
    PreviewResult,
    ProfileRead,
    Publication,
    SavedDecision,
    decision_numbers,
    delete_decision,
    get_decision,
    list_decisions,
    list_versions,
    preview_for,
    profile_for,
    publish,
    save_decision,
    unpublish,
)
from touchpath.personalize.read import MAX_ID_CHARS
from touchpath.personalize.service import Personalizer
from touchpath.personalize.spec import NAME_PATTERN
from touchpath.system import Touchpath
from touchpath.web.auth import PrincipalDep, require
from touchpath.web.deps import StoreDep, TouchpathDep

__all__ = ["MAX_BODY_BYTES", "MAX_CONTEXT_BYTES", "DecideIn", "DecideOut", "public", "router"]

MAX_BODY_BYTES = 16 * 1024
"""Largest `/v1/decide` request body."""
MAX_CONTEXT_BYTES = 8 * 1024
"""Largest `context` of a decide request, as JSON."""
MAX_DECISIONS = 20
"""Most decisions asked in one request."""
_NAME = re.compile(NAME_PATTERN)

public = APIRouter(prefix="/v1", tags=["personalize"])
router = APIRouter(prefix="/api", tags=["decisions"])
editor = [Depends(require("editor"))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The input is invalid; the message names the path."},
    404: {"description": "No such decision, version, source or person."},
}


# --------------------------------------------------------------------------------- /v1/decide
class DecideIn(BaseModel):
    """A page's question (unknown fields are ignored, as on the tracking API)."""

    writeKey: str | None = Field(default=None, description="Or the HTTP Basic username.")
    userId: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    anonymousId: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    decisions: list[str] | None = Field(
        default=None,
        max_length=MAX_DECISIONS,
        description="Names to answer; every decision published on the source when omitted.",
    )
    context: dict[str, Any] | None = Field(
        default=None,
        description=f"The page or screen: page.path, page.url, screen.name, locale, ... "
        f"(at most {MAX_CONTEXT_BYTES} bytes as JSON).",
    )


class VariantOut(BaseModel):
    variant: str
    content: dict[str, Any]


class DecideOut(BaseModel):
    success: bool = True
    decisions: dict[str, VariantOut] = Field(description="Decision name -> variant and content.")


class _DecideBody(msgspec.Struct):
    writeKey: Any = None
    userId: Any = None
    anonymousId: Any = None
    decisions: Any = None
    context: msgspec.Raw = msgspec.Raw(b"null")


_decode = msgspec.json.Decoder(_DecideBody).decode


def _basic_username(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Authorization: not valid Basic credentials") from None
    return decoded.split(":", 1)[0] or None


def _id(value: Any, where: str, blocked: Any) -> str | None:
    """A usable user or anonymous id, None when absent or blocked; 400 when malformed."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRequest(f"{where}: must be a string, got {type(value).__name__}")
    text = str(value)
    if len(text) > MAX_ID_CHARS:
        raise BadRequest(f"{where}: {len(text)} characters; the limit is {MAX_ID_CHARS}")
    if any(ord(c) < 32 for c in text):
        raise BadRequest(f"{where}: holds control characters")
    return None if blocked(text) else text


def _names(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise BadRequest(f"decisions: must be a list of names, got {type(value).__name__}")
    if len(value) > MAX_DECISIONS:
        raise BadRequest(f"decisions: {len(value)} names; the limit is {MAX_DECISIONS}")
    for i, name in enumerate(value):
        if not isinstance(name, str) or not _NAME.match(name):
            raise BadRequest(f"decisions[{i}]: {name!r} is not a decision name")
    return list(value)


def _context(raw: msgspec.Raw) -> dict[str, Any] | None:
    if len(raw) > MAX_CONTEXT_BYTES:
        raise BadRequest(f"context: {len(raw)} bytes; the limit is {MAX_CONTEXT_BYTES}")
    value = orjson.loads(bytes(raw))
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"context: must be an object, got {type(value).__name__}")
    return value


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise BadRequest(f"body: {length} bytes; the limit is {MAX_BODY_BYTES}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(f"body: over {MAX_BODY_BYTES} bytes; the limit is {MAX_BODY_BYTES}")
    return body


async def _ready(p: Personalizer, wait: float = 10.0) -> None:
    """Wait (without blocking the loop) for the read model; 503 if it is not there in time."""
    if p.model.ready.is_set():
        return
    p.request_build()
    for _ in range(int(wait / 0.05)):
        await asyncio.sleep(0.05)
        if p.model.ready.is_set():
            return
    raise StoreUnavailable("personalisation: the read model is still being built; retry shortly")


_DECIDE_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": DecideIn.model_json_schema()}},
    }
}


@public.post(
    "/decide",
    summary="Answer a page's published decisions for one visitor",
    response_model=None,
    responses={
        200: {"model": DecideOut, "description": "The variant and content of each decision."},
        400: {"description": "Malformed input: the message names the field."},
        401: {"description": "The write key is missing or unknown."},
        404: {"description": "A decision asked for is not published on this source."},
        503: {"description": "The read model is not ready yet; retry."},
    },
    openapi_extra=_DECIDE_DOC,
)
async def decide(request: Request) -> Response:
    # The app's Touchpath read from its state, not through `TouchpathDep`: solving that
    # dependency was ~10 % of the app's CPU a decision (229 -> 217 us, docs/benchmarks.md).
    tp: Touchpath = request.app.state.touchpath
    body = await _read_body(request)
    try:
        parsed = _decode(body)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"body: invalid JSON: {exc}") from None
    key = _basic_username(request.headers.get("authorization")) or (
        parsed.writeKey if isinstance(parsed.writeKey, str) else None
    )
    if not key:
        raise Unauthorized("write key: missing; send it as the Basic username or as writeKey")
    source = tp.store.source_for_key(key)
    if source is None:
        raise Unauthorized("write key: no source has this write key")
    blocked = tp.services["unify"].config.identity.is_blocked
    user_id = _id(parsed.userId, "userId", blocked)
    anonymous_id = _id(parsed.anonymousId, "anonymousId", blocked)
    if user_id is None and anonymous_id is None:
        given = parsed.userId if parsed.userId not in (None, "") else parsed.anonymousId
        why = f" ({given!r} is a blocked value)" if given not in (None, "") else ""
        raise BadRequest(f"userId or anonymousId: one is required{why}")
    names = _names(parsed.decisions)
    context = _context(parsed.context)
    p: Personalizer = tp.services["personalize"]
    await _ready(p)
    outcomes = p.decide(source, names, user_id=user_id, anonymous_id=anonymous_id, context=context)
    answer = {o.decision: {"variant": o.variant, "content": o.content} for o in outcomes}
    return Response(
        orjson.dumps({"success": True, "decisions": answer}), media_type="application/json"
    )


# --------------------------------------------------------------------------------- /api/decisions
class PublishIn(BaseModel):
    source: str = Field(description="The source's name or id.")
    version: int | None = Field(default=None, ge=1, description="The latest when omitted.")


class UnpublishIn(BaseModel):
    source: str = Field(description="The source's name or id.")


class PreviewIn(BaseModel):
    identifier: str = Field(
        description="The person: kind:value (user_id:u_1, anonymous_id:..., email:..., "
        "device_id:..., profile_id:p_...)."
    )
    context: dict[str, Any] | None = Field(
        default=None, description="The page or screen the preview imagines."
    )
    version: int | None = Field(default=None, ge=1, description="The latest when omitted.")


class DraftPreviewIn(PreviewIn):
    decision: dict[str, Any] = Field(description="A decision spec, saved or not (a draft).")


class Deleted(BaseModel):
    name: str
    versions: int


_DECISION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}},
    }
}


def _personalizer(tp: Touchpath) -> Personalizer:
    p: Personalizer = tp.services["personalize"]
    return p


@router.get("/decisions", response_model=list[DecisionInfo])
def list_all(store: StoreDep) -> Any:
    """Every decision with its latest version and where it is published."""
    return list_decisions(store)


@router.put(
    "/decisions/{name}",
    response_model=SavedDecision,
    responses=_ERRORS,
    dependencies=editor,
    openapi_extra=_DECISION_BODY,
)
def put(name: str, tp: TouchpathDep, who: PrincipalDep, spec: dict[str, Any] = Body(...)) -> Any:
    """Save a decision (a Decision spec; `name` may be left out). A change makes a new
    version; sources keep answering the version published to them until it is published
    again."""
    if spec.get("name", name) != name:
        raise SpecError(f"name: {spec['name']!r} differs from the path's {name!r}")
    saved = save_decision(tp.store, {**spec, "name": name}, actor=who.label)
    _personalizer(tp).reload_decisions()
    return saved


@router.get("/decisions/{name}", response_model=SavedDecision, responses=_ERRORS)
def get(name: str, store: StoreDep, version: int | None = Query(None, ge=1)) -> Any:
    """A decision's latest version (or the one asked for)."""
    return get_decision(store, name, version)


@router.get("/decisions/{name}/versions", response_model=list[SavedDecision], responses=_ERRORS)
def versions(name: str, store: StoreDep) -> Any:
    """Every version of a decision, newest first."""
    return list_versions(store, name)


@router.delete("/decisions/{name}", response_model=Deleted, responses=_ERRORS, dependencies=editor)
def delete(name: str, tp: TouchpathDep) -> Any:
    """Delete every version of a decision and take it off every source (its exposures stay
    in the log)."""
    n = delete_decision(tp.store, name)
    _personalizer(tp).reload_decisions()
    return Deleted(name=name, versions=n)


@router.post(
    "/decisions/{name}/publish",
    response_model=Publication,
    responses=_ERRORS,
    dependencies=editor,
)
def publish_route(name: str, body: PublishIn, tp: TouchpathDep, who: PrincipalDep) -> Any:
    """Make a source answer a version of the decision (the latest by default)."""
    pub = publish(tp.store, name, body.source, body.version, actor=who.label)
    _personalizer(tp).reload_decisions()
    return pub


@router.post(
    "/decisions/{name}/unpublish",
    response_model=Publication,
    responses=_ERRORS,
    dependencies=editor,
)
def unpublish_route(name: str, body: UnpublishIn, tp: TouchpathDep) -> Any:
    """Stop answering the decision on a source; returns what was published."""
    pub = unpublish(tp.store, name, body.source)
    _personalizer(tp).reload_decisions()
    return pub


@router.post("/decisions/preview", response_model=PreviewResult, responses=_ERRORS)
def preview_draft(body: DraftPreviewIn, tp: TouchpathDep) -> Any:
    """What a decision spec, saved or not, answers for a chosen person (nothing recorded)."""
    return preview_for(
        tp.store, body.decision, body.identifier, body.context, personalizer=_personalizer(tp)
    )


@router.post("/decisions/{name}/preview", response_model=PreviewResult, responses=_ERRORS)
def preview_saved(name: str, body: PreviewIn, tp: TouchpathDep) -> Any:
    """What a saved decision answers for a chosen person, and which rules matched."""
    return preview_for(
        tp.store, name, body.identifier, body.context, body.version, _personalizer(tp)
    )


@router.get("/decisions/{name}/results", response_model=DecisionNumbers, responses=_ERRORS)
def results(
    name: str,
    store: StoreDep,
    version: int | None = Query(None, ge=1, description="Whose goal to use; latest if omitted."),
    goal: str | None = Query(None, description="Conversion event; the decision's own if omitted."),
    window: int | None = Query(None, gt=0, description="Seconds after exposure; the decision's."),
    start: datetime | None = Query(None, description="Exposures from (UTC)."),
    end: datetime | None = Query(None, description="Exposures before (UTC)."),
) -> Any:
    """Exposure and conversion per variant, read by the experiments engine."""
    spec = get_decision(store, name, version).spec
    match = EventMatch(event=goal) if goal else None
    return decision_numbers(store, spec, match, window, start, end)


@router.get(
    "/personalize/profiles/{identifier:path}",
    response_model=ProfileRead,
    responses=_ERRORS,
    tags=["personalize"],
)
def read_profile(
    tp: TouchpathDep,
    identifier: str = Path(
        description="kind:value, e.g. user_id:u_000042, email:ann@shop.example, device_id:..."
    ),
    limit: int = Query(20, ge=0, le=20, description="How many of the last events (at most 20)."),
) -> Any:
    """A person's traits, computed traits, audiences and last events, for a server with a token
    (a viewer token is the read scope). Write keys are refused: they are public."""
    return profile_for(tp.store, identifier, limit, _personalizer(tp))
