"""REST API of journey maps (/api/maps); the web app shows them at /maps.

Documents travel as YAML text or JSON; a bad document gives 400 with the path of what is wrong,
e.g. `stages[2].touchpoints[0].match.event: required`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from touchpath.clock import utcnow
from touchpath.errors import BadRequest
from touchpath.maps.arms import bind_arms
from touchpath.maps.bind import bind_map
from touchpath.maps.bound import BoundMap, Freshness
from touchpath.maps.cache import MapCache
from touchpath.maps.compare import compare_maps
from touchpath.maps.discover import discover_map
from touchpath.maps.document import JourneyMap, dump_map, load_map, map_schema, parse_map
from touchpath.maps.library import get_map, list_maps, save_map
from touchpath.maps.render import MEDIA_TYPES, render
from touchpath.store import Store
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep
from touchpath.web.errors import DocumentRoute, reparsed_by

__all__ = ["router"]

router = APIRouter(tags=["maps"], route_class=DocumentRoute)

Start = Annotated[datetime | None, Query(description="Events at or after this UTC time.")]
End = Annotated[datetime | None, Query(description="Events before this UTC time.")]


class MapYaml(BaseModel):
    """A map document as its YAML text (kept as written when saved)."""

    model_config = ConfigDict(extra="forbid")

    yaml: str = Field(description="The document's YAML text.")


MapBody = Annotated[
    JourneyMap | MapYaml,
    Body(description="A map document as JSON (/api/maps/schema), or {'yaml': '<the YAML text>'}."),
]


def _parse(body: JourneyMap | MapYaml) -> JourneyMap:
    return load_map(body.yaml) if isinstance(body, MapYaml) else body


def _reparse(body: Any) -> None:
    """The document's own error for a body that failed validation."""
    if isinstance(body, dict) and set(body) == {"yaml"} and isinstance(body["yaml"], str):
        load_map(body["yaml"])
    parse_map(body)


class MapEntryOut(BaseModel):
    name: str
    title: str | None
    type: str
    version: int | None
    origin: str
    created_at: datetime | None = None


class MapDoc(BaseModel):
    version: int | None = None
    """The saved version (None for a shipped example never saved, or a discovered map)."""
    document: JourneyMap
    yaml: str


class Saved(BaseModel):
    name: str
    version: int


@router.get("/api/maps", response_model=list[MapEntryOut])
def maps_list(store: StoreDep) -> list[MapEntryOut]:
    """Saved maps (latest versions, `origin: saved`) and the shipped examples (`version: null`)."""
    return [MapEntryOut(**e.__dict__) for e in list_maps(store)]


@router.get("/api/maps/schema")
def maps_schema() -> dict[str, Any]:
    """The JSON Schema of the map document."""
    return map_schema()


class MapValid(BaseModel):
    valid: bool
    name: str
    touchpoints: int


@router.post("/api/maps/validate", response_model=MapValid)
@reparsed_by(_reparse)
def maps_validate(body: MapBody) -> MapValid:
    """Validate a document; 400 names the path of each problem."""
    doc = _parse(body)
    return MapValid(valid=True, name=doc.name, touchpoints=len(doc.touchpoints()))


@router.post(
    "/api/maps",
    status_code=201,
    response_model=Saved,
    dependencies=[Depends(require("editor"))],
)
@reparsed_by(_reparse)
def maps_save(store: StoreDep, body: MapBody) -> Saved:
    """Save a new version of a document."""
    doc = _parse(body)
    text = body.yaml if isinstance(body, MapYaml) else None
    return Saved(name=doc.name, version=save_map(store, doc, text))


class DifferenceOut(BaseModel):
    where: str
    what: str
    a: str
    b: str
    mark: str


class Comparison(BaseModel):
    a: BoundMap
    b: BoundMap
    differences: list[DifferenceOut]
    labels: tuple[str, str] | None = None
    """What each side is: the arms, when an experiment's arms are compared."""
    sizes: tuple[int, int] | None = None
    """People in each arm."""


@router.get("/api/maps/compare", response_model=Comparison)
def maps_compare(
    request: Request,
    store: StoreDep,
    a: Annotated[str, Query(description="The first map's name.")],
    b: Annotated[
        str | None, Query(description="The second map's name (the same, for two versions).")
    ] = None,
    a_version: int | None = None,
    b_version: int | None = None,
    start: Start = None,
    end: End = None,
    experiment: Annotated[
        str | None,
        Query(description="A saved experiment: map `a` bound once per arm, side by side."),
    ] = None,
    arms: Annotated[
        list[str] | None,
        Query(description="The two arms to compare (default: the control and the other)."),
    ] = None,
) -> Comparison:
    """Two maps (or two versions of one) bound to the same events, and what differs; or, with
    `experiment`, one map bound for two of its arms (their audiences are refreshed)."""
    doc = get_map(store, a, a_version)[0]
    if experiment is not None:
        arm = bind_arms(store, doc, experiment, arms, start, end)
        diffs = [DifferenceOut(**d.__dict__) for d in arm.differences]
        return Comparison(a=arm.a, b=arm.b, differences=diffs, labels=arm.arms, sizes=arm.sizes)
    if b is None:
        raise BadRequest("b: required (the second map), unless experiment names one to compare")
    ba = _bind(request, store, doc, start, end)
    bb = _bind(request, store, get_map(store, b, b_version)[0], start, end)
    diffs = [DifferenceOut(**d.__dict__) for d in compare_maps(ba, bb)]
    return Comparison(a=ba, b=bb, differences=diffs)


@router.get("/api/maps/{name}/versions", response_model=list[int])
def maps_versions(store: StoreDep, name: str) -> list[int]:
    """The saved versions of a map, newest first (empty for an example never saved)."""
    rows = store.query("SELECT version FROM maps WHERE name = ? ORDER BY version DESC", [name])
    return [int(r[0]) for r in rows]


@router.get("/api/maps/{name}", response_model=MapDoc)
def maps_get(store: StoreDep, name: str, version: int | None = None) -> MapDoc:
    """A map document (latest saved version, or the example), as JSON and as YAML."""
    doc, v = get_map(store, name, version)
    return MapDoc(version=v, document=doc, yaml=dump_map(doc))


def _bind(
    request: Request, store: Store, doc: JourneyMap, start: datetime | None, end: datetime | None
) -> BoundMap:
    """Bind `doc`, through the server's map cache when it runs (maps/cache.py)."""
    tp = getattr(request.app.state, "touchpath", None)
    cache: MapCache | None = tp.services.get("map_cache") if tp is not None else None
    if cache is None:
        return _bound_now(store, doc, start, end)
    return cache.get(doc, start, end).served()


def _bound_now(
    store: Store,
    doc: JourneyMap,
    start: datetime | None,
    end: datetime | None,
    optimize: bool = False,
) -> BoundMap:
    """Bound for this request: fresh, its numbers as of the bind's start (or the journey
    copy's `as_of` when that lags)."""
    began = utcnow()
    bound = bind_map(store, doc, start, end, optimize=optimize)
    as_of = began if bound.as_of is None else min(began, bound.as_of)
    return bound.model_copy(update={"freshness": Freshness(numbers_as_of=as_of, fresh=True)})


def _bound(
    request: Request, store: Store, name: str, start: datetime | None, end: datetime | None
) -> BoundMap:
    return _bind(request, store, get_map(store, name)[0], start, end)


@router.get("/api/maps/{name}/bind", response_model=BoundMap)
def maps_bind(
    request: Request,
    store: StoreDep,
    name: str,
    start: Start = None,
    end: End = None,
    optimize: bool = False,
) -> Any:
    """The map bound to the events: numbers per stage and touchpoint, pain points, opportunities.

    A server answers from its map cache: `freshness` says what time the numbers are as of and,
    when newer events wait, the earliest time of the next bind (re-binds run on a CPU budget,
    `TOUCHPATH_MAP_REFRESH_CPU_SHARE`, docs/maps.md). `optimize=true` rebuilds a stale sorted
    journey copy first (as `touchpath optimize`) and binds afresh."""
    if optimize:
        return _bound_now(store, get_map(store, name)[0], start, end, optimize=True)
    return _bound(request, store, name, start, end)


@router.post("/api/maps/bind", response_model=BoundMap)
@reparsed_by(_reparse)
def maps_bind_doc(
    request: Request,
    store: StoreDep,
    body: MapBody,
    start: Start = None,
    end: End = None,
) -> Any:
    """Bind a document sent in the body (an edited or discovered map) without saving it."""
    return _bind(request, store, _parse(body), start, end)


@router.get("/api/maps/{name}/render.{fmt}")
def maps_render(
    request: Request, store: StoreDep, name: str, fmt: str, start: Start = None, end: End = None
) -> Response:
    """The bound map as html, svg, png or pdf (A3 landscape)."""
    data = render(_bound(request, store, name, start, end), fmt)
    return Response(data, media_type=MEDIA_TYPES[fmt])


@router.post("/api/maps/discover", response_model=MapDoc)
def maps_discover(
    store: StoreDep,
    name: str = "discovered",
    per_stage: Annotated[int, Query(ge=1, le=100)] = 5,
    goal: Annotated[str, Query(min_length=1, description="The goal event.")] = "Order Completed",
    start: Start = None,
    end: End = None,
    taxonomy: dict[str, list[str]] | None = Body(default=None),
) -> MapDoc:
    """A current-state map discovered from the events (optionally with your taxonomy)."""
    doc = discover_map(
        store, name=name, taxonomy=taxonomy, per_stage=per_stage, start=start, end=end, goal=goal
    )
    return MapDoc(document=doc, yaml=dump_map(doc))
