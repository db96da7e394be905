"""Identifiers of each message, extracted set-wise in DuckDB.

Identifiers follow Segment Unify: user_id, anonymous_id (and an alias's previousId), email from
traits or context.traits, device ids by device type, advertising ids when ad tracking is
enabled, push tokens, context.externalIds, and the custom kinds of the rules. Most events repeat
the fields of earlier ones, so the costly part (filters, blocked values, priorities) runs once
per distinct set of fields.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp

from touchpath.identity.rules import IdentityRules

__all__ = [
    "JOIN",
    "SEP",
    "SKIPPED",
    "Ident",
    "combos_sql",
    "extract_sql",
    "lit",
    "profile_id_for",
    "raw_sql",
]

SEP = "\x1f"
"""Between kind and value in a combination key."""
JOIN = "\x1e"
"""Between identifiers in a combination key."""

Ident = tuple[str, str]

SKIPPED = "NOT (source = 'touchpath.journeys' AND type = 'track')"
"""Events identity does not resolve: a journey's tracks (Journey Entered / Step Reached /
Exited, Experiment Viewed) carry only the ids the engine took from the graph for a person it
found there, so resolving them finds nothing new (they were most of the work of a journey run:
~4 per person and step), and a person is not "seen" because a journey acted. Its identifies
(`update_trait`) are resolved: a trait may be an email."""


def profile_id_for(kind: str, value: str) -> str:
    """The id of a profile created by the identifier (kind, value): stable across rebuilds.

    >>> pid = profile_id_for("user_id", "u1")
    >>> pid.startswith("p_"), len(pid), pid == profile_id_for("user_id", "u1")
    (True, 22, True)
    """
    return "p_" + hashlib.sha256(f"{kind}{SEP}{value}".encode()).hexdigest()[:20]


def raw_sql(rules: IdentityRules, first: int, last: int) -> str:
    """SELECT seq, ts, r, h: the identifier fields of events with seq in [first, last] as they
    are (a struct `r`, context parsed once per event) and a 64-bit hash of them.

    Most events repeat the fields of earlier ones, so the costly part of extraction (filters,
    blocked-value patterns, priorities) runs once per distinct `r` (`combos_sql`), not per event.
    """
    paths = [
        "$.device.type", "$.device.id", "$.device.advertisingId", "$.device.adTrackingEnabled",
        "$.device.token", "$.traits.email", "$.externalIds",
    ]  # fmt: skip
    ctx = "json_extract_string(context, [" + ", ".join(lit(p) for p in paths) + "])"
    fields = [
        "'u': user_id",
        "'a': anonymous_id",
        "'p': CASE WHEN type = 'alias' THEN previous_id END",
        "'e': coalesce(json_extract_string(traits, '$.email'), c[6])",
        "'dt': c[1]",
        "'d': c[2]",
        "'ad': CASE WHEN coalesce(try_cast(c[4] AS BOOLEAN), false) THEN c[3] END",
        "'pt': c[5]",
    ]
    if rules.external_ids:
        fields.append("'x': c[7]")
    for i, path in enumerate(rules.custom.values()):
        fields.append(f"'c{i}': {_path_sql(path)}")
    return f"""
        SELECT seq, ts, r, hash(r) AS h FROM (
            SELECT seq, timestamp AS ts, {{{", ".join(fields)}}} AS r
            FROM (SELECT *, {ctx} AS c FROM events
                  WHERE seq BETWEEN {int(first)} AND {int(last)} AND {SKIPPED}))
    """


def combos_sql(rules: IdentityRules, rel: str, key: str) -> str:
    """SELECT key, combo for the rows of `rel` (which has the struct `r` of `raw_sql`) that have
    identifiers: one grouped aggregate over the unnested identifiers.

    Identifiers follow Segment Unify: user_id, anonymous_id (and an alias's previousId), email
    from traits or context.traits, device ids by device type, advertising ids when ad tracking is
    enabled, push tokens, context.externalIds, and the custom kinds of the rules. `combo` joins
    the distinct, unblocked identifiers (`kind SEP value`, most trusted first) with JOIN; rows
    with none are left out.
    """
    ids, keep, ranked = _identifier_parts(rules)
    return f"""
        SELECT {key}, list_aggr(list_transform(list_sort(list(DISTINCT {ranked})),
                lambda y: y.k || '{SEP}' || y.v), 'string_agg', '{JOIN}') AS combo
        FROM (SELECT {key}, unnest({ids}) AS x FROM {rel})
        WHERE {keep}
        GROUP BY {key}
    """


def _identifier_parts(rules: IdentityRules) -> tuple[str, str, str]:
    """The list of {k, v} identifiers of a row's `r`, the condition one must meet, and its
    {p, k, v} with the priority p."""
    dev = "coalesce(lower(r.dt), 'device')"
    items = [
        "{'k': 'user_id', 'v': r.u}",
        "{'k': 'anonymous_id', 'v': r.a}",
        "{'k': 'anonymous_id', 'v': r.p}",
        "{'k': 'email', 'v': lower(trim(r.e))}",
        f"{{'k': {dev} || '.id', 'v': r.d}}",
        f"{{'k': {dev} || '.advertising_id', 'v': r.ad}}",
        f"{{'k': {dev} || '.push_token', 'v': r.pt}}",
    ]
    for i, kind in enumerate(rules.custom):
        items.append(f"{{'k': {lit(kind)}, 'v': r.c{i}}}")
    ids = "[" + ", ".join(items) + "]"
    if rules.external_ids:
        ids += (
            " || CASE WHEN r.x IS NULL THEN [] ELSE list_transform("
            "json_extract(r.x, '$[*]'), lambda x: {'k': json_extract_string(x, '$.type'), "
            "'v': json_extract_string(x, '$.id')}) END"
        )
    keep = (
        "x.v IS NOT NULL AND trim(x.v) <> '' AND x.k IS NOT NULL AND x.k <> '' "
        f"AND NOT ({rules.blocked_sql('x.v')})"
    )
    ranked = f"{{'p': {rules.priority_sql('x.k')}, 'k': x.k, 'v': x.v}}"
    return ids, keep, ranked


def extract_sql(rules: IdentityRules, first: int, last: int) -> str:
    """SELECT seq, ts, combo: each event with seq in [first, last] that has identifiers."""
    return (
        f"WITH r AS ({raw_sql(rules, first, last)}) "
        f"SELECT r.seq, r.ts, c.combo FROM r JOIN ({combos_sql(rules, 'r', 'seq')}) c USING (seq)"
    )


def _path_sql(path: str) -> str:
    """The string at `path`: properties.x, traits.x, context.x.y, or a bare property name."""
    root, _, rest = path.partition(".")
    column, keys = (root, rest.split(".")) if root in _ROOTS and rest else ("properties", [path])
    json_path = "$" + "".join('."' + k.replace('"', '\\"') + '"' for k in keys)
    return exp.func("json_extract_string", exp.column(column), exp.Literal.string(json_path)).sql(
        "duckdb"
    )


_ROOTS = ("properties", "traits", "context")


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
