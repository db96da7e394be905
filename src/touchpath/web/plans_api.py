"""REST API of tracking plans and their violations (docs/tracking-plans.md).

Viewers read plans, assignments and violations; editors write plans; admins assign a plan to
a source (it changes what the collector accepts). A change reloads the collector's checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from touchpath.catalogue import (
    Assignment,
    PlanInfo,
    TrackingPlan,
    ViolationCount,
    assign,
    assignments,
    delete_plan,
    export,
    get_plan,
    infer,
    read_plan,
    save_plan,
    unassign,
    violation_counts,
)
from touchpath.catalogue import list_plans as _list_plans
from touchpath.catalogue.plans import Mode
from touchpath.catalogue.violations import By
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep, TouchpathDep
from touchpath.web.errors import ERRORS, SpecRoute

__all__ = ["router"]

router = APIRouter(prefix="/api/plans", tags=["tracking plans"], route_class=SpecRoute)
_EDITOR = [Depends(require("editor"))]
_ADMIN = [Depends(require("admin"))]


def _reload(tp: TouchpathDep) -> None:
    gate = tp.services.get("plans")
    if gate is not None:
        gate.reload()


class InferRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    events: list[str] | None = None
    """Only these events (default: every track event the catalogue holds)."""
    save: bool = False
    """Save it under `name` (default: only return it)."""


class AssignRequest(BaseModel):
    plan: str
    mode: Mode = "flag"


class Violations(BaseModel):
    by: By
    total: int
    """Violations in all (of the source, since the time, when given)."""
    groups: list[ViolationCount]


@router.get("", response_model=list[PlanInfo], responses=ERRORS)
def list_plans(store: StoreDep) -> list[PlanInfo]:
    """Every plan, with the sources it is assigned to."""
    with store.reading() as cur:
        return _list_plans(cur)


@router.get("/assignments", response_model=list[Assignment], responses=ERRORS)
def list_assignments(store: StoreDep) -> list[Assignment]:
    """Which source is checked against which plan, and in which mode."""
    with store.reading() as cur:
        return assignments(cur)


@router.put(
    "/assignments/{source}", response_model=Assignment, responses=ERRORS, dependencies=_ADMIN
)
def put_assignment(
    store: StoreDep, tp: TouchpathDep, source: str, body: AssignRequest
) -> Assignment:
    """Check the messages of `source` (name or id) against a plan in a mode (flag, block, drop)."""
    out = assign(store, source, body.plan, body.mode)
    _reload(tp)
    return out


@router.delete("/assignments/{source}", status_code=204, responses=ERRORS, dependencies=_ADMIN)
def delete_assignment(store: StoreDep, tp: TouchpathDep, source: str) -> None:
    """Stop checking `source`."""
    unassign(store, source)
    _reload(tp)


@router.get("/violations", response_model=Violations, responses=ERRORS)
def get_violations(
    store: StoreDep,
    by: Annotated[By, Query(description="Group by event, property, source or kind.")] = "event",
    source: Annotated[str | None, Query(description="Only this source (name or id).")] = None,
    since: Annotated[datetime | None, Query(description="Only after this time (UTC).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Violations:
    """Violation counts by event, property or source, each with its latest example."""
    with store.reading() as cur:
        groups = violation_counts(cur, by, source, since, limit)
        total = violation_counts(cur, "source", source, since, 1000)
    return Violations(by=by, total=sum(g.violations for g in total), groups=groups)


@router.post("/infer", response_model=TrackingPlan, responses=ERRORS, dependencies=_EDITOR)
def infer_plan(store: StoreDep, tp: TouchpathDep, body: InferRequest) -> TrackingPlan:
    """A plan from the data (the event catalogue): every event's properties with the types
    they were seen with; saved when `save` is true."""
    with store.reading() as cur:
        plan = infer(cur, body.name, body.events)
    if body.save:
        save_plan(store, plan)
        _reload(tp)
    return plan


@router.get("/{name}", response_model=TrackingPlan, responses=ERRORS)
def show_plan(store: StoreDep, name: str) -> TrackingPlan:
    with store.reading() as cur:
        return get_plan(cur, name)


@router.get("/{name}/export", response_class=PlainTextResponse, responses=ERRORS)
def export_plan(
    store: StoreDep, name: str, format: Literal["yaml", "json"] = "yaml"
) -> PlainTextResponse:
    """The plan as YAML or JSON text, to keep beside the code that sends the events."""
    with store.reading() as cur:
        plan = get_plan(cur, name)
    media = "application/json" if format == "json" else "application/yaml"
    return PlainTextResponse(export(plan, format), media_type=media)


@router.put("/{name}", response_model=TrackingPlan, responses=ERRORS, dependencies=_EDITOR)
def put_plan(store: StoreDep, tp: TouchpathDep, name: str, body: TrackingPlan) -> TrackingPlan:
    """Create or replace a plan (its JSON document; the name in the address wins)."""
    plan = save_plan(store, read_plan(body.model_dump(mode="json"), name=name))
    _reload(tp)
    return plan


@router.delete("/{name}", status_code=204, responses=ERRORS, dependencies=_EDITOR)
def remove_plan(store: StoreDep, tp: TouchpathDep, name: str) -> None:
    """Delete a plan and its assignments."""
    delete_plan(store, name)
    _reload(tp)
