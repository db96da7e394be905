"""The flat facade over discovery, attribution and feedback: verbs in, typed results out.

The Python API, the CLI (`touchpath dfg|variants|conformance|attribution|feedback`), the REST
API (`POST /api/analytics/<kind>`) and the map binder all call these functions.

>>> parse_spec("dfg", {"stages": [{"name": "buy", "events": ["Order Completed"]}]}).kind
'dfg'
>>> parse_spec("attribution", {"lookback": "-1d"})
Traceback (most recent call last):
...
touchpath.errors.SpecError: lookback: Input should be greater than 0
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from touchpath.analytics import attribution as _attribution
from touchpath.analytics import discovery as _discovery
from touchpath.analytics import feedback as _feedback
from touchpath.analytics.attribution import AttributionResult, AttributionSpec
from touchpath.analytics.discovery import (
    ConformanceResult,
    ConformanceSpec,
    DfgResult,
    DfgSpec,
    Stage,
    VariantsResult,
    VariantsSpec,
)
from touchpath.analytics.feedback import FeedbackResult, FeedbackSpec
from touchpath.errors import SpecError
from touchpath.store import Store

__all__ = [
    "SPECS",
    "Stage",
    "attribution",
    "conformance",
    "discover_dfg",
    "discover_stage_flow",
    "discover_variants",
    "feedback",
    "parse_spec",
    "run",
]

SPECS: dict[str, type[BaseModel]] = {
    "dfg": DfgSpec,
    "variants": VariantsSpec,
    "conformance": ConformanceSpec,
    "attribution": AttributionSpec,
    "feedback": FeedbackSpec,
}
"""Each analysis of this facade by its `kind`."""


def parse_spec(kind: str, data: dict[str, Any]) -> Any:
    """Validate `data` as the spec of `kind`; errors name the field (`stages.0.name: ...`)."""
    cls = SPECS.get(kind)
    if cls is None:
        raise SpecError(f"kind: unknown analysis {kind!r}; one of {', '.join(SPECS)}")
    try:
        return cls.model_validate({**data, "kind": kind})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "spec"
        msg = first["msg"].removeprefix("Value error, ")
        raise SpecError(f"{where}: {msg}") from None


def discover_dfg(store: Store, spec: DfgSpec | None = None) -> DfgResult:
    """The directly-follows graph (event names, or stages when the spec maps them)."""
    return _discovery.discover_dfg(store, spec or DfgSpec())


def discover_stage_flow(store: Store, spec: DfgSpec) -> DfgResult:
    """The DFG over the spec's stages."""
    return _discovery.stage_flow(store, spec)


def discover_variants(store: Store, spec: VariantsSpec | None = None) -> VariantsResult:
    """The most common whole journeys with their share of cases."""
    return _discovery.discover_variants(store, spec or VariantsSpec())


def conformance(store: Store, spec: ConformanceSpec) -> ConformanceResult:
    """The share of journeys that follow the designed stage order, and the common deviations."""
    return _discovery.conformance(store, spec)


def attribution(store: Store, spec: AttributionSpec | None = None) -> AttributionResult:
    """Conversion credit per channel or touchpoint under each attribution model."""
    return _attribution.attribution(store, spec or AttributionSpec())


def feedback(store: Store, spec: FeedbackSpec | None = None) -> FeedbackResult:
    """NPS, CSAT, CES and sentiment per touchpoint and stage, with negative phrases."""
    return _feedback.feedback(store, spec or FeedbackSpec())


def run(store: Store, spec: BaseModel) -> BaseModel:
    """Run any spec of this facade by its kind."""
    if isinstance(spec, DfgSpec):
        return discover_dfg(store, spec)
    if isinstance(spec, VariantsSpec):
        return discover_variants(store, spec)
    if isinstance(spec, ConformanceSpec):
        return conformance(store, spec)
    if isinstance(spec, AttributionSpec):
        return attribution(store, spec)
    if isinstance(spec, FeedbackSpec):
        return feedback(store, spec)
    raise SpecError(f"kind: {type(spec).__name__} is not a discovery, attribution or feedback spec")
