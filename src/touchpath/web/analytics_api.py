"""REST API of funnels, paths and retention: POST the spec JSON, get the result JSON.

A bad spec gives 400 with the path of what is wrong, e.g. `steps[1].event: must not be blank`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from touchpath.analytics import api, journey
from touchpath.analytics.funnels import FunnelResult, SavedAudience
from touchpath.analytics.paths import PathsResult
from touchpath.analytics.retention import RetentionResult
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/analytics", tags=["analytics"])

SpecBody = Body(..., description="The analysis spec (see docs/funnels.md, paths.md, retention.md).")


@router.post("/funnel", response_model=FunnelResult)
def funnel(store: StoreDep, spec: dict[str, Any] = SpecBody) -> Any:
    """Per-step counts, conversion, time to convert, breakdown, trend and drop-offs."""
    return api.funnel(store, spec)


@router.post(
    "/funnel/save-dropped", response_model=SavedAudience, dependencies=[Depends(require("editor"))]
)
def save_dropped(
    store: StoreDep,
    spec: dict[str, Any] = SpecBody,
    step: int = Body(..., ge=2, description="The step dropped at (1-based, >= 2)."),
    audience: str = Body(..., description="The static audience to create or replace."),
    group: str | None = Body(None, description="Only drop-offs in this breakdown group."),
) -> Any:
    """Save the profiles that made step - 1 but not `step` as a static audience."""
    return api.save_dropped(store, spec, step, audience, group)


@router.post("/paths", response_model=PathsResult)
def paths(store: StoreDep, spec: dict[str, Any] = SpecBody) -> Any:
    """Sankey nodes and edges of the paths from a start or to an end event."""
    return api.paths(store, spec)


@router.post("/retention", response_model=RetentionResult)
def retention(store: StoreDep, spec: dict[str, Any] = SpecBody) -> Any:
    """Cohort table, average curve, repeat rate and time between returns."""
    return api.retention(store, spec)


@router.post("/optimize", dependencies=[Depends(require("editor"))])
def optimize(store: StoreDep) -> dict[str, Any]:
    """Rebuild the copy of journey events sorted by profile and time that funnels read fast."""
    built = journey.optimize(store)
    return {**built.__dict__, "built_at": built.built_at.isoformat()}
