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
from touchpath.analytics.dialects import render
from touchpath.analytics.funnels import FunnelSpec
from touchpath.analytics.funnels import query as funnel_query
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result, Spec
from touchpath.analytics.sql import or_, q, with_
from touchpath.events.match import EventMatch, Frozen, TimeRange, journey_types, literal

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
    "paths_query",
    "paths_sql",
    "sorted_paths",
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

    def apply(self, name: exp.Expr) -> exp.Expr:
        """The rule applied to the expression `name`."""
        pattern = self.pattern if self.regex else wildcard_regex(self.pattern)
        return q("TP_REPLACE_ALL(:name, :p, :by)", name=name, p=pattern, by=self.replacement)


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


def _name(spec: PathsSpec) -> exp.Expr:
    """An event's name in a path: its event or page name, cleaned by the spec's rules."""
    name: exp.Expr = q("coalesce(event, type)")
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


def _excluded(spec: PathsSpec) -> exp.Expr:
    """Names left out of paths (an anchor never is)."""
    return or_([q("TP_FULL_MATCH(name, :p)", p=wildcard_regex(x)) for x in spec.exclude])


def paths_query(spec: PathsSpec) -> exp.Expr:
    """SELECT pid, first_step, path: one row per path, its names in order from step `first_step`.

    One window pass over the journey events sorted by (hash of the profile, time, seq) numbers
    them and marks session starts (a second one only when repeats collapse). The first anchor of
    each session comes from an ASOF join of anchors to session starts; its `steps` rows are then
    found by hash lookups on (profile, number) and cut where the next session begins. Whole
    sessions are never numbered or materialised as paths.
    """
    ctes: list[tuple[str, exp.Expr]] = []
    anchor: exp.Expr = exp.false()
    source = q("SELECT * FROM resolved_events AS e WHERE :journey AND :span",
               journey=journey_types(), span=spec.time_range.condition())  # fmt: skip
    if spec.start is not None:
        anchor = spec.start.condition()
    elif spec.end is not None:
        anchor = spec.end.condition()
    elif spec.after_dropoff is not None:
        fun, k = spec.after_dropoff.funnel, spec.after_dropoff.step - 1
        ctes += [
            ("reached", funnel_query.reached(fun)),
            ("dropped", q("SELECT pid, reached_at FROM reached WHERE step = :before "
                          "AND pid NOT IN (SELECT pid FROM reached WHERE step = :k)",
                          before=k - 1, k=k)),
        ]  # fmt: skip
        source = q(
            "SELECT e.*, d.pid IS NOT NULL AS dropped_here FROM resolved_events AS e "
            "LEFT JOIN dropped AS d ON d.pid = e.profile_id AND d.reached_at = e.timestamp "
            "WHERE :journey AND :span",
            journey=journey_types(),
            span=spec.time_range.condition(),
        )
        anchor = q("dropped_here AND :step", step=fun.steps[k - 1].condition())
    gap, n = int(spec.session_gap), int(spec.steps)
    events = q(
        "SELECT TP_PROFILE_KEY(e.profile_id) AS h, e.profile_id AS pid, e.timestamp AS ts, "
        "e.seq, :name AS name, coalesce(:anchor, FALSE) AS anchor FROM :source AS e",
        name=_name(spec),
        anchor=anchor,
        source=source,
    )
    kept = (
        q("SELECT * FROM ev WHERE NOT (:x) OR anchor", x=_excluded(spec))
        if spec.exclude
        else q("SELECT * FROM ev")
    )
    new_s = "coalesce(ts > lag(ts) OVER w + TP_SPAN(:gap), TRUE)"
    w = "WINDOW w AS (PARTITION BY h ORDER BY ts, seq)"
    if spec.collapse_repeats:
        # Drop a name repeated within a session (never an anchor), then number what is left.
        marked: list[tuple[str, exp.Expr]] = [
            ("repeats", q(f"SELECT *, {new_s} AS new_s, lag(name) OVER w AS prev_name FROM kept {w}",
                          gap=gap)),
            ("marked", q(f"SELECT h, pid, name, anchor, new_s, row_number() OVER w AS rn "
                         f"FROM repeats WHERE anchor OR new_s OR name IS DISTINCT FROM prev_name {w}")),
        ]  # fmt: skip
    else:
        marked = [
            ("marked", q(f"SELECT h, pid, name, anchor, {new_s} AS new_s, row_number() OVER w "
                         f"AS rn FROM kept {w}", gap=gap)),
        ]  # fmt: skip
    if spec.start is None and spec.end is None and spec.after_dropoff is None:
        firsts = q("SELECT h, rn AS arn FROM marked WHERE new_s")
    else:
        # The first anchor of each session: anchors matched to their session's first row.
        firsts = q(
            "SELECT a.h, min(a.rn) AS arn FROM (SELECT h, rn FROM marked WHERE anchor) AS a "
            "ASOF JOIN (SELECT h, rn FROM marked WHERE new_s) AS s ON a.h = s.h AND a.rn >= s.rn "
            "GROUP BY a.h, s.rn"
        )
    if spec.end is not None:
        offsets = q("SELECT UNNEST(TP_NUMBERS(:n)) - :back AS off", n=n, back=n - 1)
        # From the session's first row when that is fewer than `steps` rows back.
        size = q("1 - coalesce(lo, :first)", first=1 - n)
        path = q("TP_SLICE(names, TP_LEN(names) - (:size) + 1, TP_LEN(names))", size=size)
        first_step = q(":n - (:size) + 1", n=n, size=size)
    else:
        offsets = q("SELECT UNNEST(TP_NUMBERS(:n)) AS off", n=n)
        path = q("TP_SLICE(names, 1, coalesce(cut, :n))", n=n)
        first_step = literal(1)
    ctes += [
        ("ev", events),
        ("kept", kept),
        *marked,
        ("firsts", firsts),
        ("hops", q("SELECT f.h, f.arn, m.pid, o.off, m.name, m.new_s FROM firsts AS f "
                   "CROSS JOIN :offsets AS o JOIN marked AS m ON m.h = f.h AND m.rn = f.arn + o.off",
                   offsets=offsets)),
        ("grouped", q(
            "SELECT any_value(pid) AS pid, TP_ORDERED_LIST(name, off) AS names, "
            "min(CASE WHEN new_s AND off > 0 THEN off END) AS cut, "
            "max(CASE WHEN new_s THEN off END) AS lo FROM hops GROUP BY h, arn")),
    ]  # fmt: skip
    return with_(
        ctes,
        q("SELECT pid, :first_step AS first_step, :path AS path FROM grouped",
          first_step=first_step, path=path),
        materialized=["marked"] if spec.after_dropoff is None else ["reached", "marked"],
    )  # fmt: skip


def paths_sql(spec: PathsSpec) -> str:
    """`paths_query` as DuckDB SQL text."""
    return render(paths_query(spec))


def sorted_paths(spec: PathsSpec) -> exp.Expr:
    """`paths_query` on the sorted journey copy in streaming passes: no sort, no join.

    Rows come in (profile, time, seq) order. A row starts a session when its profile differs
    from the row before or the gap is over `session_gap`; `sess` (the session's first row
    number) and the session of the last anchor before the row are carried over the stream by
    `last_value(... IGNORE NULLS)`, so the first anchor of each session is the anchor whose
    session the previous anchor was not in. Its path is read from its neighbours by `lead`
    (a start, or no anchor) or `lag` (an end), cut at the session's edge. `pid` is the
    profile's number in the copy (`journey_profiles` maps it to the id).
    """
    anchor_match = spec.start or spec.end
    anchor = anchor_match.condition() if anchor_match is not None else exp.false()
    gap, n = int(spec.session_gap), int(spec.steps)
    new_s = "coalesce(pno <> lag(pno) OVER () OR ts > lag(ts) OVER () + TP_SPAN(:gap), TRUE)"
    over = "OVER (ROWS UNBOUNDED PRECEDING)"
    if spec.collapse_repeats:
        marked = [
            ("repeats", q(f"SELECT *, {new_s} AS new_s, lag(name) OVER () AS prev_name FROM kept",
                          gap=gap)),
            ("marked", q("SELECT *, row_number() OVER () AS rn FROM repeats "
                         "WHERE anchor OR new_s OR name IS DISTINCT FROM prev_name")),
        ]  # fmt: skip
    else:
        marked = [("marked", q(f"SELECT *, row_number() OVER () AS rn FROM "
                               f"(SELECT *, {new_s} AS new_s FROM kept) AS k", gap=gap))]  # fmt: skip
    first = (
        "new_s" if anchor_match is None else "anchor AND lag(asess) OVER () IS DISTINCT FROM sess"
    )
    if spec.end is not None:
        # Back from the anchor to at most the session's first row: only the rows up to n - 1
        # before a first anchor go on (found by `lead` of the cheap flag), then `lag` names.
        near = " OR ".join(
            ["first"] + [f"coalesce(lead(first, {i}) OVER (), FALSE)" for i in range(1, n)]
        )
        names = ", ".join(f"lag(name, {i}) OVER () AS n{i}" for i in range(1, n))
        size = f"least({n}, rn - sess + 1)"
        items = ", ".join([f"n{i}" for i in range(n - 1, 0, -1)] + ["name"])
        path = f"list_slice([{items}], {n} - {size} + 1, {n})"
        first_step = f"{n} - {size} + 1"
        spans = [
            ("inpath", q(f"SELECT pno, rn, sess, name, first FROM (SELECT *, {near} AS near "
                         "FROM marks) AS m WHERE near")),
            ("firsts", q(f"SELECT * FROM (SELECT *, {names} FROM inpath) AS i WHERE first")),
        ]  # fmt: skip
    else:
        # On from the anchor up to `steps` rows or the session's end: the rows of each path are
        # those whose last first anchor `fr` (carried) is in their session and < n rows back.
        names = ", ".join(
            f"lead(name, {i}) OVER () AS n{i}, lead(fr, {i}) OVER () AS r{i}" for i in range(1, n)
        )
        cuts = " ".join(f"WHEN r{i} IS DISTINCT FROM fr THEN {i}" for i in range(1, n))
        items = ", ".join(["name"] + [f"n{i}" for i in range(1, n)])
        path = f"list_slice([{items}], 1, CASE {cuts} ELSE {n} END)"
        first_step = "1"
        spans = [
            ("inpath", q(
                f"SELECT pno, rn, fr, name FROM (SELECT *, last_value(CASE WHEN first THEN rn END "
                f"IGNORE NULLS) {over} AS fr, last_value(CASE WHEN first THEN sess END IGNORE NULLS) "
                f"{over} AS fs FROM marks) AS m WHERE fs = sess AND rn - fr < :n", n=n)),
            ("firsts", q(f"SELECT * FROM (SELECT *, {names} FROM inpath) AS i WHERE rn = fr")),
        ]  # fmt: skip
    ev = q(
        "SELECT pno, ts, :name AS name, coalesce(:anchor, FALSE) AS anchor FROM "
        "(SELECT pno, ts, seq, type, event, channel FROM journey_events) AS c WHERE :span",
        name=_name(spec),
        anchor=anchor,
        span=spec.time_range.condition(),
    )
    kept = (
        q("SELECT * FROM ev WHERE NOT (:x) OR anchor", x=_excluded(spec))
        if spec.exclude
        else q("SELECT * FROM ev")
    )
    carried = q(
        f"SELECT *, last_value(CASE WHEN anchor THEN sess END IGNORE NULLS) {over} AS asess FROM "
        f"(SELECT *, last_value(CASE WHEN new_s THEN rn END IGNORE NULLS) {over} AS sess "
        "FROM marked) AS m"
    )
    return with_(
        [("ev", ev), ("kept", kept), *marked, ("carried", carried),
         ("marks", q(f"SELECT *, {first} AS first FROM carried")), *spans],
        q(f"SELECT pno AS pid, {first_step} AS first_step, {path} AS path FROM firsts"),
    )  # fmt: skip


def _edges(spec: PathsSpec) -> exp.Expr:
    return q(
        "SELECT first_step + i AS step, path[i + 1] AS name, path[i + 2] AS target, "
        "count(*) AS weight FROM (SELECT first_step, path, UNNEST(TP_NUMBERS(TP_LEN(path) - 1)) "
        "AS i FROM path_rows) AS p GROUP BY 1, 2, 3 HAVING count(*) >= :least "
        "ORDER BY weight DESC, step, name, target LIMIT :most",
        least=int(spec.min_edge_weight),
        most=int(spec.top_edges),
    )


_COUNTS = (
    "SELECT first_step + i AS step, path[i + 1] AS name, count(*) FROM (SELECT first_step, path, "
    "UNNEST(TP_NUMBERS(TP_LEN(path))) AS i FROM path_rows) AS p GROUP BY 1, 2"
)


def _run(read: Read, spec: PathsSpec) -> PathsResult:
    """Run a paths analysis with the source the planner chose."""
    key = spec.model_dump_json()
    build = (lambda: sorted_paths(spec)) if read.sorted_copy else (lambda: paths_query(spec))
    with read.table("path_rows", read.sql(("paths", key), build)):
        (total,) = read.one("SELECT count(*) FROM path_rows") or (0,)
        edges = read.rows(read.sql(("paths edges", key), lambda: _edges(spec)))
        counts = {
            (s, name): c for s, name, c in read.rows(read.sql("paths counts", lambda: q(_COUNTS)))
        }
        top: list[tuple[list[str], int]] = []
        if spec.top_paths:
            top = read.rows(
                q(
                    "SELECT path, count(*) AS n FROM path_rows GROUP BY path "
                    "ORDER BY n DESC, path LIMIT :most",
                    most=int(spec.top_paths),
                )
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
