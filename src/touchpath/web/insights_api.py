"""REST API of saved insights and dashboards (`touchpath.insights`, docs/insights.md).

Viewers read and run them; editors save, change and delete. An insight's spec is typed as the
union of every analysis kind's spec (discriminated by `kind`) and its result as the union of
their results, so the OpenAPI document, and the web app's types generated from it, show each.
A bad spec is a 400 naming its path (`spec.steps[1].event: must not be blank`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Annotated, Any, Union

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, field_validator

from touchpath.analytics import registry
from touchpath.insights import (
    add_to_dashboard,
    delete_dashboard,
    delete_insight,
    get_dashboard,
    get_insight,
    list_dashboards,
    list_insights,
    remove_from_dashboard,
    run_insight,
    save_dashboard,
    save_insight,
    spec_of,
)
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep
from touchpath.web.errors import ERRORS, SpecRoute

__all__ = ["dashboards", "insights"]


class InsightRoute(SpecRoute):
    """A SpecRoute whose body holds a spec of any kind: when that spec is what failed, it is
    checked again by the registry, so its problems read as everywhere else
    (`spec.steps[1].event`, `spec.kind: unknown analysis 'funel'; did you mean 'funnel'?`)
    instead of with pydantic's union tag inside the path (`spec.funnel.steps[1].event`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                body = exc.body
                if isinstance(body, dict) and any(
                    tuple(e.get("loc", ()))[:2] == ("body", "spec") for e in exc.errors()
                ):
                    spec_of(body.get("spec"))  # raises the registry's SpecError
                raise

        return run


insights = APIRouter(prefix="/api/insights", tags=["insights"], route_class=InsightRoute)
dashboards = APIRouter(prefix="/api/dashboards", tags=["insights"], route_class=SpecRoute)
_EDITOR = [Depends(require("editor"))]


def _union(models: Sequence[type[BaseModel]]) -> Any:
    """`A | B | ...` of the registry's kinds. Not a discriminated union: that would make
    `kind` required in every spec's schema, also where `POST /api/analyses/{kind}` names the
    kind in its path; each spec's `kind` is a literal, so only the right one validates."""
    return Union[tuple(models)]  # noqa: UP007


AnySpec = _union(registry.specs())
AnyResult = _union(registry.results())


class InsightOut(BaseModel):
    """A saved insight."""

    name: str
    description: str
    kind: str
    spec: AnySpec  # type: ignore[valid-type]
    created_at: datetime | None
    updated_at: datetime | None


class InsightIn(BaseModel):
    """An insight to save under the name in the path: any analysis spec with its `kind`."""

    description: str = ""
    spec: AnySpec  # type: ignore[valid-type]

    @field_validator("spec", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> Any:
        if isinstance(v, dict) and "kind" not in v:
            raise ValueError("kind: required")  # the route says it as the registry does
        return v


class Deleted(BaseModel):
    removed_from: list[str] = Field(description="The dashboards the insight was taken off.")


class DashboardOut(BaseModel):
    """A dashboard with its insights in order (each with its spec, to run)."""

    name: str
    description: str
    insights: list[InsightOut]
    created_at: datetime | None
    updated_at: datetime | None


class DashboardIn(BaseModel):
    description: str = ""
    insights: list[str] = Field(default=[], description="Saved insights' names, in order.")


class TileIn(BaseModel):
    insight: str = Field(description="A saved insight's name.")


@insights.get("", response_model=list[InsightOut])
def list_saved(store: StoreDep, kind: Annotated[str | None, Query()] = None) -> Any:
    """Every saved insight (of `kind` when given), most recently changed first."""
    return list_insights(store, kind)


@insights.get("/{name}", response_model=InsightOut, responses=ERRORS)
def get_saved(name: str, store: StoreDep) -> Any:
    """One saved insight."""
    return get_insight(store, name)


@insights.put("/{name}", response_model=InsightOut, responses=ERRORS, dependencies=_EDITOR)
def put_insight(name: str, store: StoreDep, body: InsightIn = Body(...)) -> Any:
    """Save (create or replace) insight `name`."""
    return save_insight(store, name, body.spec, body.description)


@insights.delete("/{name}", response_model=Deleted, responses=ERRORS, dependencies=_EDITOR)
def delete_saved(name: str, store: StoreDep) -> Any:
    """Delete insight `name`; it is taken off every dashboard it was on."""
    return Deleted(removed_from=delete_insight(store, name))


@insights.get("/{name}/result", response_model=AnyResult, responses=ERRORS)
def result(name: str, store: StoreDep) -> Any:
    """The saved insight's result, read now (with `as_of` and `source`)."""
    return run_insight(store, name)


@dashboards.get("", response_model=list[DashboardOut])
def list_boards(store: StoreDep) -> Any:
    """Every dashboard with its insights, most recently changed first."""
    return list_dashboards(store)


@dashboards.get("/{name}", response_model=DashboardOut, responses=ERRORS)
def get_board(name: str, store: StoreDep) -> Any:
    """One dashboard with its insights."""
    return get_dashboard(store, name)


@dashboards.put("/{name}", response_model=DashboardOut, responses=ERRORS, dependencies=_EDITOR)
def put_board(name: str, store: StoreDep, body: DashboardIn = Body(...)) -> Any:
    """Save (create or replace) dashboard `name` with these insights in this order."""
    return save_dashboard(store, name, body.insights, body.description)


@dashboards.post(
    "/{name}/insights", response_model=DashboardOut, responses=ERRORS, dependencies=_EDITOR
)
def add_tile(name: str, store: StoreDep, body: TileIn = Body(...)) -> Any:
    """Add a saved insight at the end of dashboard `name` (made when there is none)."""
    return add_to_dashboard(store, name, body.insight)


@dashboards.delete(
    "/{name}/insights/{insight}",
    response_model=DashboardOut,
    responses=ERRORS,
    dependencies=_EDITOR,
)
def remove_tile(name: str, insight: str, store: StoreDep) -> Any:
    """Take an insight off dashboard `name` (the insight stays saved)."""
    return remove_from_dashboard(store, name, insight)


@dashboards.delete("/{name}", status_code=204, responses=ERRORS, dependencies=_EDITOR)
def delete_board(name: str, store: StoreDep) -> None:
    """Delete dashboard `name` (its insights stay saved)."""
    delete_dashboard(store, name)
