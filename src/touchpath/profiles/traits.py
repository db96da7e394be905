"""Profile traits (latest value by event time) and computed traits, updated set-wise in SQL.

Scopes: every function that recomputes takes `scope`, the name of a table with a `profile_id`
column listing the profiles to recompute, or None for all of them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
from sqlglot import exp

from touchpath.errors import NotFound
from touchpath.events.match import literal, property_expr
from touchpath.profiles.specs import ComputedTrait, parse_spec, spec_json

__all__ = [
    "apply_merges",
    "computed_sql",
    "define_computed",
    "list_computed",
    "refresh_computed",
    "remove_computed",
    "update_traits",
]

_NEWER = (
    "excluded.updated_at > profile_traits.updated_at OR (excluded.updated_at = "
    "profile_traits.updated_at AND excluded.seq > profile_traits.seq)"
)
_UPSERT = (
    "ON CONFLICT (profile_id, name) DO UPDATE SET value = excluded.value, "
    f"updated_at = excluded.updated_at, seq = excluded.seq WHERE {_NEWER}"
)


def update_traits(
    con: duckdb.DuckDBPyConnection, first: int | None, last: int | None, *, empty: bool = False
) -> None:
    """Fold the traits of events with seq in [first, last] (all when None) into profile_traits.

    `empty`: the table was just emptied (a rebuild), so rows are inserted without the upsert's
    conflict checks (~2 s of ~4 on the 10M demo)."""
    where = "" if first is None else f"AND seq BETWEEN {int(first)} AND {int(last or first)}"
    pairs = _pairs_by_key(con, where) if first is None else None
    if pairs is None:
        pairs = f"""
            SELECT profile_id, timestamp, seq, k,
                json_extract(traits, '$."' || replace(k, '"', '\\"') || '"') AS v
            FROM (SELECT profile_id, timestamp, seq, traits, unnest(json_keys(traits)) AS k
                  FROM resolved_events WHERE {_HAS_TRAITS} {where})
        """
    con.execute(
        f"""
        INSERT INTO profile_traits
        SELECT profile_id, k, arg_max(v, {_LATEST}), max(timestamp), max(seq)
        FROM ({pairs})
        GROUP BY profile_id, k
        {"" if empty else _UPSERT}
        """
    )


_HAS_TRAITS = "traits IS NOT NULL AND json_type(traits) = 'OBJECT'"

_LATEST = "(epoch_us(timestamp)::HUGEINT << 64) + seq"
"""(timestamp, seq) as one 128-bit integer in the same order (seq is positive and under 2^63):
`arg_max` by it is a plain integer comparison instead of a struct's, 1.4 against 1.8 CPU-s for
the 3.1M (profile, key) pairs of the 10M demo."""

FOLD_KEYS_MAX = 64
"""Most distinct trait keys for which the whole-log fold reads every key of an event in one
JSON parse (a constant list of paths) instead of one parse per (event, key)."""


def _pairs_by_key(con: duckdb.DuckDBPyConnection, where: str) -> str | None:
    """SELECT profile_id, timestamp, seq, k, v: each (event, trait key) with the key's value,
    as `update_traits` folds them, read with one JSON parse per event for every key the log's
    traits use (json_extract's list of paths must be constant, so the keys are found first).
    A key an event does not have gives SQL NULL and is left out; a JSON null is kept, as
    before. None when the log uses more than `FOLD_KEYS_MAX` keys (a path per key per event
    would then cost more than the parses it saves).

    On the 10M demo (258k events with traits, 12 keys, 3.1M pairs) the fold's statement took
    3.7-3.9 CPU-s instead of 5.0-5.3, with the same rows."""
    keys = con.execute(
        f"SELECT DISTINCT unnest(json_keys(traits)) AS k FROM events WHERE {_HAS_TRAITS} {where} "
        f"ORDER BY k LIMIT {FOLD_KEYS_MAX + 1}"
    ).fetchall()
    if len(keys) > FOLD_KEYS_MAX:
        return None
    names = [str(k) for (k,) in keys]
    if not names:
        return (
            "SELECT profile_id, timestamp, seq, NULL::VARCHAR AS k, NULL::JSON AS v "
            "FROM resolved_events WHERE false"
        )
    key_list = "[" + ", ".join(_lit(k) for k in names) + "]"
    path_list = "[" + ", ".join(_lit('$."' + k.replace('"', '\\"') + '"') for k in names) + "]"
    return f"""
        SELECT * FROM (
            SELECT profile_id, timestamp, seq, unnest({key_list}) AS k,
                unnest(json_extract(traits, {path_list})) AS v
            FROM resolved_events WHERE {_HAS_TRAITS} {where})
        WHERE v IS NOT NULL
    """


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_REMAP = pa.schema([("old", pa.string()), ("new", pa.string())])


def apply_merges(con: duckdb.DuckDBPyConnection, merged: dict[str, str]) -> None:
    """Move traits, computed values and memberships of merged-away profiles to the kept ones."""
    if not merged:
        return
    remap = pa.table({"old": list(merged), "new": list(merged.values())}, schema=_REMAP)
    con.register("_remap_in", remap)
    con.execute("CREATE OR REPLACE TEMP TABLE _remap AS SELECT * FROM _remap_in")
    con.unregister("_remap_in")
    con.execute(
        f"""
        INSERT INTO profile_traits
        SELECT r.new, t.name, arg_max(t.value, (t.updated_at, t.seq)), max(t.updated_at), max(t.seq)
        FROM profile_traits t JOIN _remap r ON t.profile_id = r.old
        GROUP BY r.new, t.name
        {_UPSERT}
        """
    )
    con.execute(
        "INSERT OR IGNORE INTO audience_members SELECT m.audience, r.new, min(m.entered_at) "
        "FROM audience_members m JOIN _remap r ON m.profile_id = r.old GROUP BY ALL"
    )
    for table in ("profile_traits", "computed_trait_values", "audience_members"):
        con.execute(f"DELETE FROM {table} WHERE profile_id IN (SELECT old FROM _remap)")
    con.execute("DROP TABLE _remap")


def _agg(trait: ComputedTrait) -> exp.Expr:
    if trait.op == "count":
        return exp.Count(this=exp.Star())
    assert trait.property is not None
    numeric = trait.op in ("sum", "avg", "min", "max")
    value = property_expr(trait.property, numeric=numeric)
    order = exp.Tuple(expressions=[exp.column("timestamp"), exp.column("seq")])
    match trait.op:
        case "sum" | "avg" | "min" | "max":
            return exp.func(trait.op, value)
        case "first":
            return exp.func("arg_min", value, order)
        case "last":
            return exp.func("arg_max", value, order)
        case "most_frequent":
            return exp.func("mode", value)
        case "unique_count":
            return exp.Count(this=exp.Distinct(expressions=[value]))
        case _:
            return exp.func("list_sort", exp.func("list", exp.Distinct(expressions=[value])))


def computed_sql(
    trait: ComputedTrait, now: datetime, scope: str | None, events: str = "resolved_events"
) -> str:
    """SELECT profile_id, value (JSON) of one computed trait for the profiles in `scope`,
    read from `events` (resolved_events, or a table of the scope's events)."""
    conds: list[exp.Expr] = [trait.event.condition()]
    if trait.property is not None and trait.op != "count":
        conds.append(
            exp.Not(this=exp.Is(this=property_expr(trait.property), expression=exp.Null()))
        )
    if trait.within is not None:
        start = now - timedelta(seconds=trait.within)
        conds.append(
            exp.GTE(
                this=exp.column("timestamp"),
                expression=exp.cast(
                    literal(start.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP")
                ),
            )
        )
    where = exp.and_(*conds).sql("duckdb")
    if scope is not None:
        where += f" AND profile_id IN (SELECT profile_id FROM {scope})"
    return (
        f"SELECT profile_id, to_json({_agg(trait).sql('duckdb')}) AS value "
        f"FROM {events} WHERE {where} GROUP BY profile_id"
    )


def refresh_computed(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    scope: str | None,
    names: list[str] | None = None,
    events: str = "resolved_events",
) -> int:
    """Recompute computed traits for the profiles in `scope`; returns the values written."""
    written = 0
    for trait in list_computed(con):
        if names is not None and trait.name not in names:
            continue
        scoped = "" if scope is None else f" AND profile_id IN (SELECT profile_id FROM {scope})"
        con.execute(f"DELETE FROM computed_trait_values WHERE name = ?{scoped}", [trait.name])
        con.execute(
            "INSERT INTO computed_trait_values SELECT ?, profile_id, value, ? FROM ("
            + computed_sql(trait, now, scope, events)
            + ") WHERE value IS NOT NULL AND value::VARCHAR <> 'null'",
            [trait.name, now],
        )
        (n,) = con.execute(
            "SELECT count(*) FROM computed_trait_values WHERE name = ? AND computed_at = ?",
            [trait.name, now],
        ).fetchall()[0]
        written += int(n)
    return written


def list_computed(con: duckdb.DuckDBPyConnection) -> list[ComputedTrait]:
    """Every computed trait, by name."""
    rows = con.execute("SELECT name, spec FROM computed_traits ORDER BY name").fetchall()
    return [
        parse_spec(ComputedTrait, json.loads(spec), f"computed trait {name!r}")
        for name, spec in rows
    ]


def define_computed(con: duckdb.DuckDBPyConnection, trait: ComputedTrait, now: datetime) -> None:
    """Create or replace a computed trait and compute it for everyone."""
    con.execute(
        "INSERT OR REPLACE INTO computed_traits VALUES (?, ?, ?)",
        [trait.name, spec_json(trait), now],
    )
    refresh_computed(con, now, None, [trait.name])


def remove_computed(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete a computed trait and its values."""
    if not con.execute("SELECT 1 FROM computed_traits WHERE name = ?", [name]).fetchall():
        raise NotFound(f"computed trait {name!r}: no such computed trait")
    con.execute("DELETE FROM computed_trait_values WHERE name = ?", [name])
    con.execute("DELETE FROM computed_traits WHERE name = ?", [name])
