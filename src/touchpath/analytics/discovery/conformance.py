"""Conformance: the share of journeys that follow the designed stage order (the order of
`stages`), and the most common deviations (going back a stage, skipping one, starting late)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlglot import exp

from touchpath.analytics.dialects import render
from touchpath.analytics.discovery.journeys import (
    JourneyScope,
    can_use_sorted,
    journey,
    sorted_journey,
)
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result
from touchpath.analytics.sql import q
from touchpath.events.match import literal

__all__ = [
    "CONFORMANCE",
    "ConformanceResult",
    "ConformanceSpec",
    "Deviation",
    "StageReach",
    "conformance",
    "conformance_sql",
]


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


_BODY = """
WITH j AS (SELECT * FROM :rows AS r),
t AS MATERIALIZED (SELECT case_id, activity AS src, :idx AS si, {dst} AS dst, {di} AS di,
             {first} AS first
      FROM j WINDOW w AS {window}),
d AS (SELECT case_id, 'backward' AS kind, src AS from_stage, dst AS to_stage FROM t WHERE di < si
      UNION ALL
      SELECT case_id, 'skip', src, dst FROM t WHERE :skips
      UNION ALL
      SELECT case_id, 'late_start', NULL, src FROM t WHERE :late),
totals AS (SELECT count(*) FILTER (WHERE first) AS cases FROM t),
bad AS (SELECT count(DISTINCT case_id) AS n FROM d),
dv AS (SELECT kind, from_stage, to_stage, count(DISTINCT case_id) AS n FROM d
       GROUP BY kind, from_stage, to_stage
       QUALIFY row_number() OVER (ORDER BY n DESC, kind, from_stage NULLS FIRST,
                                  to_stage) <= :most),
rc AS (SELECT src, count(DISTINCT case_id) AS n FROM t GROUP BY src)
SELECT 'deviation' AS part, kind, from_stage, to_stage, n,
       (SELECT cases FROM totals), (SELECT n FROM bad) FROM dv
UNION ALL
SELECT 'reach', NULL, src, NULL, n, (SELECT cases FROM totals), (SELECT n FROM bad) FROM rc
"""
_SAME = "lead(case_id) OVER w = case_id"
_LOG = _BODY.format(
    dst="lead(activity) OVER w",
    di="lead(:idx) OVER w",
    first="lag(case_id) OVER w IS NULL",
    window="(PARTITION BY case_id ORDER BY ts, seq)",
)
_COPY = _BODY.format(
    dst=f"CASE WHEN {_SAME} THEN lead(activity) OVER w END",
    di=f"CASE WHEN {_SAME} THEN lead(:idx) OVER w END",
    first="lag(case_id) OVER w IS DISTINCT FROM case_id",
    window="()",
)


def conformance(spec: ConformanceSpec, sorted_copy: bool = False) -> exp.Expr:
    """The per-deviation counts and the per-stage reach in one statement (the journeys' stage
    steps are computed once): rows of (part, kind, from_stage, to_stage, cases, total cases,
    deviating cases) where part is 'deviation' (the `limit` most common, most first) or
    'reach' (kind and to_stage NULL, from_stage the stage).

    With `sorted_copy` (see `can_use_sorted`) the steps come from the journey copy in stored
    order and neighbours are compared as stored, with no sort. `first` marks each journey's
    first step exactly once, so it counts the journeys.
    """
    index = exp.Case()
    for i, stage in enumerate(spec.stages):
        index = index.when(
            exp.EQ(this=exp.column("activity"), expression=literal(stage.name)),
            exp.Literal.number(i),
        )
    collapsed = spec.model_copy(update={"collapse_repeats": True})
    rows = sorted_journey(collapsed) if sorted_copy else journey(collapsed)
    return q(
        _COPY if sorted_copy else _LOG,
        rows=rows,
        idx=index,
        skips=exp.false() if spec.allow_skips else q("di > si + 1"),
        late=q("first AND si > 0") if spec.require_start else exp.false(),
        most=int(spec.limit),
    )


def conformance_sql(spec: ConformanceSpec, sorted_copy: bool = False) -> str:
    """`conformance` as DuckDB SQL text."""
    return render(conformance(spec, sorted_copy))


def _run(read: Read, spec: ConformanceSpec) -> ConformanceResult:
    """The share of journeys that follow the designed stage order, and the common deviations."""
    key = ("conformance", spec.model_dump_json())
    rows = read.rows(read.sql(key, lambda: conformance(spec, sorted_copy=read.sorted_copy)))
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
    _run,
    "The share of journeys that follow the designed stage order, and the common deviations.",
    copy=can_use_sorted,
)
