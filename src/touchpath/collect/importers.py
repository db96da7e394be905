"""File imports: CSV, JSONL, Parquet and XES event logs into the event log, set-wise.

DuckDB reads the file into a scratch in-memory database (CSV as all-VARCHAR with its rejects
table, Parquet and JSONL directly, XES streamed through `xes.read_xes` into Arrow). One SQL
statement, built with SQLGlot so that the user's column names are quoted identifiers, maps the
columns onto event-log rows and gives every bad row its reason. The good rows go to the store in
chunks through `Store.append_events`, so the single writer is never held for long.

Every row has a line number (CSV: the record's line, the header being line 1; JSONL: the line;
Parquet: the row number + 1; XES: the event's position in the file) and a deterministic
messageId `imp:<file digest>:<line>`, so importing the same file again adds nothing.

>>> ImportMapping(person="CustomerID", event="=Order Line").event_columns()
[]
>>> ImportMapping(event="concept:name,lifecycle:transition").event_columns()
['concept:name', 'lifecycle:transition']
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlglot import exp

from touchpath import __version__
from touchpath.collect.xes import LINE, read_xes
from touchpath.errors import ImportFailed, NotFound, SpecError
from touchpath.events.channels import channel_case
from touchpath.store import Store, utcnow
from touchpath.store.ingest import normalise

__all__ = [
    "FORMATS",
    "BadRow",
    "ImportMapping",
    "ImportReport",
    "detect_format",
    "file_digest",
    "import_file",
    "source_name_for",
]

Format = Literal["csv", "jsonl", "parquet", "xes"]
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet", "xes")

_SUFFIXES: dict[str, Format] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
    ".xes": "xes",
}  # fmt: skip

DEFAULTS: dict[str, tuple[str, ...]] = {
    "person": ("case:concept:name", "userId", "user_id", "person_id", "person"),
    "anonymous_id": ("anonymousId", "anonymous_id"),
    "event": ("concept:name", "event", "event_name", "activity"),
    "time": ("time:timestamp", "timestamp", "time", "event_time", "ts"),
}
"""Columns tried, in order, when the mapping names none (pm4py and Segment-like names first)."""

_LINE = LINE
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


class BadRow(BaseModel):
    """One row that was not imported, with why; it is kept in the `rejected` table too."""

    line: int
    field: str
    reason: str
    row: Any = None


class ImportReport(BaseModel):
    """What became of every row of one imported file."""

    file: str
    format: str
    source: str
    source_id: str
    digest: str
    mapping: dict[str, Any]
    rows: int = Field(description="Rows read, good and bad.")
    imported: int = Field(description="New events written.")
    duplicates: int = Field(description="Good rows already in the log from an earlier import.")
    suppressed: int = Field(description="Good rows of suppressed users, dropped.")
    bad: int = Field(description="Rows not imported; all are in the `rejected` table.")
    bad_by_field: dict[str, int] = Field(default_factory=dict)
    bad_rows: list[BadRow] = Field(default_factory=list, description="The first bad rows.")
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


Progress = Callable[[int, int], None]
"""Called with (rows written so far, good rows in all) as chunks commit."""


def detect_format(path: Path) -> Format:
    """The format of a file from its name: `.csv(.gz)`, `.jsonl/.json(.gz)`, `.parquet`, `.xes(.gz)`.

    >>> detect_format(Path("bpic2012_events.csv.gz"))
    'csv'
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise ImportFailed(
        f"{path.name}: unknown file type; give a format (one of {', '.join(FORMATS)}) or name "
        "the file .csv, .jsonl, .parquet or .xes (optionally .gz)"
    )


def source_name_for(path: Path) -> str:
    """The default source of a file: `import:<name without its suffixes>`.

    >>> source_name_for(Path("data/online_retail.csv.gz"))
    'import:online_retail'
    """
    name = path.name
    for _ in range(3):
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem or ("." + ext.lower()) not in (*_SUFFIXES, ".gz", ".gzip"):
            break
        name = stem
    return f"import:{name}"


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes: the same content always gives the same messageIds."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------- SQL helpers
def _col(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def _str(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _sql(e: exp.Expr) -> str:
    return e.sql("duckdb")


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _blank_to_null(e: exp.Expr) -> exp.Expr:
    return exp.Nullif(this=exp.Trim(this=e), expression=_str(""))


@dataclass
class _Table:
    """The scratch table `src` of one file: its columns and how to read them as text/values."""

    columns: list[str]
    types: dict[str, str]
    jsonl: bool = False

    def text(self, name: str) -> exp.Expr:
        if self.jsonl:
            return _fn("json_extract_string", exp.column("j"), _str(_json_path(name)))
        if self.types[name] == "VARCHAR":
            return _col(name)
        return exp.cast(_col(name), "VARCHAR")

    def value(self, name: str, numeric: str | None) -> exp.Expr:
        if self.jsonl:
            return _fn("json_extract", exp.column("j"), _str(_json_path(name)))
        if numeric:
            return exp.TryCast(this=_col(name), to=exp.DataType.build(numeric))
        return _col(name)

    def payload(self, alias: str) -> exp.Expr:
        """The whole row of `src AS <alias>` as JSON text, for the rejected table."""
        if self.jsonl:
            return exp.column("raw", table=alias)
        pairs: list[exp.Expr] = []
        for c in self.columns:
            pairs += [_str(c), exp.column(exp.to_identifier(c, quoted=True), table=alias)]
        return exp.cast(_fn("json_object", *pairs), "VARCHAR")


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------------------- reading
def _open_text(path: Path) -> Any:
    if path.suffix.lower() in (".gz", ".gzip"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    read = _fn(
        "read_csv",
        _str(str(path)),
        exp.EQ(this=exp.column("all_varchar"), expression=exp.true()),
        exp.EQ(this=exp.column("header"), expression=exp.true()),
        exp.EQ(this=exp.column("store_rejects"), expression=exp.true()),
        exp.EQ(this=exp.column("rejects_table"), expression=_str("csv_rejects")),
        exp.EQ(this=exp.column("rejects_scan"), expression=_str("csv_scan")),
    )
    try:
        con.execute(f"CREATE TABLE raw AS SELECT * FROM {_sql(read)}")
    except duckdb.Error as exc:
        raise ImportFailed(f"{path.name}: not a readable CSV file: {exc}") from exc
    # DuckDB numbers rejected records as lines (header = 1). Good rows keep file order; the
    # line of the k-th good row is k + 1 + the rejected lines before it.
    con.execute(
        """
        CREATE TABLE bad_lines AS
        SELECT line::BIGINT AS line, any_value(error_type)::VARCHAR AS error_type,
               string_agg(DISTINCT error_message, '; ') AS message,
               any_value(csv_line) AS payload
        FROM csv_rejects GROUP BY line;
        CREATE TABLE bad_steps AS
        SELECT line - 2 - (row_number() OVER (ORDER BY line) - 1) AS good_before,
               row_number() OVER (ORDER BY line) AS n
        FROM bad_lines;
        """
    )
    if not con.execute("SELECT count(*) FROM bad_lines").fetchall()[0][0]:
        con.execute(f"CREATE VIEW src AS SELECT *, (rowid + 2)::BIGINT AS {_LINE} FROM raw")
        return
    con.execute(
        f"""
        CREATE TABLE src AS
        SELECT r.* EXCLUDE (k), (r.k + 1 + coalesce(b.n, 0))::BIGINT AS {_LINE}
        FROM (SELECT *, rowid + 1 AS k FROM raw) r
        ASOF LEFT JOIN (SELECT good_before, max(n) AS n FROM bad_steps GROUP BY good_before) b
            ON r.k > b.good_before;
        DROP TABLE raw;
        """
    )


def _load_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    read = _fn(
        "read_parquet",
        _str(str(path)),
        exp.EQ(this=exp.column("file_row_number"), expression=exp.true()),
    )
    try:
        con.execute(
            f"CREATE TABLE src AS SELECT * EXCLUDE (file_row_number), "
            f"(file_row_number + 1)::BIGINT AS {_LINE} FROM {_sql(read)}"
        )
    except duckdb.Error as exc:
        raise ImportFailed(f"{path.name}: not a readable Parquet file: {exc}") from exc


def _jsonl_lines(path: Path) -> pa.Table:
    """The non-blank lines of a JSONL file with their line numbers (whole-buffer splitting,
    numbering, trimming and filtering as Arrow array operations, not line by line)."""
    with _open_text(path) as f:
        data: bytes = f.read()
    lines = data.split(b"\n")
    try:
        text = pa.array(lines, pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:  # not UTF-8 somewhere: replace the bad bytes line by line
        text = pa.array([t.decode("utf-8", errors="replace") for t in lines], pa.string())
    text = pc.utf8_trim(text, characters=" \t\r\n\x0b\x0c")  # what bytes.strip() strips
    kept = pc.greater(pc.binary_length(text), 0)
    numbers = pa.array(np.arange(1, len(lines) + 1, dtype=np.int64))
    return pa.table({_LINE: numbers.filter(kept), "raw": text.filter(kept)})


def _load_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.register("jsonl_lines", _jsonl_lines(path))
    con.execute(
        f"""
        CREATE TABLE src AS
        SELECT {_LINE}, raw,
            CASE WHEN json_valid(raw) AND json_type(raw::JSON) = 'OBJECT' THEN raw::JSON END AS j
        FROM jsonl_lines ORDER BY {_LINE}
        """
    )
    con.unregister("jsonl_lines")


def _load_xes(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    batches = list(read_xes(path))
    if not batches:
        raise ImportFailed(f"{path.name}: the XES log has no events")
    table = pa.concat_tables(batches, promote_options="default")
    con.register("xes_rows", table)
    con.execute(f"CREATE TABLE src AS SELECT * FROM xes_rows ORDER BY {_LINE}")
    con.unregister("xes_rows")


def _is_segment(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the first JSON objects of a JSONL file look like Segment messages."""
    row = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (json_extract_string(j, '$.type')
            IN ('track', 'identify', 'page', 'screen', 'group', 'alias'))
        FROM (SELECT j FROM src WHERE j IS NOT NULL ORDER BY {_LINE} LIMIT 100)
        """
    ).fetchall()[0]
    return bool(row[0] and row[0] == row[1])


def _columns(con: duckdb.DuckDBPyConnection, jsonl: bool) -> _Table:
    if jsonl:
        keys = con.execute(
            f"SELECT k FROM (SELECT unnest(json_keys(j)) AS k, {_LINE} AS l FROM src "
            "WHERE j IS NOT NULL) GROUP BY k ORDER BY min(l), k"
        ).fetchall()
        names = [k for (k,) in keys]
        return _Table(names, dict.fromkeys(names, "JSON"), jsonl=True)
    desc = con.execute("DESCRIBE src").fetchall()
    types = {name: str(kind) for name, kind, *_ in desc if name != _LINE}
    return _Table(list(types), types)


# ------------------------------------------------------------------------------- mapping
@dataclass(frozen=True)
class _Resolved:
    person: str | None
    anonymous_id: str | None
    event: list[str]
    event_constant: str | None
    time: str
    channel: str | None
    channel_constant: str | None
    properties: list[str]


def _pick(role: str, given: str | None, table: _Table, name: str) -> str | None:
    if given is not None:
        if given not in table.types:
            raise ImportFailed(
                f"mapping.{role}: no column {given!r} in {name}; "
                f"available: {', '.join(table.columns) or '(none)'}"
            )
        return given
    return next((c for c in DEFAULTS.get(role, ()) if c in table.types), None)


def _resolve(m: ImportMapping, table: _Table, name: str) -> _Resolved:
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
    return _Resolved(person, anon, event_cols, event_const, time_col, chan_col, chan_const, props)


def _numeric_kinds(
    con: duckdb.DuckDBPyConnection, table: _Table, cols: list[str]
) -> dict[str, str]:
    """Text columns whose every value is a plain number become BIGINT or DOUBLE properties."""
    text_cols = [c for c in cols if not table.jsonl and table.types[c] == "VARCHAR"]
    if not text_cols:
        return {}
    parts: list[str] = []
    for c in text_cols:
        col = _col(c)
        for regex in (_INT_RE, _NUM_RE):
            test = exp.Or(
                this=exp.Is(this=col.copy(), expression=exp.Null()),
                expression=exp.RegexpLike(this=col.copy(), expression=_str(regex)),
            )
            parts.append(_sql(exp.func("bool_and", test)))
        parts.append(_sql(exp.func("count", col.copy())))
    row = con.execute(f"SELECT {', '.join(parts)} FROM src").fetchall()[0]
    kinds: dict[str, str] = {}
    for i, c in enumerate(text_cols):
        is_int, is_num, count = row[3 * i], row[3 * i + 1], row[3 * i + 2]
        if count and is_int:
            kinds[c] = "BIGINT"
        elif count and is_num:
            kinds[c] = "DOUBLE"
    return kinds


def _time_expr(table: _Table, col: str, m: ImportMapping) -> exp.Expr:
    """The event time as a naive UTC TIMESTAMP, or NULL when it cannot be parsed."""
    kind = "VARCHAR" if table.jsonl else table.types[col]
    utc = "UTC"
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return exp.AtTimeZone(this=_col(col), zone=_str(utc))
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        naive: exp.Expr = exp.cast(_col(col), "TIMESTAMP")
    else:
        text = _blank_to_null(table.text(col))
        if m.time_format:
            parsed: exp.Expr = _fn("try_strptime", text, _str(m.time_format))
            if "%z" in m.time_format or "%Z" in m.time_format:
                return exp.AtTimeZone(this=parsed, zone=_str(utc))
            naive = parsed
        else:
            # Text with an offset is converted; text without one is read in the session's
            # zone, which is UTC, or in the mapping's time_zone below.
            tz = exp.TryCast(this=text, to=exp.DataType.build("TIMESTAMPTZ"))
            if not m.time_zone:
                return exp.AtTimeZone(this=tz, zone=_str(utc))
            has_offset = exp.RegexpLike(this=text.copy(), expression=_str(r"(Z|[+-]\d\d:?\d\d)$"))
            local = exp.TryCast(this=text.copy(), to=exp.DataType.build("TIMESTAMP"))
            zoned = _fn("timezone", _str(m.time_zone), local)
            return exp.AtTimeZone(
                this=exp.If(this=has_offset, true=tz, false=zoned), zone=_str(utc)
            )
    if m.time_zone:
        return exp.AtTimeZone(this=_fn("timezone", _str(m.time_zone), naive), zone=_str(utc))
    return naive


def _mapped_sql(
    r: _Resolved, table: _Table, m: ImportMapping, digest: str, kinds: dict[str, str]
) -> str:
    """One SELECT over `src` giving event-log rows and, for bad rows, a field and a reason."""
    person = _blank_to_null(table.text(r.person)) if r.person else exp.Null()
    anon = _blank_to_null(table.text(r.anonymous_id)) if r.anonymous_id else exp.Null()
    if r.event_constant is not None:
        event: exp.Expr = _str(r.event_constant)
    elif len(r.event) == 1:
        event = _blank_to_null(table.text(r.event[0]))
    else:
        event = _blank_to_null(
            _fn("concat_ws", _str(" "), *[_blank_to_null(table.text(c)) for c in r.event])
        )
    if m.event_prefix:
        event = exp.DPipe(this=_str(m.event_prefix), expression=event, safe=True)
    pairs: list[exp.Expr] = []
    for p in r.properties:
        pairs += [_str(p), table.value(p, kinds.get(p))]
    # The channel rules read only these properties: their key comes from the columns
    # themselves, not by parsing each row's properties JSON again.
    key_pairs: list[exp.Expr] = []
    for p in ("channel", "referrer", "url"):
        key_pairs += [_str(p), table.value(p, kinds.get(p)) if p in r.properties else exp.Null()]
    channel_key = exp.cast(_fn("json_object", *key_pairs), "VARCHAR")
    props: exp.Expr = (
        _fn("json_merge_patch", exp.cast(_str("{}"), "JSON"), _fn("json_object", *pairs))
        if pairs
        else exp.cast(_str("{}"), "JSON")
    )
    if r.channel_constant is not None:
        channel: exp.Expr = _str(r.channel_constant)
    elif r.channel is not None:
        channel = exp.Lower(this=_blank_to_null(table.text(r.channel)))
    else:
        channel = exp.Null()
    time_text = table.text(r.time)
    mid = exp.DPipe(
        this=_str(f"imp:{digest[:24]}:"), expression=exp.cast(exp.column(_LINE), "VARCHAR")
    )
    who = " or ".join(repr(c) for c in (r.person, r.anonymous_id) if c)
    ev_where = ", ".join(repr(c) for c in r.event)
    fmt = f" with format {m.time_format!r}" if m.time_format else " as an ISO-8601 time"
    return f"""
    WITH b AS (
        SELECT {_LINE} AS line, {_sql(mid)} AS message_id,
            {_sql(person)} AS user_id, {_sql(anon)} AS anonymous_id,
            {_sql(event)} AS event, {_sql(time_text)} AS time_text,
            {_sql(_time_expr(table, r.time, m))} AS timestamp,
            {_sql(channel)} AS given_channel,
            {_sql(props)} AS properties, {_sql(_str(_CONTEXT))}::JSON AS context,
            {_sql(channel_key)} AS channel_key
        FROM src {"WHERE j IS NOT NULL" if table.jsonl else ""}
    ), channels AS (
        -- The rules read only the key's properties (and the constant context), so the channel
        -- is derived once per distinct key, not once per row.
        SELECT event, channel_key, {_sql(channel_case())} AS channel
        FROM (SELECT DISTINCT event, channel_key, channel_key::JSON AS properties,
                     {_sql(_str(_CONTEXT))}::JSON AS context
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
                  THEN {_sql(_str(f"person: missing ({who} is empty)"))}
             WHEN k.event IS NULL THEN {_sql(_str(f"event: missing ({ev_where} is empty)"))}
             WHEN time_text IS NULL OR trim(time_text) = ''
                  THEN {_sql(_str(f"time: missing ({r.time!r} is empty)"))}
             WHEN timestamp IS NULL
                  THEN 'time: cannot read ''' || time_text || '''' || {_sql(_str(fmt))} END
             AS reason,
        false AS repeat
    FROM b k LEFT JOIN channels c
        ON c.event IS NOT DISTINCT FROM k.event AND c.channel_key = k.channel_key
    """


def _map_segment(con: duckdb.DuckDBPyConnection, digest: str, source_id: str) -> None:
    """Segment-shaped JSONL: the collector's own checks and normalisation, set-wise."""
    table = con.sql(
        f"SELECT {_LINE}::BIGINT AS ord, raw::VARCHAR AS raw, ?::VARCHAR AS source, "
        "?::TIMESTAMP AS received_at, NULL::VARCHAR AS batch_sent_at, "
        f"NULL::VARCHAR AS route_type FROM src WHERE j IS NOT NULL ORDER BY {_LINE}",
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


# ------------------------------------------------------------------------------- writing
_CHUNK_COLS = (
    "message_id, type, event, anonymous_id, user_id, group_id, previous_id, timestamp, "
    "original_timestamp, sent_at, channel, context, properties, traits"
)


def _insert_chunk(
    con: duckdb.DuckDBPyConnection,
    first_seq: int,
    *,
    chunk: pa.Table,
    source_id: str,
    received_at: datetime,
    counts: dict[str, int],
) -> int:
    """In the writer: insert the rows of `chunk` not yet in the log, numbered from first_seq.

    `chunk` is in line order with `k` = 0, 1, ...; when none of its rows is in the log already
    and no user is suppressed (the usual first import), seq is `first_seq + k`: no window, no
    sort, no anti-join in the INSERT.
    """
    con.register("import_chunk", chunk)
    try:
        any_suppressed, any_present = con.execute(
            "SELECT EXISTS (SELECT 1 FROM suppressions), EXISTS (SELECT 1 FROM import_chunk c "
            "JOIN events e ON e.message_id = c.message_id WHERE e.source = ?)",
            [source_id],
        ).fetchall()[0]
        suppressed = 0
        if any_suppressed:
            (suppressed,) = con.execute(
                f"SELECT count(*) FROM import_chunk c WHERE {_SUPPRESSED}"
            ).fetchall()[0]
        if not any_suppressed and not any_present:
            sql = (
                f"INSERT INTO events (seq, source, received_at, {_CHUNK_COLS}) "
                f"SELECT {int(first_seq)} + k, ?, ?, {_CHUNK_COLS} FROM import_chunk"
            )
            params: list[Any] = [source_id, received_at]
        else:
            sql = f"""
            INSERT INTO events (seq, source, received_at, {_CHUNK_COLS})
            SELECT {int(first_seq)} + row_number() OVER (ORDER BY k) - 1, ?, ?, {_CHUNK_COLS}
            FROM import_chunk c
            WHERE NOT EXISTS (SELECT 1 FROM events e
                              WHERE e.source = ? AND e.message_id = c.message_id)
              AND NOT ({_SUPPRESSED})
            ORDER BY k
            """
            params = [source_id, received_at, source_id]
        (inserted,) = con.execute(sql, params).fetchall()[0]
    finally:
        con.unregister("import_chunk")
    counts["imported"] += int(inserted)
    counts["suppressed"] += int(suppressed)
    counts["duplicates"] += chunk.num_rows - int(inserted) - int(suppressed)
    return int(inserted)


_SUPPRESSED = (
    "EXISTS (SELECT 1 FROM suppressions x WHERE x.kind = 'user_id' AND x.value = c.user_id) "
    "OR EXISTS (SELECT 1 FROM suppressions x "
    "WHERE x.kind = 'anonymous_id' AND x.value = c.anonymous_id)"
)


def _insert_rejected(con: duckdb.DuckDBPyConnection, bad: pa.Table) -> None:
    con.register("import_bad", bad)
    try:
        con.execute(
            "INSERT INTO rejected SELECT b.received_at, b.source, b.message_id, 'track', "
            "b.reason, b.payload FROM import_bad b WHERE NOT EXISTS (SELECT 1 FROM rejected r "
            "WHERE r.source = b.source AND r.message_id = b.message_id)"
        )
    finally:
        con.unregister("import_bad")


def _chunks(reader: pa.RecordBatchReader, rows: int) -> Iterator[pa.Table]:
    """Tables of at least `rows` rows (the last may be smaller) numbered `k` = 0, 1, ..."""
    batches: list[pa.RecordBatch] = []
    size = 0
    for batch in itertools.chain(reader, [None]):
        if batch is not None:
            batches.append(batch)
            size += batch.num_rows
        if size and (size >= rows or batch is None):
            chunk = pa.Table.from_batches(batches)
            yield chunk.append_column("k", pa.array(range(chunk.num_rows), pa.int64()))
            batches, size = [], 0


def _source_id(store: Store, name: str) -> str:
    try:
        return store.source(name).id
    except NotFound:
        try:
            return store.create_source(name).id
        except SpecError:  # created meanwhile by another import
            return store.source(name).id


def import_file(
    store: Store,
    path: str | Path,
    mapping: ImportMapping | None = None,
    *,
    source: str | None = None,
    fmt: str | None = None,
    chunk_rows: int = 100_000,
    max_bad_rows: int = 1000,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one file into the event log and report every row that was not imported.

    `source` names the source (created if missing; default `import:<file stem>`); `fmt` is one
    of `FORMATS` (default: from the file name). `max_bad_rows` caps the bad rows listed in the
    report (0 lists all); every bad row is recorded in the `rejected` table either way.
    """
    started = time.perf_counter()
    path = Path(path)
    mapping = mapping or ImportMapping()
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    if fmt is not None and fmt not in FORMATS:
        raise ImportFailed(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    kind: Format = fmt if fmt is not None else detect_format(path)  # type: ignore[assignment]
    digest = file_digest(path)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        {"csv": _load_csv, "parquet": _load_parquet, "jsonl": _load_jsonl, "xes": _load_xes}[kind](
            con, path
        )
        name = path.name
        source_name = source or source_name_for(path)
        segment = kind == "jsonl" and _is_segment(con)
        resolved: dict[str, Any]
        if segment:
            if mapping != ImportMapping():
                raise ImportFailed(
                    f"{name}: the file holds Segment messages, which need no mapping; "
                    "drop the mapping options"
                )
            source_id = _source_id(store, source_name)
            _map_segment(con, digest, source_id)
            resolved = {"segment": True}
        else:
            table = _columns(con, kind == "jsonl")
            r = _resolve(mapping, table, name)
            kinds = _numeric_kinds(con, table, r.properties)
            sql = _mapped_sql(r, table, mapping, digest, kinds)
            try:
                con.execute(f"CREATE TABLE mapped AS {sql}")
            except duckdb.Error as exc:
                raise ImportFailed(f"{name}: the mapping cannot be applied: {exc}") from exc
            source_id = _source_id(store, source_name)
            resolved = {
                "person": r.person, "anonymous_id": r.anonymous_id,
                "event": f"={r.event_constant}" if r.event_constant is not None else ",".join(r.event),
                "time": r.time, "time_format": mapping.time_format,
                "time_zone": mapping.time_zone,
                "channel": f"={r.channel_constant}" if r.channel_constant else r.channel,
                "properties": r.properties, "event_prefix": mapping.event_prefix,
                "numeric_properties": kinds,
            }  # fmt: skip
        received_at = utcnow()
        bad_parts = [
            "SELECT line, field, reason, NULL AS payload_line, message_id FROM mapped "
            "WHERE reason IS NOT NULL"
        ]
        if kind == "csv":
            bad_parts.append(
                f"SELECT line, 'line', 'line: malformed CSV record (' || lower(error_type) || "
                f"'): ' || message, payload, 'imp:{digest[:24]}:' || line FROM bad_lines"
            )
        elif kind == "jsonl":
            bad_parts.append(
                f"SELECT {_LINE}, 'line', 'line: not a JSON object', raw, "
                f"'imp:{digest[:24]}:' || {_LINE} FROM src WHERE j IS NULL"
            )
        row_json = "s.raw" if kind == "jsonl" else _sql(table.payload("s"))
        con.execute(
            f"""
            CREATE TABLE bad AS
            SELECT b.line, b.field, b.reason, coalesce(b.payload_line, {row_json}) AS payload,
                b.message_id, ?::VARCHAR AS source, ?::TIMESTAMP AS received_at
            FROM ({" UNION ALL ".join(bad_parts)}) b LEFT JOIN src s ON s.{_LINE} = b.line
            ORDER BY b.line
            """,
            [source_id, received_at],
        )
        n_good, repeats = con.execute(
            "SELECT count(*) FILTER (NOT repeat), count(*) FILTER (repeat) "
            "FROM mapped WHERE reason IS NULL"
        ).fetchall()[0]
        (n_bad,) = con.execute("SELECT count(*) FROM bad").fetchall()[0]
        counts = {"imported": 0, "duplicates": int(repeats), "suppressed": 0}
        insert = partial(_insert_chunk, source_id=source_id, received_at=received_at, counts=counts)
        done = 0
        if progress:
            progress(0, int(n_good))
        pending: Future[int] | None = None
        good = con.sql(
            f"SELECT {_CHUNK_COLS}, line FROM mapped WHERE reason IS NULL AND NOT repeat "
            "ORDER BY line"
        ).to_arrow_reader(chunk_rows)
        for chunk in _chunks(good, chunk_rows):
            # The next chunk is read while the writer inserts this one.
            if pending is not None:
                pending.result()
                if progress:
                    progress(done, int(n_good))
            pending = store.append_events(partial(insert, chunk=chunk))
            done += chunk.num_rows
        if pending is not None:
            pending.result()
            if progress:
                progress(done, int(n_good))
        if n_bad:
            bad_tbl = con.sql(
                "SELECT received_at, source, message_id, reason, payload FROM bad"
            ).to_arrow_table()
            store.write_sync(partial(_insert_rejected, bad=bad_tbl))
        by_field = dict(
            con.execute("SELECT field, count(*) FROM bad GROUP BY field ORDER BY 2 DESC").fetchall()
        )
        limit = "" if max_bad_rows <= 0 else f"LIMIT {int(max_bad_rows)}"
        listed = [
            BadRow(line=line, field=field, reason=reason, row=_row(payload, kind))
            for line, field, reason, payload in con.execute(
                f"SELECT line, field, reason, payload FROM bad ORDER BY line {limit}"
            ).fetchall()
        ]
    finally:
        with suppress(duckdb.Error):
            con.close()
    return ImportReport(
        file=str(path),
        format="segment" if segment else kind,
        source=source_name,
        source_id=source_id,
        digest=digest,
        mapping=resolved,
        rows=int(n_good) + int(repeats) + int(n_bad),
        imported=counts["imported"],
        duplicates=counts["duplicates"],
        suppressed=counts["suppressed"],
        bad=int(n_bad),
        bad_by_field={str(k): int(v) for k, v in by_field.items()},
        bad_rows=listed,
        seconds=round(time.perf_counter() - started, 3),
    )


def _row(payload: str | None, kind: str) -> Any:
    if payload is None:
        return None
    with suppress(orjson.JSONDecodeError):
        return orjson.loads(payload)
    return payload
