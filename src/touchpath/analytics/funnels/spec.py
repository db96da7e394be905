"""What a funnel counts (`FunnelSpec`) and what it answers (`FunnelResult`).

Ordered funnels (the default) follow ClickHouse's `windowFunnel(window)` exactly: a profile
reaches step k when it has events e1..ek matching steps 1..k with t1 <= t2 <= ... <= tk and
tk - t1 <= window (inclusive). Events with equal timestamps chain in step order, and one event
may satisfy two consecutive steps when it matches both. An optional `max_step_gap` bounds each
t(i+1) - t(i); exclusion steps break a chain when the excluded event happens strictly between
the two steps' events. `strict` needs the steps to be consecutive events of the profile;
`any` counts steps done in any order within the window.

>>> spec = FunnelSpec(steps=[FunnelStep(event="Product Viewed"), FunnelStep(event="Order Completed")], window="1d")
>>> spec.window
86400
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator
from sqlglot import exp

from touchpath.analytics.breakdown import Breakdown
from touchpath.analytics.spec import Result, Spec
from touchpath.events.durations import Duration
from touchpath.events.match import EventMatch, Frozen, TimeRange

__all__ = [
    "HISTOGRAM_BUCKETS",
    "Dropped",
    "Exclusion",
    "FunnelGroup",
    "FunnelResult",
    "FunnelSpec",
    "FunnelStep",
    "FunnelStepResult",
    "TimeToConvert",
    "TrendPoint",
    "can_use_sorted",
]


HISTOGRAM_BUCKETS: tuple[tuple[str, float], ...] = (
    ("<1m", 60), ("1-5m", 300), ("5-30m", 1800), ("30m-1h", 3600), ("1-6h", 21600),
    ("6-24h", 86400), ("1-3d", 259200), ("3-7d", 604800), ("7-30d", 2592000),
    (">=30d", float("inf")),
)  # fmt: skip
"""Upper bounds (exclusive, seconds) of the time-to-convert histogram."""


class FunnelStep(EventMatch):
    """One step: an event definition with an optional display name."""

    name: str | None = None

    def title(self) -> str:
        return self.name or self.label()


class Exclusion(EventMatch):
    """A chain breaks when this event happens strictly between steps `after` and `before` (1-based)."""

    after: int = Field(default=1, ge=1)
    before: int | None = Field(default=None, ge=2)


class FunnelSpec(Spec):
    """What to count: steps, window, order mode, exclusions, breakdown, trend, drop-offs."""

    kind: Literal["funnel"] = "funnel"
    steps: tuple[FunnelStep, ...] = Field(min_length=2, max_length=20)
    window: Duration = 14 * 86400
    max_step_gap: Duration | None = None
    order: Literal["ordered", "strict", "any"] = "ordered"
    exclusions: tuple[Exclusion, ...] = ()
    breakdown: Breakdown | None = None
    time_range: TimeRange = TimeRange()
    trend: Literal["day", "week"] | None = None
    dropped_at: int | None = Field(default=None, ge=2)
    dropped_limit: int = Field(default=100, ge=1, le=100_000)

    @model_validator(mode="after")
    def _consistent(self) -> FunnelSpec:
        n = len(self.steps)
        if self.dropped_at is not None and self.dropped_at > n:
            raise ValueError(f"dropped_at: {self.dropped_at} is past the last step ({n})")
        for i, ex in enumerate(self.exclusions):
            before = ex.before or n
            if before > n or ex.after >= before:
                raise ValueError(
                    f"exclusions[{i}]: needs 1 <= after < before <= {n}, got {ex.after}, {before}"
                )
        if self.order == "any" and (self.exclusions or self.max_step_gap):
            raise ValueError("order: exclusions and max_step_gap need an ordered or strict funnel")
        return self


class TimeToConvert(Frozen):
    """Seconds between two steps over the profiles that made both (their first conversion)."""

    median_s: float | None
    p90_s: float | None
    histogram: dict[str, int]


class FunnelStepResult(Frozen):
    index: int
    name: str
    count: int
    conversion: float
    step_conversion: float
    dropped: int
    time_from_previous: TimeToConvert | None = None
    time_from_start: TimeToConvert | None = None


class FunnelGroup(Frozen):
    """The funnel of one breakdown group; `value` is None for everyone."""

    value: str | None
    entered: int
    converted: int
    conversion: float
    steps: list[FunnelStepResult]


class TrendPoint(Frozen):
    period: date
    entered: int
    converted: int
    conversion: float


class Dropped(Frozen):
    """Profiles that made step `step - 1` but not step `step`."""

    step: int
    total: int
    profiles: list[str]


class FunnelResult(Result):
    kind: Literal["funnel"] = "funnel"
    steps: list[str]
    groups: list[FunnelGroup]
    trend: list[TrendPoint] | None = None
    dropped: Dropped | None = None

    @property
    def overall(self) -> FunnelGroup:
        return self.groups[0]

    def counts(self) -> list[int]:
        """Per-step counts of everyone (the numbers windowFunnel's levels give)."""
        return [s.count for s in self.overall.steps]


_SORTED_COLUMNS = {"event", "type", "channel", "timestamp"}


def can_use_sorted(spec: FunnelSpec) -> bool:
    """Whether the sorted journey copy holds all this funnel needs (no exclusions; steps and
    breakdown on event, type and channel only)."""
    if spec.exclusions:
        return False
    exprs = [s.condition() for s in spec.steps] + [spec.time_range.condition()]
    if spec.breakdown is not None and (value := spec.breakdown.entry_value()) is not None:
        exprs.append(value)
    return all(c.name in _SORTED_COLUMNS for e in exprs for c in e.find_all(exp.Column))
