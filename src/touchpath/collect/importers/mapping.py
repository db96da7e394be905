"""Mapping a file's columns onto event-log rows: which column is the person, the event, the
time, the channel and the properties (`ImportMapping`, with defaults from common names), and the
one SQL statement over the scratch table `src` that gives each row its event-log columns and,
for a bad row, the field and the reason. Segment-shaped JSONL needs no mapping: it goes through
the collector's own normalisation (`map_segment`).

>>> ImportMapping(person="CustomerID", event="=Order Line").event_columns()
[]
>>> ImportMapping(event="concept:name,lifecycle:transition").event_columns()
['concept:name', 'lifecycle:transition']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlglot import exp

from touchpath import __version__
from touchpath.collect.importers.formats import (
    LINE,
    ScratchTable,
    blank_to_null,
    fn,
    quoted,
    sql_text,
    string,
)
from touchpath.errors import ImportFailed
from touchpath.events.channels import channel_case
from touchpath.store import utcnow
from touchpath.store.ingest import normalise

__all__ = [
    "DEFAULTS",
    "ImportMapping",
    "Resolved",
    "map_segment",
    "mapped_sql",
    "numeric_kinds",
    "resolve",
]

DEFAULTS: dict[str, tuple[str, ...]] = {
    "person": ("case:concept:name", "userId", "user_id", "person_id", "person"),
    "anonymous_id": ("anonymousId", "anonymous_id"),
    "event": ("concept:name", "event", "event_name", "activity"),
    "time": ("time:timestamp", "timestamp", "time", "event_time", "ts"),
}

_INT_RE = r"^-?(0|[1-9][0-9]{0,17})$"
_NUM_RE = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
_CONTEXT = orjson.dumps({"library": {"name": "touchpath-import", "version": __version__}}).decode()


class ImportMapping(BaseModel):
    """Which columns of a file become which fields of an event.

    A value starting with `=` is a constant (`event="=Order Completed"`, `channel="=store"`);
    `event` may name several columns separated by commas, joined with a space.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    person: str | None = Field(default=None, description="Column of the user id.")
    anonymous_id: str | None = Field(default=None, description="Column of an anonymous id.")
    event: str | None = Field(default=None, description="Event column(s) or =constant.")
    time: str | None = Field(default=None, description="Column of the event time.")
    time_format: str | None = Field(
        default=None, description="strptime format of the time, e.g. '%m/%d/%Y %H:%M'."
    )
    time_zone: str | None = Field(
        default=None, description="Zone of times without an offset (default UTC)."
    )
    channel: str | None = Field(default=None, description="Channel column or =constant.")
    properties: tuple[str, ...] | None = Field(
        default=None, description="Columns kept as properties (default: all unmapped)."
    )
    event_prefix: str = Field(default="", description="Text put before every event name.")

    @field_validator("properties", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(p.strip() for p in v.split(",") if p.strip())
        return v

    def event_columns(self) -> list[str]:
        """The columns the event name comes from (none for a constant)."""
        if self.event is None or self.event.startswith("="):
            return []
        return [c.strip() for c in self.event.split(",") if c.strip()]


# ------------------------------------------------------------------------------- columns
@dataclass(frozen=True)
class Resolved:
    person: str | None
    anonymous_id: str | None
    event: list[str]
    event_constant: str | None
    time: str
    channel: str | None
    channel_constant: str | None
    properties: list[str]


def _pick(role: str, given: str | None, table: ScratchTable, name: str) -> str | None:
    if given is not None:
        if given not in table.types:
            raise ImportFailed(
                f"mapping.{role}: no column {given!r} in {name}; "
                f"available: {', '.join(table.columns) or '(none)'}"
            )
        return given
    return next((c for c in DEFAULTS.get(role, ()) if c in table.types), None)


def resolve(m: ImportMapping, table: ScratchTable, name: str) -> Resolved:
    person = _pick("person", m.person, table, name)
    anon = _pick("anonymous_id", m.anonymous_id, table, name)
    if person is None and anon is None:
        raise ImportFailed(
            f"mapping.person: none given and none of {', '.join(DEFAULTS['person'])} in "
            f"{name}; available: {', '.join(table.columns)}"
        )
    event_const = m.event[1:] if m.event and m.event.startswith("=") else None
    event_cols = [_pick("event", c, table, name) or c for c in m.event_columns()]
    if not event_cols and event_const is None:
        found = _pick("event", None, table, name)
        if found is None:
            raise ImportFailed(
                f"mapping.event: none given and none of {', '.join(DEFAULTS['event'])} in "
                f"{name}; available: {', '.join(table.columns)}"
            )
        event_cols = [found]
    time_col = _pick("time", m.time, table, name)
    if time_col is None:
        raise ImportFailed(
            f"mapping.time: none given and none of {', '.join(DEFAULTS['time'])} in "
            f"{name}; available: {', '.join(table.columns)}"
        )
    chan_const = m.channel[1:] if m.channel and m.channel.startswith("=") else None
    chan_col = _pick("channel", m.channel, table, name) if m.channel and not chan_const else None
    mapped = {person, anon, time_col, chan_col, *event_cols} - {None}
    if m.properties is not None:
        props = [_pick("properties", p, table, name) or p for p in m.properties]
    else:
        props = [c for c in table.columns if c not in mapped]
    return Resolved(person, anon, event_cols, event_const, time_col, chan_col, chan_const, props)


def numeric_kinds(
    con: duckdb.DuckDBPyConnection, table: ScratchTable, cols: list[str]
) -> dict[str, str]:
    """Text columns whose every value is a plain number become BIGINT or DOUBLE properties."""
    text_cols = [c for c in cols if not table.jsonl and table.types[c] == "VARCHAR"]
    if not text_cols:
        return {}
    parts: list[str] = []
    for c in text_cols:
        col = quoted(c)
        for regex in (_INT_RE, _NUM_RE):
            test = exp.Or(
                this=exp.Is(this=col.copy(), expression=exp.Null()),
                expression=exp.RegexpLike(this=col.copy(), expression=string(regex)),
            )
            parts.append(sql_text(exp.func("bool_and", test)))
        parts.append(sql_text(exp.func("count", col.copy())))
    row = con.execute(f"SELECT {', '.join(parts)} FROM src").fetchall()[0]
    kinds: dict[str, str] = {}
    for i, c in enumerate(text_cols):
        is_int, is_num, count = row[3 * i], row[3 * i + 1], row[3 * i + 2]
        if count and is_int:
            kinds[c] = "BIGINT"
        elif count and is_num:
            kinds[c] = "DOUBLE"
    return kinds


def _time_expr(table: ScratchTable, col: str, m: ImportMapping) -> exp.Expr:
    """The event time as a naive UTC TIMESTAMP, or NULL when it cannot be parsed."""
    kind = "VARCHAR" if table.jsonl else table.types[col]
    utc = "UTC"
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return exp.AtTimeZone(this=quoted(col), zone=string(utc))
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        naive: exp.Expr = exp.cast(quoted(col), "TIMESTAMP")
    else:
        text = blank_to_null(table.text(col))
        if m.time_format:
            parsed: exp.Expr = fn("try_strptime", text, string(m.time_format))
            if "%z" in m.time_format or "%Z" in m.time_format:
                return exp.AtTimeZone(this=parsed, zone=string(utc))
            naive = parsed
        else:
            # Text with an offset is converted; text without one is read in the session's
            # zone, which is UTC, or in the mapping's time_zone below.
            tz = exp.TryCast(this=text, to=exp.DataType.build("TIMESTAMPTZ"))
            if not m.time_zone:
                return exp.AtTimeZone(this=tz, zone=string(utc))
            has_offset = exp.RegexpLike(this=text.copy(), expression=string(r"(Z|[+-]\d\d:?\d\d)$"))
            local = exp.TryCast(this=text.copy(), to=exp.DataType.build("TIMESTAMP"))
            zoned = fn("timezone", string(m.time_zone), local)
            return exp.AtTimeZone(
                this=exp.If(this=has_offset, true=tz, false=zoned), zone=string(utc)
            )
    if m.time_zone:
        return exp.AtTimeZone(this=fn("timezone", string(m.time_zone), naive), zone=string(utc))
    return naive


def mapped_sql(
    r: Resolved, table: ScratchTable, m: ImportMapping, digest: str, kinds: dict[str, str]
) -> str:
    """One SELECT over `src` giving event-log rows and, for bad rows, a field and a reason."""
    person = blank_to_null(table.text(r.person)) if r.person else exp.Null()
    anon = blank_to_null(table.text(r.anonymous_id)) if r.anonymous_id else exp.Null()
    if r.event_constant is not None:
        event: exp.Expr = string(r.event_constant)
    elif len(r.event) == 1:
        event = blank_to_null(table.text(r.event[0]))
    else:
        event = blank_to_null(
            fn("concat_ws", string(" "), *[blank_to_null(table.text(c)) for c in r.event])
        )
    if m.event_prefix:
        event = exp.DPipe(this=string(m.event_prefix), expression=event, safe=True)
    pairs: list[exp.Expr] = []
    for p in r.properties:
        pairs += [string(p), table.value(p, kinds.get(p))]
    # The channel rules read only these properties: their key comes from the columns
    # themselves, not by parsing each row's properties JSON again.
    key_pairs: list[exp.Expr] = []
    for p in ("channel", "referrer", "url"):
        key_pairs += [string(p), table.value(p, kinds.get(p)) if p in r.properties else exp.Null()]
    channel_key = exp.cast(fn("json_object", *key_pairs), "VARCHAR")
    props: exp.Expr = (
        fn("json_merge_patch", exp.cast(string("{}"), "JSON"), fn("json_object", *pairs))
        if pairs
        else exp.cast(string("{}"), "JSON")
    )
    if r.channel_constant is not None:
        channel: exp.Expr = string(r.channel_constant)
    elif r.channel is not None:
        channel = exp.Lower(this=blank_to_null(table.text(r.channel)))
    else:
        channel = exp.Null()
    time_text = table.text(r.time)
    mid = exp.DPipe(
        this=string(f"imp:{digest[:24]}:"), expression=exp.cast(exp.column(LINE), "VARCHAR")
    )
    who = " or ".join(repr(c) for c in (r.person, r.anonymous_id) if c)
    ev_where = ", ".join(repr(c) for c in r.event)
    fmt = f" with format {m.time_format!r}" if m.time_format else " as an ISO-8601 time"
    return f"""
    WITH b AS (
        SELECT {LINE} AS line, {sql_text(mid)} AS message_id,
            {sql_text(person)} AS user_id, {sql_text(anon)} AS anonymous_id,
            {sql_text(event)} AS event, {sql_text(time_text)} AS time_text,
            {sql_text(_time_expr(table, r.time, m))} AS timestamp,
            {sql_text(channel)} AS given_channel,
            {sql_text(props)} AS properties, {sql_text(string(_CONTEXT))}::JSON AS context,
            {sql_text(channel_key)} AS channel_key
        FROM src {"WHERE j IS NOT NULL" if table.jsonl else ""}
    ), channels AS (
        -- The rules read only the key's properties (and the constant context), so the channel
        -- is derived once per distinct key, not once per row.
        SELECT event, channel_key, {sql_text(channel_case())} AS channel
        FROM (SELECT DISTINCT event, channel_key, channel_key::JSON AS properties,
                     {sql_text(string(_CONTEXT))}::JSON AS context
              FROM b WHERE given_channel IS NULL)
    )
    SELECT line, message_id, 'track' AS type, k.event, anonymous_id, user_id,
        NULL::VARCHAR AS group_id, NULL::VARCHAR AS previous_id, timestamp,
        timestamp AS original_timestamp, NULL::TIMESTAMP AS sent_at,
        coalesce(given_channel, c.channel) AS channel, context, properties, NULL::JSON AS traits,
        CASE WHEN user_id IS NULL AND anonymous_id IS NULL THEN 'person'
             WHEN k.event IS NULL THEN 'event'
             WHEN timestamp IS NULL THEN 'time' END AS field,
        CASE WHEN user_id IS NULL AND anonymous_id IS NULL
                  THEN {sql_text(string(f"person: missing ({who} is empty)"))}
             WHEN k.event IS NULL THEN {sql_text(string(f"event: missing ({ev_where} is empty)"))}
             WHEN time_text IS NULL OR trim(time_text) = ''
                  THEN {sql_text(string(f"time: missing ({r.time!r} is empty)"))}
             WHEN timestamp IS NULL
                  THEN 'time: cannot read ''' || time_text || '''' || {sql_text(string(fmt))} END
             AS reason,
        false AS repeat
    FROM b k LEFT JOIN channels c
        ON c.event IS NOT DISTINCT FROM k.event AND c.channel_key = k.channel_key
    """


def map_segment(con: duckdb.DuckDBPyConnection, digest: str, source_id: str) -> None:
    """Segment-shaped JSONL: the collector's own checks and normalisation, set-wise."""
    table = con.sql(
        f"SELECT {LINE}::BIGINT AS ord, raw::VARCHAR AS raw, ?::VARCHAR AS source, "
        "?::TIMESTAMP AS received_at, NULL::VARCHAR AS batch_sent_at, "
        f"NULL::VARCHAR AS route_type FROM src WHERE j IS NOT NULL ORDER BY {LINE}",
        params=[source_id, utcnow()],
    ).to_arrow_table()
    con.register("n", normalise(con, table))
    try:
        con.execute(
            f"""
            CREATE TABLE mapped AS
            SELECT n.ord AS line,
                CASE WHEN n.given_id THEN n.message_id ELSE 'imp:{digest[:24]}:' || n.ord END
                    AS message_id,
                n.type, n.event, n.anonymous_id, n.user_id, n.group_id, n.previous_id,
                n.timestamp, n.original_timestamp, n.sent_at, n.channel, n.context,
                n.properties, n.traits,
                CASE WHEN n.reason IS NOT NULL THEN split_part(n.reason, ':', 1) END AS field,
                n.reason,
                -- a messageId seen earlier in the same file is a duplicate, as the collector has
                n.reason IS NULL AND row_number() OVER (
                    PARTITION BY n.message_id, n.reason IS NULL ORDER BY n.ord) > 1 AS repeat
            FROM n
            """
        )
    finally:
        con.unregister("n")
