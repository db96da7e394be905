"""REST API of experiments: saved definitions, their results read from the event log, an
ad-hoc read of any spec, and the sample-size calculator (docs/experiments.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from touchpath.analytics.experiments import (
    ExperimentResult,
    experiment,
    sample_size,
)
from touchpath.analytics.experiments.saved import (
    SavedExperiment,
    arm_audience,
    delete_experiment,
    get_experiment,
    list_experiments,
    save_arm_audiences,
    save_experiment,
)
from touchpath.errors import SpecError
from touchpath.web.auth import require
from touchpath.web.deps import StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/experiments", tags=["experiments"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The spec is invalid; the message names the path."},
    404: {"description": "No saved experiment of that name."},
}


class ExperimentIn(BaseModel):
    """A definition to save under the name in the path."""

    description: str = ""
    spec: dict[str, Any] = Field(description="An ExperimentSpec (docs/experiments.md).")


class SampleSizeIn(BaseModel):
    baseline: float = Field(description="Control conversion rate in (0, 1), or a mean with sd.")
    mde: float = Field(description="Smallest relative lift to find (0.05 = 5%).")
    sd: float | None = Field(default=None, description="Standard deviation, for a mean.")
    alpha: float = 0.05
    power: float = 0.8
    per_day: float | None = Field(default=None, description="Exposures a day over all arms.")
    arms: int = Field(default=2, ge=2)


class SampleSizeOut(BaseModel):
    per_arm: int
    per_arm_sequential: int
    days: int | None
    days_sequential: int | None


@router.get("", response_model=list[SavedExperiment])
def list_saved(store: StoreDep) -> Any:
    """Every saved experiment."""
    return list_experiments(store)


@router.put(
    "/{name}",
    response_model=SavedExperiment,
    responses=_ERRORS,
    dependencies=[Depends(require("editor"))],
)
def put(name: str, body: ExperimentIn, store: StoreDep) -> Any:
    """Save (create or replace) experiment `name`."""
    return save_experiment(store, name, body.spec, body.description)


@router.get("/{name}", response_model=SavedExperiment, responses=_ERRORS)
def get(name: str, store: StoreDep) -> Any:
    """A saved experiment's definition."""
    return get_experiment(store, name)


@router.delete(
    "/{name}", status_code=204, responses=_ERRORS, dependencies=[Depends(require("editor"))]
)
def delete(name: str, store: StoreDep) -> None:
    """Delete a saved experiment (its events stay in the log)."""
    delete_experiment(store, name)


@router.get("/{name}/results", response_model=ExperimentResult, responses=_ERRORS)
def results(name: str, store: StoreDep) -> Any:
    """The verdict, per-arm numbers and lift over time of a saved experiment, read now."""
    return experiment(store, get_experiment(store, name).spec)


class ArmAudience(BaseModel):
    arm: str
    audience: str
    size: int


@router.post(
    "/{name}/audiences",
    response_model=list[ArmAudience],
    responses=_ERRORS,
    dependencies=[Depends(require("editor"))],
)
def audiences(name: str, store: StoreDep) -> Any:
    """Save each arm's people as static audience `experiment <name> <arm>` (a map's persona
    audience then binds the map for that arm alone, to compare arms on the map)."""
    sizes = save_arm_audiences(store, name)
    return [ArmAudience(arm=a, audience=arm_audience(name, a), size=n) for a, n in sizes.items()]


@router.post("/sample-size", response_model=SampleSizeOut, responses=_ERRORS)
def sample_size_route(body: SampleSizeIn) -> Any:
    """People per arm, and days at `per_day`, to find a relative lift of `mde`."""
    try:
        s = sample_size(body.baseline, body.mde, sd=body.sd, alpha=body.alpha, power=body.power)
        days = s.days(body.per_day, body.arms) if body.per_day else None
        seq = s.days(body.per_day, body.arms, sequential=True) if body.per_day else None
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return SampleSizeOut(
        per_arm=s.per_arm, per_arm_sequential=s.per_arm_sequential, days=days, days_sequential=seq
    )
