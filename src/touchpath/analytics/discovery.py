"""Journey discovery: the directly-follows graph, variants, stage flow and conformance.

A *journey* is the time-ordered events of one case: a profile (default) or one of its sessions.
Its *activities* are event names (page and screen names for page/screen calls) or, when `stages`
map events to stages, stage names; events no stage claims are left out and repeated stages
collapse into one (`awareness, awareness, decision` -> `awareness, decision`).

- `dfg`: every pair of directly following activities with its frequency, the cases that
  take it and the time between the two (median, p90), plus node counts and start/end counts.
- `variants`: the most common whole sequences with their share of cases.
- `coverage`: keep only the most common variants that together cover this share of cases.
- the stage flow: the DFG over stages (a `dfg` spec with `stages`).
- `conformance`: the share of journeys that follow the designed stage order (the order of
  `stages`) and the most common deviations (going back a stage, skipping one, starting late).

Each takes a frozen spec and a store and returns a typed result; the SQL builders
(`dfg_sql`, `variants_sql`, `conformance_sql`, `journey_sql`) are public for reuse.

>>> stage = Stage(name="decision", events=("Checkout Started", EventMatch(event="Cart", type="page")))
>>> print(stage_case((stage,)).sql("duckdb"))
CASE WHEN event = 'Checkout Started' OR (event = 'Cart' AND type = 'page') THEN 'decision' END
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlglot import exp

from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result, Spec
from touchpath.events.durations import Duration, renamed_durations
from touchpath.events.match import EVENTS, JOURNEY_TYPES, EventMatch, Frozen, TimeRange, literal

__all__ = [
    "CONFORMANCE",
    "DFG",
    "VARIANTS",
    "ConformanceResult",
    "ConformanceSpec",
    "Deviation",
    "DfgEdge",
    "DfgNode",
    "DfgResult",
    "DfgSpec",
    "DiscoveryStage",
    "JourneyScope",
    "Stage",
    "StageReach",
    "Variant",
    "VariantsResult",
    "VariantsSpec",
    "activity_expr",
    "can_use_sorted",
    "conformance_sql",
    "dfg_sql",
    "journey_sql",
    "match_of",
    "sorted_journey_sql",
    "stage_case",
    "variants_sql",
]


def match_of(item: str | EventMatch) -> EventMatch:
    """An event name is shorthand for `EventMatch(event=name)`."""
    return EventMatch(event=item) if isinstance(item, str) else item


class DiscoveryStage(Frozen):
    """A named stage of a journey and the events that put a person in it."""

    name: str = Field(min_length=1)
    events: tuple[str | EventMatch, ...] = Field(min_length=1)


Stage = DiscoveryStage
"""The name analyses and tests use; the OpenAPI document says `DiscoveryStage` (a journey
map's stage is `Stage` there)."""


def stage_case(stages: tuple[Stage, ...]) -> exp.Expr:
    """A CASE giving each event row its stage name (first stage that claims it), else NULL."""
    case = exp.Case()
    for stage in stages:
        conds = [match_of(e).condition() for e in stage.events]
        case = case.when(exp.or_(*conds) if len(conds) > 1 else conds[0], literal(stage.name))
    return case


class JourneyScope(Spec):
    """Which events make up the journeys and what a step of a journey is."""

    stages: tuple[Stage, ...] = ()
    """When given, activities are stage names in this designed order; unmapped events drop out."""
    include: tuple[str | EventMatch, ...] = ()
    """Only these events (empty: every track, page and screen event)."""
    exclude: tuple[str | EventMatch, ...] = ()
    time_range: TimeRange | None = None
    case: Literal["profile", "session"] = "profile"
    """A journey per profile, or per session (split after `session_gap` of inactivity)."""
    session_gap: Duration = 1800
    """Seconds of inactivity that end a session (input also `30m`, `1h`)."""
    collapse_repeats: bool | None = None
    """Merge directly repeated activities into one step (default: with stages yes, else no)."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return renamed_durations(data, {"session_gap_minutes": ("session_gap", 60)})

    @field_validator("stages")
    @classmethod
    def _unique_stages(cls, v: tuple[Stage, ...]) -> tuple[Stage, ...]:
        names = [s.name for s in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stage names must be unique, repeated: {dupes}")
        return v

    @property
    def collapses(self) -> bool:
        return bool(self.stages) if self.collapse_repeats is None else self.collapse_repeats


def activity_expr(scope: JourneyScope) -> exp.Expr:
    """The activity of an event row: its stage, or its event/page name."""
    if scope.stages:
        return stage_case(scope.stages)
    return exp.func("coalesce", exp.column("event"), exp.column("type"))


def _filters(scope: JourneyScope) -> exp.Expr:
    parts: list[exp.Expr] = [
        exp.In(this=exp.column("type"), expressions=[literal(t) for t in JOURNEY_TYPES])
    ]
    if scope.time_range is not None:
        parts.append(scope.time_range.condition())
    if scope.include:
        parts.append(exp.or_(*[match_of(e).condition() for e in scope.include]))
    if scope.exclude:
        parts.append(
            exp.Not(this=exp.paren(exp.or_(*[match_of(e).condition() for e in scope.exclude])))
        )
    return exp.and_(*parts)


def journey_sql(scope: JourneyScope) -> str:
    """SQL of the journey steps: (case_id, profile_id, activity, ts, seq), one row per step.

    `case_id` is a 64-bit hash of the profile id (and the session number for sessions):
    windows partition and sort on it far faster than on the text id. The map binder and the
    other analyses build on this relation.
    """
    act = activity_expr(scope).sql("duckdb")
    where = _filters(scope).sql("duckdb")
    if scope.case == "session":
        gap = float(scope.session_gap)
        base = (
            f"SELECT hash(profile_id) AS pk, profile_id, {act} AS activity, timestamp AS ts, seq "
            f"FROM {EVENTS} WHERE {where}"
        )
        sessions = (
            f"SELECT hash(pk, sum(CASE WHEN gap IS NULL OR gap > {gap} THEN 1 ELSE 0 END) "
            "OVER (PARTITION BY pk ORDER BY ts, seq)) AS case_id, profile_id, activity, ts, seq "
            "FROM (SELECT *, epoch(ts - lag(ts) OVER (PARTITION BY pk ORDER BY ts, seq)) AS gap "
            f"FROM ({base}))"
        )
        rows = f"SELECT * FROM ({sessions}) WHERE activity IS NOT NULL"
    else:
        rows = (
            f"SELECT hash(profile_id) AS case_id, profile_id, {act} AS activity, "
            f"timestamp AS ts, seq FROM {EVENTS} WHERE {where}"
        )
        if scope.stages:
            rows = f"SELECT * FROM ({rows}) WHERE activity IS NOT NULL"
    if scope.collapses:
        rows = (
            f"SELECT * FROM ({rows}) QUALIFY activity IS DISTINCT FROM "
            "lag(activity) OVER (PARTITION BY case_id ORDER BY ts, seq)"
        )
    return rows


def can_use_sorted(scope: JourneyScope) -> bool:
    """Whether the sorted journey copy (`touchpath optimize`) holds what this scope reads:
    profile journeys whose stages and filters test only `event`, `type` and `channel`."""
    if scope.case != "profile":
        return False
    matches = [match_of(e) for st in scope.stages for e in st.events]
    matches += [match_of(e) for e in (*scope.include, *scope.exclude)]
    return all(
        c.name in ("event", "type", "channel")
        for m in matches
        for c in m.condition().find_all(exp.Column)
    )


def sorted_journey_sql(scope: JourneyScope) -> str:
    """`journey_sql` on the journey copy, already in (profile, time, seq) order: no sort.

    `case_id` is the copy's profile number; the rows come out in stored order, so windows
    over `()` see each journey's steps in time order (checked against `journey_sql` in tests).
    """
    act = activity_expr(scope).sql("duckdb")
    where = _filters(scope).sql("duckdb")
    rows = (
        f"SELECT pno AS case_id, {act} AS activity, timestamp AS ts, seq FROM ("
        "SELECT pno, ts AS timestamp, seq, type, event, channel FROM journey_events) "
        f"WHERE {where}"
    )
    if scope.stages:
        rows = f"SELECT * FROM ({rows}) WHERE activity IS NOT NULL"
    if scope.collapses:
        rows = (
            f"SELECT * FROM ({rows}) QUALIFY activity IS DISTINCT FROM lag(activity) OVER () "
            "OR case_id IS DISTINCT FROM lag(case_id) OVER ()"
        )
    return rows


def _covered_sql(scope: JourneyScope, coverage: float | None) -> str:
    """The journey steps, keeping only cases whose variant is among the top `coverage` share."""
    steps = journey_sql(scope)
    if coverage is None or coverage >= 1.0:
        return steps
    return f"""
    WITH j AS ({steps}),
    v AS (SELECT case_id, list(activity ORDER BY ts, seq) AS variant FROM j GROUP BY case_id),
    vc AS (SELECT variant, count(*) AS n FROM v GROUP BY variant),
    vr AS (SELECT variant, sum(n) OVER (ORDER BY n DESC, variant
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
                  sum(n) OVER () AS total FROM vc),
    keep AS (SELECT v.case_id FROM v JOIN vr USING (variant)
             WHERE coalesce(vr.before, 0) < {float(coverage)} * vr.total)
    SELECT j.* FROM j SEMI JOIN keep USING (case_id)
    """


# --------------------------------------------------------------------------------------- DFG
class DfgSpec(JourneyScope):
    """Directly-follows graph of the journeys."""

    kind: Literal["dfg"] = "dfg"
    coverage: float | None = Field(None, gt=0, le=1)
    """Keep only the most common variants that together cover this share of cases."""
    min_frequency: int = Field(1, ge=1)
    """Drop edges taken fewer times."""
    top_k: int | None = Field(None, ge=1)
    """Keep the K most frequent edges."""


class DfgNode(BaseModel):
    activity: str
    frequency: int
    cases: int
    starts: int
    ends: int


class DfgEdge(BaseModel):
    source: str
    target: str
    frequency: int
    cases: int
    median_seconds: float
    p90_seconds: float


class DfgResult(Result):
    kind: Literal["dfg"] = "dfg"
    cases: int
    events: int
    nodes: list[DfgNode]
    edges: list[DfgEdge]


def dfg_sql(spec: DfgSpec, sorted_copy: bool = False) -> tuple[str, str]:
    """SQL of the DFG edges (one pass over the sorted journeys) and of its nodes.

    Edge rows with a NULL target count the journeys that end at the activity; `starts` counts
    the journeys that begin there. The node query needs no sort: events and cases per activity.
    With `sorted_copy` (see `can_use_sorted`) the steps come from the journey copy in stored
    order and neighbours are compared as stored, with no sort.
    """
    steps = _covered_sql(spec, spec.coverage)
    window = "(PARTITION BY case_id ORDER BY ts, seq)"
    target, target_ts, first = (
        "lead(activity) OVER w",
        "lead(ts) OVER w",
        "lag(activity) OVER w IS NULL",
    )
    if sorted_copy and spec.coverage is None and not spec.stages:
        return _coded_dfg_sql(spec)
    if sorted_copy and spec.coverage is None:
        steps, window = sorted_journey_sql(spec), "()"
        same = "lead(case_id) OVER w = case_id"
        target = f"CASE WHEN {same} THEN lead(activity) OVER w END"
        target_ts = f"CASE WHEN {same} THEN lead(ts) OVER w END"
        first = "lag(case_id) OVER w IS DISTINCT FROM case_id"
    edges = f"""
    WITH j AS ({steps}),
    f AS (SELECT case_id, activity, ts,
                 {target} AS target, {target_ts} AS target_ts, {first} AS first
          FROM j WINDOW w AS {window})
    SELECT activity, target, count(*) AS frequency, count(DISTINCT case_id) AS cases,
           count(*) FILTER (WHERE first) AS starts,
           median(epoch(target_ts - ts)) AS median_seconds,
           quantile_cont(epoch(target_ts - ts), 0.9) AS p90_seconds
    FROM f GROUP BY activity, target
    """
    nodes = f"""
    WITH j AS ({steps})
    SELECT activity, count(*) AS frequency, count(DISTINCT case_id) AS cases
    FROM j GROUP BY activity
    """
    return edges, nodes


def _coded_dfg_sql(spec: DfgSpec) -> tuple[str, str]:
    """`dfg_sql` of event names on the sorted copy: neighbours compared as stored and grouped by
    the names' integer codes (`journey_names`), named only in the few hundred result rows."""
    where = _filters(spec).sql("duckdb")
    steps = (
        "SELECT pno, ts, code FROM (SELECT pno, ts AS timestamp, ts, seq, type, event, channel, "
        f"code FROM journey_events) WHERE {where}"
    )
    if spec.collapses:
        steps = (
            f"SELECT * FROM ({steps}) QUALIFY code IS DISTINCT FROM lag(code) OVER () "
            "OR pno IS DISTINCT FROM lag(pno) OVER ()"
        )
    same = "lead(pno) OVER () = pno"
    edges = f"""
    WITH f AS (
        SELECT pno, code, ts, CASE WHEN {same} THEN lead(code) OVER () END AS target,
            CASE WHEN {same} THEN epoch(lead(ts) OVER () - ts) END AS gap,
            lag(pno) OVER () IS DISTINCT FROM pno AS first
        FROM ({steps})
    ),
    g AS (
        SELECT code, target, count(*) AS frequency, count(DISTINCT pno) AS cases,
            count(*) FILTER (WHERE first) AS starts, quantile_cont(gap, [0.5, 0.9]) AS q
        FROM f GROUP BY code, target
    )
    SELECT a.name, b.name, frequency, cases, starts, q[1], q[2] FROM g
    JOIN journey_names a ON a.code = g.code LEFT JOIN journey_names b ON b.code = g.target
    """
    nodes = f"""
    SELECT n.name, frequency, cases FROM (
        SELECT code, count(*) AS frequency, count(DISTINCT pno) AS cases FROM ({steps}) GROUP BY code
    ) g JOIN journey_names n USING (code)
    """
    return edges, nodes


def _dfg_copy(spec: DfgSpec) -> bool:
    return spec.coverage is None and can_use_sorted(spec)


def _run_dfg(read: Read, spec: DfgSpec) -> DfgResult:
    """The directly-follows graph of the journeys.

    `min_frequency` and `top_k` filter the aggregated edges (a few hundred rows at most).
    """
    edges_sql, nodes_sql = dfg_sql(spec, sorted_copy=read.sorted_copy)
    rows = read.rows(edges_sql)
    node_rows = read.rows(nodes_sql)
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    for r in rows:
        starts[r[0]] = starts.get(r[0], 0) + int(r[4])
        if r[1] is None:
            ends[r[0]] = int(r[2])
    nodes = sorted(
        (
            DfgNode(activity=a, frequency=n, cases=c, starts=starts.get(a, 0), ends=ends.get(a, 0))
            for a, n, c in node_rows
        ),
        key=lambda n: (-n.frequency, n.activity),
    )
    edges = sorted(
        (
            DfgEdge(
                source=r[0],
                target=r[1],
                frequency=r[2],
                cases=r[3],
                median_seconds=float(r[5]),
                p90_seconds=float(r[6]),
            )
            for r in rows
            if r[1] is not None and r[2] >= spec.min_frequency
        ),
        key=lambda e: (-e.frequency, e.source, e.target),
    )
    return DfgResult(
        cases=sum(n.starts for n in nodes),
        events=sum(n.frequency for n in nodes),
        nodes=nodes,
        edges=edges[: spec.top_k] if spec.top_k else edges,
    )


DFG = Analysis(
    "dfg",
    DfgSpec,
    DfgResult,
    _run_dfg,
    "The directly-follows graph: activities (or stages) and the steps between them.",
    copy=_dfg_copy,
)


# ----------------------------------------------------------------------------------- variants
class VariantsSpec(JourneyScope):
    """The most common whole journeys (variants)."""

    kind: Literal["variants"] = "variants"
    limit: int = Field(20, ge=1, le=10_000)
    coverage: float | None = Field(None, gt=0, le=1)
    """Stop once the variants listed cover this share of cases (still at most `limit`)."""


class Variant(BaseModel):
    steps: list[str]
    cases: int
    share: float
    cumulative_share: float
    median_duration_seconds: float


class VariantsResult(Result):
    kind: Literal["variants"] = "variants"
    cases: int
    distinct_variants: int
    variants: list[Variant]


def variants_sql(spec: VariantsSpec, sorted_copy: bool = False) -> str:
    """SQL of the variants, most common first, with share, cumulative share and duration.

    With `sorted_copy` (see `can_use_sorted`) the steps come from the journey copy numbered in
    stored order, so each list sorts on one integer instead of (time, seq).
    """
    steps, order = journey_sql(spec), "ts, seq"
    if sorted_copy:
        steps = f"SELECT *, row_number() OVER () AS rn FROM ({sorted_journey_sql(spec)})"
        order = "rn"
    return f"""
    WITH j AS ({steps}),
    v AS (SELECT case_id, list(activity ORDER BY {order}) AS variant,
                 epoch(max(ts) - min(ts)) AS duration
          FROM j GROUP BY case_id),
    vc AS (SELECT variant, count(*) AS n, median(duration) AS duration FROM v GROUP BY variant),
    vr AS (SELECT variant, n, duration, sum(n) OVER () AS total, count(*) OVER () AS distinct_n,
                  sum(n) OVER (ORDER BY n DESC, variant ROWS UNBOUNDED PRECEDING) AS upto
           FROM vc)
    -- QUALIFY row_number() rather than LIMIT: DuckDB 2.0.0 can drop a LIMIT over a LEFT JOIN
    -- to an empty table, which resolved_events is before identity has run.
    SELECT variant, n, n / total, upto / total, duration, total, distinct_n
    FROM vr WHERE upto - n < {float(spec.coverage or 1.0)} * total
    QUALIFY row_number() OVER (ORDER BY n DESC, variant) <= {int(spec.limit)}
    ORDER BY n DESC, variant
    """


def _run_variants(read: Read, spec: VariantsSpec) -> VariantsResult:
    """The most common variants of the journeys with their share of cases."""
    rows = read.rows(variants_sql(spec, sorted_copy=read.sorted_copy))
    if not rows:
        return VariantsResult(cases=0, distinct_variants=0, variants=[])
    return VariantsResult(
        cases=int(rows[0][5]),
        distinct_variants=int(rows[0][6]),
        variants=[
            Variant(
                steps=list(r[0]),
                cases=r[1],
                share=round(float(r[2]), 6),
                cumulative_share=round(float(r[3]), 6),
                median_duration_seconds=float(r[4]),
            )
            for r in rows
        ],
    )


VARIANTS = Analysis(
    "variants",
    VariantsSpec,
    VariantsResult,
    _run_variants,
    "The most common whole journeys with their share of cases.",
    copy=can_use_sorted,
)


# -------------------------------------------------------------------------------- conformance
class ConformanceSpec(JourneyScope):
    """Real journeys against the designed stage order (the order of `stages`)."""

    kind: Literal["conformance"] = "conformance"
    allow_skips: bool = True
    """Jumping forward over a stage conforms (otherwise a `skip` deviation)."""
    require_start: bool = False
    """Journeys must begin in the first stage (otherwise a `late_start` deviation)."""
    limit: int = Field(10, ge=1, le=1000)
    """How many of the most common deviations to list."""

    @model_validator(mode="after")
    def _needs_stages(self) -> ConformanceSpec:
        if len(self.stages) < 2:
            raise ValueError("stages: conformance needs a designed order of at least 2 stages")
        return self


class Deviation(BaseModel):
    kind: Literal["backward", "skip", "late_start"]
    from_stage: str | None
    to_stage: str
    cases: int
    share: float
    """Share of all cases that show this deviation at least once."""


class StageReach(BaseModel):
    stage: str
    cases: int
    share: float


class ConformanceResult(Result):
    kind: Literal["conformance"] = "conformance"
    cases: int
    conforming: int
    share_conforming: float
    deviations: list[Deviation]
    stages: list[StageReach]


def conformance_sql(spec: ConformanceSpec, sorted_copy: bool = False) -> str:
    """SQL of the per-deviation counts and the per-stage reach in one statement (the journeys'
    stage steps are computed once): rows of (part, kind, from_stage, to_stage, cases, total
    cases, deviating cases) where part is 'deviation' (the `limit` most common, most first)
    or 'reach' (kind and to_stage NULL, from_stage the stage).

    With `sorted_copy` (see `can_use_sorted`) the steps come from the journey copy in stored
    order and neighbours are compared as stored, with no sort.
    """
    index = exp.Case()
    for i, stage in enumerate(spec.stages):
        index = index.when(
            exp.EQ(this=exp.column("activity"), expression=literal(stage.name)),
            exp.Literal.number(i),
        )
    collapsed = spec.model_copy(update={"collapse_repeats": True})
    idx = index.sql("duckdb")
    rows = journey_sql(collapsed)
    window = "(PARTITION BY case_id ORDER BY ts, seq)"
    dst, di, first = "lead(activity) OVER w", f"lead({idx}) OVER w", "lag(case_id) OVER w IS NULL"
    if sorted_copy:
        rows, window = sorted_journey_sql(collapsed), "()"
        same = "lead(case_id) OVER w = case_id"
        dst = f"CASE WHEN {same} THEN {dst} END"
        di = f"CASE WHEN {same} THEN {di} END"
        first = "lag(case_id) OVER w IS DISTINCT FROM case_id"
    # `first` marks each journey's first step exactly once, so it counts the journeys.
    return f"""
    WITH j AS ({rows}),
    t AS MATERIALIZED (SELECT case_id, activity AS src, {idx} AS si, {dst} AS dst, {di} AS di,
                 {first} AS first
          FROM j WINDOW w AS {window}),
    d AS (SELECT case_id, 'backward' AS kind, src AS from_stage, dst AS to_stage FROM t WHERE di < si
          UNION ALL
          SELECT case_id, 'skip', src, dst FROM t WHERE {"FALSE" if spec.allow_skips else "di > si + 1"}
          UNION ALL
          SELECT case_id, 'late_start', NULL, src FROM t
          WHERE {"first AND si > 0" if spec.require_start else "FALSE"}),
    totals AS (SELECT count(*) FILTER (WHERE first) AS cases FROM t),
    bad AS (SELECT count(DISTINCT case_id) AS n FROM d),
    dv AS (SELECT kind, from_stage, to_stage, count(DISTINCT case_id) AS n FROM d
           GROUP BY kind, from_stage, to_stage
           QUALIFY row_number() OVER (ORDER BY n DESC, kind, from_stage NULLS FIRST,
                                      to_stage) <= {int(spec.limit)}),
    rc AS (SELECT src, count(DISTINCT case_id) AS n FROM t GROUP BY src)
    SELECT 'deviation' AS part, kind, from_stage, to_stage, n,
           (SELECT cases FROM totals), (SELECT n FROM bad) FROM dv
    UNION ALL
    SELECT 'reach', NULL, src, NULL, n, (SELECT cases FROM totals), (SELECT n FROM bad) FROM rc
    """


def _run_conformance(read: Read, spec: ConformanceSpec) -> ConformanceResult:
    """The share of journeys that follow the designed stage order, and the common deviations."""
    rows = read.rows(conformance_sql(spec, sorted_copy=read.sorted_copy))
    devs = sorted(
        (r[1:5] for r in rows if r[0] == "deviation"),
        key=lambda r: (-r[3], r[0], r[1] is not None, r[1] or "", r[2] or ""),
    )
    reach = {r[2]: int(r[4]) for r in rows if r[0] == "reach"}
    cases = int(rows[0][5]) if rows else 0
    bad = int(rows[0][6]) if rows else 0

    def share(n: int) -> float:
        return round(n / cases, 6) if cases else 0.0

    return ConformanceResult(
        cases=cases,
        conforming=cases - bad,
        share_conforming=share(cases - bad),
        deviations=[
            Deviation(kind=r[0], from_stage=r[1], to_stage=r[2], cases=r[3], share=share(r[3]))
            for r in devs
        ],
        stages=[
            StageReach(stage=s.name, cases=reach.get(s.name, 0), share=share(reach.get(s.name, 0)))
            for s in spec.stages
        ],
    )


CONFORMANCE = Analysis(
    "conformance",
    ConformanceSpec,
    ConformanceResult,
    _run_conformance,
    "The share of journeys that follow the designed stage order, and the common deviations.",
    copy=can_use_sorted,
)
