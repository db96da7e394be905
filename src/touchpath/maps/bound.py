"""A map bound to data: the numbers for every stage and touchpoint, ready to render or serve.

The renderers read only this model, so a map can be rendered from a saved JSON result, and the
REST API returns exactly what the picture shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from touchpath.maps.decisions import DecisionLink
from touchpath.maps.document import JourneyMap
from touchpath.maps.journeys import JourneyLink
from touchpath.maps.words import STAGE_REACH, describe

__all__ = [
    "BoundMap",
    "BoundStage",
    "BoundTouchpoint",
    "Flow",
    "Freshness",
    "Kind",
    "Metrics",
    "Opportunity",
    "PainPoint",
    "authored_emotion",
    "unbound",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Metrics(_Model):
    """The numbers of one stage or touchpoint for one group of people (persona or the rest)."""

    reach: int = 0
    share: float | None = None
    """Reach over the group's population."""
    to_next: float | None = None
    """Share of those reached who later reach the next stage."""
    to_goal: float | None = None
    """Share of those reached who later reach the goal."""
    drop_off: float | None = None
    median_hours_to_next: float | None = None
    channel_mix: dict[str, float] = {}
    """Share of the events by channel."""
    nps: float | None = None
    csat: float | None = None
    sentiment: float | None = None
    """Mean sentiment of feedback text, -1 to 1."""
    feedback: int = 0
    """How many feedback events the scores rest on."""


class BoundTouchpoint(_Model):
    name: str
    stage: str
    event: str
    """The event definition, as a short label."""
    channel: str | None = None
    persona: Metrics
    others: Metrics | None = None
    emotion: float | None = None
    """-1 to 1, from feedback when there is any, otherwise the authored emotion."""
    emotion_source: Literal["data", "authored"] | None = None
    journeys: list[JourneyLink] = []
    """Journey nodes that stand for this touchpoint, with their numbers (maps/journeys.py)."""
    decisions: list[DecisionLink] = []
    """Decisions that choose this touchpoint's content, with their numbers (maps/decisions.py)."""
    online_share: float | None = None
    """A shop touchpoint (channel `store`): the share of its people also met on the website or
    in the app, joined to them by the identity graph (the loyalty card)."""


class BoundStage(_Model):
    name: str
    title: str
    persona: Metrics
    others: Metrics | None = None
    emotion: float | None = None
    emotion_source: Literal["data", "authored"] | None = None
    touchpoints: list[BoundTouchpoint] = []


class Flow(_Model):
    """People who went from one touchpoint straight to another (the directly-follows relation)."""

    source: str
    target: str
    count: int
    """People who took this step."""
    median_hours: float | None = None


Kind = Literal[
    "drop_off",
    "long_wait",
    "negative_feedback",
    "repeat_contact",
    "error_page",
    "channel_gap",
    "channel_switch",
]
"""The kinds of pain point (maps/pain.py)."""


class PainPoint(_Model):
    """A pain point found in the data, with the numbers that put it there."""

    rank: int
    kind: Kind
    stage: str
    touchpoint: str | None = None
    score: float
    """Severity used for ranking: the share of people it affects times how bad it is."""
    summary: str
    numbers: dict[str, float | int | str] = {}


class Opportunity(_Model):
    text: str
    stage: str
    touchpoint: str | None = None


class Freshness(_Model):
    """How current a served map's numbers are. A server keeps bound maps and re-binds them as
    events arrive, on a CPU budget (maps/cache.py, `TOUCHPATH_MAP_REFRESH_CPU_SHARE`): map
    numbers are analytics, so they may trail the log by a minute or more on a large store."""

    numbers_as_of: datetime
    """The numbers count the events committed by this time (UTC)."""
    fresh: bool
    """False: events that can change the numbers arrived after `numbers_as_of`; the map is
    bound again in the background (no sooner than `next_refresh`)."""
    next_refresh: datetime | None = None
    """When not fresh: the earliest time the next bind may start."""
    refresh_interval_seconds: float | None = None
    """Seconds between two binds of this map at the CPU budget (at least 10)."""
    bind_cpu_seconds: float | None = None
    """The server's CPU seconds over the last bind of this map."""


class BoundMap(_Model):
    """A journey map document with its numbers for one time range."""

    map: JourneyMap
    start: datetime | None = None
    end: datetime | None = None
    bound_at: datetime
    as_of: datetime | None = None
    """Set when the numbers come from a journey copy that lags the log
    (`TOUCHPATH_JOURNEY_MAX_LAG_SECONDS`): the time the copy holds the log as of."""
    persona_size: int
    others_size: int | None = None
    goal_reach: int | None = None
    stages: list[BoundStage]
    flows: list[Flow] = []
    pain_points: list[PainPoint] = []
    opportunities: list[Opportunity] = []
    pending: list[str] = []
    """Metrics that could not be bound, and why."""
    missing_events: list[str] = []
    """Event names the map uses that the store has no event of: their numbers are 0 because
    the events are missing, not because nobody did it (a map bound to another store)."""
    stage_reach: str = STAGE_REACH
    """How the stage numbers are defined, in words (stated on the rendered map)."""
    freshness: Freshness | None = None
    """Set on a server's answer: the time the numbers are as of, and whether newer events wait
    for the next bind (none: bound for this request, as of `bound_at`)."""

    def touchpoint(self, name: str) -> BoundTouchpoint:
        for s in self.stages:
            for t in s.touchpoints:
                if t.name == name:
                    return t
        raise KeyError(name)

    def stage(self, name: str) -> BoundStage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)


def authored_emotion(value: int | None) -> float | None:
    """A -2..2 authored emotion on the -1..1 scale of the curve."""
    return None if value is None else value / 2


def unbound(doc: JourneyMap, bound_at: datetime) -> BoundMap:
    """The document with no data: authored emotions only (to render a draft or a future state)."""
    stages = []
    for s in doc.stages:
        tps = [
            BoundTouchpoint(
                name=t.name,
                stage=s.name,
                event=describe(t.match),
                channel=t.match.channel if isinstance(t.match.channel, str) else None,
                persona=Metrics(),
                emotion=authored_emotion(t.emotion),
                emotion_source="authored" if t.emotion is not None else None,
            )
            for t in s.touchpoints
        ]
        emos = [t.emotion for t in tps if t.emotion is not None]
        stages.append(
            BoundStage(
                name=s.name,
                title=s.title,
                persona=Metrics(),
                emotion=sum(emos) / len(emos) if emos else None,
                emotion_source="authored" if emos else None,
                touchpoints=tps,
            )
        )
    return BoundMap(map=doc, bound_at=bound_at, persona_size=0, stages=stages)
