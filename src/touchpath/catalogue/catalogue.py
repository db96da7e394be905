"""The event catalogue: every event name, and per event its property keys with their observed
JSON types, counts and first and last seen (docs/catalogue.md).

A commit listener folds each committed seq range into two small tables in one set-wise pass
(`fold`); `catalogue_state.upto` says how far. A reader adds the events committed since then
(the listeners run coalesced, a moment after the commit), so what it reads is exact without
waiting: `events(cur)` and `properties(cur, event)` read a few hundred rows, not the log. A
store that held events before the catalogue existed is caught up once (`catch_up`, run when a
listening process opens it), or rebuilt by `touchpath catalogue rebuild`.

Identify and group calls are kept with event `''` and their traits as the keys; page and screen
calls under their name (the log's `event`); alias calls with no keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import duckdb

from touchpath.events.match import Frozen

__all__ = [
    "CatalogueEvent",
    "CatalogueProperty",
    "ValueType",
    "catch_up",
    "event_names",
    "events",
    "fold",
    "properties",
    "property_keys",
    "rebuild",
]

ValueType = Literal["string", "integer", "number", "boolean", "object", "array", "null"]
"""The observed type of a value, named as JSON Schema names it."""

_VALUE_TYPE = """CASE j.type WHEN 'VARCHAR' THEN 'string' WHEN 'UBIGINT' THEN 'integer'
    WHEN 'BIGINT' THEN 'integer' WHEN 'DOUBLE' THEN 'number' WHEN 'BOOLEAN' THEN 'boolean'
    WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'NULL' THEN 'null'
    ELSE lower(j.type) END"""

# The messages of a seq range, each with the object whose keys it is catalogued by.
_RANGE = """SELECT type, coalesce(event, '') AS event, timestamp,
    CASE WHEN type IN ('identify', 'group') THEN traits
         WHEN type = 'alias' THEN NULL ELSE properties END AS obj
FROM events WHERE seq BETWEEN {lo} AND {hi}"""

_EVENTS_OF = f"""SELECT type, event, count(*) AS count, min(timestamp) AS first_seen,
    max(timestamp) AS last_seen FROM ({_RANGE}) GROUP BY type, event"""

_PROPS_OF = f"""SELECT e.type, e.event, j.key AS key, {_VALUE_TYPE} AS value_type,
    count(*) AS count, min(e.timestamp) AS first_seen, max(e.timestamp) AS last_seen
FROM ({_RANGE}) e, json_each(e.obj) j
WHERE json_type(e.obj) = 'OBJECT'
GROUP BY ALL"""

_UPSERT = """ON CONFLICT DO UPDATE SET count = count + excluded.count,
    first_seen = least(first_seen, excluded.first_seen),
    last_seen = greatest(last_seen, excluded.last_seen)"""

_TAIL = "(SELECT upto FROM catalogue_state) + 1", "9223372036854775807"
"""The seq range the listener has not folded in yet."""


class CatalogueEvent(Frozen):
    """One event name (per message type) as observed in the log."""

    type: str
    event: str
    """The event (track), page or screen name; `''` for identify, group and alias calls."""
    count: int
    first_seen: datetime
    last_seen: datetime
    properties: int = 0
    """How many property keys (traits for identify and group) were seen with it."""


class CatalogueProperty(Frozen):
    """One property key of an event, with one of the types its values were seen with."""

    type: str
    event: str
    key: str
    value_type: ValueType | str
    count: int
    """Messages whose property had this key with a value of this type."""
    first_seen: datetime
    last_seen: datetime


FOLD_CHUNK = 250_000
"""Events folded per statement. The property pass (`json_each` over each message's object,
grouped) holds memory in proportion to the events it reads, about 0.8 KB an event: one pass
over the 1M demo peaked at 816 MB of DuckDB memory, over the 10M demo at several GB (a first
start's catch-up); 250,000 a statement peaked at 249 MB and took no longer (2026-12-07)."""


def fold(con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
    """Add the events of seqs [first, last] (a commit listener: the writer's connection)."""
    con.execute("BEGIN")
    try:
        (upto,) = con.execute("SELECT upto FROM catalogue_state").fetchone() or (0,)
        lo = max(int(first), int(upto) + 1)
        if lo <= last:
            _fold(con, lo, int(last))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _fold(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> None:
    """Fold seqs [lo, hi] in `FOLD_CHUNK`s (the counts add up, the times are the least and
    greatest: the same rows as one pass), inside the caller's transaction."""
    for a in range(int(lo), int(hi) + 1, FOLD_CHUNK):
        span = {"lo": a, "hi": min(a + FOLD_CHUNK - 1, int(hi))}
        con.execute(f"INSERT INTO catalogue_events {_EVENTS_OF.format(**span)} {_UPSERT}")
        con.execute(f"INSERT INTO catalogue_properties {_PROPS_OF.format(**span)} {_UPSERT}")
    con.execute("UPDATE catalogue_state SET upto = greatest(upto, ?)", [hi])


def catch_up(con: duckdb.DuckDBPyConnection) -> int:
    """Fold in every event the catalogue has not seen (a store that held events before the
    catalogue existed); runs inside the caller's transaction. Returns the seqs folded."""
    (upto,) = con.execute("SELECT upto FROM catalogue_state").fetchone() or (0,)
    (top,) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone() or (0,)
    if int(top) <= int(upto):
        return 0
    _fold(con, int(upto) + 1, int(top))
    return int(top) - int(upto)


def rebuild(con: duckdb.DuckDBPyConnection) -> int:
    """Forget the catalogue and read it again from the whole log (after a privacy deletion,
    whose events the counts still include); inside the caller's transaction."""
    con.execute("DELETE FROM catalogue_events")
    con.execute("DELETE FROM catalogue_properties")
    con.execute("UPDATE catalogue_state SET upto = 0")
    return catch_up(con)


def _merged(table: str, of: str, keys: str) -> str:
    """The catalogue's rows of `table` plus those of the events not folded in yet."""
    tail = of.format(lo=_TAIL[0], hi=_TAIL[1])
    return f"""SELECT {keys}, sum(count)::BIGINT AS count, min(first_seen) AS first_seen,
        max(last_seen) AS last_seen
    FROM (SELECT * FROM {table} UNION ALL BY NAME {tail}) GROUP BY {keys}"""


def events(cur: duckdb.DuckDBPyConnection, type: str | None = None) -> list[CatalogueEvent]:
    """Every event name with its count, first and last seen and number of keys, most frequent
    first (only messages of `type` when given)."""
    ev = _merged("catalogue_events", _EVENTS_OF, "type, event")
    pr = _merged("catalogue_properties", _PROPS_OF, "type, event, key, value_type")
    where = "WHERE e.type = ?" if type else ""
    rows = cur.execute(
        f"""WITH ev AS ({ev}), pr AS ({pr})
        SELECT e.type, e.event, e.count, e.first_seen, e.last_seen,
            (SELECT count(DISTINCT key) FROM pr WHERE pr.type = e.type AND pr.event = e.event)
        FROM ev e {where} ORDER BY e.count DESC, e.type, e.event""",
        [type] if type else [],
    ).fetchall()
    return [
        CatalogueEvent(type=t, event=e, count=n, first_seen=f, last_seen=la, properties=int(k or 0))
        for t, e, n, f, la, k in rows
    ]


def properties(
    cur: duckdb.DuckDBPyConnection, event: str, type: str | None = None
) -> list[CatalogueProperty]:
    """The keys of `event` (of any message type, or only `type`), each with every type its
    values were seen with, most frequent first. `event=''` with type `identify`: the traits."""
    pr = _merged("catalogue_properties", _PROPS_OF, "type, event, key, value_type")
    params: list[object] = [event]
    where = "event = ?"
    if type:
        where += " AND type = ?"
        params.append(type)
    rows = cur.execute(
        f"SELECT type, event, key, value_type, count, first_seen, last_seen FROM ({pr}) "
        f"WHERE {where} ORDER BY count DESC, key, value_type",
        params,
    ).fetchall()
    return [
        CatalogueProperty(type=t, event=e, key=k, value_type=v, count=n, first_seen=f, last_seen=la)
        for t, e, k, v, n, f, la in rows
    ]


def event_names(cur: duckdb.DuckDBPyConnection) -> set[str]:
    """Every event, page and screen name ever seen (what an analysis may name)."""
    tail = f"SELECT DISTINCT event FROM events WHERE seq >= {_TAIL[0]} AND event IS NOT NULL"
    rows = cur.execute(
        f"SELECT DISTINCT event FROM catalogue_events WHERE event <> '' UNION {tail}"
    ).fetchall()
    return {r[0] for r in rows}


def property_keys(cur: duckdb.DuckDBPyConnection, event: str | None = None) -> set[str]:
    """Every property key seen on `event` (on any event when None; traits not included)."""
    pr = _merged("catalogue_properties", _PROPS_OF, "type, event, key, value_type")
    where = "type NOT IN ('identify', 'group', 'alias')"
    params: list[object] = []
    if event is not None:
        where += " AND event = ?"
        params.append(event)
    rows = cur.execute(f"SELECT DISTINCT key FROM ({pr}) WHERE {where}", params).fetchall()
    return {r[0] for r in rows}
