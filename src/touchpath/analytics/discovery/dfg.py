"""The directly-follows graph: every pair of directly following activities with its frequency,
the cases that take it and the time between the two (median, p90), plus node counts and
start/end counts. `coverage` keeps only the most common variants; with `stages` it is the
stage flow (the DFG over stages)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

import duckdb
from pydantic import BaseModel, Field
from sqlglot import exp

from touchpath.analytics.dialects import render
from touchpath.analytics.discovery.journeys import (
    COPY_ROWS,
    JourneyScope,
    can_use_sorted,
    copy_sessions,
    covered,
    filters,
    log_lookup,
    match_of,
    sorted_journey,
)
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result
from touchpath.analytics.sql import or_, q
from touchpath.events.match import TimeRange

if TYPE_CHECKING:  # NumPy only for the compiled pass (below): the SQL's process never loads it
    import numpy as np

    from touchpath.store.memo import Memo

__all__ = ["DFG", "DfgEdge", "DfgNode", "DfgResult", "DfgSpec", "dfg", "dfg_sql"]


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


_EDGES = """
WITH f AS (SELECT case_id, activity, ts, {target} AS target, {target_ts} AS target_ts,
                  {first} AS first FROM :steps AS j WINDOW w AS {window})
SELECT activity, target, count(*) AS frequency, count(DISTINCT case_id) AS cases,
       count(*) FILTER (WHERE first) AS starts,
       TP_QUANTILE(TP_DIFF_SECONDS(target_ts, ts), 0.5) AS median_seconds,
       TP_QUANTILE(TP_DIFF_SECONDS(target_ts, ts), 0.9) AS p90_seconds
FROM f GROUP BY activity, target
"""
_SAME = "lead(case_id) OVER w = case_id"
_EDGES_LOG = _EDGES.format(
    target="lead(activity) OVER w",
    target_ts="lead(ts) OVER w",
    first="lag(activity) OVER w IS NULL",
    window="(PARTITION BY case_id ORDER BY ts, seq)",
)
"""Edges of journeys sorted by the window (the log)."""
_EDGES_COPY = _EDGES.format(
    target=f"CASE WHEN {_SAME} THEN lead(activity) OVER w END",
    target_ts=f"CASE WHEN {_SAME} THEN lead(ts) OVER w END",
    first="lag(case_id) OVER w IS DISTINCT FROM case_id",
    window="()",
)
"""Edges of journeys in stored order (the copy): neighbours compared as stored."""


def dfg(spec: DfgSpec, sorted_copy: bool = False) -> tuple[exp.Expr, exp.Expr]:
    """The DFG's edges (one pass over the sorted journeys) and its nodes.

    Edge rows with a NULL target count the journeys that end at the activity; `starts` counts
    the journeys that begin there. The node query needs no sort: events and cases per activity.
    With `sorted_copy` (see `can_use_sorted`) the steps come from the journey copy in stored
    order and neighbours are compared as stored, with no sort.
    """
    if sorted_copy and spec.coverage is None and not spec.stages:
        return _coded(spec)
    if sorted_copy and spec.coverage is None:
        steps = sorted_journey(spec)
        lookup = log_lookup(spec)
        edges = q(_EDGES_LOG if lookup and lookup[0] else _EDGES_COPY, steps=steps)
    else:
        steps = covered(spec, spec.coverage)
        edges = q(_EDGES_LOG, steps=steps)
    nodes = q(
        "SELECT activity, count(*) AS frequency, count(DISTINCT case_id) AS cases "
        "FROM :steps AS j GROUP BY activity",
        steps=steps,
    )
    return edges, nodes


def dfg_sql(spec: DfgSpec, sorted_copy: bool = False) -> tuple[str, str]:
    """`dfg` as DuckDB SQL text."""
    edges, nodes = dfg(spec, sorted_copy)
    return render(edges), render(nodes)


def _coded(spec: DfgSpec) -> tuple[exp.Expr, exp.Expr]:
    """`dfg` of event names on the sorted copy: neighbours compared as stored and grouped by
    the names' integer codes (`journey_names`), named only in the few hundred result rows."""
    steps = q(f"SELECT pno, ts, code FROM {COPY_ROWS} AS c WHERE :cond", cond=filters(spec))
    if spec.case == "session":  # a journey per session: `pno` numbers the sessions
        steps = q(
            "SELECT sid AS pno, ts, code FROM :s AS s",
            s=copy_sessions(steps, "pno", spec.session_gap),
        )
    if spec.collapses:
        steps = q(
            "SELECT * FROM :s AS s QUALIFY code IS DISTINCT FROM lag(code) OVER () "
            "OR pno IS DISTINCT FROM lag(pno) OVER ()",
            s=steps,
        )
    same = "lead(pno) OVER () = pno"
    edges = q(
        f"""
        WITH f AS (
            SELECT pno, code, ts, CASE WHEN {same} THEN lead(code) OVER () END AS target,
                CASE WHEN {same} THEN TP_DIFF_SECONDS(lead(ts) OVER (), ts) END AS gap,
                lag(pno) OVER () IS DISTINCT FROM pno AS first
            FROM :steps AS s
        ),
        g AS (
            SELECT code, target, count(*) AS frequency, count(DISTINCT pno) AS cases,
                count(*) FILTER (WHERE first) AS starts, TP_QUANTILES(gap, 0.5, 0.9) AS q
            FROM f GROUP BY code, target
        )
        SELECT a.name, b.name, frequency, cases, starts, q[1], q[2] FROM g
        JOIN journey_names AS a ON a.code = g.code LEFT JOIN journey_names AS b ON b.code = g.target
        """,
        steps=steps,
    )
    nodes = q(
        "SELECT n.name, frequency, cases FROM (SELECT code, count(*) AS frequency, "
        "count(DISTINCT pno) AS cases FROM :steps AS s GROUP BY code) AS g "
        "JOIN journey_names AS n USING (code)",
        steps=steps,
    )
    return edges, nodes


def _copy(spec: DfgSpec) -> bool:
    """The copy answers any DFG without coverage; stages that test properties take them
    from the log for their events only (`log_lookup`)."""
    return spec.coverage is None and can_use_sorted(spec, lookup=True)


def _staged(
    cur: duckdb.DuckDBPyConnection, spec: DfgSpec, memo: Memo | None
) -> tuple[Any, np.ndarray, dict[int, str]] | None:
    """`_keep` of a DFG over stages: the copy's columns with each row's stage number as its
    code (the first stage that claims the row, as `stage_case`; 0: none), from the condition
    codes the batched funnels read (`funnels.many.codes`: a map's touchpoints are its
    funnels' steps, so a bind reads the copy once for both); stages that test a property
    look it up by `seq` for their events only."""
    if spec.include or spec.exclude or spec.audience is not None or spec.case != "profile":
        return None
    import numpy as np

    from touchpath.analytics.funnels.many import BITS, codes, first_claim, row_condition
    from touchpath.analytics.kernels import columns
    from touchpath.analytics.kernels.dfg import MAX_NAMES

    conds: dict[Any, int] = {}
    bits: list[int] = []
    for st in spec.stages:
        mask = 0
        for e in st.events:
            m = match_of(e)
            c = row_condition(m.condition(), m.event)
            if c is None:
                return None
            mask |= 1 << conds.setdefault(c, len(conds))
        bits.append(mask)
    if len(conds) > BITS or len(spec.stages) > MAX_NAMES:
        return None
    cols = columns.load(cur, memo)
    found = codes(cur, memo, cols, list(conds))
    if found is None:
        return None
    masks, row_codes = found
    stage = first_claim(masks, bits, np.int32)
    keep = np.ones(len(bits) + 1, np.uint8)
    keep[0] = 0
    read = dataclasses.replace(cols, code=stage[row_codes], names=len(bits))
    return read, keep, {k + 1: st.name for k, st in enumerate(spec.stages)}


def _keep(
    cur: duckdb.DuckDBPyConnection, spec: DfgSpec, memo: Memo | None
) -> tuple[Any, np.ndarray, dict[int, str] | None] | None:
    """The copy's columns and, per activity code, whether its rows are in the journeys
    (`include`, `exclude`), and the names of the codes when they are stages (None: the
    copy's `journey_names`); None when the compiled pass cannot compute this spec exactly."""
    if spec.coverage is not None:
        return None
    if spec.stages:
        return _staged(cur, spec, memo)
    conds = [or_([match_of(e).condition() for e in items]) for items in (spec.include, spec.exclude) if items]  # fmt: skip
    if any(c.name not in ("event", "type") for e in conds for c in e.find_all(exp.Column)):
        return None
    import numpy as np

    from touchpath.analytics.kernels import columns
    from touchpath.analytics.kernels.dfg import MAX_NAMES

    cols = columns.load(cur, memo)
    if cols.names > MAX_NAMES:
        return None
    lut = columns.masks(cur, cols, conds) if conds else np.zeros(cols.names + 1, np.int32)
    if lut is None:
        return None
    bit = 0
    keep = np.ones(len(lut), np.uint8)
    if spec.include:
        keep &= (lut & 1).astype(np.uint8)
        bit = 1
    if spec.exclude:
        keep &= ((lut >> bit) & 1 == 0).astype(np.uint8)
    return cols, keep, None


def _kernel(cur: duckdb.DuckDBPyConnection, spec: DfgSpec, memo: Memo | None) -> bool:
    return _keep(cur, spec, memo) is not None


def _compiled(read: Read, spec: DfgSpec) -> tuple[list[Any], list[Any]]:
    """The edge and node rows `dfg` gives on the copy, from the compiled pass."""
    import numpy as np

    from touchpath.analytics.kernels import columns
    from touchpath.analytics.kernels.dfg import count

    found = _keep(read.cur, spec, read.memo)
    assert found is not None  # the planner asked `_kernel`
    cols, keep, names = found
    span = spec.time_range or TimeRange()
    lo, hi = columns.bounds(span.start, span.end)
    gap = float(spec.session_gap) if spec.case == "session" else None
    got = count(cols, keep, lo, hi, spec.collapses, gap)
    if names is None:
        names = dict(read.rows("SELECT code, name FROM journey_names"))
    w = got.width
    rows = []
    started: set[int] = set()
    for e in np.flatnonzero(got.edge_frequency):
        a, b = divmod(int(e), w)
        end = b == w - 1
        # `_run` sums starts per source: each source's starts go on its first row.
        starts = 0 if a in started else int(got.starts[a])
        started.add(a)
        rows.append((names[a], None if end else names[b], int(got.edge_frequency[e]),
                     int(got.edge_cases[e]), starts, None if end else float(got.median[e]),
                     None if end else float(got.p90[e])))  # fmt: skip
    nodes = [(names[int(c)], int(got.frequency[c]), int(got.cases[c]))
             for c in np.flatnonzero(got.frequency)]  # fmt: skip
    return rows, nodes


def _run(read: Read, spec: DfgSpec) -> DfgResult:
    """The directly-follows graph of the journeys.

    `min_frequency` and `top_k` filter the aggregated edges (a few hundred rows at most).
    """
    key = spec.model_dump_json()
    if read.plan.kernel:
        rows, node_rows = _compiled(read, spec)
    else:
        rows = read.rows(read.sql(("dfg edges", key), lambda: dfg(spec, read.sorted_copy)[0]))
        node_rows = read.rows(read.sql(("dfg nodes", key), lambda: dfg(spec, read.sorted_copy)[1]))
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
    _run,
    "The directly-follows graph: activities (or stages) and the steps between them.",
    copy=_copy,
    kernel=_kernel,
)
