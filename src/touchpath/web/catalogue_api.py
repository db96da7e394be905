"""REST API of the event catalogue (`touchpath.catalogue`, docs/catalogue.md).

Viewers read it: every event name with its count and first and last seen, and per event its
property keys with their observed types. Rebuilding it (after a privacy deletion) is an admin's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from touchpath import catalogue
from touchpath.catalogue import CatalogueEvent, CatalogueProperty
from touchpath.errors import NotFound
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep
from touchpath.web.errors import ERRORS

__all__ = ["router"]

router = APIRouter(prefix="/api/catalogue", tags=["catalogue"])

TypeQuery = Annotated[
    str | None, Query(description="Only messages of this type (track, page, screen, identify).")
]


class CatalogueEvents(BaseModel):
    events: list[CatalogueEvent]


class CatalogueProperties(BaseModel):
    event: str
    properties: list[CatalogueProperty]


class Rebuilt(BaseModel):
    events: int
    """Events read from the log."""


@router.get("/events", response_model=CatalogueEvents, responses=ERRORS)
def list_events(store: StoreDep, type: TypeQuery = None) -> CatalogueEvents:
    """Every event, page and screen name (and `''` for identify calls), most frequent first."""
    with store.reading() as cur:
        return CatalogueEvents(events=catalogue.events(cur, type))


@router.get("/properties", response_model=CatalogueProperties, responses=ERRORS)
def list_properties(
    store: StoreDep,
    event: Annotated[str, Query(description="The event name ('' with type=identify: traits).")],
    type: TypeQuery = None,
) -> CatalogueProperties:
    """The property keys of one event, each with the types its values were seen with."""
    with store.reading() as cur:
        found = catalogue.properties(cur, event, type)
        if not found and event not in catalogue.event_names(cur) | {""}:
            near = catalogue.closest(event, catalogue.event_names(cur))
            hint = f"; did you mean {' or '.join(map(repr, near))}?" if near else ""
            raise NotFound(f"event: unknown event {event!r}{hint}")
    return CatalogueProperties(event=event, properties=found)


@router.post(
    "/rebuild",
    response_model=Rebuilt,
    responses=ERRORS,
    dependencies=[Depends(require("admin"))],
)
def rebuild(store: StoreDep) -> Rebuilt:
    """Read the catalogue again from the whole event log."""
    return Rebuilt(events=store.write_sync(catalogue.rebuild))
