"""Did you mean: a spec that names an event or property the catalogue has never seen is an
error that lists the closest known names (docs/catalogue.md).

A misspelt event would otherwise give a confident zero. `unknown_names` walks any spec (an
analysis, an audience's conditions, a map's touchpoints: every `EventMatch` in it, and the
fields that list event names) and returns one problem per unknown name, at its path
(`steps[1].event`). Only what the caller wrote is checked (pydantic's `model_fields_set`), so a
default such as feedback's `NPS Survey Completed` never fails a store without surveys; the
events Touchpath writes itself (`touchpath.events.names`) are always known; a store with no
events at all checks nothing. `allow_unknown` (on every analysis spec) turns the check off,
for events that have not arrived yet.

>>> closest("Product Viewd", {"Product Viewed", "Product Added", "Order Completed"})
['Product Viewed', 'Product Added']
>>> closest("product viewed", {"Product Viewed", "Product Added"})
['Product Viewed', 'Product Added']
>>> closest("Hoem", {"Home", "Cart", "Checkout"})
['Home']
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel

from touchpath.errors import Problem
from touchpath.events import names as internal
from touchpath.events.match import EventMatch

__all__ = ["INTERNAL_EVENTS", "closest", "describe", "unknown_names"]

INTERNAL_EVENTS: frozenset[str] = frozenset(
    v for k, v in vars(internal).items() if k.isupper() and isinstance(v, str) and " " in v
) | frozenset(
    e for k, v in vars(internal).items() if k.isupper() and isinstance(v, tuple) for e in v
)
"""The events Touchpath writes itself: known before they first happen."""

_EVENT_LISTS = frozenset({"exclude", "touches", "exclude_touches", "texts"})
"""Spec fields whose plain strings are event names."""
_NOT_PROPERTIES = frozenset(
    {"event", "type", "channel", "source", "user_id", "anonymous_id", "group_id"}
)


def closest(name: str, known: set[str] | frozenset[str], n: int = 3) -> list[str]:
    """The known names nearest `name`, best first; a name that differs only in case first."""
    same_case = [k for k in known if k.lower() == name.lower() and k != name]
    lowered: dict[str, str] = {}
    for k in sorted(known):
        lowered.setdefault(k.lower(), k)
    near = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    out = same_case + [lowered[k] for k in near if lowered[k] not in same_case]
    return out[:n]


def describe(kind: str, name: str, known: set[str] | frozenset[str]) -> str:
    """`unknown event 'Product Viewd'; did you mean 'Product Viewed'?`"""
    near = closest(name, known)
    if not near:
        return (
            f"unknown {kind} {name!r}; the store has never seen it (allow_unknown: true allows it)"
        )
    hint = " or ".join(repr(k) for k in near)
    return f"unknown {kind} {name!r}; did you mean {hint}?"


def _walk(value: Any, path: str, explicit: bool = True) -> Iterator[tuple[str, Any, str]]:
    """(path, value, what) for every event match and event-name string in a spec."""
    if isinstance(value, EventMatch):
        yield path, value, "match"
        return
    if isinstance(value, BaseModel):
        event, prop = getattr(value, "event", None), getattr(value, "property", None)
        if (
            isinstance(event, EventMatch)
            and isinstance(prop, str)
            and "property" in value.model_fields_set
        ):
            # a property of the model's event (a computed trait's sum, a metric's value)
            yield f"{path}.property" if path else "property", (event.event, prop), "key"
        for name in value.model_fields_set:
            child = getattr(value, name, None)
            where = f"{path}.{name}" if path else name
            if name in _EVENT_LISTS and isinstance(child, tuple | list):
                for i, item in enumerate(child):
                    if isinstance(item, str):
                        yield f"{where}[{i}]", item, "event"
                    else:
                        yield from _walk(item, f"{where}[{i}]")
            else:
                yield from _walk(child, where)
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def _key(path: str) -> str | None:
    """The property key a condition's path reads (None: a column, context or traits)."""
    if path in _NOT_PROPERTIES:
        return None
    root, _, rest = path.partition(".")
    if root in ("context", "traits") and rest:
        return None
    if root == "properties" and rest:
        return rest.split(".", 1)[0]
    return path


def unknown_names(
    spec: BaseModel,
    events: Callable[[], set[str]],
    keys: Callable[[str | None], set[str]],
    prefix: str = "",
) -> list[Problem]:
    """One problem for each event or property in `spec` the store has never seen. `events()`
    gives the known event names, `keys(event)` the property keys of an event (any: None)."""
    found = list(_walk(spec, prefix))
    if not found:
        return []
    known = events()
    if not known:
        return []  # an empty store: nothing to compare with, every answer is zero anyway
    known_all = known | INTERNAL_EVENTS
    out: list[Problem] = []
    for path, value, what in found:
        if what == "event":
            if value not in known_all and not any(c in value for c in "*?["):  # not a glob
                out.append(Problem("unknown_event", path, describe("event", value, known)))
            continue
        if what == "key":
            event, key = value
            name = _key(key)
            if name is not None and event not in INTERNAL_EVENTS:
                seen = keys(event)
                if name not in seen:
                    out.append(Problem("unknown_property", path, describe("property", name, seen)))
            continue
        match: EventMatch = value
        if match.event is not None and match.event not in known_all:
            out.append(
                Problem("unknown_event", f"{path}.event", describe("event", match.event, known))
            )
            continue
        if match.event in INTERNAL_EVENTS:
            continue
        for i, cond in enumerate(match.where):
            prop = _key(cond.property)
            if prop is None or cond.op == "is_not_set":  # absent is what it asks
                continue
            seen = keys(match.event)
            if prop not in seen:
                where = f"{path}.where[{i}].property"
                out.append(Problem("unknown_property", where, describe("property", prop, seen)))
    return out
