"""REST API of the living demo (docs/demo.md, "The living demo"): how the simulated business is
doing, pause and resume it, and its planted truths (the web app hides them until asked)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from touchpath.demo.live.status import live_status, live_truth, set_paused
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/demo", tags=["demo"])
EDITOR = [Depends(require("editor"))]


class LiveStatus(BaseModel):
    """The living business now."""

    state: str = Field(description="running, paused, or stopped (no `touchpath demo` runs it).")
    paused: bool
    running: bool
    rate_per_hour: float = Field(description="New people per simulated hour.")
    clock_factor: float = Field(description="How much faster than the wall its clock runs.")
    now: str | None = Field(description="The business's (simulated) time, UTC.")
    people: int = Field(description="People who have arrived so far.")
    people_active: int = Field(description="People with something still to do.")
    messages_answered: int = Field(description="Messages the people got and answered.")
    pending: int = Field(description="What people sent that the collector has not acknowledged.")


@router.get("/live")
def get_live(store: StoreDep) -> LiveStatus:
    """Running or paused, rate, clock, people active."""
    return LiveStatus.model_validate(live_status(store))


@router.post("/live/pause", dependencies=EDITOR)
async def pause_live(store: StoreDep) -> LiveStatus:
    """Pause the business: its clock stops (journeys and the outbox wait with it)."""
    return LiveStatus.model_validate(await run_in_threadpool(set_paused, store, True))


@router.post("/live/resume", dependencies=EDITOR)
async def resume_live(store: StoreDep) -> LiveStatus:
    """Go on from where it was paused."""
    return LiveStatus.model_validate(await run_in_threadpool(set_paused, store, False))


@router.get("/live/truth")
def get_truth(store: StoreDep) -> dict[str, Any]:
    """The planted sizes (`touchpath.demo.facts`) and what people did with each channel's
    messages: for training, to check a reading against the truth."""
    return live_truth(store)
