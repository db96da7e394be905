"""Set-wise checking and normalisation of raw messages into event-log rows, in one SQL statement.

`NORMALISE_SQL` reads the raw messages of a group of requests from a table named `staged` with
columns (ord, raw, source, received_at, batch_sent_at, route_type) (`staged_table` builds it;
the writer's `Normaliser` keeps the statement parsed over that name): the verdict of
`touchpath.events.message.check_message`, messageId assignment, field extraction and timestamp
correction all happen in DuckDB, vectorised and outside Python's GIL, not message by message in
Python. The statement extracts the fields the channel rules test; `Channels` gives the channel
from them, running the rules only over the tuples of those fields it has not seen before.

Each message's JSON is parsed twice in all: once for every text value the columns and the
channel rules need (one list-valued `json_extract_string`), once for the JSON objects and the
JSON text of the id fields, which tells their type (one list-valued `json_extract`). Extracting path by path would parse the message once per path (about 40 times).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache

import duckdb
import msgspec
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from touchpath.events.channels import FIELDS, channel_case, field_expr
from touchpath.events.message import MESSAGE_TYPES, Staged, check_message, decode_head
from touchpath.store.outcomes import Appended

__all__ = [
    "CHANNEL_KEY",
    "EVENT_COLUMNS",
    "MAX_FUTURE",
    "NORMALISE_SQL",
    "TYPED_COLUMNS",
    "Channels",
    "Normaliser",
    "append",
    "insert_events_sql",
    "name_reasons",
    "normalise",
    "split_normalised",
    "staged_table",
]

MAX_FUTURE = timedelta(hours=24)
"""How far after its receipt an event's corrected time may lie (TOUCHPATH_MAX_FUTURE_HOURS)."""

EVENT_COLUMNS = (
    "seq", "message_id", "source", "type", "event", "anonymous_id", "user_id", "group_id",
    "previous_id", "timestamp", "original_timestamp", "sent_at", "received_at", "channel",
    "context", "properties", "traits",
)  # fmt: skip

_UTC = "AT TIME ZONE 'UTC'"

# Paths read as text from the raw message (the channel rules add theirs).
_TEXT = ["$.type", "$.event", "$.name", "$.anonymousId", "$.userId", "$.groupId", "$.previousId",
         "$.messageId", "$.originalTimestamp", "$.timestamp", "$.sentAt"]  # fmt: skip
# Paths read as JSON: the objects the log keeps, and the fields whose JSON type is checked.
_CHECKED = ["userId", "anonymousId", "event", "messageId", "groupId", "previousId"]
_JSON = ["$.context", "$.properties", "$.traits", "$.context.traits"] + [
    f"$.{name}" for name in _CHECKED
]


def _field_sql(name: str, text: list[str]) -> str:
    """A channel field's SQL, its JSON look-ups on context/properties turned into extracted ones."""

    def swap(node: exp.Expr) -> exp.Expr:
        if (
            isinstance(node, exp.JSONExtractScalar)
            and isinstance(node.this, exp.Column)
            and node.this.name in ("context", "properties")
        ):
            path = node.expression.sql("duckdb").strip("'")
            full = f"$.{node.this.name}{path[1:]}"
            if full not in text:
                text.append(full)
            return sqlglot.parse_one(f"t[{text.index(full) + 1}]", read="duckdb")
        if isinstance(node, exp.JSONExtract):
            raise ValueError(f"channel field {name}: must read text values, not JSON")
        return node

    return field_expr(name).transform(swap).sql("duckdb")


def _not_null(value: str) -> str:
    """A JSON value, or SQL NULL for a JSON null (kept as JSON: no re-parse)."""
    return f"CASE WHEN {value}::VARCHAR <> 'null' THEN {value} END"


# A number JSON cannot hold as a double (an exponent of 309 or more, 309+ digits) or the NaN and
# Infinity DuckDB's reader lets through: RE2 over the raw text flags candidates (a hex string
# such as "4e400a" is one too), which Python's strict parser then confirms (`_door`).
_ODD_NUMBER = (
    r"[0-9.][eE]\+?0*([3][1-9][0-9]|309|[4-9][0-9][0-9]|[0-9]{4,})|NaN|Infinity|[0-9]{309}"
)
# The corrected time is computed from times clamped to these years, so no message can overflow
# the arithmetic (and fail its whole group); the times out of range are refused (`_door`).
_CLAMP = ("TIMESTAMP '1000-01-01'", "TIMESTAMP '3000-01-01'")


def _clamp(column: str) -> str:
    return f"least(greatest({column}, {_CLAMP[0]}), {_CLAMP[1]})"


def _key_column(name: str) -> str:
    return "event" if name == "event" else f"f_{name}"


CHANNEL_KEY = tuple(_key_column(name) for name in FIELDS)
"""The columns of `NORMALISE_SQL` the channel depends on: each field of `FIELDS`, as `f_<name>`
(`event` as itself)."""


def _normalise_sql() -> str:
    text = list(_TEXT)
    # Each field the channel rules test is computed once per message, as a column `f_<name>`.
    fields = {name: _field_sql(name, text) for name in FIELDS if name != "event"}
    field_cols = ",\n        ".join(f"{sql} AS f_{name}" for name, sql in fields.items())
    field_names = ", ".join(f"f_{name}" for name in fields)

    def t(path: str) -> str:
        return f"t[{text.index(path) + 1}]"

    def j(path: str) -> str:
        return f"j[{_JSON.index(path) + 1}]"

    def present(path: str) -> str:
        return f"coalesce({t(path)}, '') <> ''"

    text_list = ", ".join(f"'{p}'" for p in text)
    json_list = ", ".join(f"'{p}'" for p in _JSON)
    types = ", ".join(f"'{k}'" for k in sorted(MESSAGE_TYPES))
    # Whether every checked field is absent, null, a string or an integer: none of their JSON
    # texts, joined by \x01 (which JSON text never holds unescaped), starts like an object, an
    # array, a boolean or a float. One test, not one per field: each expression in the
    # statement adds a fixed cost to every commit.
    joined = f"concat_ws(chr(1), {', '.join(j(f'$.{name}') for name in _CHECKED)})"
    plain = f"NOT regexp_matches({joined}, '(^|\\x01)([\\[{{tf]|-?[0-9]+[.eE])')"
    # `ok` is check_message's verdict, computed without naming the reason: DuckDB evaluates
    # every branch of a CASE over every row, so the reasons of the (few) failed messages are
    # named in Python afterwards (`name_reasons`).
    return f"""
WITH s AS (
    SELECT ord, source, received_at, batch_sent_at, route_type,
        starts_with(ltrim(raw), '{{') AS is_object,
        regexp_matches(raw, '{_ODD_NUMBER}') AS odd_number,
        json_extract_string(raw, [{text_list}]) AS t,
        json_extract(raw, [{json_list}]) AS j
    FROM staged
), x AS (
    SELECT ord, source, received_at, t, odd_number,
        coalesce(route_type, {t("$.type")}) AS type,
        is_object AND {plain} AND (route_type IS NOT NULL OR {t("$.type")} IN ({types}))
                  AND ({present("$.userId")} OR {present("$.anonymousId")})
                  AND CASE coalesce(route_type, {t("$.type")})
                      WHEN 'track' THEN {present("$.event")}
                      WHEN 'group' THEN {present("$.groupId")}
                      WHEN 'alias' THEN {present("$.previousId")} ELSE true END AS ok,
        {present("$.messageId")} AS given_id,
        coalesce(nullif({t("$.messageId")}, ''), gen_random_uuid()::VARCHAR) AS message_id,
        nullif({t("$.anonymousId")}, '') AS anonymous_id,
        nullif({t("$.userId")}, '') AS user_id,
        nullif({t("$.groupId")}, '') AS group_id,
        nullif({t("$.previousId")}, '') AS previous_id,
        coalesce({t("$.originalTimestamp")}, {t("$.timestamp")}) AS ts_text,
        coalesce({t("$.sentAt")}, batch_sent_at) AS sent_text,
        coalesce({_not_null(j("$.context"))}, '{{}}'::JSON) AS context,
        {_not_null(j("$.properties"))} AS properties,
        coalesce({_not_null(j("$.traits"))}, {_not_null(j("$.context.traits"))}) AS traits
    FROM s
), y AS (
    SELECT *,
        CASE WHEN type = 'track' THEN {t("$.event")}
             WHEN type IN ('page', 'screen') THEN {t("$.name")} END AS event,
        try_cast(ts_text AS TIMESTAMPTZ) {_UTC} AS original_timestamp,
        try_cast(sent_text AS TIMESTAMPTZ) {_UTC} AS sent_at,
        {field_cols}
    FROM x
)
SELECT ord, hash(source, message_id) AS h, given_id, message_id, source, type, event, anonymous_id,
    user_id, group_id, previous_id,
    CASE WHEN sent_at IS NOT NULL AND original_timestamp IS NOT NULL
              THEN received_at - ({_clamp("sent_at")} - {_clamp("original_timestamp")})
         WHEN original_timestamp IS NOT NULL THEN original_timestamp
         ELSE received_at END AS timestamp,
    original_timestamp, sent_at, received_at, {field_names},
    context, properties, traits, odd_number,
    coalesce(ok AND (ts_text IS NULL OR original_timestamp IS NOT NULL)
             AND (sent_text IS NULL OR sent_at IS NOT NULL), false) AS valid
FROM y
"""


NORMALISE_SQL = _normalise_sql()
"""SELECT over `staged` giving one event-log row per message but its channel, plus `ord`, `valid`,
`given_id` (false when the messageId was assigned), `h`, the hash of (source, message_id) the
duplicate check uses, and the channel fields (`CHANNEL_KEY`). `normalise` runs it, derives the
channel and names reasons."""


class Channels:
    """Each row's channel by the rule table, computed once per distinct tuple of the fields the
    rules test (`CHANNEL_KEY`) and remembered.

    Those tuples are few (hundreds in a whole store), while the rules' CASE has ~100 expressions,
    each a fixed cost of DuckDB's binding and planning in every statement that holds it, plus
    ~1.5 us per message: it runs only over the tuples not seen before. The rules are compiled
    when the memo is made, so a memo never outlives the rules it holds the answers of; past
    `limit` tuples it starts afresh, so odd input cannot grow it without bound.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        case = channel_case(lambda name: exp.column(_key_column(name))).sql("duckdb")
        self.sql = f"SELECT k, {case} AS channel FROM _channel_keys ORDER BY k"
        self._memo: dict[tuple[object, ...], str] = {}

    def __len__(self) -> int:
        return len(self._memo)

    def __call__(self, con: duckdb.DuckDBPyConnection, rows: pa.Table) -> pa.Array:
        """The channel of each row of `rows` (which has the `CHANNEL_KEY` columns)."""
        keys = rows.select(list(CHANNEL_KEY))
        if keys.num_rows == 0:
            return pa.array([], pa.string())
        _, first, inverse = np.unique(_row_ids(keys), return_index=True, return_inverse=True)
        distinct = keys.take(first)
        tuples = list(zip(*(column.to_pylist() for column in distinct.columns), strict=True))
        channels = [self._memo.get(t) for t in tuples]
        missing = [i for i, channel in enumerate(channels) if channel is None]
        if missing:
            found = self._derive(con, distinct.take(missing))
            if len(self._memo) + len(missing) > self.limit:
                self._memo.clear()
            for i, channel in zip(missing, found, strict=True):
                channels[i] = channel
                if len(self._memo) < self.limit:
                    self._memo[tuples[i]] = channel
        return pa.array(channels, pa.string()).take(pa.array(inverse))

    def _derive(self, con: duckdb.DuckDBPyConnection, keys: pa.Table) -> list[str]:
        """The rules' CASE over `keys`, one row per tuple."""
        table = keys.append_column("k", pa.array(np.arange(keys.num_rows, dtype=np.int64)))
        con.register("_channel_keys", table)
        try:
            return [channel for _, channel in con.execute(self.sql).fetchall()]
        finally:
            con.unregister("_channel_keys")


def _row_ids(table: pa.Table) -> np.ndarray:
    """A number for each row of `table`, the same for equal rows (NULL equals NULL).

    Each column's values are numbered (`dictionary_encode`) and the numbers combined in one
    int64 per row, renumbered densely before the product could overflow: whole-array work,
    where `np.unique(axis=0)` over the rows of numbers took ~3 ms per 2,000 rows.
    """
    ids = np.zeros(table.num_rows, dtype=np.int64)
    bound = 1  # ids < bound
    for column in table.columns:
        encoded = pc.dictionary_encode(column.combine_chunks())
        codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64) + 1
        size = len(encoded.dictionary) + 1
        if bound * size >= 2**62:
            _, ids = np.unique(ids, return_inverse=True)
            bound = int(ids.max()) + 1
        ids = ids * size + codes
        bound *= size
    return ids


_NOT_SUPPRESSED = (
    "NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.kind = 'user_id' AND x.value = n.user_id) "
    "AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.kind = 'anonymous_id' "
    "AND x.value = n.anonymous_id)"
)
"""The suppression check every write of events makes: no row of a suppressed user id or
anonymous id (`n` is the row)."""
_NOT_LOGGED = (
    "NOT EXISTS (SELECT 1 FROM events e WHERE e.source = n.source AND e.message_id = n.message_id)"
)


def insert_events_sql(
    base_seq: int,
    *,
    suppressions: bool = True,
    relation: str = "normalised",
    skip_logged: bool = False,
) -> str:
    """INSERT of the rows of `relation` (valid rows with every event-log column but seq, and `k`
    = 0, 1, ... their order; see `split_normalised`), numbering them from `base_seq` in order.

    Rows of suppressed users are dropped unless `suppressions=False` (the caller found the table
    empty); with `skip_logged`, rows already in the log are dropped too (an import run again).
    With neither, seq is `base_seq + k`; otherwise the rows left are numbered without gaps.
    """
    cols = ", ".join(EVENT_COLUMNS)
    rest = ", ".join(c for c in EVENT_COLUMNS if c != "seq")
    conds = [c for c, on in ((_NOT_SUPPRESSED, suppressions), (_NOT_LOGGED, skip_logged)) if on]
    if not conds:
        return f"INSERT INTO events ({cols}) SELECT {int(base_seq)} + k, {rest} FROM {relation}"
    return (
        f"INSERT INTO events ({cols}) "
        f"SELECT {int(base_seq)} + row_number() OVER (ORDER BY k) - 1, {rest} "
        f"FROM {relation} n WHERE {' AND '.join(conds)} ORDER BY k"
    )


def append(con: duckdb.DuckDBPyConnection, base_seq: int, rows: pa.Table) -> Appended:
    """In the writer: insert `rows` (see `Store.append_rows`) numbered from `base_seq`, without
    the rows already in the log or of suppressed users.

    When none is in the log and no user is suppressed (the usual first import), seq is
    `base_seq + k`: no window, no sort, no anti-join in the INSERT.
    """
    con.register("append_rows", rows)
    try:
        any_suppressed, any_logged = con.execute(
            "SELECT EXISTS (SELECT 1 FROM suppressions), EXISTS (SELECT 1 FROM append_rows n "
            "JOIN events e ON e.source = n.source AND e.message_id = n.message_id)"
        ).fetchall()[0]
        suppressed = 0
        if any_suppressed:
            (suppressed,) = con.execute(
                f"SELECT count(*) FROM append_rows n WHERE NOT ({_NOT_SUPPRESSED})"
            ).fetchall()[0]
        sql = insert_events_sql(
            base_seq,
            suppressions=bool(any_suppressed),
            relation="append_rows",
            skip_logged=bool(any_logged),
        )
        (inserted,) = con.execute(sql).fetchall()[0]
    finally:
        con.unregister("append_rows")
    inserted, suppressed = int(inserted), int(suppressed)
    return Appended(inserted, suppressed, rows.num_rows - inserted - suppressed)


def normalise(
    con: duckdb.DuckDBPyConnection, staged: pa.Table, max_future: timedelta = MAX_FUTURE
) -> pa.Table:
    """`NORMALISE_SQL` over the `staged` table, in `ord` order, with each row's `reason`: NULL
    for a valid message, else what is wrong with it."""
    con.register("staged", staged)
    try:
        normalised = con.sql(NORMALISE_SQL).to_arrow_table()
    finally:
        con.unregister("staged")
    return _finish(con, normalised, staged, Channels(), max_future)


class Normaliser:
    """`normalise` on one connection (the writer's), through a relation kept over the name
    `staged`, which each batch is registered under in turn.

    Every run of the statement is parsed, bound and planned again, ~5-8 ms whatever the batch.
    A prepared statement is bound again too (registering a batch changes the catalog, and
    EXECUTE then rebinds), so preparing saved only the parse (~1 ms), while the copy of each
    batch into a table that it read cost ~2 us a message. The relation reads the batch in place.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, max_future: timedelta = MAX_FUTURE) -> None:
        self.con = con
        self.max_future = max_future
        self.channels = Channels()
        con.register("staged", staged_table([])[0])
        try:
            self._relation = con.sql(NORMALISE_SQL)
        finally:
            con.unregister("staged")

    def __call__(self, staged: pa.Table, typed: pa.Table | None = None) -> pa.Table:
        if typed is not None:
            return normalise_typed(self.con, typed, staged, self.channels)
        self.con.register("staged", staged)
        try:
            normalised = self._relation.to_arrow_table()
        finally:
            self.con.unregister("staged")
        if normalised.num_rows != staged.num_rows:  # never: a relation binds when it runs
            raise RuntimeError(
                f"normalise: {normalised.num_rows} rows for a batch of {staged.num_rows}"
            )
        return _finish(self.con, normalised, staged, self.channels, self.max_future)


def _finish(
    con: duckdb.DuckDBPyConnection,
    normalised: pa.Table,
    staged: pa.Table,
    channels: Channels,
    max_future: timedelta = MAX_FUTURE,
) -> pa.Table:
    """Rows in `ord` order, the channel fields replaced by the channel, the door's checks
    applied (`_door`), with each row's reason."""
    ords = normalised.column("ord")
    if not pc.all(pc.greater(ords.slice(1), ords.slice(0, len(ords) - 1))).as_py():
        normalised = normalised.sort_by("ord")
    channel = channels(con, normalised)
    fields = [name for name in CHANNEL_KEY if name != "event"]
    at = normalised.schema.get_field_index(fields[0])
    normalised = normalised.drop_columns(fields).add_column(at, "channel", channel)
    normalised, refused = _door(normalised, staged, max_future)
    reasons = name_reasons(normalised, staged)
    if refused is not None:
        reasons = pc.coalesce(refused, reasons)
    return normalised.append_column("reason", reasons)


TYPED_COLUMNS = (
    "message_id", "source", "type", "event", "anonymous_id", "user_id", "group_id",
    "previous_id", "timestamp", "original_timestamp", "sent_at", "received_at",
    *(f"f_{name}" for name in FIELDS if name != "event"), "context", "properties", "traits",
)  # fmt: skip
"""The columns of typed rows (`Staged.rows`), in this order: the event log's but `seq` and
`channel`, the channel fields `NORMALISE_SQL` extracts (`CHANNEL_KEY`), and the JSON objects
as text."""


def normalise_typed(
    con: duckdb.DuckDBPyConnection, rows: pa.Table, staged: pa.Table, channels: Channels
) -> pa.Table:
    """What `Normaliser` gives for typed rows (one `Staged.rows`, `staged` its `staged_table`),
    without parsing or checking them: Touchpath made them valid. Only the channel is derived,
    by the same rules and memo, so a step event reads as if it came through the door."""
    if tuple(rows.column_names) != TYPED_COLUMNS:
        raise ValueError(f"typed rows: columns {rows.column_names}, want {TYPED_COLUMNS}")
    n = rows.num_rows
    con.register("_typed_ids", rows.select(["message_id", "source"]))
    try:
        h = con.sql("SELECT hash(source, message_id) FROM _typed_ids").to_arrow_table().column(0)
    finally:
        con.unregister("_typed_ids")
    channel = channels(con, rows)
    fields = [name for name in CHANNEL_KEY if name != "event"]
    at = rows.schema.get_field_index(fields[0])
    rows = rows.drop_columns(fields).add_column(at, "channel", channel)
    rows = rows.add_column(0, "ord", staged.column("ord"))
    rows = rows.add_column(1, "h", h).add_column(2, "given_id", pa.array(np.ones(n, bool)))
    rows = rows.append_column("valid", pa.array(np.ones(n, bool)))
    return rows.append_column("reason", pa.nulls(n, pa.string()))


@cache
def _bounds() -> tuple[pa.Scalar, pa.Scalar, pa.Scalar]:
    """1970-01-01, year 1 and the end of 9999 as Arrow times (made on first use: a timestamp
    scalar imports pandas, which a command that only reads should not pay for)."""
    return (
        pa.scalar(datetime(1970, 1, 1), pa.timestamp("us")),
        pa.scalar(datetime(1, 1, 1), pa.timestamp("us")),
        pa.scalar(datetime(9999, 12, 31, 23, 59, 59), pa.timestamp("us")),
    )


def _door(
    normalised: pa.Table, staged: pa.Table, max_future: timedelta
) -> tuple[pa.Table, pa.Array | None]:
    """What the store cannot hold or read back is refused at the door, with the reason, instead
    of failing the commit of every request grouped with it (or every later read): an event time
    before 1970 or more than `max_future` after receipt once the clock is corrected, a time the
    readers cannot represent (outside years 1-9999), a number beyond a double or NaN/Infinity.
    Returns the table with `valid` updated and the reasons of the rows refused here (None when
    none is). Whole-column Arrow work; only the few rows RE2 flagged are parsed again."""
    ts, received = normalised.column("timestamp"), normalised.column("received_at")
    epoch, year_1, year_9999 = _bounds()
    late = pc.add(received, pa.scalar(max_future, pa.duration("us")))
    checks: list[tuple[pa.ChunkedArray, str]] = [
        (pc.less(ts, epoch), "timestamp: before 1970-01-01 once the clock is corrected"),
        (
            pc.greater(ts, late),
            f"timestamp: more than {max_future.total_seconds() / 3600:g} h after it was received "
            "once the clock is corrected (TOUCHPATH_MAX_FUTURE_HOURS)",
        ),
    ]
    for name, label in (("original_timestamp", "originalTimestamp"), ("sent_at", "sentAt")):
        col = normalised.column(name)
        outside = pc.or_(pc.less(col, year_1), pc.greater(col, year_9999))
        checks.append((outside, f"{label}: outside the years 1-9999"))
    valid = normalised.column("valid")
    reasons: list[str | None] | None = None
    for bad, reason in checks:
        hit = pc.and_(valid, pc.fill_null(bad, False))
        if not pc.any(hit).as_py():
            continue
        reasons = reasons or [None] * normalised.num_rows
        for i in np.flatnonzero(hit.to_numpy(zero_copy_only=False)).tolist():
            reasons[i] = reasons[i] or reason
        valid = pc.and_not(valid, hit)
    odd = pc.and_(valid, normalised.column("odd_number"))
    if pc.any(odd).as_py():
        raws = staged.column("raw")
        for i in np.flatnonzero(odd.to_numpy(zero_copy_only=False)).tolist():
            try:
                orjson.loads(raws[i].as_py())
            except orjson.JSONDecodeError as exc:
                reasons = reasons or [None] * normalised.num_rows
                reasons[i] = (
                    f"message: a number JSON cannot hold (beyond a double, NaN or Infinity): {exc}"
                )
        if reasons is not None:
            valid = pc.and_(valid, pc.is_null(pa.array(reasons, pa.string())))
    normalised = normalised.drop_columns(["odd_number"])
    if reasons is None:
        return normalised, None
    at = normalised.schema.get_field_index("valid")
    return normalised.set_column(at, "valid", valid), pa.array(reasons, pa.string())


def name_reasons(normalised: pa.Table, staged: pa.Table) -> pa.Array:
    """Why each row is invalid, NULL for the valid ones. Rows of both tables are in the same
    order. The SQL only says whether a message is valid; the reason of each failed one is named
    by `check_message` (the reference the SQL's verdict is tested against) and the time checks.
    """
    valid = normalised.column("valid").to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~valid).tolist()
    reasons: list[str | None] = [None] * len(valid)
    if not bad:
        return pa.array(reasons, pa.string())
    raws = staged.column("raw").take(bad).to_pylist()
    routes = staged.column("route_type").take(bad).to_pylist()
    sents = staged.column("batch_sent_at").take(bad).to_pylist()
    # Whether each time parsed (not its value: one outside Python's years has no datetime).
    parsed_ts = [
        None if n else True
        for n in normalised.column("original_timestamp").take(bad).is_null().to_pylist()
    ]
    parsed_sent = [
        None if n else True for n in normalised.column("sent_at").take(bad).is_null().to_pylist()
    ]
    for n, i in enumerate(bad):
        reasons[i] = _reason(raws[n], routes[n], sents[n], parsed_ts[n], parsed_sent[n])
    return pa.array(reasons, pa.string())


def _reason(
    raw: str, route_type: str | None, batch_sent_at: str | None, ts: object, sent: object
) -> str:
    try:
        head = decode_head(raw)
    except msgspec.DecodeError:
        return "message: not a JSON object"
    reason = check_message(head, route_type)
    if reason is not None:
        return reason
    ts_field = "originalTimestamp" if head.originalTimestamp is not None else "timestamp"
    ts_text = head.originalTimestamp if head.originalTimestamp is not None else head.timestamp
    if ts_text is not None and ts is None:
        return f"{ts_field}: not an ISO-8601 time: {str(ts_text)!r}"
    sent_text = head.sentAt if head.sentAt is not None else batch_sent_at
    if sent_text is not None and sent is None:
        return f"sentAt: not an ISO-8601 time: {str(sent_text)!r}"
    return "message: failed the ingest checks"  # the SQL and check_message disagree (a bug)


def split_normalised(
    normalised: pa.Table, staged: pa.Table, keep: pa.Array | None = None
) -> tuple[pa.Table, pa.Table]:
    """The valid rows of a `normalise` result, numbered `k` in order, and the rejected ones as
    `rejected` rows (with the raw message). Rows of both tables are in the same order; `keep`
    leaves out rows that are duplicates. The valid rows' JSON columns are typed JSON (`_as_json`).
    """
    raw = staged.column("raw")
    if keep is not None and not pc.all(keep).as_py():  # a filter copies every column
        normalised = normalised.filter(keep)
        raw = raw.filter(keep)
    invalid = pc.invert(normalised.column("valid"))
    n_bad = pc.sum(invalid).as_py() or 0
    good = normalised.filter(normalised.column("valid")) if n_bad else normalised
    good = good.append_column("k", pa.array(np.arange(good.num_rows, dtype=np.int64)))
    good = _as_json(good, ("context", "properties", "traits"))
    bad = normalised.filter(invalid) if n_bad else normalised.slice(0, 0)
    rejected = pa.table(
        {
            "ord": bad.column("ord"),
            "received_at": bad.column("received_at"),
            "source": bad.column("source"),
            "message_id": bad.column("message_id"),
            "type": bad.column("type"),
            "reason": bad.column("reason"),
            "raw": raw.filter(invalid) if n_bad else raw.slice(0, 0),
        }
    )
    return good, rejected


_ARROW_JSON = {b"ARROW:extension:name": b"arrow.json", b"ARROW:extension:metadata": b""}


def _as_json(table: pa.Table, names: Sequence[str]) -> pa.Table:
    """`table` with the text columns `names` typed as JSON for DuckDB (Arrow's `arrow.json`).

    They hold json_extract's output, valid JSON: typed so, DuckDB stores the text as it is
    instead of parsing every value again to check it (a VARCHAR to JSON cast), ~0.3-0.5 us a
    message for the three JSON columns of the event log.
    """
    for name in names:
        i = table.schema.get_field_index(name)
        field = table.schema.field(i).with_metadata(_ARROW_JSON)
        table = table.set_column(i, field, table.column(i))
    return table


def staged_table(
    stageds: Sequence[Staged], ords: Sequence[int] | None = None
) -> tuple[pa.Table, np.ndarray]:
    """The `staged` Arrow table `NORMALISE_SQL` reads, and the index of each row's Staged.

    Columns are built by whole-array operations: the raw messages in one Arrow array, and each
    request's source, time, sentAt and route type spread over its rows by index (`take`).
    `ords` numbers the rows (0, 1, ... by default).
    """
    sizes = np.fromiter((len(st) for st in stageds), dtype=np.int64, count=len(stageds))
    owner = np.repeat(np.arange(len(stageds), dtype=np.int64), sizes)
    index = pa.array(owner)
    # Typed rows (alone in their commit) have no raw text.
    raws = [raw for st in stageds for raw in (st.raws if st.rows is None else [None] * len(st))]
    # bytes -> binary -> string validates UTF-8 in one pass (~30x faster than per object).
    raw = pa.array(raws, pa.binary()).cast(pa.string())

    def spread(values: list[object], kind: pa.DataType) -> pa.Array:
        return pa.array(values, kind).take(index)

    table = pa.table(
        {
            "ord": pa.array(ords, pa.int64())
            if ords is not None
            else pa.array(np.arange(len(raws))),
            "raw": raw,
            "source": spread([st.source for st in stageds], pa.string()),
            "received_at": spread([st.received_at for st in stageds], pa.timestamp("us")),
            "batch_sent_at": spread([st.batch_sent_at for st in stageds], pa.string()),
            "route_type": spread([st.route_type for st in stageds], pa.string()),
        }
    )
    return table, owner
