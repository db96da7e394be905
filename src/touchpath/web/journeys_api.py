"""REST API of journeys (/api/journeys): documents and versions, publishing, pause, resume,
archive, entering people, dry runs and test sends, and what the builder's canvas draws.

Viewers read; editors save, validate, publish, pause, resume, archive, enter people, dry-run
and test-send (`touchpath.web.auth`). Documents travel as JSON (the schema is at /api/journeys/schema) or as {"yaml": "<text>"}; a
bad one gives 400 naming each problem's path (`nodes.wait_2.timeout: required`), and
/api/journeys/validate answers the problems with their node ids for the canvas.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from touchpath.errors import BadRequest, SpecError
from touchpath.errors import Problem as ProblemOf
from touchpath.orchestrate import library
from touchpath.orchestrate.counts import JourneyCanvas, NodeCounts, canvas, node_counts
from touchpath.orchestrate.document import (
    Journey,
    Problem,
    dump_journey,
    journey_schema,
    load_journey,
    parse_journey,
)
from touchpath.orchestrate.dryrun import DryRun, TestSend, dry_run, send_test
from touchpath.orchestrate.library import (
    Entered,
    JourneyDetail,
    JourneySummary,
    Published,
    problems,
)
from touchpath.orchestrate.service import JourneyEngine
from touchpath.web.auth import require
from touchpath.web.errors import DocumentRoute, reparsed_by

__all__ = ["router"]

router = APIRouter(prefix="/api/journeys", tags=["journeys"], route_class=DocumentRoute)


def get_engine(request: Request) -> JourneyEngine:
    engine: JourneyEngine = request.app.state.touchpath.services["journeys"]
    return engine


EngineDep = Annotated[JourneyEngine, Depends(get_engine)]
EDITOR = [Depends(require("editor"))]
"""Routes that change journeys, enter or message people, or replay a person: editors. Reading
is for viewers (the router is included with `require("viewer")`)."""
VersionQ = Annotated[int | None, Query(description="A version; the latest (or live) if empty.")]


class JourneyYaml(BaseModel):
    """A journey document as its YAML text (kept as written when saved)."""

    model_config = ConfigDict(extra="forbid")

    yaml: str = Field(description="The document's YAML text.")


JourneyBody = Annotated[
    Journey | JourneyYaml,
    Body(description="A journey document as JSON (/api/journeys/schema) or {'yaml': '<text>'}."),
]


def _decode(body: Any) -> tuple[Any, str | None]:
    """The decoded document and, for YAML, its text as written."""
    if isinstance(body, JourneyYaml):
        body = {"yaml": body.yaml}
    if isinstance(body, dict) and set(body) == {"yaml"} and isinstance(body["yaml"], str):
        try:
            return yaml.safe_load(body["yaml"]), body["yaml"]
        except yaml.YAMLError:
            load_journey(body["yaml"])  # raises with the line and column
    return body, None


def _reparse(body: Any) -> None:
    """The document's own error for a body that failed validation (`DocumentRoute`)."""
    parse_journey(_decode(body)[0])


def _reparse_document(body: Any) -> None:
    """The same for a document inside the body (`document` of a dry run)."""
    if isinstance(body, dict) and isinstance(body.get("document"), dict):
        try:
            _reparse(body["document"])
        except SpecError as exc:
            raise SpecError(problems=[_under("document", p) for p in exc.problems]) from None


def _under(prefix: str, p: ProblemOf) -> ProblemOf:
    return ProblemOf(p.code, f"{prefix}.{p.path}" if p.path else prefix, p.problem)


class Validation(BaseModel):
    valid: bool
    name: str | None = None
    problems: list[Problem] = []
    """Every problem, with its path and, for problems inside a node, the node's id."""


class Saved(BaseModel):
    name: str
    version: int
    yaml: str


class PublishIn(BaseModel):
    version: int | None = Field(default=None, description="The version; the latest if empty.")
    move: dict[str, str] = Field(
        default_factory=dict,
        description="Move people in flight on other versions: old node id -> node of this one.",
    )


class EnterIn(BaseModel):
    profile_id: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    key: str | None = Field(default=None, description="Makes the call idempotent.")
    properties: dict[str, Any] = Field(default_factory=dict)


class PersonIn(BaseModel):
    profile_id: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None


class DryRunIn(PersonIn):
    version: int | None = None
    start: datetime | None = None
    until: datetime | None = None
    document: Journey | JourneyYaml | None = Field(
        default=None, description="An unsaved document to try instead of a saved version."
    )


class TestSendIn(PersonIn):
    node: str
    version: int | None = None


class Counts(BaseModel):
    name: str
    version: int | None
    entered: int
    converted: int
    nodes: dict[str, NodeCounts]


class Person(BaseModel):
    instance: int
    profile_id: str
    version: int
    entry_key: str
    node: str
    status: str
    wake_at: datetime | None = None
    entered_at: datetime
    exited_at: datetime | None = None
    exit_reason: str | None = None
    converted_at: datetime | None = None


@router.get("", response_model=list[JourneySummary])
def journeys_list(engine: EngineDep) -> Any:
    """Every journey: status, live version, people in it, entered and converted."""
    return library.list_journeys(engine)


@router.get("/schema")
def journeys_schema() -> dict[str, Any]:
    """The JSON Schema of the journey document."""
    return journey_schema()


@router.post("/validate", response_model=Validation, dependencies=EDITOR)
def journeys_validate(
    engine: EngineDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="A journey document, valid or not, as JSON (/api/journeys/schema) or "
            "{'yaml': '<text>'}: what is wrong comes back as problems, with their nodes."
        ),
    ],
) -> Any:
    """Check a document without saving it: its shape, then what it refers to in this store
    (map touchpoints, audiences, destinations). 200 with the problems, each with its node."""
    data, _ = _decode(body)
    found = problems(engine, data)
    name = data.get("name") if isinstance(data, dict) else None
    return Validation(valid=not found, name=name if isinstance(name, str) else None, problems=found)


@router.post("", response_model=Saved, status_code=201, dependencies=EDITOR)
@reparsed_by(_reparse)
def journeys_save(engine: EngineDep, body: JourneyBody) -> Any:
    """Save a document as a new draft version (publish it to make it live)."""
    data, text = _decode(body)
    doc = data if isinstance(data, Journey) else parse_journey(data)
    text = text if text is not None else dump_journey(doc)
    return Saved(name=doc.name, version=library.save_journey(engine, doc, text), yaml=text)


@router.get("/{name}", response_model=JourneyDetail)
def journeys_get(engine: EngineDep, name: str, version: VersionQ = None) -> Any:
    """One journey: the document of a version (the latest by default) and every version."""
    return library.get_journey(engine, name, version)


def _version_doc(engine: JourneyEngine, name: str, version: int | None) -> tuple[Journey, int]:
    detail = library.get_journey(engine, name, version)
    if version is None and detail.live_version is not None:
        detail = library.get_journey(engine, name, detail.live_version)
    return load_journey(detail.yaml), detail.version


@router.get("/{name}/canvas", response_model=JourneyCanvas)
def journeys_canvas(
    engine: EngineDep,
    name: str,
    version: VersionQ = None,
    all_versions: Annotated[
        bool, Query(description="Count people of every version, not only this one.")
    ] = False,
) -> Any:
    """The journey as the builder draws it: nodes (kind, config, position, live counts,
    problems), edges with how many people took them, entry and status."""
    doc, v = _version_doc(engine, name, version)
    detail = library.get_journey(engine, name, v)
    found = problems(engine, doc)
    with engine.store.reading() as cur:
        return canvas(cur, doc, v, detail.status, found, None if all_versions else v)


@router.get("/{name}/counts", response_model=Counts)
def journeys_counts(engine: EngineDep, name: str, version: VersionQ = None) -> Any:
    """People per node (entered, waiting, converted, exited), for one version or all."""
    library.get_journey(engine, name)  # 404 for an unknown journey
    with engine.store.reading() as cur:
        nodes, _edges, (entered, converted) = node_counts(cur, name, version)
    return Counts(name=name, version=version, entered=entered, converted=converted, nodes=nodes)


@router.get("/{name}/people", response_model=list[Person])
def journeys_people(
    engine: EngineDep,
    name: str,
    node: Annotated[str | None, Query(description="Only people at this node.")] = None,
    status: Annotated[str | None, Query(description="run, wait, listen or done.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Who is where: entries of the journey, newest first."""
    library.get_journey(engine, name)
    sql = (
        "SELECT id AS instance, profile_id, version, entry_key, node, status, wake_at, "
        "entered_at, exited_at, exit_reason, converted_at FROM journey_state WHERE journey = ?"
    )
    params: list[Any] = [name]
    for column, value in (("node", node), ("status", status)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    return engine.store.query_dicts(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])


@router.post("/{name}/publish", response_model=Published, dependencies=EDITOR)
def journeys_publish(engine: EngineDep, name: str, body: PublishIn | None = None) -> Any:
    """Make a version live. People in flight stay on theirs unless `move` maps their node."""
    body = body or PublishIn()
    return library.publish(engine, name, body.version, body.move or None)


@router.post("/{name}/pause", response_model=JourneySummary, dependencies=EDITOR)
def journeys_pause(engine: EngineDep, name: str) -> Any:
    """Stop entries and moves; people stay where they are."""
    library.pause(engine, name)
    return _summary(engine, name)


@router.post("/{name}/resume", response_model=JourneySummary, dependencies=EDITOR)
def journeys_resume(engine: EngineDep, name: str) -> Any:
    """Go on after a pause (events that came meanwhile release the people waiting for them)."""
    library.resume(engine, name)
    return _summary(engine, name)


@router.post("/{name}/archive", response_model=JourneySummary, dependencies=EDITOR)
def journeys_archive(engine: EngineDep, name: str) -> Any:
    """Stop entries; the people in the journey go on to its end (drain)."""
    library.archive(engine, name)
    return _summary(engine, name)


def _summary(engine: JourneyEngine, name: str) -> JourneySummary:
    return next(j for j in library.list_journeys(engine) if j.name == name)


@router.post("/{name}/enter", response_model=Entered, dependencies=EDITOR)
def journeys_enter(engine: EngineDep, name: str, body: EnterIn) -> Any:
    """Enter one person into a live journey now (the API entry)."""
    return library.enter_person(engine, name, **body.model_dump())


def _profile(engine: JourneyEngine, body: PersonIn) -> str:
    if body.profile_id:
        return body.profile_id
    if not (body.user_id or body.anonymous_id):
        raise BadRequest("profile_id, user_id or anonymous_id: one is required")
    with engine.store.reading() as cur:
        return library.profile_of(cur, body.user_id, body.anonymous_id)


@router.post("/{name}/dry-run", response_model=DryRun, dependencies=EDITOR)
@reparsed_by(_reparse_document)
def journeys_dry_run(engine: EngineDep, name: str, body: DryRunIn) -> Any:
    """Replay one person's history through a version (or an unsaved `document`): the path they
    would take and the messages they would get. Nothing is written or sent."""
    if body.document is not None:
        data, _ = _decode(body.document)
        doc = data if isinstance(data, Journey) else parse_journey(data)
        if doc.name != name:
            raise SpecError(f"document.name: {doc.name!r} is not the journey {name!r}")
        plan = library.check(engine, doc)
    else:
        plan = library.plan_of(engine, name, body.version)
    return dry_run(engine, plan, _profile(engine, body), body.start, body.until)


@router.post("/{name}/test-send", response_model=TestSend, dependencies=EDITOR)
def journeys_test_send(engine: EngineDep, name: str, body: TestSendIn) -> Any:
    """Send what a send or webhook node would send, to one person, now."""
    plan = library.plan_of(engine, name, body.version)
    return send_test(engine, plan, body.node, _profile(engine, body))
