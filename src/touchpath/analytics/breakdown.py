"""Breakdowns shared by funnels and retention: one value per profile, top N kept, the rest "Other".

A profile falls in exactly one group. `event_property` and `channel` take the value of the
profile's first entry event (first-touch attribution, as PostHog does by default);
`first_touch_channel` the channel of the profile's first event of all; `profile_property` the
latest value of a trait; `audience` the audience the profile is a member of now (the first of
`audiences` it belongs to, in the order given, or the first by name; `(none)` outside them all).

>>> Breakdown(by="channel").label()
'channel'
"""

from __future__ import annotations

from typing import Literal

import duckdb
from pydantic import Field, model_validator
from sqlglot import exp

from touchpath.analytics.sql import q
from touchpath.errors import NotFound
from touchpath.events.durations import Duration, parse_duration
from touchpath.events.match import Frozen, TimeRange, journey_types, literal, property_expr

__all__ = [
    "NONE_VALUE",
    "OTHER_VALUE",
    "Breakdown",
    "Duration",
    "grouped",
    "parse_duration",
]

OTHER_VALUE = "Other"
NONE_VALUE = "(none)"


class Breakdown(Frozen):
    """Split an analysis by a value per profile, keeping the `top` largest groups."""

    by: Literal["event_property", "profile_property", "channel", "first_touch_channel", "audience"]
    property: str | None = Field(default=None, min_length=1)
    audiences: tuple[str, ...] = ()
    top: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="after")
    def _property_when_needed(self) -> Breakdown:
        if self.by in ("event_property", "profile_property") and not self.property:
            raise ValueError(f"property: required to break down by {self.by}")
        if self.audiences and self.by != "audience":
            raise ValueError(f"audiences: only for a breakdown by audience, not {self.by}")
        return self

    def check(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Fail with NotFound when a named audience does not exist."""
        if not self.audiences:
            return
        known = {n for (n,) in cur.execute("SELECT name FROM audiences").fetchall()}
        for i, name in enumerate(self.audiences):
            if name not in known:
                raise NotFound(f"breakdown.audiences[{i}]: no audience {name!r}")

    def label(self) -> str:
        return f"{self.by} {self.property}" if self.property else self.by

    def entry_value(self) -> exp.Expr | None:
        """The value taken from the entry event row, or None when it comes from the profile."""
        if self.by == "event_property":
            assert self.property
            return property_expr(self.property)
        if self.by == "channel":
            return exp.column("channel")
        return None

    def profile_values(self, time_range: TimeRange) -> exp.Expr | None:
        """SELECT pid, value for breakdowns that come from the profile, not the entry event."""
        if self.by == "first_touch_channel":
            return q(
                "SELECT profile_id AS pid, arg_min(channel, (timestamp, seq)) AS value "
                "FROM resolved_events WHERE :journey AND :end GROUP BY profile_id",
                journey=journey_types(),
                end=TimeRange(end=time_range.end).condition(),
            )
        if self.by == "audience":
            if not self.audiences:
                return q(
                    "SELECT profile_id AS pid, min(audience) AS value FROM audience_members "
                    "GROUP BY profile_id"
                )
            names = exp.Array(expressions=[literal(a) for a in self.audiences])
            return q(
                "SELECT profile_id AS pid, arg_min(audience, list_position(:names, audience)) "
                "AS value FROM audience_members WHERE list_contains(:names, audience) "
                "GROUP BY profile_id",
                names=names,
            )
        if self.by == "profile_property":
            assert self.property
            value = property_expr("traits." + self.property)
            return q(
                "SELECT profile_id AS pid, arg_max(:value, (timestamp, seq)) AS value "
                "FROM resolved_events WHERE :value IS NOT NULL GROUP BY profile_id",
                value=value,
            )
        return None


def grouped(entries: exp.Expr, values: exp.Expr, top: int) -> exp.Expr:
    """SELECT pid, grp: each entered profile's group, the `top` largest kept, the rest Other.

    `entries` selects the entered profiles (column pid); `values` selects (pid, value).
    """
    return q(
        """
        SELECT e.pid, CASE WHEN t.value IS NOT NULL THEN t.value ELSE :other END AS grp
        FROM :entries AS e
        LEFT JOIN (SELECT pid, coalesce(CAST(value AS VARCHAR), :none) AS value FROM :vals AS v0)
            AS v USING (pid)
        LEFT JOIN (
            SELECT value FROM (
                SELECT coalesce(CAST(v2.value AS VARCHAR), :none) AS value, count(*) AS n
                FROM :entries AS e2 LEFT JOIN :vals AS v2 USING (pid)
                GROUP BY 1 ORDER BY n DESC, value LIMIT :top
            )
        ) AS t ON t.value = coalesce(v.value, :none)
        """,
        other=OTHER_VALUE,
        none=NONE_VALUE,
        entries=entries,
        vals=values,
        top=int(top),
    )
