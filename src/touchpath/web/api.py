"""REST API for sources, the event stream, counts and rejected messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from touchpath.store import explore
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["store"])


class SourceIn(BaseModel):
    name: str


class SourceOut(BaseModel):
    id: str
    name: str
    write_key: str
    created_at: datetime


@router.post(
    "/sources", response_model=SourceOut, status_code=201, dependencies=[Depends(require("admin"))]
)
def add_source(body: SourceIn, store: StoreDep) -> Any:
    """Create a source; the answer carries its write key."""
    return store.create_source(body.name).__dict__


@router.get("/sources", response_model=list[SourceOut], dependencies=[Depends(require("admin"))])
def list_sources(store: StoreDep) -> Any:
    """Every source with its write key."""
    return [s.__dict__ for s in store.sources()]


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
