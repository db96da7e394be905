"""Variants: the most common whole journeys with their share of cases (and, with `coverage`,
only as many as cover that share)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
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

__all__ = ["VARIANTS", "Variant", "VariantsResult", "VariantsSpec", "variants", "variants_sql"]


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


def variants(spec: VariantsSpec, sorted_copy: bool = False) -> exp.Expr:
    """The variants, most common first, with share, cumulative share and duration.

    With `sorted_copy` (see `can_use_sorted`) the steps come from the journey copy numbered in
    stored order, so each list sorts on one integer instead of (time, seq); without stages the
    lists hold the names' integer codes, named once per distinct variant (half the CPU).
    """
    named = "variant"
    if sorted_copy:
        coded = not spec.stages
        steps = q(
            "SELECT *, row_number() OVER () AS rn FROM :s AS s",
            s=sorted_journey(spec, coded=coded),
        )
        order = "rn"
        if coded:
            named = "list_select((SELECT list(name ORDER BY code) FROM journey_names), variant)"
    else:
        steps, order = journey(spec), "(ts, seq)"
    return q(
        f"""
        WITH j AS (SELECT * FROM :steps AS s),
        v AS (SELECT case_id, TP_ORDERED_LIST(activity, {order}) AS variant,
                     TP_DIFF_SECONDS(max(ts), min(ts)) AS duration
              FROM j GROUP BY case_id),
        vg AS (SELECT variant, count(*) AS n, TP_QUANTILE(duration, 0.5) AS duration
               FROM v GROUP BY variant),
        vc AS (SELECT {named} AS variant, n, duration FROM vg),
        vr AS (SELECT variant, n, duration, sum(n) OVER () AS total,
                      count(*) OVER () AS distinct_n,
                      sum(n) OVER (ORDER BY n DESC, variant ROWS UNBOUNDED PRECEDING) AS upto
               FROM vc)
        SELECT variant, n, n / total, upto / total, duration, total, distinct_n
        FROM vr WHERE upto - n < :coverage * total
        QUALIFY row_number() OVER (ORDER BY n DESC, variant) <= :most
        ORDER BY n DESC, variant
        """,
        steps=steps,
        coverage=float(spec.coverage or 1.0),
        most=int(spec.limit),
    )


def variants_sql(spec: VariantsSpec, sorted_copy: bool = False) -> str:
    """`variants` as DuckDB SQL text."""
    return render(variants(spec, sorted_copy))


def _run(read: Read, spec: VariantsSpec) -> VariantsResult:
    """The most common variants of the journeys with their share of cases."""
    key = ("variants", spec.model_dump_json())
    rows = read.rows(read.sql(key, lambda: variants(spec, sorted_copy=read.sorted_copy)))
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
    _run,
    "The most common whole journeys with their share of cases.",
    copy=can_use_sorted,
)
