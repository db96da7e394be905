"""The shared vocabulary of matching: event definitions, property conditions, time ranges.

Every area (analytics, profiles, maps, journeys, destinations, personalisation) matches events
with these; they live here, at the bottom of the import flow, so no import runs upward.

User values enter SQL only as SQLGlot literals, never pasted into strings.

>>> print(EventMatch(event="Order Completed", where=[Condition(property="revenue", op="gt", value=50)]).sql())
event = 'Order Completed' AND TRY_CAST(JSON_EXTRACT_STRING(properties, '$."revenue"') AS DOUBLE) > 50
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlglot import exp

__all__ = [
    "Condition",
    "EventMatch",
    "Frozen",
    "TimeRange",
    "events_table",
    "literal",
    "property_expr",
]

EVENTS = "resolved_events"
"""The relation analyses read: the event log with a resolved `profile_id`."""


class Frozen(BaseModel):
    """Base of every spec: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


Op = Literal[
    "eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in",
    "contains", "not_contains", "regex", "is_set", "is_not_set",
]  # fmt: skip

_COLUMNS = {"event", "type", "channel", "source", "user_id", "anonymous_id", "group_id"}
_JSON_COLUMNS = ("properties", "context", "traits")


def literal(value: Any) -> exp.Expr:
    """A SQL literal for a user value (string, number, bool or None)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def property_expr(path: str, numeric: bool = False) -> exp.Expr:
    """The value at `path`: a column (`channel`), `context.x.y`, `traits.x` or a property name.

    >>> print(property_expr("context.campaign.source").sql("duckdb"))
    JSON_EXTRACT_STRING(context, '$."campaign"."source"')
    """
    if not path:
        raise ValueError("property: must not be empty")
    if path in _COLUMNS:
        col: exp.Expr = exp.column(path)
        return exp.TryCast(this=col, to=exp.DataType.build("DOUBLE")) if numeric else col
    root, _, rest = path.partition(".")
    if root in _JSON_COLUMNS and rest:
        column, keys = root, rest.split(".")
    else:
        column, keys = "properties", [path]
    json_path = "$" + "".join('."' + k.replace('"', '\\"') + '"' for k in keys)
    value: exp.Expr = exp.func(
        "json_extract_string", exp.column(column), exp.Literal.string(json_path)
    )
    if numeric:
        value = exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
    return value


class Condition(Frozen):
    """A test on one property of an event, e.g. `revenue gt 50` or `platform in [ios, android]`."""

    property: str = Field(min_length=1)
    op: Op = "eq"
    value: Any = None

    def sql(self) -> exp.Expr:
        numeric = self.op in ("gt", "gte", "lt", "lte") or (
            self.op in ("eq", "neq")
            and isinstance(self.value, int | float)
            and not isinstance(self.value, bool)
        )
        left = property_expr(self.property, numeric=numeric)
        op = self.op
        if op == "is_set":
            return exp.Not(this=exp.Is(this=left, expression=exp.Null()))
        if op == "is_not_set":
            return exp.Is(this=left, expression=exp.Null())
        if op in ("in", "not_in"):
            values = self.value if isinstance(self.value, list | tuple) else [self.value]
            cond: exp.Expr = exp.In(this=left, expressions=[literal(str(v)) for v in values])
            return exp.Not(this=cond) if op == "not_in" else cond
        if op in ("contains", "not_contains"):
            cond = exp.func("contains", exp.Lower(this=left), literal(str(self.value).lower()))
            return exp.Not(this=cond) if op == "not_contains" else cond
        if op == "regex":
            return exp.RegexpLike(this=left, expression=literal(str(self.value)))
        right = literal(self.value if numeric else str(self.value))
        cls = {"eq": exp.EQ, "neq": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT,
               "lte": exp.LTE}[op]  # fmt: skip
        return cls(this=left, expression=right)


class EventMatch(Frozen):
    """An event definition: name (None for any), optional type and channel, and conditions."""

    event: str | None = None
    type: str | None = None
    channel: str | list[str] | None = None
    where: tuple[Condition, ...] = ()

    @field_validator("event")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be blank")
        return v

    def condition(self) -> exp.Expr:
        """The SQL condition an event row must meet."""
        parts: list[exp.Expr] = []
        if self.event is not None:
            parts.append(exp.EQ(this=exp.column("event"), expression=literal(self.event)))
        if self.type is not None:
            parts.append(exp.EQ(this=exp.column("type"), expression=literal(self.type)))
        if self.channel is not None:
            chans = [self.channel] if isinstance(self.channel, str) else list(self.channel)
            parts.append(
                exp.In(this=exp.column("channel"), expressions=[literal(c) for c in chans])
            )
        parts.extend(c.sql() for c in self.where)
        if not parts:
            return exp.true()
        return exp.and_(*parts)

    def sql(self) -> str:
        """The condition as DuckDB SQL text (for reading and for docs)."""
        return self.condition().sql("duckdb")

    def label(self) -> str:
        """A short human name for reports."""
        name = self.event or "any event"
        if self.channel:
            name += (
                f" ({self.channel if isinstance(self.channel, str) else '/'.join(self.channel)})"
            )
        if self.where:
            name += " where " + ", ".join(f"{c.property} {c.op} {c.value}" for c in self.where)
        return name


class TimeRange(Frozen):
    """Events with start <= timestamp < end (UTC); either end may be open."""

    start: datetime | None = None
    end: datetime | None = None

    def condition(self, column: str = "timestamp") -> exp.Expr:
        parts: list[exp.Expr] = []
        if self.start is not None:
            parts.append(exp.GTE(this=exp.column(column), expression=_ts(self.start)))
        if self.end is not None:
            parts.append(exp.LT(this=exp.column(column), expression=_ts(self.end)))
        return exp.and_(*parts) if parts else exp.true()


def _ts(value: datetime) -> exp.Expr:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))


def events_table() -> exp.Table:
    """The relation analyses read from."""
    return exp.to_table(EVENTS)
