"""The identity graph: identifiers of each message, joined into stable profiles by merge rules.

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

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from touchpath.identity.rules import IdentityRules

__all__ = [
    "Resolution",
    "extract_sql",
    "profile_id_for",
    "rebuild",
    "resolve",
    "resolved_through",
]

SEP = "\x1f"
"""Between kind and value in a combination key."""
JOIN = "\x1e"
"""Between identifiers in a combination key."""

Ident = tuple[str, str]

_DAY_US = 86_400_000_000


def profile_id_for(kind: str, value: str) -> str:
    """The id of a profile created by the identifier (kind, value): stable across rebuilds.

    >>> pid = profile_id_for("user_id", "u1")
    >>> pid.startswith("p_"), len(pid), pid == profile_id_for("user_id", "u1")
    (True, 22, True)
    """
    return "p_" + hashlib.sha256(f"{kind}{SEP}{value}".encode()).hexdigest()[:20]


def extract_sql(rules: IdentityRules, first: int, last: int) -> str:
    """SELECT seq, ts, kind, value, prio: the identifiers of events with seq in [first, last].

    Identifiers follow Segment Unify: user_id, anonymous_id (and an alias's previousId), email
    from traits or context.traits, device ids by device type, advertising ids when ad tracking is
    enabled, push tokens, context.externalIds, and the custom kinds of the rules.
    """
    custom = "".join(f", {_path_sql(path)} AS c{i}" for i, path in enumerate(rules.custom.values()))
    parts = [
        "SELECT seq, ts, 'user_id' AS kind, user_id AS value FROM w",
        "SELECT seq, ts, 'anonymous_id', anonymous_id FROM w",
        "SELECT seq, ts, 'anonymous_id', previous_id FROM w WHERE type = 'alias'",
        "SELECT seq, ts, 'email', email FROM w",
        "SELECT seq, ts, dev_type || '.id', device_id FROM w",
        "SELECT seq, ts, dev_type || '.advertising_id', ad_id FROM w WHERE ad_on",
        "SELECT seq, ts, dev_type || '.push_token', push_token FROM w",
    ]
    for i, kind in enumerate(rules.custom):
        parts.append(f"SELECT seq, ts, {_lit(kind)}, c{i} FROM w")
    if rules.external_ids:
        parts.append(
            "SELECT seq, ts, json_extract_string(x, '$.type'), json_extract_string(x, '$.id') "
            "FROM (SELECT seq, ts, unnest(ext) AS x FROM w WHERE ext IS NOT NULL)"
        )
    union = "\nUNION ALL ".join(parts)
    ext = ", json_extract(context, '$.externalIds[*]') AS ext" if rules.external_ids else ""
    return f"""
        WITH w AS MATERIALIZED (
            SELECT seq, timestamp AS ts, type, user_id, anonymous_id, previous_id,
                lower(trim(coalesce(json_extract_string(traits, '$.email'),
                                    json_extract_string(context, '$.traits.email')))) AS email,
                coalesce(lower(json_extract_string(context, '$.device.type')), 'device')
                    AS dev_type,
                json_extract_string(context, '$.device.id') AS device_id,
                json_extract_string(context, '$.device.advertisingId') AS ad_id,
                coalesce(try_cast(json_extract_string(context, '$.device.adTrackingEnabled')
                    AS BOOLEAN), false) AS ad_on,
                json_extract_string(context, '$.device.token') AS push_token
                {ext}{custom}
            FROM events WHERE seq BETWEEN {int(first)} AND {int(last)}
        ), raw AS ({union})
        SELECT seq, ts, kind, value, {rules.priority_sql()} AS prio
        FROM raw
        WHERE value IS NOT NULL AND trim(value) <> '' AND kind IS NOT NULL AND kind <> ''
          AND NOT ({rules.blocked_sql()})
    """


def _path_sql(path: str) -> str:
    """The string at `path`: properties.x, traits.x, context.x.y, or a bare property name."""
    root, _, rest = path.partition(".")
    column, keys = (root, rest.split(".")) if root in _ROOTS and rest else ("properties", [path])
    json_path = "$" + "".join('."' + k.replace('"', '\\"') + '"' for k in keys)
    return exp.func("json_extract_string", exp.column(column), exp.Literal.string(json_path)).sql(
        "duckdb"
    )


_ROOTS = ("properties", "traits", "context")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Resolution:
    """What one `resolve` call changed."""

    first: int
    last: int
    messages: int = 0
    walked: int = 0
    new_identifiers: int = 0
    new_profiles: int = 0
    merges: int = 0
    drops: int = 0
    merged: dict[str, str] = field(default_factory=dict)
    """Profiles merged away in this call -> the profile they live on in."""


@dataclass
class _Graph:
    """The part of the graph a batch touches, in memory."""

    rules: IdentityRules
    profile_of: dict[Ident, str] = field(default_factory=dict)
    members: dict[str, list[Ident]] = field(default_factory=dict)
    linked_at: dict[Ident, int] = field(default_factory=dict)
    created_seq: dict[str, int] = field(default_factory=dict)
    new_idents: dict[Ident, tuple[int, int]] = field(default_factory=dict)
    new_profiles: dict[str, tuple[int, int]] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    merges: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    drops: list[tuple[int, int, str, str, str]] = field(default_factory=list)

    def _violations(self, pids: set[str], new: list[Ident], ts: int) -> list[str]:
        """Kinds whose limit the union of `pids` plus `new` would break at time `ts`."""
        counts: dict[str, int] = {}
        rules = self.rules
        for ident in new:
            counts[ident[0]] = counts.get(ident[0], 0) + 1
        for pid in pids:
            for ident in self.members[pid]:
                lim = rules.limit(ident[0])
                if lim.within_days is not None and (
                    self.linked_at[ident] < ts - lim.within_days * _DAY_US
                ):
                    continue
                counts[ident[0]] = counts.get(ident[0], 0) + 1
        return [k for k, n in counts.items() if n > rules.limit(k).max]

    def walk(self, combo: list[Ident], seq: int, ts: int) -> bool:
        """Resolve one message's identifiers (most trusted first). True if nothing can change
        when the same combination comes again (every later repeat is then a no-op)."""
        ids = list(combo)
        settled = True
        while True:
            pids = {p for i in ids if (p := self.profile_of.get(i)) is not None}
            new = [i for i in ids if i not in self.profile_of]
            bad = self._violations(pids, new, ts) if (len(pids) > 1 or new) else []
            if not bad:
                break
            if any(self.rules.limit(k).within_days is not None for k in bad):
                settled = False
            dropped = ids.pop()
            why = "would give the profile more " + " and ".join(
                f"{k} than {self.rules.limit(k).max}" for k in sorted(bad)
            )
            self.drops.append((seq, ts, dropped[0], dropped[1], why))
            if dropped not in self.profile_of:
                self._create([dropped], seq, ts)
        if not ids:
            return settled
        if not pids:
            self._create(new, seq, ts)
            return settled
        keep = min(pids, key=lambda p: (self.created_seq[p], p))
        for other in sorted(pids - {keep}):
            self._merge(keep, other, seq, ts, combo)
        self._attach(keep, new, seq, ts)
        return settled

    def _create(self, idents: list[Ident], seq: int, ts: int) -> None:
        pid = profile_id_for(*idents[0])
        self.members[pid] = []
        self.created_seq[pid] = seq
        self.new_profiles[pid] = (seq, ts)
        self._attach(pid, idents, seq, ts)

    def _attach(self, pid: str, idents: list[Ident], seq: int, ts: int) -> None:
        members = self.members[pid]
        for ident in idents:
            self.profile_of[ident] = pid
            self.linked_at[ident] = ts
            self.new_idents[ident] = (seq, ts)
            members.append(ident)

    def _merge(self, keep: str, other: str, seq: int, ts: int, combo: list[Ident]) -> None:
        moved = self.members.pop(other)
        for ident in moved:
            self.profile_of[ident] = keep
        self.members[keep].extend(moved)
        del self.created_seq[other]
        self.new_profiles.pop(other, None)
        self.merged_into[other] = keep
        why = json.dumps([list(i) for i in combo])
        self.merges.append((seq, ts, keep, other, why))


def resolved_through(con: duckdb.DuckDBPyConnection) -> int:
    """The last seq the graph has resolved (0 when nothing has been)."""
    row = con.execute("SELECT value FROM identity_state WHERE key = 'resolved_through'").fetchall()
    return int(row[0][0]) if row else 0


def resolve(
    con: duckdb.DuckDBPyConnection, first: int, last: int, rules: IdentityRules
) -> Resolution:
    """Resolve events with seq in [first, last] into the graph. Runs inside the caller's
    transaction on the writer connection."""
    res = Resolution(first, last)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _idx AS {extract_sql(rules, first, last)}")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _msg AS
        SELECT x.seq, epoch_us(any_value(x.ts)) AS ts,
            string_agg(x.kind || '{SEP}' || x.value, '{JOIN}' ORDER BY x.prio, x.kind, x.value)
                AS combo,
            count(*) FILTER (WHERE i.profile_id IS NULL) AS unmapped,
            count(DISTINCT i.profile_id) AS profiles
        FROM (SELECT DISTINCT seq, ts, kind, value, prio FROM _idx) x
        LEFT JOIN identifiers i ON i.kind = x.kind AND i.value = x.value
        GROUP BY x.seq
        """
    )
    (res.messages,) = con.execute("SELECT count(*) FROM _msg").fetchall()[0]
    todo = con.sql(
        "SELECT seq, ts, combo FROM _msg WHERE unmapped > 0 OR profiles > 1 ORDER BY seq"
    ).to_arrow_table()
    if todo.num_rows:
        graph = _load(con, rules)
        _walk(graph, todo, res)
        _save(con, graph, res)
    _touch_seen(con)
    con.execute(
        "INSERT OR REPLACE INTO identity_state VALUES ('resolved_through', "
        f"greatest({int(last)}, (SELECT coalesce(max(value), 0) FROM identity_state "
        "WHERE key = 'resolved_through')))"
    )
    con.execute("DROP TABLE _idx")
    con.execute("DROP TABLE _msg")
    return res


def _load(con: duckdb.DuckDBPyConnection, rules: IdentityRules) -> _Graph:
    """The profiles (all their identifiers) that the batch's unsettled messages touch."""
    graph = _Graph(rules)
    rows = con.execute(
        """
        WITH hit AS (
            SELECT DISTINCT i.profile_id FROM identifiers i
            JOIN (SELECT DISTINCT kind, value FROM _idx WHERE seq IN (
                    SELECT seq FROM _msg WHERE unmapped > 0 OR profiles > 1)) x
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


def _walk(graph: _Graph, todo: pa.Table, res: Resolution) -> None:
    encoded = pc.dictionary_encode(todo.column("combo")).combine_chunks()
    combos: list[list[Ident]] = [
        [(p.split(SEP, 1)[0], p.split(SEP, 1)[1]) for p in key.split(JOIN)]
        for key in encoded.dictionary.to_pylist()
    ]
    codes = encoded.indices.to_pylist()
    seqs = todo.column("seq").to_pylist()
    stamps = todo.column("ts").to_pylist()
    settled: set[int] = set()
    walked = 0
    for code, seq, ts in zip(codes, seqs, stamps, strict=True):
        if code in settled:
            continue
        walked += 1
        if graph.walk(combos[code], seq, ts):
            settled.add(code)
    res.walked = walked


def _final(merged_into: dict[str, str], pid: str) -> str:
    while pid in merged_into:
        pid = merged_into[pid]
    return pid


def _save(con: duckdb.DuckDBPyConnection, graph: _Graph, res: Resolution) -> None:
    merged = {old: _final(graph.merged_into, old) for old in graph.merged_into}
    res.merged = merged
    res.new_identifiers = len(graph.new_idents)
    res.new_profiles = len(graph.new_profiles)
    res.merges = len(graph.merges)
    res.drops = len(graph.drops)
    if merged:
        _register(
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
    if graph.new_profiles:
        pids = list(graph.new_profiles)
        _register(
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
    if graph.new_idents:
        idents = list(graph.new_idents)
        _register(
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
            "SELECT n.kind, n.value, n.profile_id, make_timestamp(n.ts), make_timestamp(n.ts), "
            "n.seq, make_timestamp(n.ts), e.message_id "
            "FROM _newi n LEFT JOIN events e ON e.seq = n.seq"
        )
        con.unregister("_newi")
    if graph.merges:
        _register(
            con,
            "_merges",
            {k: [m[i] for m in graph.merges] for i, k in enumerate(("seq", "ts", "kept", "gone", "why"))},
            {"seq": pa.int64(), "ts": pa.int64(), "kept": pa.string(), "gone": pa.string(), "why": pa.string()},
        )  # fmt: skip
        con.execute(
            "INSERT INTO merges SELECT m.seq, e.message_id, make_timestamp(m.ts), m.kept, m.gone, "
            "m.why FROM _merges m LEFT JOIN events e ON e.seq = m.seq"
        )
        con.unregister("_merges")
    if graph.drops:
        _register(
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


def _register(
    con: duckdb.DuckDBPyConnection, name: str, cols: dict[str, list[Any]], types: dict[str, Any]
) -> None:
    con.register(name, pa.table({k: pa.array(v, types[k]) for k, v in cols.items()}))


def _touch_seen(con: duckdb.DuckDBPyConnection) -> None:
    """Widen first_seen/last_seen of every identifier the batch mentions."""
    con.execute(
        """
        UPDATE identifiers SET first_seen = least(identifiers.first_seen, b.lo),
                               last_seen = greatest(identifiers.last_seen, b.hi)
        FROM (SELECT kind, value, min(ts) AS lo, max(ts) AS hi FROM _idx GROUP BY ALL) b
        WHERE identifiers.kind = b.kind AND identifiers.value = b.value
          AND (b.lo < identifiers.first_seen OR b.hi > identifiers.last_seen)
        """
    )


_WIPE = ("identifiers", "profiles", "merges", "identity_drops", "identity_state")


def rebuild(
    con: duckdb.DuckDBPyConnection, rules: IdentityRules, chunk: int = 2_000_000
) -> Resolution:
    """Recompute the graph from the whole event log in seq order (inside the caller's
    transaction). Gives the same graph as resolving batch by batch."""
    for table in _WIPE:
        con.execute(f"DELETE FROM {table}")
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
