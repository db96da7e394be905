"""Personalisation decisions on a map: the touchpoints a decision personalises show its numbers.

A decision names the touchpoints whose content it chooses (`touchpoints: [{map: ..., touchpoint:
...}]` in its spec, docs/personalize.md). Binding a map reads the latest version of every
decision that names one of its touchpoints and counts, with the experiments engine, the people
first exposed to each arm within the map's range and how many of them reached the decision's
goal: one `ArmNumbers` row per arm, beside the touchpoint's own numbers.

The counting is here, below personalisation, so the binder and `touchpath.personalize.results`
(which reports the same numbers for one decision) share it. Decisions are read from their
table as JSON, so maps import nothing above them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from touchpath.analytics.experiments import ExperimentSpec, Metric, analyse
from touchpath.analytics.experiments.metrics import exposures
from touchpath.events.match import EventMatch
from touchpath.events.names import EXPERIMENT_VIEWED

if TYPE_CHECKING:
    from touchpath.maps.bound import BoundMap

__all__ = ["ArmNumbers", "DecisionLink", "arm_numbers", "links", "with_decisions"]


class ArmNumbers(BaseModel):
    """One arm: the people first exposed to it and, with a goal, their conversions."""

    model_config = ConfigDict(frozen=True)

    arm: str
    exposed: int
    conversions: int | None = None
    conversion_rate: float | None = None
    lift: float | None = Field(default=None, description="Relative to the control (0.1 = +10%).")
    lift_ci: tuple[float, float] | None = None
    chance_to_win: float | None = None
    significant: bool | None = None


class Verdict(BaseModel):
    """What the experiments engine says of the arms (with a goal)."""

    model_config = ConfigDict(frozen=True)

    verdict: str | None = None
    summary: str | None = None
    multiple_exposures: int = 0
    srm: bool = False


def arm_numbers(
    cur: duckdb.DuckDBPyConnection,
    experiment_id: str,
    control: str,
    goal: EventMatch | None,
    window: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[list[ArmNumbers], Verdict]:
    """Exposure and conversion per arm of an experiment id (a decision's `decision:<name>`)."""
    spec = ExperimentSpec(
        experiment_id=experiment_id,
        control=control,
        primary=Metric(
            name="goal", event=goal or EventMatch(event=EXPERIMENT_VIEWED), window=window
        ),
        start=start,
        end=end,
        cuped=False,
    )
    ex = exposures(cur, spec)
    totals = ex.totals()
    verdict = Verdict(multiple_exposures=ex.multiple)
    compared = {}
    if goal is not None:
        verdict = verdict.model_copy(
            update={
                "verdict": "keep_running",
                "summary": f"Nothing to compare in {experiment_id!r} yet: no one in the "
                f"control arm {control!r}.",
            }
        )
        if control in totals:
            result = analyse(spec, ex)
            verdict = verdict.model_copy(
                update={"verdict": result.verdict, "summary": result.summary, "srm": result.srm}
            )
            if result.metrics:
                compared = {c.arm: c for c in result.metrics[0].comparisons}
    arms = []
    for arm in sorted(totals):
        stats = totals[arm][0]
        row: dict[str, Any] = {"arm": arm, "exposed": int(stats.n)}
        if goal is not None:
            row["conversions"] = int(stats.total)
            row["conversion_rate"] = stats.total / stats.n if stats.n else None
            c = compared.get(arm)
            if c is not None:
                row.update(lift=c.lift, lift_ci=c.lift_ci, chance_to_win=c.chance_to_win,
                           significant=c.significant)  # fmt: skip
        arms.append(ArmNumbers(**row))
    return arms, verdict


class DecisionLink(BaseModel):
    """A decision that chooses this touchpoint's content, with its numbers in the map's range."""

    model_config = ConfigDict(frozen=True)

    decision: str
    version: int
    """The latest version (the numbers cover the exposures of every version)."""
    control: str
    goal: str | None
    arms: list[ArmNumbers]
    verdict: str | None = None


def _goal(spec: dict[str, Any]) -> EventMatch | None:
    goal = spec.get("goal")
    return EventMatch.model_validate(goal) if goal else None


def links(
    cur: duckdb.DuckDBPyConnection,
    map_name: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, list[DecisionLink]]:
    """The decisions naming touchpoints of map `map_name`, with their numbers, by touchpoint."""
    rows = cur.execute(
        "SELECT name, version, spec FROM decision_versions "
        "QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name"
    ).fetchall()
    out: dict[str, list[DecisionLink]] = {}
    for name, version, text in rows:
        spec = json.loads(text)
        named = [t["touchpoint"] for t in spec.get("touchpoints") or [] if t["map"] == map_name]
        if not named:
            continue
        control = "holdout" if spec.get("holdout") else spec["default"]
        goal = _goal(spec)
        arms, verdict = arm_numbers(
            cur, f"decision:{name}", control, goal, int(spec.get("goal_window", 604800)),
            start, end,
        )  # fmt: skip
        link = DecisionLink(
            decision=name,
            version=int(version),
            control=control,
            goal=goal.label() if goal else None,
            arms=arms,
            verdict=verdict.verdict,
        )
        for touchpoint in named:
            out.setdefault(touchpoint, []).append(link)
    return out


def with_decisions(cur: duckdb.DuckDBPyConnection, bound: BoundMap) -> BoundMap:
    """`bound` with the decisions that personalise its touchpoints."""
    found = links(cur, bound.map.name, bound.start, bound.end)
    if not found:
        return bound
    stages = [
        s.model_copy(
            update={
                "touchpoints": [
                    t.model_copy(update={"decisions": found.get(t.name, [])}) for t in s.touchpoints
                ]
            }
        )
        for s in bound.stages
    ]
    return bound.model_copy(update={"stages": stages})
