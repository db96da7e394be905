"""Writing what a batch resolved: new identifiers and profiles, merges, drops, and the moves of
merged profiles, set-wise through Arrow; and emptying the graph's tables for a rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from touchpath.identity.graph import Graph, Resolution, final

__all__ = ["WIPE", "clear_tables", "insert_merges", "register", "save", "touch_seen"]


def save(con: duckdb.DuckDBPyConnection, graph: Graph, res: Resolution) -> None:
    """Write what the walk of one batch changed (`graph`'s new identifiers and profiles, merges
    and drops; merged profiles' identifiers moved to the profile they live on in), and count it
    in `res`."""
    merged = {old: final(graph.merged_into, old) for old in graph.merged_into}
    res.merged.update(merged)
    res.new_identifiers += len(graph.new_idents)
    res.new_profiles += len(graph.new_profiles)
    res.merges += len(graph.merges)
    res.drops += len(graph.drops)
    _move_merged(con, merged)
    _insert_profiles(con, graph)
    _insert_identifiers(con, graph)
    if graph.merges:
        insert_merges(con, graph.merges)
    _insert_drops(con, graph)


def _move_merged(con: duckdb.DuckDBPyConnection, merged: dict[str, str]) -> None:
    """Identifiers of merged profiles move to the profile they live on in; the merged go."""
    if merged:
        register(
            con,
            "_remap",
            {"old": list(merged), "new": list(merged.values())},
            {"old": pa.string(), "new": pa.string()},
        )
        con.execute(
            "UPDATE identifiers SET profile_id = r.new FROM _remap r "
            "WHERE identifiers.profile_id = r.old"
        )
        con.execute("DELETE FROM profiles WHERE profile_id IN (SELECT old FROM _remap)")
        con.unregister("_remap")


def _insert_profiles(con: duckdb.DuckDBPyConnection, graph: Graph) -> None:
    if graph.new_profiles:
        pids = list(graph.new_profiles)
        register(
            con,
            "_newp",
            {
                "profile_id": pids,
                "seq": [graph.new_profiles[p][0] for p in pids],
                "ts": [graph.new_profiles[p][1] for p in pids],
            },
            {"profile_id": pa.string(), "seq": pa.int64(), "ts": pa.int64()},
        )
        con.execute("INSERT INTO profiles SELECT profile_id, seq, make_timestamp(ts) FROM _newp")
        con.unregister("_newp")


def _insert_identifiers(con: duckdb.DuckDBPyConnection, graph: Graph) -> None:
    if graph.new_idents:
        idents = list(graph.new_idents)
        register(
            con,
            "_newi",
            {
                "kind": [i[0] for i in idents],
                "value": [i[1] for i in idents],
                "profile_id": [graph.profile_of[i] for i in idents],
                "seq": [graph.new_idents[i][0] for i in idents],
                "ts": [graph.new_idents[i][1] for i in idents],
            },
            {
                "kind": pa.string(),
                "value": pa.string(),
                "profile_id": pa.string(),
                "seq": pa.int64(),
                "ts": pa.int64(),
            },
        )
        con.execute(
            "INSERT INTO identifiers (kind, value, profile_id, first_seen, last_seen, "
            "linked_seq, linked_at, linked_by) "
            # first/last seen over the whole batch at once (so `_touch_seen` skips them)
            "SELECT n.kind, n.value, n.profile_id, least(make_timestamp(n.ts), s.lo), "
            "greatest(make_timestamp(n.ts), s.hi), n.seq, make_timestamp(n.ts), e.message_id "
            "FROM _newi n LEFT JOIN events e ON e.seq = n.seq "
            "LEFT JOIN _seen s ON s.kind = n.kind AND s.value = n.value"
        )
        con.unregister("_newi")


def _insert_drops(con: duckdb.DuckDBPyConnection, graph: Graph) -> None:
    if graph.drops:
        register(
            con,
            "_drops",
            {k: [d[i] for d in graph.drops] for i, k in enumerate(("seq", "ts", "kind", "value", "why"))},
            {"seq": pa.int64(), "ts": pa.int64(), "kind": pa.string(), "value": pa.string(), "why": pa.string()},
        )  # fmt: skip
        con.execute(
            "INSERT INTO identity_drops SELECT d.seq, e.message_id, make_timestamp(d.ts), d.kind, "
            "d.value, d.why FROM _drops d LEFT JOIN events e ON e.seq = d.seq"
        )
        con.unregister("_drops")


def register(
    con: duckdb.DuckDBPyConnection, name: str, cols: dict[str, list[Any]], types: dict[str, Any]
) -> None:
    """Columns of Python values as an Arrow table registered under `name` (typed, so an empty
    list still has its type)."""
    con.register(name, pa.table({k: pa.array(v, types[k]) for k, v in cols.items()}))


def insert_merges(con: duckdb.DuckDBPyConnection, merges: Sequence[Sequence[Any]]) -> None:
    """Record merges given as (seq, ts in microseconds, kept, gone, why), with each causing
    message's id."""
    register(
        con,
        "_merges",
        {k: [m[i] for m in merges] for i, k in enumerate(("seq", "ts", "kept", "gone", "why"))},
        {"seq": pa.int64(), "ts": pa.int64(), "kept": pa.string(), "gone": pa.string(), "why": pa.string()},
    )  # fmt: skip
    con.execute(
        "INSERT INTO merges SELECT m.seq, e.message_id, make_timestamp(m.ts), m.kept, m.gone, "
        "m.why FROM _merges m LEFT JOIN events e ON e.seq = m.seq"
    )
    con.unregister("_merges")


def touch_seen(con: duckdb.DuckDBPyConnection) -> None:
    """Widen first_seen/last_seen of every identifier the batch mentions."""
    con.execute(
        """
        UPDATE identifiers SET first_seen = least(identifiers.first_seen, b.lo),
                               last_seen = greatest(identifiers.last_seen, b.hi)
        FROM _seen b
        WHERE identifiers.kind = b.kind AND identifiers.value = b.value
          AND (b.lo < identifiers.first_seen OR b.hi > identifiers.last_seen)
        """
    )


WIPE = ("identifiers", "profiles", "merges", "identity_drops", "identity_state")


def clear_tables(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    """Empty `tables` (inside the caller's transaction) by dropping and re-creating them from
    their own DDL and indexes. A DELETE of every row costs little to run but a lot to commit:
    DuckDB takes each deleted key out of the primary-key index at commit (about 1.8 s for the
    identifiers and traits of the 1M demo). Tables a foreign key refers to are DELETEd."""
    for table in tables:
        rows = con.execute(
            "SELECT sql FROM duckdb_tables() WHERE table_name = ? AND NOT temporary "
            "AND schema_name = current_schema()",
            [table],
        ).fetchall()
        referenced = con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE referenced_table = ?", [table]
        ).fetchall()[0][0]
        if len(rows) != 1 or referenced:
            con.execute(f"DELETE FROM {table}")
            continue
        indexes = con.execute(
            "SELECT sql FROM duckdb_indexes() WHERE table_name = ? AND sql IS NOT NULL", [table]
        ).fetchall()
        con.execute(f"DROP TABLE {table}")
        con.execute(rows[0][0])
        for (sql,) in indexes:
            con.execute(sql)
