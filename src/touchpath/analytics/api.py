"""The flat facade of funnels, paths and retention: verb-named functions over the analyses.

Each takes a store and a spec (the spec model, or a dict as read from JSON/YAML) and returns the
typed result. Bad specs raise `SpecError` whose message names the path, e.g.
`steps[2].event: must not be blank`.

>>> funnel_spec({"steps": [{"event": "a"}]})
Traceback (most recent call last):
...
touchpath.errors.SpecError: steps: Tuple should have at least 2 items after validation, not 1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from touchpath.analytics.funnels import FunnelResult, FunnelSpec, SavedAudience
from touchpath.analytics.funnels import funnel as _funnel
from touchpath.analytics.funnels import save_dropped as _save_dropped
from touchpath.analytics.paths import PathsResult, PathsSpec
from touchpath.analytics.paths import paths as _paths
from touchpath.analytics.retention import RetentionResult, RetentionSpec
from touchpath.analytics.retention import retention as _retention
from touchpath.errors import SpecError
from touchpath.store import Store

__all__ = [
    "funnel",
    "funnel_spec",
    "parse_spec",
    "paths",
    "paths_spec",
    "retention",
    "retention_spec",
    "save_dropped",
]

M = TypeVar("M", bound=BaseModel)


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union")):
            continue
        else:
            out += ("." if out else "") + part
    return out or "spec"


def parse_spec(model: type[M], data: M | Mapping[str, Any]) -> M:
    """Validate `data` as `model`; errors become one SpecError naming each wrong path."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        msgs = []
        for e in exc.errors():
            text = str(e["msg"]).removeprefix("Value error, ")
            msgs.append(f"{_where(tuple(e['loc']))}: {text}")
        raise SpecError("; ".join(msgs)) from None


def funnel_spec(data: FunnelSpec | Mapping[str, Any]) -> FunnelSpec:
    return parse_spec(FunnelSpec, data)


def paths_spec(data: PathsSpec | Mapping[str, Any]) -> PathsSpec:
    return parse_spec(PathsSpec, data)


def retention_spec(data: RetentionSpec | Mapping[str, Any]) -> RetentionSpec:
    return parse_spec(RetentionSpec, data)


def funnel(store: Store, spec: FunnelSpec | Mapping[str, Any]) -> FunnelResult:
    """Per-step counts, conversion, time to convert, breakdown, trend and drop-offs."""
    return _funnel(store, funnel_spec(spec))


def save_dropped(
    store: Store,
    spec: FunnelSpec | Mapping[str, Any],
    step: int,
    name: str,
    group: str | None = None,
) -> SavedAudience:
    """Save the profiles that dropped at `step` of a funnel (of one breakdown group) as static
    audience `name`."""
    return _save_dropped(store, funnel_spec(spec), step, name, group)


def paths(store: Store, spec: PathsSpec | Mapping[str, Any]) -> PathsResult:
    """The paths taken from a start event or to an end event, as Sankey nodes and edges."""
    return _paths(store, paths_spec(spec))


def retention(store: Store, spec: RetentionSpec | Mapping[str, Any]) -> RetentionResult:
    """The cohort table, the average curve, the repeat rate and the time between returns."""
    return _retention(store, retention_spec(spec))
