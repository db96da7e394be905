"""The flat facade of every analysis: verb-named functions over the registry.

Each takes a store and a spec (the spec model, or a mapping as read from JSON or YAML) and
returns the typed result, whose `as_of` and `source` say what was read. Every one runs through
`touchpath.analytics.registry.run`, as the CLI, the REST API and the map binder do. A bad spec
raises `SpecError`, one problem per wrong path, e.g. `steps[2].event: must not be blank`.

>>> funnel_spec({"steps": [{"event": "a"}]})
Traceback (most recent call last):
...
touchpath.errors.SpecError: steps: Tuple should have at least 2 items after validation, not 1
>>> parse_spec("attribution", {"lookback": "-1d"})
Traceback (most recent call last):
...
touchpath.errors.SpecError: lookback: Input should be greater than 0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pydantic import BaseModel

from touchpath.analytics import registry
from touchpath.analytics.spec import Result, Spec
from touchpath.analytics.spec import parse as parse_model
from touchpath.errors import SpecError

if TYPE_CHECKING:
    from touchpath.analytics.attribution import AttributionResult, AttributionSpec
    from touchpath.analytics.discovery import (
        ConformanceResult,
        ConformanceSpec,
        DfgResult,
        DfgSpec,
        VariantsResult,
        VariantsSpec,
    )
    from touchpath.analytics.feedback import FeedbackResult, FeedbackSpec
    from touchpath.analytics.funnels import FunnelResult, FunnelSpec, SavedAudience
    from touchpath.analytics.journey import JourneyBuild
    from touchpath.analytics.paths import PathsResult, PathsSpec
    from touchpath.analytics.retention import RetentionResult, RetentionSpec
    from touchpath.store import Store

__all__ = [
    "attribution",
    "conformance",
    "discover_dfg",
    "discover_stage_flow",
    "discover_variants",
    "feedback",
    "funnel",
    "funnel_spec",
    "optimize",
    "parse_spec",
    "paths",
    "paths_spec",
    "retention",
    "retention_spec",
    "run",
    "save_dropped",
]

M = TypeVar("M", bound=BaseModel)
SpecIn = Mapping[str, Any]


@overload
def parse_spec(kind: str, data: Any) -> Any: ...
@overload
def parse_spec(kind: type[M], data: M | Mapping[str, Any]) -> M: ...
def parse_spec(kind: str | type[M], data: Any) -> Any:
    """Validate `data` as the spec of `kind` (a kind's name, or a model): every wrong path is
    one problem of the SpecError."""
    if isinstance(kind, str):
        return registry.parse(data if isinstance(data, Spec) else dict(data or {}), kind)
    return parse_model(kind, data)


def run(store: Store, spec: Spec | SpecIn, kind: str | None = None) -> Result:
    """Run any analysis by its kind (the spec's `kind`, or `kind`)."""
    return registry.run(store, spec, kind=kind)


def funnel_spec(data: FunnelSpec | SpecIn) -> FunnelSpec:
    spec: FunnelSpec = parse_spec("funnel", data)
    return spec


def paths_spec(data: PathsSpec | SpecIn) -> PathsSpec:
    spec: PathsSpec = parse_spec("paths", data)
    return spec


def retention_spec(data: RetentionSpec | SpecIn) -> RetentionSpec:
    spec: RetentionSpec = parse_spec("retention", data)
    return spec


def funnel(store: Store, spec: FunnelSpec | SpecIn) -> FunnelResult:
    """Per-step counts, conversion, time to convert, breakdown, trend and drop-offs."""
    result: FunnelResult = registry.run(store, spec, kind="funnel")  # type: ignore[assignment]
    return result


def paths(store: Store, spec: PathsSpec | SpecIn) -> PathsResult:
    """The paths taken from a start event or to an end event, as Sankey nodes and edges."""
    result: PathsResult = registry.run(store, spec, kind="paths")  # type: ignore[assignment]
    return result


def retention(store: Store, spec: RetentionSpec | SpecIn) -> RetentionResult:
    """The cohort table, the average curve, the repeat rate and the time between returns."""
    result: RetentionResult = registry.run(store, spec, kind="retention")  # type: ignore[assignment]
    return result


def discover_dfg(store: Store, spec: DfgSpec | SpecIn | None = None) -> DfgResult:
    """The directly-follows graph (event names, or stages when the spec maps them)."""
    result: DfgResult = registry.run(store, spec or {}, kind="dfg")  # type: ignore[assignment]
    return result


def discover_stage_flow(store: Store, spec: DfgSpec | SpecIn) -> DfgResult:
    """The DFG over the spec's stages."""
    parsed: DfgSpec = parse_spec("dfg", spec)
    if not parsed.stages:
        raise SpecError("stages: stage flow needs at least one stage")
    return discover_dfg(store, parsed)


def discover_variants(store: Store, spec: VariantsSpec | SpecIn | None = None) -> VariantsResult:
    """The most common whole journeys with their share of cases."""
    result: VariantsResult = registry.run(store, spec or {}, kind="variants")  # type: ignore[assignment]
    return result


def conformance(store: Store, spec: ConformanceSpec | SpecIn) -> ConformanceResult:
    """The share of journeys that follow the designed stage order, and the common deviations."""
    result: ConformanceResult = registry.run(store, spec, kind="conformance")  # type: ignore[assignment]
    return result


def attribution(store: Store, spec: AttributionSpec | SpecIn | None = None) -> AttributionResult:
    """Conversion credit per channel or touchpoint under each attribution model."""
    result: AttributionResult = registry.run(store, spec or {}, kind="attribution")  # type: ignore[assignment]
    return result


def feedback(store: Store, spec: FeedbackSpec | SpecIn | None = None) -> FeedbackResult:
    """NPS, CSAT, CES and sentiment per touchpoint and stage, with negative phrases."""
    result: FeedbackResult = registry.run(store, spec or {}, kind="feedback")  # type: ignore[assignment]
    return result


def save_dropped(
    store: Store,
    spec: FunnelSpec | SpecIn,
    step: int,
    name: str,
    group: str | None = None,
) -> SavedAudience:
    """Save the profiles that dropped at `step` of a funnel (of one breakdown group) as static
    audience `name`."""
    from touchpath.analytics.funnels import save_dropped as save

    return save(store, funnel_spec(spec), step, name, group)


def optimize(store: Store) -> JourneyBuild:
    """Rebuild the sorted journey copy that funnels, paths, discovery and attribution read."""
    from touchpath.analytics.journey import optimize as build

    return build(store)
