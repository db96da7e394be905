"""A decision's numbers: people exposed to each arm and how many of them converted, read by the
experiments engine from the decision's `Experiment Viewed` events like any experiment.

The goal is the decision's own (`goal`, within `goal_window` of a person's first exposure) or
one given for the read; the control is the holdout when there is one, else the default variant.
Without any goal only the exposures are counted. The counting is `touchpath.maps.decisions`'s,
shared with the journey map binder.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from touchpath.events.match import EventMatch
from touchpath.maps.decisions import ArmNumbers, arm_numbers
from touchpath.personalize.spec import Decision
from touchpath.store import Store

__all__ = ["ArmNumbers", "DecisionNumbers", "decision_numbers"]


class DecisionNumbers(BaseModel):
    """Exposure and conversion per arm, with the experiments engine's verdict."""

    decision: str
    experiment_id: str
    control: str
    goal: str | None = Field(description="The conversion event counted (None: exposures only).")
    window: int = Field(description="Seconds after first exposure in which a conversion counts.")
    arms: list[ArmNumbers]
    verdict: str | None
    summary: str | None
    multiple_exposures: int = Field(description="People seen in two arms, left out of both.")
    srm: bool = Field(description="Whether the split of people is off its plan (sample ratio).")


def decision_numbers(
    store: Store,
    decision: Decision,
    goal: EventMatch | None = None,
    window: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> DecisionNumbers:
    """Per-arm exposure and conversion of `decision` (its goal unless `goal` is given)."""
    goal = goal or decision.goal
    window = window or decision.goal_window
    with store.reading() as cur:
        arms, verdict = arm_numbers(
            cur, decision.experiment_id, decision.control, goal, window, start, end
        )
    return DecisionNumbers(
        decision=decision.name,
        experiment_id=decision.experiment_id,
        control=decision.control,
        goal=goal.label() if goal is not None else None,
        window=window,
        arms=arms,
        verdict=verdict.verdict,
        summary=verdict.summary,
        multiple_exposures=verdict.multiple_exposures,
        srm=verdict.srm,
    )
