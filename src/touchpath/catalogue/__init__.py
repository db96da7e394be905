"""The event catalogue and tracking plans (docs/catalogue.md, docs/tracking-plans.md).

The catalogue keeps every event name and, per event, its property keys with their observed
types, counts and first and last seen, folded in as commits land; `names` turns a misspelt
name in a spec into an error that lists the closest known names.

>>> from touchpath.catalogue import events, properties, closest
"""

from __future__ import annotations

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

__all__ = [
    "INTERNAL_EVENTS",
    "CatalogueComponent",
    "CatalogueEvent",
    "CatalogueProperty",
    "catch_up",
    "check_names",
    "closest",
    "event_names",
    "events",
    "fold",
    "properties",
    "property_keys",
    "rebuild",
    "unknown_names",
]
