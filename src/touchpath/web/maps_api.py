"""REST API of journey maps (/api/maps) and the live map page (/maps/{name}).

Documents travel as YAML text or JSON; a bad document gives 400 with the path of what is wrong,
e.g. `stages[2].touchpoints[0].match.event: required`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from touchpath.maps.bind import bind_map
from touchpath.maps.bound import BoundMap
from touchpath.maps.discover import discover_map
from touchpath.maps.document import JourneyMap, dump_map, load_map, map_schema, parse_map
from touchpath.maps.library import get_map, list_maps, save_map
from touchpath.maps.render import MEDIA_TYPES, render
from touchpath.store import Store
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep

__all__ = ["router"]

router = APIRouter(tags=["maps"])

Start = Annotated[datetime | None, Query(description="Events at or after this UTC time.")]
End = Annotated[datetime | None, Query(description="Events before this UTC time.")]
DocBody = Body(..., description="A map document as JSON, or {'yaml': '<the YAML text>'}.")


def _parse(body: dict[str, Any]) -> JourneyMap:
    if set(body) == {"yaml"} and isinstance(body["yaml"], str):
        return load_map(body["yaml"])
    return parse_map(body)


class MapEntryOut(BaseModel):
    name: str
    title: str | None
    type: str
    version: int | None
    origin: str
    created_at: datetime | None = None


@router.get("/api/maps", response_model=list[MapEntryOut])
def maps_list(store: StoreDep) -> list[MapEntryOut]:
    """Saved maps (latest versions, `origin: saved`) and the shipped examples (`version: null`)."""
    return [MapEntryOut(**e.__dict__) for e in list_maps(store)]


@router.get("/api/maps/schema")
def maps_schema() -> dict[str, Any]:
    """The JSON Schema of the map document."""
    return map_schema()


@router.post("/api/maps/validate")
def maps_validate(body: dict[str, Any] = DocBody) -> dict[str, Any]:
    """Validate a document; 400 names the path of each problem."""
    doc = _parse(body)
    return {"valid": True, "name": doc.name, "touchpoints": len(doc.touchpoints())}


@router.post("/api/maps", status_code=201, dependencies=[Depends(require("editor"))])
def maps_save(store: StoreDep, body: dict[str, Any] = DocBody) -> dict[str, Any]:
    """Save a new version of a document."""
    doc = _parse(body)
    text = body["yaml"] if set(body) == {"yaml"} else None
    return {"name": doc.name, "version": save_map(store, doc, text)}


@router.get("/api/maps/{name}")
def maps_get(store: StoreDep, name: str, version: int | None = None) -> dict[str, Any]:
    """A map document (latest saved version, or the example), as JSON and as YAML."""
    doc, v = get_map(store, name, version)
    return {"version": v, "document": doc.model_dump(mode="json"), "yaml": dump_map(doc)}


def _bound(store: Store, name: str, start: datetime | None, end: datetime | None) -> BoundMap:
    return bind_map(store, get_map(store, name)[0], start, end)


@router.get("/api/maps/{name}/bind", response_model=BoundMap)
def maps_bind(
    store: StoreDep, name: str, start: Start = None, end: End = None, optimize: bool = False
) -> Any:
    """The map bound to the events: numbers per stage and touchpoint, pain points, opportunities.

    `optimize=true` rebuilds a stale sorted journey copy first (as `touchpath optimize`)."""
    return bind_map(store, get_map(store, name)[0], start, end, optimize=optimize)


@router.post("/api/maps/bind", response_model=BoundMap)
def maps_bind_doc(
    store: StoreDep, start: Start = None, end: End = None, body: dict[str, Any] = DocBody
) -> Any:
    """Bind a document sent in the body (an edited or discovered map) without saving it."""
    return bind_map(store, _parse(body), start, end)


@router.get("/api/maps/{name}/render.{fmt}")
def maps_render(
    store: StoreDep, name: str, fmt: str, start: Start = None, end: End = None
) -> Response:
    """The bound map as html, svg, png or pdf (A3 landscape)."""
    data = render(_bound(store, name, start, end), fmt)
    return Response(data, media_type=MEDIA_TYPES[fmt])


@router.post("/api/maps/discover")
def maps_discover(
    store: StoreDep,
    name: str = "discovered",
    per_stage: int = 5,
    start: Start = None,
    end: End = None,
    taxonomy: dict[str, list[str]] | None = Body(default=None),
) -> dict[str, Any]:
    """A current-state map discovered from the events (optionally with your taxonomy)."""
    doc = discover_map(
        store, name=name, taxonomy=taxonomy, per_stage=per_stage, start=start, end=end
    )
    return {"document": doc.model_dump(mode="json"), "yaml": dump_map(doc)}


@router.get("/maps/{name}", response_class=HTMLResponse, include_in_schema=False)
def map_page(request: Request, name: str, start: Start = None, end: End = None) -> str:
    """The live map: bound to the events as they are now, rendered."""
    store: Store = request.app.state.store
    return render(_bound(store, name, start, end), "html").decode()
