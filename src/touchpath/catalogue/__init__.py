"""The event catalogue and tracking plans (docs/catalogue.md, docs/tracking-plans.md).

The catalogue keeps every event name and, per event, its property keys with their observed
types, counts and first and last seen, folded in as commits land; `names` turns a misspelt
name in a spec into an error that lists the closest known names.

>>> from touchpath.catalogue import events, properties, closest
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from touchpath.catalogue.catalogue import (
    CatalogueEvent,
    CatalogueProperty,
    catch_up,
    event_names,
    events,
    fold,
    properties,
    property_keys,
    rebuild,
)
from touchpath.catalogue.component import CatalogueComponent, check_names
from touchpath.catalogue.names import INTERNAL_EVENTS, closest, unknown_names
from touchpath.catalogue.violations import ViolationCount, violation_counts

if TYPE_CHECKING:
    from touchpath.catalogue.gate import Checker, PlanGate, Violation
    from touchpath.catalogue.plans import (
        Assignment,
        PlanInfo,
        TrackingPlan,
        assign,
        assignments,
        delete_plan,
        export,
        get_plan,
        infer,
        list_plans,
        read_plan,
        save_plan,
        unassign,
    )

_LAZY = {
    **dict.fromkeys(("Checker", "PlanGate", "Violation"), "gate"),
    **dict.fromkeys(
        ("Assignment", "PlanInfo", "TrackingPlan", "assign", "assignments", "delete_plan",
         "export", "get_plan", "infer", "list_plans", "read_plan", "save_plan", "unassign"),
        "plans",
    ),
}  # fmt: skip
"""Names of the tracking plans' modules, imported on first use: an analysis checks its names
against the catalogue (`check_names`) without loading the plans' JSON Schema and YAML."""

__all__ = [
    "INTERNAL_EVENTS",
    "Assignment",
    "CatalogueComponent",
    "CatalogueEvent",
    "CatalogueProperty",
    "Checker",
    "PlanGate",
    "PlanInfo",
    "TrackingPlan",
    "Violation",
    "ViolationCount",
    "assign",
    "assignments",
    "catch_up",
    "check_names",
    "closest",
    "delete_plan",
    "event_names",
    "events",
    "export",
    "fold",
    "get_plan",
    "infer",
    "list_plans",
    "properties",
    "property_keys",
    "read_plan",
    "rebuild",
    "save_plan",
    "unassign",
    "unknown_names",
    "violation_counts",
]


def __getattr__(name: str) -> Any:
    """A tracking plans' name (`_LAZY`), imported from its module when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
