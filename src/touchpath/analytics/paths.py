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
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import numpy as np
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

if TYPE_CHECKING:
    from touchpath.store.memo import Memo

Summary = tuple[int, list[Any], dict[tuple[int, str], int], list[tuple[list[str], int]]]
"""What the paths' aggregates give: how many paths, the top edges (step, name, target,
weight), the count of each (step, name) and the top paths."""

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


def _log_anchor(spec: PathsSpec) -> tuple[list[tuple[str, exp.Expr]], exp.Expr, exp.Expr]:
    """The CTEs, the journey events and the anchor condition of `paths_query` on the log (a
    funnel drop-off's anchor needs the funnel's reached rows)."""
    source = q("SELECT * FROM resolved_events AS e WHERE :journey AND :span",
               journey=journey_types(), span=spec.time_range.condition())  # fmt: skip
    if spec.start is not None:
        return [], source, spec.start.condition()
    if spec.end is not None:
        return [], source, spec.end.condition()
    if spec.after_dropoff is None:
        return [], source, exp.false()
    fun, k = spec.after_dropoff.funnel, spec.after_dropoff.step - 1
    ctes = [
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
    return ctes, source, q("dropped_here AND :step", step=fun.steps[k - 1].condition())


def _kept(spec: PathsSpec) -> exp.Expr:
    """The rows of `ev` left after the exclusions (an anchor never is excluded)."""
    if spec.exclude:
        return q("SELECT * FROM ev WHERE NOT (:x) OR anchor", x=_excluded(spec))
    return q("SELECT * FROM ev")


def _log_marked(spec: PathsSpec) -> list[tuple[str, exp.Expr]]:
    """`marked`: the kept rows numbered per profile (`rn`), session starts marked (`new_s`);
    with `collapse_repeats`, a name repeated within a session (never an anchor) dropped first."""
    new_s = "coalesce(ts > lag(ts) OVER w + TP_SPAN(:gap), TRUE)"
    w = "WINDOW w AS (PARTITION BY h ORDER BY ts, seq)"
    gap = int(spec.session_gap)
    if spec.collapse_repeats:
        return [
            ("repeats", q(f"SELECT *, {new_s} AS new_s, lag(name) OVER w AS prev_name FROM kept {w}",
                          gap=gap)),
            ("marked", q(f"SELECT h, pid, name, anchor, new_s, row_number() OVER w AS rn "
                         f"FROM repeats WHERE anchor OR new_s OR name IS DISTINCT FROM prev_name {w}")),
        ]  # fmt: skip
    return [
        ("marked", q(f"SELECT h, pid, name, anchor, {new_s} AS new_s, row_number() OVER w "
                     f"AS rn FROM kept {w}", gap=gap)),
    ]  # fmt: skip


def paths_query(spec: PathsSpec) -> exp.Expr:
    """SELECT pid, first_step, path: one row per path, its names in order from step `first_step`.

    One window pass over the journey events sorted by (hash of the profile, time, seq) numbers
    them and marks session starts (a second one only when repeats collapse). The first anchor of
    each session comes from an ASOF join of anchors to session starts; its `steps` rows are then
    found by hash lookups on (profile, number) and cut where the next session begins. Whole
    sessions are never numbered or materialised as paths.
    """
    ctes, source, anchor = _log_anchor(spec)
    n = int(spec.steps)
    events = q(
        "SELECT TP_PROFILE_KEY(e.profile_id) AS h, e.profile_id AS pid, e.timestamp AS ts, "
        "e.seq, :name AS name, coalesce(:anchor, FALSE) AS anchor FROM :source AS e",
        name=_name(spec),
        anchor=anchor,
        source=source,
    )
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
        ("kept", _kept(spec)),
        *_log_marked(spec),
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


def _sorted_marked(spec: PathsSpec) -> list[tuple[str, exp.Expr]]:
    """`marked` on the copy: the kept rows numbered in stored order (`rn`), session starts
    marked (`new_s`); with `collapse_repeats`, a name repeated within a session dropped."""
    new_s = "coalesce(pno <> lag(pno) OVER () OR ts > lag(ts) OVER () + TP_SPAN(:gap), TRUE)"
    gap = int(spec.session_gap)
    if spec.collapse_repeats:
        return [
            ("repeats", q(f"SELECT *, {new_s} AS new_s, lag(name) OVER () AS prev_name FROM kept",
                          gap=gap)),
            ("marked", q("SELECT *, row_number() OVER () AS rn FROM repeats "
                         "WHERE anchor OR new_s OR name IS DISTINCT FROM prev_name")),
        ]  # fmt: skip
    return [("marked", q(f"SELECT *, row_number() OVER () AS rn FROM "
                         f"(SELECT *, {new_s} AS new_s FROM kept) AS k", gap=gap))]  # fmt: skip


def _sorted_spans(spec: PathsSpec) -> tuple[list[tuple[str, exp.Expr]], str, str]:
    """The CTEs that find each first anchor's rows in `marks`, the path's expression and its
    first step's."""
    n = int(spec.steps)
    if spec.end is not None:
        # Back from the anchor to at most the session's first row: only the rows up to n - 1
        # before a first anchor go on (found by `lead` of the cheap flag), then `lag` names.
        near = " OR ".join(
            ["first"] + [f"coalesce(lead(first, {i}) OVER (), FALSE)" for i in range(1, n)]
        )
        names = ", ".join(f"lag(name, {i}) OVER () AS n{i}" for i in range(1, n))
        size = f"least({n}, rn - sess + 1)"
        items = ", ".join([f"n{i}" for i in range(n - 1, 0, -1)] + ["name"])
        return [
            ("inpath", q(f"SELECT pno, rn, sess, name, first FROM (SELECT *, {near} AS near "
                         "FROM marks) AS m WHERE near")),
            ("firsts", q(f"SELECT * FROM (SELECT *, {names} FROM inpath) AS i WHERE first")),
        ], f"list_slice([{items}], {n} - {size} + 1, {n})", f"{n} - {size} + 1"  # fmt: skip
    # On from the anchor up to `steps` rows or the session's end: the rows of each path are
    # those whose last first anchor `fr` (carried) is in their session and < n rows back.
    over = "OVER (ROWS UNBOUNDED PRECEDING)"
    names = ", ".join(
        f"lead(name, {i}) OVER () AS n{i}, lead(fr, {i}) OVER () AS r{i}" for i in range(1, n)
    )
    cuts = " ".join(f"WHEN r{i} IS DISTINCT FROM fr THEN {i}" for i in range(1, n))
    items = ", ".join(["name"] + [f"n{i}" for i in range(1, n)])
    return [
        ("inpath", q(
            f"SELECT pno, rn, fr, name FROM (SELECT *, last_value(CASE WHEN first THEN rn END "
            f"IGNORE NULLS) {over} AS fr, last_value(CASE WHEN first THEN sess END IGNORE NULLS) "
            f"{over} AS fs FROM marks) AS m WHERE fs = sess AND rn - fr < :n", n=n)),
        ("firsts", q(f"SELECT * FROM (SELECT *, {names} FROM inpath) AS i WHERE rn = fr")),
    ], f"list_slice([{items}], 1, CASE {cuts} ELSE {n} END)", "1"  # fmt: skip


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
    over = "OVER (ROWS UNBOUNDED PRECEDING)"
    first = (
        "new_s" if anchor_match is None else "anchor AND lag(asess) OVER () IS DISTINCT FROM sess"
    )
    spans, path, first_step = _sorted_spans(spec)
    ev = q(
        "SELECT pno, ts, :name AS name, coalesce(:anchor, FALSE) AS anchor FROM "
        "(SELECT pno, ts, seq, type, event, channel FROM journey_events) AS c WHERE :span",
        name=_name(spec),
        anchor=anchor,
        span=spec.time_range.condition("ts"),
    )
    carried = q(
        f"SELECT *, last_value(CASE WHEN anchor THEN sess END IGNORE NULLS) {over} AS asess FROM "
        f"(SELECT *, last_value(CASE WHEN new_s THEN rn END IGNORE NULLS) {over} AS sess "
        "FROM marked) AS m"
    )
    return with_(
        [("ev", ev), ("kept", _kept(spec)), *_sorted_marked(spec), ("carried", carried),
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


def _by_code(
    cur: duckdb.DuckDBPyConnection, spec: PathsSpec, memo: Memo | None
) -> tuple[Any, np.ndarray, list[str]] | None:
    """The copy's columns, and per activity code the index of its (cleaned) name in the
    labels, whether it is an anchor and whether it is excluded; the labels. None when the
    compiled pass cannot compute these paths exactly (an anchor on `channel`, or rows of one
    code that differ)."""
    anchor_match = spec.start or spec.end
    anchor = anchor_match.condition() if anchor_match is not None else exp.false()
    if any(c.name not in ("event", "type") for c in anchor.find_all(exp.Column)):
        return None
    from touchpath.analytics.kernels import columns

    cols = columns.load(cur, memo)

    def make() -> Any:
        per_code = q(
            "SELECT code, min(name), max(name), bool_or(anchor), bool_and(anchor), bool_or(x), "
            "bool_and(x) FROM (SELECT *, :x AS x FROM (SELECT code, :name AS name, "
            "coalesce(:anchor, FALSE) AS anchor FROM tp_combos) AS c) AS n GROUP BY code",
            x=_excluded(spec) if spec.exclude else exp.false(),
            name=_name(spec),
            anchor=anchor,
        )
        found = columns.per_code(cur, cols, render(per_code))
        if any(lo != hi or a1 != a2 or x1 != x2 for _, lo, hi, a1, a2, x1, x2 in found):
            return None
        labels = sorted({lo for _, lo, *_ in found})
        index = {name: i for i, name in enumerate(labels)}
        look = np.zeros((3, cols.names + 1), np.int32)
        for code, name, _, anc, _, x, _ in found:
            look[:, code] = (index[name], anc, x)
        return look, labels

    what = spec.model_dump_json(include={"start", "end", "cleaning", "exclude"})
    key = ("paths by code", cols.built_at, what)
    got = make() if memo is None else memo.get(key, make)
    return None if got is None else (cols, got[0], got[1])


def _kernel(cur: duckdb.DuckDBPyConnection, spec: PathsSpec, memo: Memo | None) -> bool:
    return _by_code(cur, spec, memo) is not None


def _compiled(read: Read, spec: PathsSpec) -> Summary:
    """The paths' aggregates `_queried` gives, from the compiled pass."""
    from touchpath.analytics.kernels import columns
    from touchpath.analytics.kernels import paths as kernel

    found = _by_code(read.cur, spec, read.memo)
    assert found is not None  # the planner asked `_kernel`
    cols, by_code, labels = found
    span = columns.bounds(spec.time_range.start, spec.time_range.end)
    anchor = "start" if spec.start is not None else "end" if spec.end is not None else None
    made = kernel.made(cols, by_code, span, int(spec.session_gap), int(spec.steps), anchor,
                       spec.collapse_repeats)  # fmt: skip
    return kernel.summary(made, labels, int(spec.min_edge_weight), int(spec.top_edges),
                          int(spec.top_paths))  # fmt: skip


def _queried(read: Read, spec: PathsSpec) -> Summary:
    """The paths' aggregates from their SQL (on the log or the copy): how many, the top edges,
    the count of each (step, name) and the top paths."""
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
            top = read.rows(read.sql(("paths top", key), lambda: _top(spec)))
    return int(total), edges, counts, top


def _top(spec: PathsSpec) -> exp.Expr:
    return q("SELECT path, count(*) AS n FROM path_rows GROUP BY path ORDER BY n DESC, path "
             "LIMIT :most", most=int(spec.top_paths))  # fmt: skip


def _run(read: Read, spec: PathsSpec) -> PathsResult:
    """Run a paths analysis with the source the planner chose."""
    total, edges, counts, top = _compiled(read, spec) if read.plan.kernel else _queried(read, spec)

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
    kernel=_kernel,
)
