"""Paths: the sequences of events people take from a start event, or up to an end event.

Each profile's events are split into sessions after `session_gap` of inactivity (30 minutes by
default). In each session the path starts at the first start event (or ends at the first end
event, or starts at the session's first event when neither is given) and runs `steps` events.
Names can be cleaned with wildcard or regex rules (e.g. `Product */*` -> `Product page`),
excluded, and repeated names collapsed. The result is a Sankey: nodes `(step, name)` and
weighted edges between consecutive steps, with a minimum weight and the top K edges kept.

`after_dropoff` gives the paths of the profiles that dropped off a funnel: those who made step
k-1 but not step k, from their step k-1 event on.

>>> wildcard_regex("Product/*")
'^Product/.*$'
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator
from sqlglot import exp

from touchpath.analytics.breakdown import Duration
from touchpath.analytics.funnels import FunnelSpec, reached_sql
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result, Spec
from touchpath.events.match import JOURNEY_TYPES, EventMatch, Frozen, TimeRange, literal

__all__ = [
    "ANALYSIS",
    "CleaningRule",
    "FunnelDropoff",
    "PathEdge",
    "PathNode",
    "PathsResult",
    "PathsSpec",
    "TopPath",
    "can_use_sorted",
    "paths_sql",
    "wildcard_regex",
]

ARROW = " → "


def wildcard_regex(pattern: str) -> str:
    """A whole-name regex for a wildcard pattern (`*` any text, `?` one character)."""
    out = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return f"^{out}$"


class CleaningRule(Frozen):
    """Rename event names that match `pattern` (a wildcard, or a regex with `regex: true`)."""

    pattern: str = Field(min_length=1)
    replacement: str
    regex: bool = False

    @model_validator(mode="after")
    def _valid_regex(self) -> CleaningRule:
        if self.regex:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern: not a valid regex: {exc}") from None
        return self

    def apply(self, name: str) -> str:
        """SQL applying the rule to the expression `name`."""
        pattern = self.pattern if self.regex else wildcard_regex(self.pattern)
        return (
            f"regexp_replace({name}, {literal(pattern).sql('duckdb')}, "
            f"{literal(self.replacement).sql('duckdb')}, 'g')"
        )


class FunnelDropoff(Frozen):
    """The profiles that made step `step - 1` of `funnel` but not step `step`."""

    funnel: FunnelSpec
    step: int = Field(ge=2)

    @model_validator(mode="after")
    def _in_funnel(self) -> FunnelDropoff:
        if self.step > len(self.funnel.steps):
            raise ValueError(f"step: {self.step} is past the funnel's last step")
        return self


class PathsSpec(Spec):
    """Which paths: anchor, length, sessions, cleaning, exclusions and edge filters."""

    kind: Literal["paths"] = "paths"
    start: EventMatch | None = None
    end: EventMatch | None = None
    after_dropoff: FunnelDropoff | None = None
    steps: int = Field(default=5, ge=2, le=20)
    session_gap: Duration = 1800
    cleaning: tuple[CleaningRule, ...] = ()
    exclude: tuple[str, ...] = ()
    collapse_repeats: bool = False
    min_edge_weight: int = Field(default=1, ge=1)
    top_edges: int = Field(default=50, ge=1, le=10_000)
    top_paths: int = Field(default=10, ge=0, le=1000)
    time_range: TimeRange = TimeRange()

    @model_validator(mode="after")
    def _one_anchor(self) -> PathsSpec:
        given = [n for n in ("start", "end", "after_dropoff") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"{' and '.join(given)}: give only one anchor")
        return self


class PathNode(Frozen):
    id: str
    step: int
    name: str
    count: int


class PathEdge(Frozen):
    source: str
    target: str
    step: int
    weight: int


class TopPath(Frozen):
    path: list[str]
    count: int


class PathsResult(Result):
    """A Sankey: nodes per step and the weighted edges between them."""

    kind: Literal["paths"] = "paths"
    total: int
    nodes: list[PathNode]
    edges: list[PathEdge]
    top_paths: list[TopPath]


def _name_sql(spec: PathsSpec) -> str:
    name = "coalesce(event, type)"
    for rule in spec.cleaning:
        name = rule.apply(name)
    return name


def can_use_sorted(spec: PathsSpec) -> bool:
    """Whether the sorted journey copy holds what these paths need: a start or end anchor (or
    none) on `event`, `type` and `channel` only."""
    if spec.after_dropoff is not None:
        return False
    exprs = [a.condition() for a in (spec.start, spec.end) if a is not None]
    return all(
        c.name in ("event", "type", "channel") for e in exprs for c in e.find_all(exp.Column)
    )


def paths_sql(spec: PathsSpec, sorted_copy: bool = False) -> str:
    """SELECT pid, first_step, path: one row per path, its names in order from step `first_step`.

    One window pass over the journey events sorted by (hash of the profile, time, seq) numbers
    them and marks session starts (a second one only when repeats collapse). The first anchor of
    each session comes from an ASOF join of anchors to session starts; its `steps` rows are then
    found by hash lookups on (profile, number) and cut where the next session begins. Whole
    sessions are never numbered or materialised as paths.
    """
    where = (
        f"type IN ({', '.join(repr(t) for t in JOURNEY_TYPES)}) AND "
        + spec.time_range.condition().sql("duckdb")
    )
    anchor_cond = "false"
    drop = ""
    join = ""
    if spec.start is not None:
        anchor_cond = spec.start.condition().sql("duckdb")
    elif spec.end is not None:
        anchor_cond = spec.end.condition().sql("duckdb")
    elif spec.after_dropoff is not None:
        fun, k = spec.after_dropoff.funnel, spec.after_dropoff.step - 1
        drop = (
            f"reached AS MATERIALIZED ({reached_sql(fun)}), "
            f"dropped AS (SELECT pid, reached_at FROM reached WHERE step = {k - 1} "
            f"AND pid NOT IN (SELECT pid FROM reached WHERE step = {k})), "
        )
        join = "LEFT JOIN dropped d ON d.pid = e.profile_id AND d.reached_at = e.timestamp"
        anchor_cond = f"d.pid IS NOT NULL AND {fun.steps[k - 1].condition().sql('duckdb')}"
    excluded = " OR ".join(
        f"regexp_full_match(name, {literal(wildcard_regex(x)).sql('duckdb')})" for x in spec.exclude
    )
    keep = f"WHERE NOT ({excluded}) OR anchor" if excluded else ""
    gap = int(spec.session_gap)
    n = int(spec.steps)
    # A 64-bit hash of the profile id sorts about twice as fast as the text.
    w = "WINDOW w AS (PARTITION BY h ORDER BY ts, seq)"
    new_s = f"coalesce(ts > lag(ts) OVER w + to_seconds({gap}), true) AS new_s"
    source = f"resolved_events e {join} WHERE {where}"
    profile = "hash(e.profile_id) AS h, e.profile_id AS pid"
    if sorted_copy:
        # Already in (profile, time, seq) order: number and compare neighbours as stored.
        w = "WINDOW w AS ()"
        new_s = f"coalesce(h <> lag(h) OVER w OR ts > lag(ts) OVER w + to_seconds({gap}), true) AS new_s"
        source = (
            "(SELECT pno, ts AS timestamp, seq, type, event, channel FROM journey_events) e "
            f"WHERE {spec.time_range.condition().sql('duckdb')}"
        )
        profile = "e.pno AS h, e.pno AS pid"
    if spec.collapse_repeats:
        # Drop a name repeated within a session (never an anchor), then number what is left.
        numbered = f"""
repeats AS (SELECT *, {new_s}, lag(name) OVER w AS prev_name FROM kept {w}),
marked AS MATERIALIZED (
    SELECT h, pid, name, anchor, new_s, row_number() OVER w AS rn FROM repeats
    WHERE anchor OR new_s OR name IS DISTINCT FROM prev_name {w}
)"""
    else:
        numbered = f"""
marked AS MATERIALIZED (
    SELECT h, pid, name, anchor, {new_s}, row_number() OVER w AS rn FROM kept {w}
)"""
    if anchor_cond == "false":
        firsts = "SELECT h, rn AS arn FROM marked WHERE new_s"
    else:
        # The first anchor of each session: anchors matched to their session's first row.
        firsts = (
            "SELECT a.h, min(a.rn) AS arn FROM (SELECT h, rn FROM marked WHERE anchor) a "
            "ASOF JOIN (SELECT h, rn FROM marked WHERE new_s) s ON a.h = s.h AND a.rn >= s.rn "
            "GROUP BY a.h, s.rn"
        )
    if spec.end is not None:
        offsets = f"range({1 - n}, 1)"
        # From the session's first row when that is fewer than `steps` rows back.
        size = f"1 - coalesce(lo, {1 - n})"
        path = f"list_slice(names, len(names) - ({size}) + 1, len(names))"
        first_step = f"{n} - ({size}) + 1"
    else:
        offsets = f"range(0, {n})"
        path = f"list_slice(names, 1, coalesce(cut, {n}))"
        first_step = "1"
    return f"""
WITH {drop}ev AS (
    SELECT {profile}, e.timestamp AS ts, e.seq,
        {_name_sql(spec)} AS name, coalesce({anchor_cond}, false) AS anchor
    FROM {source}
), kept AS (SELECT * FROM ev {keep}),{numbered},
firsts AS ({firsts}),
hops AS (
    SELECT f.h, f.arn, m.pid, o.off, m.name, m.new_s
    FROM firsts f CROSS JOIN {offsets} o(off)
    JOIN marked m ON m.h = f.h AND m.rn = f.arn + o.off
),
grouped AS (
    SELECT any_value(pid) AS pid, list(name ORDER BY off) AS names,
        min(off) FILTER (WHERE new_s AND off > 0) AS cut, max(off) FILTER (WHERE new_s) AS lo
    FROM hops GROUP BY h, arn
)
SELECT {"p.profile_id" if sorted_copy else "pid"} AS pid, {first_step} AS first_step,
    {path} AS path FROM grouped {"JOIN journey_profiles p ON p.pno = grouped.pid" if sorted_copy else ""}
"""


def _sorted_paths_sql(spec: PathsSpec) -> str:
    """`paths_sql` on the sorted journey copy in streaming passes: no sort, no join.

    Rows come in (profile, time, seq) order. A row starts a session when its profile differs
    from the row before or the gap is over `session_gap`; `sess` (the session's first row
    number) and the session of the last anchor before the row are carried over the stream by
    `last_value(... IGNORE NULLS)`, so the first anchor of each session is the anchor whose
    session the previous anchor was not in. Its path is read from its neighbours by `lead`
    (a start, or no anchor) or `lag` (an end), cut at the session's edge. `pid` is the
    profile's number in the copy (`journey_profiles` maps it to the id).
    """
    anchor = spec.start or spec.end
    anchor_cond = anchor.condition().sql("duckdb") if anchor is not None else "false"
    excluded = " OR ".join(
        f"regexp_full_match(name, {literal(wildcard_regex(x)).sql('duckdb')})" for x in spec.exclude
    )
    keep = f"WHERE NOT ({excluded}) OR anchor" if excluded else ""
    gap = int(spec.session_gap)
    n = int(spec.steps)
    new_s = (
        "coalesce(pno <> lag(pno) OVER () OR ts > lag(ts) OVER () + "
        f"to_seconds({gap}), true) AS new_s"
    )
    if spec.collapse_repeats:
        # Drop a name repeated within a session (never an anchor), then number what is left.
        marked = f"""
repeats AS (SELECT *, {new_s}, lag(name) OVER () AS prev_name FROM kept),
marked AS (
    SELECT *, row_number() OVER () AS rn FROM repeats
    WHERE anchor OR new_s OR name IS DISTINCT FROM prev_name
)"""
    else:
        marked = (
            f"marked AS (SELECT *, row_number() OVER () AS rn FROM (SELECT *, {new_s} FROM kept))"
        )
    over = "OVER (ROWS UNBOUNDED PRECEDING)"
    first = "new_s" if anchor is None else "anchor AND lag(asess) OVER () IS DISTINCT FROM sess"
    if spec.end is not None:
        # Back from the anchor to at most the session's first row: only the rows up to n - 1
        # before a first anchor go on (found by `lead` of the cheap flag), then `lag` names.
        near = " OR ".join(
            ["first"] + [f"coalesce(lead(first, {i}) OVER (), false)" for i in range(1, n)]
        )
        names = [f"lag(name, {i}) OVER () AS n{i}" for i in range(1, n)]
        size = f"least({n}, rn - sess + 1)"
        path = f"list_slice([{', '.join([f'n{i}' for i in range(n - 1, 0, -1)] + ['name'])}], {n} - {size} + 1, {n})"
        first_step = f"{n} - {size} + 1"
        spans = f"""
inpath AS (SELECT pno, rn, sess, name, first FROM (SELECT *, {near} AS near FROM marks) WHERE near),
firsts AS (SELECT * FROM (SELECT *, {", ".join(names)} FROM inpath) WHERE first)"""
    else:
        # On from the anchor up to `steps` rows or the session's end: the rows of each path are
        # those whose last first anchor `fr` (carried) is in their session and < n rows back.
        names = [
            f"lead(name, {i}) OVER () AS n{i}, lead(fr, {i}) OVER () AS r{i}" for i in range(1, n)
        ]
        cuts = " ".join(f"WHEN r{i} IS DISTINCT FROM fr THEN {i}" for i in range(1, n))
        path = f"list_slice([{', '.join(['name'] + [f'n{i}' for i in range(1, n)])}], 1, CASE {cuts} ELSE {n} END)"
        first_step = "1"
        spans = f"""
inpath AS (
    SELECT pno, rn, fr, name FROM (
        SELECT *, last_value(CASE WHEN first THEN rn END IGNORE NULLS) {over} AS fr,
            last_value(CASE WHEN first THEN sess END IGNORE NULLS) {over} AS fs FROM marks
    ) WHERE fs = sess AND rn - fr < {n}
),
firsts AS (SELECT * FROM (SELECT *, {", ".join(names)} FROM inpath) WHERE rn = fr)"""
    return f"""
WITH ev AS (
    SELECT pno, ts, {_name_sql(spec)} AS name, coalesce({anchor_cond}, false) AS anchor
    FROM (SELECT pno, ts, seq, type, event, channel FROM journey_events)
    WHERE {spec.time_range.condition().sql("duckdb")}
), kept AS (SELECT * FROM ev {keep}), {marked},
carried AS (
    SELECT *, last_value(CASE WHEN anchor THEN sess END IGNORE NULLS) {over} AS asess
    FROM (SELECT *, last_value(CASE WHEN new_s THEN rn END IGNORE NULLS) {over} AS sess FROM marked)
),
marks AS (SELECT *, {first} AS first FROM carried),{spans}
SELECT pno AS pid, {first_step} AS first_step, {path} AS path FROM firsts
"""


def _run(read: Read, spec: PathsSpec) -> PathsResult:
    """Run a paths analysis with the source the planner chose."""
    sql = _sorted_paths_sql(spec) if read.sorted_copy else paths_sql(spec)
    with read.table("path_rows", sql):
        (total,) = read.one("SELECT count(*) FROM path_rows") or (0,)
        edges = read.rows(
            """
            SELECT first_step + i AS step, path[i + 1] AS name, path[i + 2] AS target,
                count(*) AS weight
            FROM (SELECT first_step, path, unnest(range(len(path) - 1)) AS i FROM path_rows)
            GROUP BY ALL HAVING count(*) >= ? ORDER BY weight DESC, step, name, target LIMIT ?
            """,
            [spec.min_edge_weight, spec.top_edges],
        )
        counts = {
            (s, name): c
            for s, name, c in read.rows(
                "SELECT first_step + i AS step, path[i + 1] AS name, count(*) FROM "
                "(SELECT first_step, path, unnest(range(len(path))) AS i FROM path_rows) "
                "GROUP BY ALL"
            )
        }
        top: list[tuple[list[str], int]] = []
        if spec.top_paths:
            top = read.rows(
                "SELECT path, count(*) AS n FROM path_rows GROUP BY path "
                "ORDER BY n DESC, path LIMIT ?",
                [spec.top_paths],
            )

    def node_id(step: int, name: str) -> str:
        return f"{step}:{name}"

    used = sorted({(s, a) for s, a, _, _ in edges} | {(s + 1, b) for s, _, b, _ in edges})
    return PathsResult(
        total=int(total),
        nodes=[
            PathNode(id=node_id(s, name), step=s, name=name, count=int(counts[(s, name)]))
            for s, name in used
        ],
        edges=[
            PathEdge(source=node_id(s, a), target=node_id(s + 1, b), step=s, weight=int(w))
            for s, a, b, w in edges
        ],
        top_paths=[TopPath(path=list(p), count=int(c)) for p, c in top],
    )


ANALYSIS = Analysis(
    "paths",
    PathsSpec,
    PathsResult,
    _run,
    "The paths taken from a start event or to an end event, as Sankey nodes and edges.",
    copy=can_use_sorted,
)
