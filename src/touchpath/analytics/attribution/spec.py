"""What attribution credits (`AttributionSpec`) and what it answers (`AttributionResult`).

>>> round(decay_weight(age_days=7.0, half_life_days=7.0), 3)
0.5
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlglot import exp

from touchpath.analytics.discovery import match_of
from touchpath.analytics.spec import Result, Spec
from touchpath.events.durations import Duration, renamed_durations
from touchpath.events.match import EventMatch, TimeRange

__all__ = [
    "CONVERSION",
    "MODELS",
    "NULL",
    "RULE_MODELS",
    "START",
    "AttributionResult",
    "AttributionRow",
    "AttributionSpec",
    "Credit",
    "Model",
    "can_use_sorted",
    "decay_weight",
]


Model = Literal["first_touch", "last_touch", "linear", "time_decay", "position_based", "markov"]
MODELS: tuple[Model, ...] = (
    "first_touch", "last_touch", "linear", "time_decay", "position_based", "markov",
)  # fmt: skip
RULE_MODELS: tuple[Model, ...] = MODELS[:-1]
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


def decay_weight(age_days: float, half_life_days: float) -> float:
    """The unnormalised time-decay weight of a touch `age_days` before the conversion."""
    return float(0.5 ** (age_days / half_life_days))


_RENAMED = {
    "session_gap_minutes": ("session_gap", 60),
    "lookback_days": ("lookback", 86400),
    "half_life_days": ("half_life", 86400),
}
"""Deprecated input names of the durations, with their units."""


class AttributionSpec(Spec):
    """Which conversions, which touches, which models."""

    kind: Literal["attribution"] = "attribution"
    conversion: EventMatch = EventMatch(event="Order Completed")
    revenue_property: str | None = "revenue"
    """Numeric property of the conversion event holding its revenue (None: count only)."""
    by: Literal["channel", "touchpoint"] = "channel"
    """Credit channels, or touchpoints (the touch's event/page name, or `touchpoint_property`)."""
    touchpoint_property: str | None = None
    """With `by="touchpoint"`, key touches by this property instead (e.g. context.campaign.name)."""
    touch: Literal["session", "event"] = "session"
    """A touch is the first event of a session (default) or every matching event."""
    touches: tuple[str | EventMatch, ...] = ()
    """Events that can be touches (empty: every track, page and screen event)."""
    exclude_touches: tuple[str | EventMatch, ...] = ()
    """Events that are never touches (e.g. `Email Delivered`: a send is not a visit)."""
    exclude_channels: tuple[str, ...] = ()
    """Channels that never get credit (e.g. `direct` for a last non-direct model)."""
    session_gap: Duration = 1800
    """Inactivity that ends a session, in seconds (input also `30m`)."""
    lookback: Duration = 30 * 86400
    """How far before a conversion its touches may be, in seconds (input also `30d`)."""
    half_life: Duration = 7 * 86400
    """Time-decay: a touch this much older gets half the credit, in seconds (input also `7d`)."""
    position_first: float = Field(0.4, ge=0, le=1)
    position_last: float = Field(0.4, ge=0, le=1)
    models: tuple[Model, ...] = MODELS
    time_range: TimeRange | None = None
    """Conversions in this range (their touches may start up to the lookback before it)."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return renamed_durations(data, _RENAMED)

    @field_validator("revenue_property", "touchpoint_property")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v if v is None or v.strip() else None

    @model_validator(mode="after")
    def _check(self) -> AttributionSpec:
        if self.position_first + self.position_last > 1:
            raise ValueError("position_first + position_last: must not exceed 1")
        if not self.models:
            raise ValueError("models: name at least one model")
        return self


class Credit(BaseModel):
    conversions: float
    revenue: float
    share: float
    """Share of the attributed conversions."""


class AttributionRow(BaseModel):
    key: str
    credit: dict[str, Credit]


class AttributionResult(Result):
    kind: Literal["attribution"] = "attribution"
    by: str
    models: list[str]
    conversions: int
    revenue: float
    attributed_conversions: int
    attributed_revenue: float
    rows: list[AttributionRow]
    removal_effects: dict[str, float] = Field(default_factory=dict)
    """Markov: the share of conversions lost when each key is removed."""


_COPY_COLUMNS = {"event", "type", "channel", "timestamp"}


def can_use_sorted(spec: AttributionSpec) -> bool:
    """Whether the sorted journey copy (`touchpath optimize`) holds what `spec` reads: the
    conversion, touch and time conditions test only event, type, channel and time, and touches
    are keyed by channel or event name (revenue is read from the log for conversions only)."""
    if spec.by == "touchpoint" and spec.touchpoint_property:
        return False
    matches = [spec.conversion, *map(match_of, (*spec.touches, *spec.exclude_touches))]
    exprs = [m.condition() for m in matches]
    if spec.time_range is not None:
        exprs.append(spec.time_range.condition())
    return all(c.name in _COPY_COLUMNS for e in exprs for c in e.find_all(exp.Column))
