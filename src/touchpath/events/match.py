"""The shared vocabulary of matching: event definitions, property conditions, time ranges.

Every area (analytics, profiles, maps, journeys, destinations, personalisation) matches events
with these; they live here, at the bottom of the import flow, so no import runs upward.

User values enter SQL only as SQLGlot literals, never pasted into strings.

>>> print(EventMatch(event="Order Completed", where=[Condition(property="revenue", op="gt", value=50)]).sql())
event = 'Order Completed' AND TRY_CAST(JSON_EXTRACT_STRING(properties, '$."revenue"') AS DOUBLE) > 50
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlglot import exp

from touchpath.events.names import INTERNAL_SOURCE, PERSON_MESSAGE_EVENTS

__all__ = [
    "EVENTS",
    "JOURNEY_TYPES",
    "OPS",
    "Condition",
    "EventMatch",
    "Frozen",
    "Op",
    "TimeRange",
    "compare",
    "events_table",
    "journey_types",
    "literal",
    "own_touchpoints",
    "property_expr",
]

EVENTS = "resolved_events"
"""The relation analyses read: the event log with a resolved `profile_id`."""

JOURNEY_TYPES = ("track", "page", "screen")
"""Message types that are steps of a journey (identify, alias and group calls are not)."""


class Frozen(BaseModel):
    """Base of every spec: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


Op = Literal[
    "eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in",
    "contains", "not_contains", "regex", "is_set", "is_not_set",
]  # fmt: skip
"""The one operator list of conditions on events, traits and computed traits."""
OPS: tuple[str, ...] = get_args(Op)

_COLUMNS = {"event", "type", "channel", "source", "user_id", "anonymous_id", "group_id"}
_NOT_NULL = {"type", "channel", "source"}
"""Columns of the event log that always have a value (no NULL rule needed on them)."""
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


def _number(value: Any) -> int | float | None:
    """`value` as a number when it is one (or numeric text), else None; booleans are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _text(value: Any) -> exp.Expr:
    """A user value as the text JSON values are compared as (`true`, not `True`)."""
    if isinstance(value, bool):
        return literal("true" if value else "false")
    return literal(str(value))


_COMPARE = {"eq": exp.EQ, "neq": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT,
            "lte": exp.LTE}  # fmt: skip
_ORDER = ("gt", "gte", "lt", "lte")


def compare(value: exp.Expr, op: Op, operand: Any, default: Any = None) -> exp.Expr:
    """The one condition compiler: `value op operand` for events, traits and computed traits.

    The NULL rule: a missing value (NULL) meets no positive test and every negated one, so
    `eq`, `gt`.., `in`, `contains` and `regex` are false for it and `neq`, `not_in` and
    `not_contains` true (a profile without a coupon is one whose coupon is not `X`). Numbers
    compare as numbers: `eq`/`neq` when the operand is a number, the order tests also when it
    is numeric text; other values compare as text (booleans as `true`/`false`, as JSON writes
    them). `default` stands in for a missing value in numeric tests (0 for a count of nothing).

    >>> print(compare(exp.column("plan"), "neq", "pro").sql("duckdb"))
    COALESCE(plan <> 'pro', TRUE)
    >>> print(compare(exp.column("n"), "gte", 2, default=0).sql("duckdb"))
    COALESCE(TRY_CAST(n AS DOUBLE), 0) >= 2
    """
    if op == "is_set":
        return exp.Not(this=exp.Is(this=value, expression=exp.Null()))
    if op == "is_not_set":
        return exp.Is(this=value, expression=exp.Null())
    number = _number(operand)
    numeric = number is not None and (op in _ORDER or not isinstance(operand, str))
    if op in _COMPARE and numeric:
        value = exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
    if default is not None and numeric:
        value = exp.func("coalesce", value, literal(default))
    cond: exp.Expr
    if op in ("in", "not_in"):
        values = operand if isinstance(operand, list | tuple) else [operand]
        cond = exp.In(this=value, expressions=[_text(v) for v in values])
    elif op in ("contains", "not_contains"):
        cond = exp.func("contains", exp.Lower(this=value), literal(str(operand).lower()))
    elif op == "regex":
        cond = exp.RegexpLike(this=value, expression=literal(str(operand)))
    else:
        right = literal(number) if numeric else _text(operand)
        positive = "eq" if op == "neq" else op
        cond = _COMPARE[positive](this=value, expression=right)
        if op != "neq":
            return cond
        cond = exp.NEQ(this=value, expression=right)
        return exp.func("coalesce", cond, exp.true()) if _nullable(value) else cond
    if op.startswith("not_"):
        return exp.Not(this=exp.func("coalesce", cond, exp.false()) if _nullable(value) else cond)
    return cond


def _nullable(value: exp.Expr) -> bool:
    return not (isinstance(value, exp.Column) and value.name in _NOT_NULL)


class Condition(Frozen):
    """A test on one property of an event, e.g. `revenue gt 50` or `platform in [ios, android]`;
    compiled by `compare`."""

    property: str = Field(min_length=1)
    op: Op = "eq"
    value: Any = None

    def sql(self) -> exp.Expr:
        return compare(property_expr(self.property), self.op, self.value)


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


def journey_types() -> exp.Expr:
    """`type IN ('track', 'page', 'screen')`: the rows that are steps of a journey."""
    return exp.In(this=exp.column("type"), expressions=[literal(t) for t in JOURNEY_TYPES])


def own_touchpoints() -> exp.Expr:
    """The rows a person did themselves: every event but those Touchpath writes about them
    (sources `touchpath.<area>`: audience changes, journey steps, exposures, sends), keeping
    the message events that are the person's own act (an open, a click, an unsubscribe). "Last
    seen" and where people came from read these, so a journey or an audience refresh that
    touches everyone does not make everyone "seen today" through channel `direct`.

    >>> own_touchpoints().sql("duckdb")
    "(NOT STARTS_WITH(source, 'touchpath.') OR event IN ('Message Opened', 'Message Clicked', 'Unsubscribed'))"
    """
    internal = exp.func("starts_with", exp.column("source"), literal(f"{INTERNAL_SOURCE}."))
    acts = exp.In(this=exp.column("event"), expressions=[literal(e) for e in PERSON_MESSAGE_EVENTS])
    return exp.paren(exp.or_(exp.not_(internal), acts))


def events_table() -> exp.Table:
    """The relation analyses read from."""
    return exp.to_table(EVENTS)
