"""Feedback of a map's touchpoints and stages: an adapter over `api.feedback`.

The metrics (NPS, CSAT, sentiment) are the analytics function's; this module only says which
answers belong to which touchpoint and stage of a map (see `feedback_specs`), and turns them
into the emotion curve.
"""

from __future__ import annotations

from touchpath.analytics import api
from touchpath.analytics.discovery import Stage as DiscoveryStage
from touchpath.analytics.feedback import FeedbackResult, FeedbackRow, FeedbackSpec
from touchpath.events.match import TimeRange
from touchpath.maps.document import JourneyMap, Touchpoint
from touchpath.store import Store

__all__ = [
    "MapFeedback",
    "emotion",
    "feedback_specs",
    "grouped_spec",
    "is_response",
    "map_feedback",
]

_BASE = FeedbackSpec()


def is_response(tp: Touchpoint, spec: FeedbackSpec = _BASE) -> bool:
    """Whether a touchpoint is itself a feedback answer (a survey or a review)."""
    names = {m.event for m in (spec.nps, spec.csat, spec.ces)}
    names |= {t if isinstance(t, str) else t.event for t in spec.texts}
    return tp.match.event in names


def feedback_specs(
    doc: JourneyMap, time_range: TimeRange, audience: str | None = None, members: bool = True
) -> tuple[FeedbackSpec, FeedbackSpec]:
    """The feedback specs of a map: per touchpoint and per stage.

    An answer belongs to the touchpoint the person met last at or before answering (the
    analytics function's stage attribution, with one feedback stage per touchpoint that is not
    itself an answer): a CSAT answer after a resolved ticket is the ticket's, whatever
    touchpoint the survey names. A survey or review touchpoint shows all answers of its event.
    """
    told = [t for _, t in doc.touchpoints() if not is_response(t)]
    by_tp = FeedbackSpec(
        stages=tuple(DiscoveryStage(name=t.name, events=(t.match,)) for t in told),
        touchpoint_property=None,
        time_range=time_range,
        phrases=0,
        audience=audience,
        members=members,
    )
    by_stage = by_tp.model_copy(
        update={
            "stages": tuple(
                DiscoveryStage(
                    name=s.name,
                    events=tuple(t.match for t in s.touchpoints if not is_response(t)),
                )
                for s in doc.stages
                if any(not is_response(t) for t in s.touchpoints)
            )
        }
    )
    return by_tp, by_stage


def grouped_spec(doc: JourneyMap, by_tp: FeedbackSpec) -> FeedbackSpec:
    """The touchpoint spec of `feedback_specs` with the map's stages as groups of its
    touchpoints (`FeedbackSpec.groups`): one call answers both specs.

    The same: an answer's stage in the stage spec is the first map stage holding a told
    touchpoint that its person's last staged event meets; the stage spec's events are the
    touchpoint spec's, and the first stage holding such a touchpoint holds the first one."""
    told = {s.name for s in by_tp.stages}
    groups = tuple(
        (s.name, tuple(t.name for t in s.touchpoints if t.name in told))
        for s in doc.stages
        if any(not is_response(t) for t in s.touchpoints)
    )
    return by_tp.model_copy(update={"groups": groups})


class MapFeedback:
    """The feedback rows of a map's touchpoints and stages (the stages' from the stage spec
    of `feedback_specs`, or from the groups of the touchpoint spec: `grouped_spec`)."""

    def __init__(
        self, doc: JourneyMap, by_tp: FeedbackResult, by_stage: FeedbackResult | None = None
    ) -> None:
        told = {r.name: r for r in by_tp.stages}
        own = {r.name: r for r in by_tp.touchpoints}
        self.touchpoints: dict[str, FeedbackRow] = {}
        for _, t in doc.touchpoints():
            row = own.get(t.match.event) if is_response(t) else told.get(t.name)
            if row is not None and row.responses:
                self.touchpoints[t.name] = row
        stages = by_stage.stages if by_stage is not None else by_tp.groups
        self.stages = {r.name: r for r in stages if r.responses}


def map_feedback(
    store: Store,
    doc: JourneyMap,
    time_range: TimeRange,
    audience: str | None = None,
    members: bool = True,
) -> MapFeedback:
    """Feedback per touchpoint and stage of `doc` (one call of `api.feedback`, the stages as
    groups of the touchpoints: `grouped_spec`), of everyone, or of an audience's members (or
    non-members)."""
    by_tp, _ = feedback_specs(doc, time_range, audience, members)
    # A map may name touchpoints still to come (the catalogue's check is the binder's to skip).
    spec = grouped_spec(doc, by_tp).model_copy(update={"allow_unknown": True})
    return MapFeedback(doc, api.feedback(store, spec))


def emotion(fb: FeedbackRow | None) -> float | None:
    """-1..1 from feedback: the mean of the signals there are (NPS, CSAT mean, sentiment)."""
    if fb is None or not fb.responses:
        return None
    parts = []
    if fb.nps is not None:
        parts.append(fb.nps / 100)
    if fb.csat_avg is not None:
        parts.append((fb.csat_avg - 3.5) / 1.5)  # 1..5 around 3.5
    if fb.sentiment_avg is not None:
        parts.append(fb.sentiment_avg * 2)  # VADER compound of short comments sits near ±0.5
    if not parts:
        return None
    return max(-1.0, min(1.0, sum(parts) / len(parts)))
