"""REST API of discovery, attribution and feedback: POST the spec JSON, get the result JSON.

A bad spec gives 400 with the path of what is wrong, e.g. `stages.0.name: String should have
at least 1 character`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from touchpath.analytics import insights
from touchpath.analytics.attribution import AttributionResult
from touchpath.analytics.discovery import ConformanceResult, DfgResult, VariantsResult
from touchpath.analytics.feedback import FeedbackResult
from touchpath.web.deps import StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/analytics", tags=["analytics"])

SpecBody = Body(
    default_factory=dict,
    description="The analysis spec (see docs/discovery.md, attribution.md, feedback.md).",
)


@router.post("/dfg", response_model=DfgResult)
def dfg(store: StoreDep, spec: dict[str, Any] = SpecBody) -> Any:
    """Directly-follows graph: nodes and edges with frequency and median/p90 transition time."""
    return insights.discover_dfg(store, insights.parse_spec("dfg", spec))


@router.post("/variants", response_model=VariantsResult)
def variants(store: StoreDep, spec: dict[str, Any] = SpecBody) -> Any:
    """The most common whole journeys with their share."""
    return insights.discover_variants(store, insights.parse_spec("variants", spec))


@router.post("/conformance", response_model=ConformanceResult)
def conformance(store: StoreDep, spec: dict[str, Any] = SpecBody) -> Any:
    """Share of journeys that follow the designed stage order, and the common deviations."""
    return insights.conformance(store, insights.parse_spec("conformance", spec))


@router.post("/attribution", response_model=AttributionResult)
def attribution(store: StoreDep, spec: dict[str, Any] = SpecBody) -> Any:
    """Conversion credit per channel or touchpoint under each model."""
    return insights.attribution(store, insights.parse_spec("attribution", spec))


@router.post("/feedback", response_model=FeedbackResult)
def feedback(store: StoreDep, spec: dict[str, Any] = SpecBody) -> Any:
    """NPS, CSAT, CES and sentiment per touchpoint and stage, with negative phrases."""
    return insights.feedback(store, insights.parse_spec("feedback", spec))
