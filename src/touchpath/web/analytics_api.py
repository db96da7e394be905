"""REST API of the analyses: `POST /api/analyses/{kind}` with the kind's spec, its result back.

One route per registered kind is made from the registry (`touchpath.analytics.registry`), so
each kind's spec and result are typed in the OpenAPI document and a new kind needs no code
here. The app includes the router for viewers (`touchpath.web.auth`); saving drop-offs as
an audience and rebuilding the journey copy need an editor. A bad spec is a 400 in the one error format (`touchpath.web.errors`): a stable code and
the path of each problem, e.g. `steps[1].event: must not be blank`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from touchpath.analytics import journey, registry, sentiment
from touchpath.analytics.funnels import FunnelSpec, SavedAudience, save_dropped
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep
from touchpath.web.errors import ERRORS, SpecRoute

__all__ = ["router"]

router = APIRouter(prefix="/api/analyses", tags=["analyses"], route_class=SpecRoute)


class KindOut(BaseModel):
    kind: str
    summary: str
    path: str = Field(description="Where to POST its spec.")


@router.get("", response_model=list[KindOut])
def kinds() -> Any:
    """Every kind of analysis, with what it answers and where to POST its spec."""
    return [
        KindOut(kind=k, summary=registry.get(k).summary, path=f"/api/analyses/{k}")
        for k in registry.kinds()
    ]


def _route(kind: str) -> None:
    analysis = registry.get(kind)
    spec_model, result_model = analysis.spec, analysis.result

    def run(store: StoreDep, spec: Any = Body(...)) -> Any:
        return registry.run(store, spec)

    run.__annotations__["spec"] = spec_model
    run.__doc__ = analysis.summary
    router.add_api_route(
        f"/{kind}",
        run,
        methods=["POST"],
        response_model=result_model,
        responses=ERRORS,
        name=f"analyse_{kind}",
        summary=f"Run a {kind} analysis",
        description=f"{analysis.summary} The body is a `{spec_model.__name__}`.",
    )


class SaveDroppedIn(BaseModel):
    spec: FunnelSpec = Field(description="The funnel.")
    step: int = Field(ge=2, description="The step dropped at (1-based, >= 2).")
    audience: str = Field(description="The static audience to create or replace.")
    group: str | None = Field(default=None, description="Only drop-offs in this breakdown group.")


@router.post(
    "/funnel/save-dropped",
    response_model=SavedAudience,
    responses=ERRORS,
    dependencies=[Depends(require("editor"))],
)
def save_funnel_dropped(store: StoreDep, body: SaveDroppedIn) -> Any:
    """Save the profiles that made step - 1 but not `step` as a static audience."""
    return save_dropped(store, body.spec, body.step, body.audience, body.group)


class JourneyBuildOut(BaseModel):
    events: int
    profiles: int
    ties: int
    built_at: str
    seconds: float


@router.post("/optimize", response_model=JourneyBuildOut, dependencies=[Depends(require("editor"))])
def optimize(store: StoreDep) -> Any:
    """Rebuild the copy of journey events sorted by profile and time that analyses read fast."""
    built = journey.optimize(store)
    return {**built.__dict__, "built_at": built.built_at.isoformat()}


for _kind in registry.kinds():
    _route(_kind)


class Rescored(BaseModel):
    scored: int = Field(description="Texts scored.")


@router.post(
    "/feedback/rescore",
    response_model=Rescored,
    responses=ERRORS,
    dependencies=[Depends(require("editor"))],
)
async def rescore_feedback(
    store: StoreDep,
    full: bool = Query(False, description="Score every text again, not only new ones."),
) -> Any:
    """Backfill the sentiment of texts ingested while no scorer was attached."""
    return Rescored(scored=await run_in_threadpool(sentiment.rescore, store, full=full))
