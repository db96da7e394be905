"""REST API for sources, the event stream, counts and rejected messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

import duckdb
import orjson
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from touchpath.access.audit import record
from touchpath.store import Source, explore
from touchpath.web.auth import PrincipalDep, require
from touchpath.web.deps import StoreDep
from touchpath.web.errors import ErrorBody

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["store"])


class SourceIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class WriteKeyOut(BaseModel):
    prefix: str
    """The key's first 8 characters: the key itself is shown once, when it is made."""
    created_at: datetime
    expires_at: datetime | None = None
    """End of its grace period after a rotation."""
    revoked_at: datetime | None = None
    live: bool


class SourceOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    key_prefix: str | None
    """The prefix of its newest live key; None when every key was revoked."""
    keys: list[WriteKeyOut]
    write_key: str | None = None
    """The whole new key: only in the answer that made it (a new source, a rotation)."""


class Rotation(BaseModel):
    grace_hours: float = Field(default=24, ge=0, le=24 * 90)
    """How long the source's current keys keep working; 0: they end now."""


class Revocation(BaseModel):
    prefix: str | None = Field(default=None, min_length=1, max_length=64)
    """The key to revoke, by its prefix; None: every key of the source."""


def _out(src: Source) -> SourceOut:
    return SourceOut(
        id=src.id,
        name=src.name,
        created_at=src.created_at,
        key_prefix=src.key_prefix,
        keys=[WriteKeyOut(**k.__dict__) for k in src.keys],
        write_key=src.write_key,
    )


_ADMIN = [Depends(require("admin"))]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such source (or key)."}
}


@router.post(
    "/sources",
    response_model=SourceOut,
    status_code=201,
    dependencies=_ADMIN,
    responses={400: {"model": ErrorBody, "description": "The name is taken."}},
)
def add_source(body: SourceIn, store: StoreDep) -> SourceOut:
    """Create a source; the answer carries its write key, shown this once."""
    return _out(store.create_source(body.name))


@router.get("/sources", response_model=list[SourceOut], dependencies=_ADMIN)
def list_sources(store: StoreDep) -> list[SourceOut]:
    """Every source with its keys' prefixes."""
    return [_out(s) for s in store.sources()]


@router.post(
    "/sources/{name}/rotate", response_model=SourceOut, dependencies=_ADMIN, responses=_NOT_FOUND
)
def rotate_key(name: str, body: Rotation, store: StoreDep, who: PrincipalDep) -> SourceOut:
    """A new write key (in `write_key`, shown this once); the current ones keep working for
    `grace_hours`."""
    detail = {"grace_hours": body.grace_hours}
    also = partial(_audit, actor=who.label, action="source.rotate", target=name, detail=detail)
    return _out(store.rotate_source_key(name, timedelta(hours=body.grace_hours), also))


@router.post(
    "/sources/{name}/revoke", response_model=SourceOut, dependencies=_ADMIN, responses=_NOT_FOUND
)
def revoke_key(name: str, body: Revocation, store: StoreDep, who: PrincipalDep) -> SourceOut:
    """End a write key (by prefix), or every key of the source, at once."""
    detail = {"prefix": body.prefix}
    also = partial(_audit, actor=who.label, action="source.revoke", target=name, detail=detail)
    return _out(store.revoke_source_key(name, body.prefix, also))


def _audit(con: duckdb.DuckDBPyConnection, **kw: Any) -> None:
    record(con, kw["actor"], kw["action"], kw["target"], kw["detail"])


@router.get("/events")
def recent_events(
    store: StoreDep,
    after_seq: int = Query(0, description="Only events ingested after this sequence number."),
    limit: int = Query(50, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """The newest events (the live stream): poll with the highest `seq` seen."""
    return _jsonable(explore.recent_events(store, after_seq=after_seq, limit=limit))


@router.get("/stats")
def stats(store: StoreDep) -> dict[str, Any]:
    """Event counts in all, by channel and by type, and the count of rejected messages."""
    return explore.counts(store)


@router.get("/rejected")
def rejected(store: StoreDep, limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    """Messages that were well-formed JSON but not valid, newest first, with the reason."""
    return _jsonable(explore.rejected(store, limit=limit))


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = orjson.loads(orjson.dumps(rows, default=str))
    return out
