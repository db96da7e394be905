"""Resolving the log into the identity graph: identifiers of each message, joined into stable
profiles by merge rules.

`resolve(con, first, last, rules)` brings the graph up to date with the events whose seq lies in
[first, last]. Identifiers are extracted set-wise in DuckDB; messages whose identifiers all map
to one profile already (nearly all of them once people are known) are settled in SQL. The rest
are walked in seq order in Python, one distinct identifier combination at a time, as Segment
Unify does: find the profiles of the message's identifiers; if joining them (and adding the new
identifiers) would break a limit, drop the message's lowest-priority identifier and try again.
A merge keeps the older profile's id and is recorded, with the message that caused it, in
`merges`. Because repeats of a settled combination change nothing, the result depends only on
the order of the log, so `rebuild` from scratch equals resolving batch by batch.
"""

from __future__ import annotations

import bisect
import heapq
import json
from collections.abc import Iterable

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from touchpath.identity.extract import JOIN, SEP, Ident, combos_sql, lit, profile_id_for, raw_sql
from touchpath.identity.graph import Graph, Resolution, ident_of
from touchpath.identity.persist import WIPE, clear_tables, insert_merges, register, save, touch_seen
from touchpath.identity.rules import IdentityRules

__all__ = ["clear_tables", "rebuild", "resolve", "resolved_through"]


def resolved_through(con: duckdb.DuckDBPyConnection) -> int:
    """The last seq the graph has resolved (0 when nothing has been)."""
    row = con.execute("SELECT value FROM identity_state WHERE key = 'resolved_through'").fetchall()
    return int(row[0][0]) if row else 0


def resolve(
    con: duckdb.DuckDBPyConnection, first: int, last: int, rules: IdentityRules
) -> Resolution:
    """Resolve events with seq in [first, last] into the graph. Runs inside the caller's
    transaction on the writer connection.

    Work is per distinct identifier combination, not per message: `_cmb` holds each distinct
    combination with its first occurrence. Combinations are grouped into connected components
    (joined by a shared identifier or an existing profile). A component that ends as one
    profile with no merge and no limit it could break is settled set-wise in SQL; the walk in
    Python runs only over the other components, first occurrences in seq order.
    """
    res = Resolution(first, last)
    raw = raw_sql(rules, first, last)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cmb AS
        WITH d AS (
            SELECT h, any_value(r) AS r, min(seq) AS seq, arg_min(ts, seq) AS ts, min(ts) AS lo,
                max(ts) AS hi, count(*) AS n
            FROM ({raw}) GROUP BY h)
        SELECT (row_number() OVER (ORDER BY seq) - 1)::BIGINT AS ci, * FROM (
            SELECT c.combo, min(d.seq) AS seq, epoch_us(arg_min(d.ts, d.seq)) AS ts,
                min(d.lo) AS lo, max(d.hi) AS hi, sum(d.n) AS n, list(d.h) AS hs
            FROM d JOIN ({combos_sql(rules, "d", "h")}) c USING (h) GROUP BY c.combo)
        """
    )
    (res.messages,) = con.execute("SELECT coalesce(sum(n), 0) FROM _cmb").fetchall()[0]
    # With no combination (a range of a journey's own tracks only, SKIPPED) every statement
    # that follows ran on empty sets: a dozen statements a listener round for nothing.
    if res.messages:
        _resolve_combinations(con, rules, res, raw)
    con.execute(
        "INSERT OR REPLACE INTO identity_state VALUES ('resolved_through', "
        f"greatest({int(last)}, (SELECT coalesce(max(value), 0) FROM identity_state "
        "WHERE key = 'resolved_through')))"
    )
    for table in ("_cmb", "_cid", "_todo", "_seen", "_comp"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return res


def _resolve_combinations(
    con: duckdb.DuckDBPyConnection, rules: IdentityRules, res: Resolution, raw: str
) -> None:
    """Resolve the combinations in `_cmb` (at least one) into the graph."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cid AS
        SELECT c.ci, c.kind, c.value, c.lo, c.hi, i.profile_id AS pid FROM (
            SELECT ci, lo, hi, ident[:strpos(ident, '{SEP}') - 1] AS kind,
                ident[strpos(ident, '{SEP}') + 1:] AS value
            FROM (SELECT ci, lo, hi, unnest(string_split(combo, '{JOIN}')) AS ident FROM _cmb)
        ) c LEFT JOIN identifiers i ON i.kind = c.kind AND i.value = c.value
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _seen AS "
        "SELECT kind, value, min(lo) AS lo, max(hi) AS hi FROM _cid GROUP BY ALL"
    )
    _components(con)
    _settle_safe(con, rules, res)
    todo = con.execute(
        "SELECT c.seq, c.ts, c.combo FROM _cmb c SEMI JOIN _todo t USING (ci) ORDER BY c.seq"
    ).fetchall()
    if todo:
        graph = _load(con, rules)
        _walk(con, graph, todo, res, raw)
        save(con, graph, res)
    touch_seen(con)


def _components(con: duckdb.DuckDBPyConnection) -> None:
    """`_comp(ci, comp)`: the connected component of each combination, where combinations are
    joined by an identifier they share or by the existing profile their identifiers are on.

    Nodes are numbered by a 64-bit hash: a collision can only join two components, which makes
    them walked in Python (exact), never settled wrongly."""
    (n,) = con.execute("SELECT count(*) FROM _cmb").fetchall()[0]
    edges = con.execute(
        f"SELECT ci, hash(coalesce(pid, kind || '{SEP}' || value)) AS h FROM _cid"
    ).fetchnumpy()
    ci = np.asarray(edges["ci"], dtype=np.int64)
    _, node = np.unique(np.asarray(edges["h"]), return_inverse=True)
    size = int(n) + int(node.max(initial=-1)) + 1
    adj = coo_matrix((np.ones(len(ci), dtype=np.int8), (ci, node + int(n))), shape=(size, size))
    _, labels = connected_components(adj, directed=False)
    con.register(
        "_comp_arrow",
        pa.table({"ci": pa.array(np.arange(n, dtype=np.int64)), "comp": pa.array(labels[:n])}),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _comp AS SELECT * FROM _comp_arrow")
    con.unregister("_comp_arrow")


def _split_safe(con: duckdb.DuckDBPyConnection, rules: IdentityRules) -> None:
    """`_safe(comp, one)`: the components no limit can touch (`one`: a single profile maker);
    `_todo(ci)`: the combinations of the others; `_first`: where each new identifier first
    appears."""
    maxes = " ".join(f"WHEN {lit(k)} THEN {lim.max}" for k, lim in rules.limits.items())
    max_sql = f"CASE kind {maxes} ELSE {rules.default_limit.max} END"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _first AS "
        "SELECT kind, value, min(ci) AS fci FROM _cid WHERE pid IS NULL GROUP BY ALL"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ccomp AS
        WITH cid AS (SELECT c.*, m.comp FROM _cid c JOIN _comp m USING (ci)),
        makers AS (
            SELECT c.comp, c.ci::VARCHAR AS maker FROM cid c LEFT JOIN _first f USING (kind, value)
            GROUP BY c.comp, c.ci HAVING bool_and(c.pid IS NULL AND f.fci = c.ci)
            UNION ALL
            SELECT DISTINCT comp, pid FROM cid WHERE pid IS NOT NULL),
        members AS (
            SELECT DISTINCT comp, kind, value FROM cid WHERE pid IS NULL
            UNION ALL
            SELECT x.comp, i.kind, i.value
            FROM (SELECT DISTINCT comp, pid FROM cid WHERE pid IS NOT NULL) x
            JOIN identifiers i ON i.profile_id = x.pid),
        over AS (
            SELECT DISTINCT comp FROM (SELECT comp, kind, count(*) AS n FROM members GROUP BY ALL)
            WHERE n > {max_sql})
        SELECT comp, count(*) = 1 AS one, comp NOT IN (SELECT comp FROM over) AS safe
        FROM makers GROUP BY comp
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _todo AS SELECT m.ci FROM _comp m "
        "JOIN _ccomp x USING (comp) WHERE NOT x.safe"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _safe AS SELECT comp, one FROM _ccomp WHERE safe")
    con.execute("DROP TABLE _ccomp")


def _settle_safe(con: duckdb.DuckDBPyConnection, rules: IdentityRules, res: Resolution) -> None:
    """Settle set-wise every component that no limit can touch; `_todo(ci)` gets the
    combinations of the other components, for the walk.

    A component is safe when no kind has more distinct identifiers in it (the members of the
    existing profiles it touches counted) than its limit: the walk would then never drop an
    identifier, so the whole component ends as one profile: the oldest of its profile makers
    (existing profiles, and combinations whose identifiers all appear there first, which the
    walk creates a profile for), as every merge keeps the older profile. Each new identifier is
    linked by the first combination that carries it. Only the merge log needs the order of
    events: `_merge_log` replays the merges of the components with more than one maker on
    integers, which is what the walk would record."""
    _split_safe(con, rules)
    # existing profiles of safe components, numbered after the combinations for `_merge_log`
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ep AS
        SELECT x.comp, x.pid, p.created_seq,
            (SELECT count(*) FROM _cmb) + row_number() OVER (ORDER BY x.pid) - 1 AS node
        FROM (SELECT DISTINCT m.comp, c.pid FROM _cid c JOIN _comp m USING (ci)
              SEMI JOIN _safe USING (comp) WHERE c.pid IS NOT NULL) x
        LEFT JOIN profiles p ON p.profile_id = x.pid
        """
    )
    # the profile each safe component ends as: its oldest existing one, or its first maker's
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _sp AS
        SELECT s.comp, coalesce(e.pid, mk.pid) AS pid, e.pid IS NOT NULL AS existing, mk.seq,
            mk.ts
        FROM _safe s
        LEFT JOIN (SELECT comp, first(pid ORDER BY coalesce(created_seq, 0), pid) AS pid
                   FROM _ep GROUP BY comp) e USING (comp)
        JOIN (SELECT m.comp, 'p_' || sha256(split_part(arg_min(c.combo, c.ci), '{JOIN}', 1))[:20]
                  AS pid, min(c.seq) AS seq, arg_min(c.ts, c.ci) AS ts
              FROM _comp m SEMI JOIN _safe USING (comp) JOIN _cmb c USING (ci)
              GROUP BY m.comp) mk USING (comp)
        """
    )
    merged = _merge_log(con, res)
    (res.new_profiles,) = con.execute(
        "INSERT INTO profiles SELECT pid, seq, make_timestamp(ts) FROM _sp WHERE NOT existing"
    ).fetchall()[0]
    (res.new_identifiers,) = con.execute(
        """
        INSERT INTO identifiers (kind, value, profile_id, first_seen, last_seen,
            linked_seq, linked_at, linked_by)
        SELECT n.kind, n.value, s.pid, least(make_timestamp(c.ts), n.lo),
            greatest(make_timestamp(c.ts), n.hi), c.seq, make_timestamp(c.ts), e.message_id
        FROM (SELECT kind, value, min(ci) AS ci, min(lo) AS lo, max(hi) AS hi FROM _cid
              WHERE pid IS NULL GROUP BY ALL) n
        JOIN _cmb c USING (ci) JOIN _comp m USING (ci) JOIN _sp s USING (comp)
        LEFT JOIN events e ON e.seq = c.seq
        """
    ).fetchall()[0]
    # existing profiles merged away: their identifiers move to the one the component ends as
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rm AS SELECT e.pid AS old, s.pid AS new "
        "FROM _ep e JOIN _sp s USING (comp) WHERE e.pid <> s.pid"
    )
    con.execute(
        "UPDATE identifiers SET profile_id = r.new FROM _rm r WHERE identifiers.profile_id = r.old"
    )
    con.execute("DELETE FROM profiles WHERE profile_id IN (SELECT old FROM _rm)")
    final = dict(con.execute("SELECT m.old, s.pid FROM _mk m JOIN _sp s USING (comp)").fetchall())
    for old in merged:
        res.merged[old] = final[old]
    for table in ("_sp", "_ep", "_rm", "_mk", "_safe", "_first"):
        con.execute(f"DROP TABLE {table}")


def _merge_log(con: duckdb.DuckDBPyConnection, res: Resolution) -> list[str]:
    """Record the merges of the safe components with more than one profile maker, in seq
    order, as the walk would (the kept profile is the oldest, the others merged in id order,
    with the combination that joined them). Nodes are integers: a combination that creates a
    profile or links new identifiers (its index), or an existing profile (`_ep.node`). Returns
    the profiles merged away; `_mk(old, comp)` gets them with their component."""
    rows = con.execute(
        """
        SELECT c.ci, c.seq, c.ts, c.combo, c.comp, c.intro, c.prev FROM (
            SELECT x.ci, any_value(b.seq) AS seq, any_value(b.ts) AS ts,
                any_value(b.combo) AS combo, any_value(m.comp) AS comp,
                bool_or(x.pid IS NULL AND f.fci = x.ci) AS intro,
                list(DISTINCT coalesce(e.node, f.fci))
                    FILTER (WHERE x.pid IS NOT NULL OR f.fci < x.ci) AS prev
            FROM _cid x JOIN _comp m USING (ci) JOIN _safe s USING (comp)
            JOIN _cmb b USING (ci)
            LEFT JOIN _first f USING (kind, value) LEFT JOIN _ep e ON e.pid = x.pid
            WHERE NOT s.one
            GROUP BY x.ci) c
        WHERE c.intro OR len(c.prev) > 1
        ORDER BY c.ci
        """
    ).fetchall()
    info: dict[int, tuple[int, str]] = {
        int(node): (int(created or 0), pid)
        for node, created, pid in con.execute("SELECT node, created_seq, pid FROM _ep").fetchall()
    }
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while (up := parent.get(root, root)) != root:
            root = up
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    merges = []
    gone: list[tuple[str, int]] = []
    for ci, seq, ts, key, comp, intro, prev in rows:
        roots = {find(x) for x in prev} if prev else set()
        if not roots:  # creates a profile
            info[ci] = (seq, profile_id_for(*ident_of(key.split(JOIN)[0])))
            continue
        keep = min(roots, key=info.__getitem__)
        if len(roots) > 1:
            why = json.dumps([list(ident_of(p)) for p in key.split(JOIN)])
            for other in sorted(roots - {keep}, key=lambda r: info[r][1]):
                merges.append((seq, ts, info[keep][1], info[other][1], why))
                gone.append((info[other][1], comp))
                parent[other] = keep
        if intro:
            parent[ci] = keep
    res.merges += len(merges)
    register(
        con,
        "_mk_in",
        {"old": [g[0] for g in gone], "comp": [g[1] for g in gone]},
        {"old": pa.string(), "comp": pa.int64()},
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _mk AS SELECT * FROM _mk_in")
    con.unregister("_mk_in")
    if merges:
        insert_merges(con, merges)
    return [g[0] for g in gone]


def _load(con: duckdb.DuckDBPyConnection, rules: IdentityRules) -> Graph:
    """The profiles (all their identifiers) that the batch's unsettled combinations touch."""
    graph = Graph(rules)
    rows = con.execute(
        """
        WITH hit AS (
            SELECT DISTINCT i.profile_id FROM identifiers i
            JOIN (SELECT DISTINCT kind, value FROM _cid SEMI JOIN _todo USING (ci)) x
              ON i.kind = x.kind AND i.value = x.value
        )
        SELECT i.kind, i.value, i.profile_id, epoch_us(coalesce(i.linked_at, i.first_seen)),
            p.created_seq
        FROM identifiers i JOIN hit USING (profile_id) LEFT JOIN profiles p USING (profile_id)
        """
    ).fetchall()
    for kind, value, pid, linked, created in rows:
        ident = (kind, value)
        graph.profile_of[ident] = pid
        graph.linked_at[ident] = int(linked or 0)
        graph.members.setdefault(pid, []).append(ident)
        graph.created_seq[pid] = int(created if created is not None else 0)
    return graph


def _walk(
    con: duckdb.DuckDBPyConnection,
    graph: Graph,
    todo: list[tuple[int, int, str]],
    res: Resolution,
    raw: str,
) -> None:
    """Walk first occurrences in seq order. A combination left unsettled (a windowed limit
    dropped one of its identifiers) is walked again at its later occurrences, interleaved in seq
    order, exactly as if every message had been walked.

    The occurrences of every repeated combination are fetched in one query when the first one
    is left unsettled (a query per unsettled combination cost most of a 10M rebuild, which
    leaves hundreds of thousands unsettled)."""
    combos: dict[str, list[Ident]] = {}
    later: list[tuple[int, int, str]] = []  # a heap of (seq, ts, combo)
    occurrences: dict[str, tuple[list[int], list[int]]] | None = None
    walked = 0
    i = 0
    while i < len(todo) or later:
        if later and (i >= len(todo) or later[0][0] < todo[i][0]):
            seq, ts, key = heapq.heappop(later)
            if key not in combos:  # settled at an earlier repeat
                continue
        else:
            seq, ts, key = todo[i]
            i += 1
        combo = combos.get(key)
        if combo is None:
            combo = [ident_of(p) for p in key.split(JOIN)]
        walked += 1
        if graph.walk(combo, seq, ts):
            combos.pop(key, None)
            continue
        if occurrences is None:
            occurrences = _occurrences(con, raw)
        combos[key] = combo
        # only the next occurrence is queued; walking it queues the one after, if still needed
        seqs, tss = occurrences.get(key, ([], []))
        j = bisect.bisect_right(seqs, seq)
        if j < len(seqs):
            heapq.heappush(later, (seqs[j], tss[j], key))
    res.walked = walked


def _occurrences(
    con: duckdb.DuckDBPyConnection, raw: str
) -> dict[str, tuple[list[int], list[int]]]:
    """combo -> (seqs, epoch-us times) of its events in the batch, in seq order, for every
    walked combination with more than one event. Events are matched by the hash of their raw
    fields (64-bit: no collisions are expected among the distinct field sets of a batch); the
    batch's fields are extracted again, as this is needed only when a limit left one unsettled."""
    rows = con.execute(
        f"""
        SELECT c.combo, list(e.seq ORDER BY e.seq), list(epoch_us(e.ts) ORDER BY e.seq)
        FROM (SELECT seq, ts, h FROM ({raw})) e
        JOIN (SELECT combo, unnest(hs) AS h FROM _cmb SEMI JOIN _todo USING (ci) WHERE n > 1) c
            USING (h)
        GROUP BY c.combo
        """
    ).fetchall()
    return {combo: (seqs, tss) for combo, seqs, tss in rows}


def rebuild(
    con: duckdb.DuckDBPyConnection, rules: IdentityRules, chunk: int = 16_000_000
) -> Resolution:
    """Recompute the graph from the whole event log in seq order (inside the caller's
    transaction). Gives the same graph as resolving batch by batch.

    Events are resolved `chunk` at a time, which bounds memory (about 2.5 GB for one 10M range
    of the demo). Fewer, larger ranges are cheaper: a chunk repeats little of the last one's
    work, but each sees the combinations of its own events again (a 2M chunk of the 10M demo
    holds 350k distinct ones; the whole log 980k)."""
    clear_tables(con, *WIPE)
    (lo, hi) = con.execute(
        "SELECT coalesce(min(seq), 1), coalesce(max(seq), 0) FROM events"
    ).fetchall()[0]
    total = Resolution(int(lo), int(hi))
    for start in _chunks(int(lo), int(hi), chunk):
        part = resolve(con, start, min(start + chunk - 1, int(hi)), rules)
        total.messages += part.messages
        total.walked += part.walked
        total.new_identifiers += part.new_identifiers
        total.new_profiles += part.new_profiles
        total.merges += part.merges
        total.drops += part.drops
        total.merged.update(part.merged)
    return total


def _chunks(lo: int, hi: int, size: int) -> Iterable[int]:
    return range(lo, hi + 1, size)
