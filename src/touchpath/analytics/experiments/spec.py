"""What an experiment reads: its arms (an experiment id in `Experiment Viewed` events), its
metrics, its dates and how it is judged; and the result a marketer reads.

Every source of arms is one experiment id in the log (docs/architecture.md, "Events Touchpath
writes itself"), so the constructors below only name it:

>>> ExperimentSpec.journey_split("abandoned-cart", "split_1", goal="Order Completed").experiment_id
'journey:abandoned-cart:split_1'
>>> ExperimentSpec.journey_versions("welcome", goal="Signed Up").control
'v1'
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from touchpath.analytics.experiments.checks import SRM_THRESHOLD, Correction
from touchpath.analytics.spec import Result, Spec
from touchpath.events.durations import Duration, OptionalDuration, parse_duration
from touchpath.events.match import EventMatch, Frozen

__all__ = [
    "ArmResult",
    "ComparisonResult",
    "ExperimentResult",
    "ExperimentSpec",
    "Metric",
    "MetricResult",
    "SeriesPoint",
]

Offset = Annotated[int, BeforeValidator(parse_duration), Field(ge=0)]
"""Seconds from exposure, written as seconds or e.g. `7d` (0 allowed)."""

MetricKind = Literal["conversion", "count", "sum", "retention"]


class Metric(Frozen):
    """A per-person value counted from each person's first exposure.

    - `conversion`: 1 when the person did `event` within `window` after exposure, else 0;
    - `count`: how many times; `sum`: the sum of `property` (e.g. revenue per person);
    - `retention`: 1 when the person did `event` between `window_start` and `window` after
      exposure (e.g. came back in days 7 to 14).

    `pre_window` sets the pre-exposure period whose value of the same metric is the CUPED
    covariate (None: no CUPED). `higher_is_better` says which way is good (False for
    unsubscribes, refunds, complaints), so a guardrail knows what harm is.
    """

    name: str = Field(min_length=1, max_length=100)
    kind: MetricKind = "conversion"
    event: EventMatch
    property: str | None = None
    window: Duration = 7 * 86400
    window_start: Offset = 0
    pre_window: OptionalDuration = None
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _check(self) -> Metric:
        if self.kind == "sum" and not self.property:
            raise ValueError("property: required for a sum metric (e.g. revenue)")
        if self.kind != "sum" and self.property:
            raise ValueError(f"property: only a sum metric takes one, not {self.kind}")
        if self.window_start >= self.window:
            raise ValueError("window_start: must be before the end of the window")
        if self.window_start and self.kind != "retention":
            raise ValueError("window_start: only a retention metric starts later")
        return self

    @builtins.property  # `property` is a field of this model
    def binary(self) -> bool:
        """A 0/1 metric, read with the interval for proportions."""
        return self.kind in ("conversion", "retention")


class ExperimentSpec(Spec):
    """An experiment: who is in which arm (`experiment_id` in `Experiment Viewed` events, one
    arm per `variation_id`), the control arm, the primary metric and the guardrails.

    `start`/`end` bound the exposures counted. `expected_split` is the planned share of each
    arm (equal when None), for the sample-ratio check. `sequential` judges with the always-valid
    test (results may be read every day); `sequential_tuning` is the total sample at which its
    interval is tightest (default: 5000, GrowthBook's). `mde` is the smallest relative lift
    worth finding (0.1 = 10%): it decides when "no difference" can be said.
    """

    kind: Literal["experiment"] = "experiment"
    experiment_id: str = Field(min_length=1)
    control: str | None = None
    arms: tuple[str, ...] | None = None
    primary: Metric
    guardrails: tuple[Metric, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    sequential: bool = True
    sequential_tuning: float = Field(default=5000.0, gt=0)
    expected_split: dict[str, float] | None = None
    srm_threshold: float = Field(default=SRM_THRESHOLD, gt=0, lt=1)
    correction: Correction = "holm"
    min_per_arm: int = Field(default=100, ge=2)
    mde: float = Field(default=0.1, gt=0, le=10)
    cuped: bool = True

    @model_validator(mode="after")
    def _check(self) -> ExperimentSpec:
        names = [m.name for m in self.metrics]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"guardrails: metric names must be unique, {dup[0]!r} is repeated")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end: must be after start")
        if self.expected_split is not None and any(v <= 0 for v in self.expected_split.values()):
            raise ValueError("expected_split: every share must be > 0")
        if self.arms is not None and self.control is not None and self.control not in self.arms:
            raise ValueError(f"control: {self.control!r} is not one of arms {list(self.arms)}")
        return self

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return (self.primary, *self.guardrails)

    @classmethod
    def journey_split(
        cls, journey: str, node: str, *, goal: str, control: str = "holdout", window: str = "7d"
    ) -> ExperimentSpec:
        """The experiment over a journey's random split or holdout at `node`: its branches
        are the arms (`journey:<journey>:<node>`), the holdout branch is the control."""
        return cls(
            experiment_id=f"journey:{journey}:{node}",
            control=control,
            primary=Metric(name=goal, event=EventMatch(event=goal), window=window),
        )

    @classmethod
    def journey_versions(
        cls, journey: str, *, goal: str, control: str = "v1", window: str = "7d"
    ) -> ExperimentSpec:
        """Two versions of a journey with entrants split between them (`v<N>` arms)."""
        return cls(
            experiment_id=f"journey:{journey}:versions",
            control=control,
            primary=Metric(name=goal, event=EventMatch(event=goal), window=window),
        )

    @classmethod
    def global_holdout(cls, *, goal: str, window: str = "7d") -> ExperimentSpec:
        """Everyone held out of all journeys against everyone eligible."""
        return cls(
            experiment_id="journey:global-holdout",
            control="holdout",
            primary=Metric(name=goal, event=EventMatch(event=goal), window=window),
        )

    @classmethod
    def decision(cls, name: str, *, goal: str, control: str, window: str = "7d") -> ExperimentSpec:
        """A personalisation decision's variants (`decision:<name>`)."""
        return cls(
            experiment_id=f"decision:{name}",
            control=control,
            primary=Metric(name=goal, event=EventMatch(event=goal), window=window),
        )


class ArmResult(Frozen):
    """One arm of one metric: people, mean and standard deviation of the per-person value."""

    arm: str
    n: int
    mean: float
    sd: float
    total: float


class ComparisonResult(Frozen):
    """One treatment arm against control on one metric.

    `lift` is relative (0.12 = +12%); `lift_ci` is the interval the verdict uses (the
    always-valid one when the experiment is sequential, else the fixed-horizon one), at the
    corrected level when several arms are read. `p_value` is corrected the same way. The
    lift and the chance to win are None when the control's mean is 0 (no relative change).
    """

    arm: str
    diff: float
    diff_ci: tuple[float, float]
    lift: float | None
    lift_ci: tuple[float, float] | None
    p_value: float
    fixed_lift_ci: tuple[float, float] | None
    fixed_p_value: float
    chance_to_win: float | None
    significant: bool
    direction: Literal["better", "worse", "unclear"]
    cuped: bool = False
    variance_reduction: float | None = None


class MetricResult(Frozen):
    name: str
    kind: MetricKind
    guardrail: bool
    arms: list[ArmResult]
    comparisons: list[ComparisonResult]


class SeriesPoint(Frozen):
    """The primary metric's lift of one arm with everyone exposed up to `day`."""

    day: datetime
    arm: str
    n_control: int
    n_arm: int
    lift: float | None
    lift_ci: tuple[float, float] | None


Verdict = Literal["winner", "loser", "no_difference", "keep_running", "guardrail_harmed", "srm"]


class ExperimentResult(Result):
    """What a marketer needs: `verdict` (one word) and `summary` (one plain sentence), the
    winning arm if any, the numbers per metric and arm, the sample-ratio check, and the lift
    over time for the chart. `as_of` and `source` (from `Result`) are stamped by the runtime."""

    kind: Literal["experiment"] = "experiment"
    experiment_id: str
    control: str
    verdict: Verdict
    summary: str
    winner: str | None
    srm_p_value: float
    srm: bool
    exposures: dict[str, int]
    multiple_exposures: int
    metrics: list[MetricResult]
    series: list[SeriesPoint]
    needed_per_arm: int | None
    sequential: bool
    alpha: float
    correction: str
