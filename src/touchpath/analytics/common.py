"""Analyses read events through the shared vocabulary of `touchpath.events.match`.

Kept so existing imports (`from touchpath.analytics.common import EventMatch`) keep working while
the analysis runtime moves each caller to `touchpath.events.match`.
"""

from __future__ import annotations

from touchpath.events.match import (
    EVENTS,
    Condition,
    EventMatch,
    Frozen,
    TimeRange,
    events_table,
    literal,
    property_expr,
)

__all__ = [
    "EVENTS",
    "Condition",
    "EventMatch",
    "Frozen",
    "TimeRange",
    "events_table",
    "literal",
    "property_expr",
]
