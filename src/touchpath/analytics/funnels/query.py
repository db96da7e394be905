"""The funnel's queries as trees: the rows reached (by access path), the breakdown's groups, the
per-step aggregates, the trend and the drop-offs.

`reached` gives one row per profile and step reached: `pid`, `step` (0-based), `reached_at`,
`gap_s` and `total_s` (the first chain's seconds from the previous step and from the first),
and `entry` (the profile's first step-1 event). `funnel` adds each profile's breakdown group
(`grp`). On the sorted copy `pid` is the profile's number; `copy.to_ids` maps it back.
"""

from __future__ import annotations

from sqlglot import exp

from touchpath.analytics import journey
from touchpath.analytics.breakdown import grouped
from touchpath.analytics.funnels import copy, log
from touchpath.analytics.funnels.spec import HISTOGRAM_BUCKETS, FunnelSpec
from touchpath.analytics.sql import q, with_

__all__ = ["dropped", "funnel", "reached", "steps", "trend"]

Ctes = list[tuple[str, exp.Expr]]

_ENTRY = (
    "SELECT m.*, e.reached_at AS entry FROM made AS m "
    "JOIN (SELECT pid, reached_at FROM made WHERE step = 0) AS e USING (pid)"
)


def _reached(
    spec: FunnelSpec, sorted_copy: bool, layout: journey.Layout | None
) -> tuple[Ctes, exp.Expr]:
    """The CTEs of the spec's access path and ordering, and the body over `made`."""
    if sorted_copy:
        ctes, has_entry = copy.made(spec, layout)
        return ctes, q("SELECT * FROM made" if has_entry else _ENTRY)
    return log.made(spec), q(_ENTRY)


def reached(
    spec: FunnelSpec, sorted_copy: bool = False, layout: journey.Layout | None = None
) -> exp.Expr:
    """SELECT pid, step, reached_at, gap_s, total_s, entry: one row per profile and step made.

    Other analyses embed it (paths after a drop-off). `sorted_copy` reads the sorted journey
    copy; with its `layout`, an ordered funnel's pass runs per part of the profiles."""
    ctes, body = _reached(spec, sorted_copy, layout)
    return with_(ctes, body)


def funnel(
    spec: FunnelSpec, sorted_copy: bool = False, layout: journey.Layout | None = None
) -> exp.Expr:
    """SELECT pid, step, reached_at, gap_s, total_s, entry, grp: `reached` with each profile's
    breakdown group (NULL without a breakdown)."""
    ctes, body = _reached(spec, sorted_copy, layout)
    bd = spec.breakdown
    if bd is None:
        return with_(ctes, q("SELECT *, CAST(NULL AS VARCHAR) AS grp FROM :r AS r", r=body))
    entries = q("SELECT pid FROM reached WHERE step = 0")
    values = bd.profile_values(spec.time_range)
    if values is not None and sorted_copy:
        values = q(
            "SELECT p.pno AS pid, v.value FROM :v AS v "
            "JOIN journey_profiles AS p ON p.profile_id = v.pid",
            v=values,
        )
    if values is None:
        # The value of the profile's first entry event (first-touch attribution).
        values = q(
            "SELECT pid, arg_min(bval, ts) AS value FROM base WHERE mask & 1 <> 0 GROUP BY pid"
        )
    return with_(
        [*ctes, ("reached", body), ("groups", grouped(entries, values, bd.top))],
        q("SELECT r.*, g.grp FROM reached AS r JOIN groups AS g USING (pid)"),
    )


def _bucket(column: str) -> exp.Expr:
    """The index of `column`'s bucket in HISTOGRAM_BUCKETS (NULL when negative or NULL)."""
    case = exp.Case().when(q(f"{column} < 0"), exp.null(), copy=False)
    for i, (_, high) in enumerate(HISTOGRAM_BUCKETS[:-1]):
        case = case.when(q(f"{column} < :high", high=high), exp.Literal.number(i), copy=False)
    return case.else_(exp.Literal.number(len(HISTOGRAM_BUCKETS) - 1), copy=False)


def steps(source: exp.Expr, grouped_by: bool = True, keys: tuple[str, ...] = ()) -> exp.Expr:
    """Per (group, step) and per step: the count; the median and p90 seconds from the previous
    step and from the first; and the count in each histogram bucket of both, over the rows of
    `source` (a table or a query of `funnel`'s rows). One aggregate; without a breakdown
    (`grouped_by=False`) no per-group grouping set. `keys` are columns of `source` that split
    it further (the funnel of each row, when many funnels' rows are aggregated at once): they
    come first in each row and in every grouping set."""
    pre = "".join(f"{k}, " for k in keys)
    counts = []
    for column in ("gap_s", "total_s"):
        bucket = _bucket(column)
        counts += [
            exp.alias_(
                q("count(*) FILTER (WHERE :b = :i)", b=bucket, i=i), f"{column}_{i}", copy=False
            )
            for i in range(len(HISTOGRAM_BUCKETS))
        ]
    select = q(
        f"SELECT {pre}{'grp' if grouped_by else 'CAST(NULL AS VARCHAR)'} AS grp, step, "
        "count(*) AS n, TP_QUANTILES(gap_s, 0.5, 0.9) AS gq, TP_QUANTILES(total_s, 0.5, 0.9) AS tq, "
        f"{'GROUPING(grp)' if grouped_by else '1'} AS everyone FROM :rows AS rows "
        + (
            f"GROUP BY GROUPING SETS (({pre}grp, step), ({pre}step))"
            if grouped_by
            else f"GROUP BY {pre}step"
        ),
        rows=source,
    )
    out: exp.Expr = select.select(*counts, copy=False)  # type: ignore[attr-defined]
    return out


def trend(source: exp.Expr, spec: FunnelSpec) -> exp.Expr:
    """Entered and converted profiles per period of their entry (`spec.trend`)."""
    return q(
        "SELECT CAST(date_trunc(:unit, entry) AS DATE) AS period, count(*) AS entered, "
        "count(*) FILTER (WHERE converted) AS converted FROM (SELECT pid, min(entry) AS entry, "
        "TP_ANY_TRUE(step = :last) AS converted FROM :rows AS rows GROUP BY pid) AS p "
        "GROUP BY 1 ORDER BY 1",
        unit=str(spec.trend),
        last=len(spec.steps) - 1,
        rows=source,
    )


def dropped(source: exp.Expr, step: int, group: str | None = None) -> exp.Expr:
    """SELECT pid: the profiles of `source` that made step `step - 1` (1-based) but not `step`;
    with `group`, only those in that breakdown group."""
    k = step - 1
    conds = [q("step = :k", k=k - 1)]
    if group is not None:
        conds.append(q("grp = :g", g=group))
    conds.append(q("pid NOT IN (SELECT pid FROM :rows AS r2 WHERE step = :k)", rows=source, k=k))
    return q("SELECT pid FROM :rows AS r1 WHERE :c", rows=source, c=exp.and_(*conds))
