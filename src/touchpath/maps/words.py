"""What a map shows readers, in words: event definitions without filter syntax, and what its
stage numbers mean.

>>> from touchpath.events.match import Condition, EventMatch
>>> describe(EventMatch(event="Product Viewed", where=(Condition(property="channel", op="neq",
...     value="app"),)))
'Product Viewed, not in the app'
>>> describe(EventMatch(event="Ticket Resolved", channel="support", where=(
...     Condition(property="wait_hours", op="gt", value=24),)))
'Ticket Resolved (support), wait hours above 24'
>>> describe(EventMatch(event="Checkout Started", channel=["app", "web"]))
'Checkout Started (app or web)'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from touchpath.events.match import Condition, EventMatch

__all__ = ["STAGE_REACH", "describe", "either"]

STAGE_REACH = (
    "Reach of a stage: the people who reached it or a later stage; next: of them, the share "
    "who then reached the next stage or a later one within the map's window."
)
"""How a map's stage numbers are defined, as the map states it (maps/bind.py binds them)."""


def either(values: Sequence[Any]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    items = [str(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _condition(c: Condition) -> str:
    name = c.property.split(".")[-1].replace("_", " ")
    value = c.value
    if c.property == "channel" and c.op in ("eq", "neq", "in", "not_in"):
        chans = value if isinstance(value, list | tuple) else [value]
        where = "in the app" if list(chans) == ["app"] else f"on {either(chans)}"
        return where if c.op in ("eq", "in") else f"not {where}"
    words = {
        "eq": f"{name} is {value}",
        "neq": f"{name} is not {value}",
        "gt": f"{name} above {value}",
        "gte": f"{name} {value} or more",
        "lt": f"{name} below {value}",
        "lte": f"{name} {value} or less",
        "contains": f"{name} contains {value}",
        "not_contains": f"{name} does not contain {value}",
        "regex": f"{name} like {value}",
        "is_set": f"with a {name}",
        "is_not_set": f"without a {name}",
    }
    if c.op in ("in", "not_in"):
        listed = either(value if isinstance(value, list | tuple) else [value])
        return f"{name} is {'not ' if c.op == 'not_in' else ''}{listed}"
    return words.get(c.op, f"{name} {c.op} {value}")


def describe(match: EventMatch) -> str:
    """An event definition as a reader says it: the event, its channels, its conditions."""
    text = match.event or "any event"
    if match.channel:
        chans = [match.channel] if isinstance(match.channel, str) else list(match.channel)
        text += f" ({either(chans)})"
    if match.where:
        text += ", " + " and ".join(_condition(c) for c in match.where)
    return text
