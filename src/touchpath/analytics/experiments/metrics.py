"""Per-arm sufficient statistics of an experiment's metrics, in one SQL statement.

A person's exposure is their first `Experiment Viewed` of the experiment (read through
`resolved_events`, so an anonymous exposure joins the profile that later signs in). People
seen in two arms are left out and counted (`multiple`): their outcome belongs to neither arm.
Each metric's value is counted from that exposure (`touchpath.analytics.experiments.spec.Metric`),
and its value in the `pre_window` before exposure is the CUPED covariate.

The statement scans the events once: the rows any metric matches are joined to the exposed
people on the profile and the widest window, and aggregated per person with a FILTER per
metric; then per arm and exposure day into n, sum, sum of squares, and the pre-period sums.
When the sorted journey copy is fresh (`touchpath.analytics.journey`, kept so by a server) and
holds the metrics' events (`on_copy`), the planner has the statement read each event's person
from the copy instead of `resolved_events`: the log's rows (conditions, properties) are joined
on `seq` to the copy's, whose profile numbers (`pno`, integers) replace the identity map's
text ids in the per-person GROUP BY and the join of people to their events (about 30 % less
CPU at 1M exposures, docs/benchmarks.md "Experiments"); the numbers are the same. On both,
the arms are numbered once and the aggregates carry the integer code, named in the result.
The skeleton is fixed text with placeholders; every user value (experiment id, event
conditions, windows) enters as a SQLGlot literal or expression tree, and the whole tree is
rendered once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
from sqlglot import exp, parse_one

from touchpath.analytics.experiments.spec import ExperimentSpec, Metric
from touchpath.analytics.experiments.stats import ArmStats
from touchpath.events.match import JOURNEY_TYPES, TimeRange, literal, property_expr
from touchpath.events.names import EXPERIMENT_VIEWED
from touchpath.store import Store

__all__ = [
    "ArmDay",
    "Exposures",
    "arm_profiles_sql",
    "arms_sql",
    "experiment_query",
    "experiment_sql",
    "exposures",
    "on_copy",
    "read_arms",
]

_VIEWED = """
viewed AS MATERIALIZED (
    SELECT profile_id AS pid, timestamp AS ts,
        json_extract_string(properties, '$.variation_id') AS arm
    FROM resolved_events
    WHERE event = :viewed
      AND json_extract_string(properties, '$.experiment_id') = :experiment_id
      AND :exposure_range
)"""

_VIEWED_COPY = """
viewed AS MATERIALIZED (
    SELECT j.pno AS pid, e.ts, e.arm
    FROM (
        SELECT seq, timestamp AS ts, json_extract_string(properties, '$.variation_id') AS arm
        FROM events
        WHERE event = :viewed
          AND json_extract_string(properties, '$.experiment_id') = :experiment_id
          AND :exposure_range
    ) e
    JOIN journey_events j ON j.seq = e.seq AND j.event = :viewed
)"""

_PEOPLE = """
arms AS MATERIALIZED (
    SELECT arm, (row_number() OVER (ORDER BY arm))::INTEGER AS code
    FROM (SELECT DISTINCT arm FROM viewed WHERE arm IS NOT NULL)
),
people AS MATERIALIZED (
    SELECT v.pid, min(v.ts) AS ts, arg_min(a.code, v.ts) AS code,
        min(a.code) <> max(a.code) AS multiple
    FROM viewed v JOIN arms a ON a.arm = v.arm GROUP BY v.pid
),
units AS MATERIALIZED (
    SELECT {uid} AS uid, pid, epoch(ts) AS us, code, date_trunc('day', ts) AS day
    FROM people WHERE NOT multiple AND :arm_filter
)
"""


def _units(copy: bool = False) -> str:
    """The exposure CTEs (`viewed`, `arms`, `people`, `units`) as skeleton text. Arms are
    numbered (`code`, in name order) once, so the aggregates per person and per arm work on
    integers, not text (about 15 % less CPU at 1M exposures); `arms` names them. On the log,
    people are resolved through `resolved_events` and numbered (`uid`) for the join below,
    their ids being text; on the sorted journey copy, an exposure's person is its row's profile
    number (`pno`, the copy joined on `seq`), an integer that numbers them already."""
    if copy:
        return _VIEWED_COPY + "," + _PEOPLE.format(uid="pid")
    return _VIEWED + "," + _PEOPLE.format(uid="row_number() OVER ()")


_UNITS = _units()


def on_copy(spec: ExperimentSpec) -> bool:
    """Whether the sorted journey copy holds every event `spec` reads: each metric names its
    event, or a journey type (the copy holds the journey types' rows; the exposures are track
    events). The copy gives each row's profile number; properties, channel and the conditions
    are read from the log's row of the same `seq`."""
    return all(m.event.event is not None or m.event.type in JOURNEY_TYPES for m in spec.metrics)


def _metric_columns(k: int, m: Metric, pre: bool) -> tuple[str, str]:
    """The per-person aggregates of metric k (post, and pre when CUPED) as skeleton text."""
    post = f"e.c{k} AND e.s - u.us >= :ws{k} AND e.s - u.us < :we{k}"
    before = f"e.c{k} AND e.s - u.us < 0 AND e.s - u.us >= :pw{k}"
    if m.kind == "count":
        agg = "count(*) FILTER (WHERE {})"
    elif m.kind == "sum":
        agg = f"coalesce(sum(e.v{k}) FILTER (WHERE {{}}), 0)"
    else:
        agg = "coalesce(max(CASE WHEN {} THEN 1 ELSE 0 END), 0)"
    y = agg.format(post) + f" AS y{k}"
    x = (agg.format(before) if pre else "0") + f" AS x{k}"
    return y, x


def experiment_sql(spec: ExperimentSpec, copy: bool = False) -> str:
    """`experiment_query` rendered for DuckDB."""
    return experiment_query(spec, copy).sql("duckdb")


def _ev(cols: list[str], copy: bool) -> str:
    """The metrics' events CTE (`ev`: pid, s, and each metric's columns) as skeleton text.
    On the copy, the log's rows (conditions, properties) take their person from the copy's row
    of the same `seq`, pre-filtered there by `:copy_any` (integer join, no identity join)."""
    if not copy:
        return f"""
ev AS (
    SELECT profile_id AS pid, epoch(timestamp) AS s, {", ".join(cols)}
    FROM resolved_events
    WHERE :any AND :since
)"""
    names = ", ".join(f"e.{c.rsplit(' AS ', 1)[1]}" for c in cols)
    return f"""
ev AS (
    SELECT j.pno AS pid, e.s, {names}
    FROM (
        SELECT seq, epoch(timestamp) AS s, {", ".join(cols)}
        FROM events
        WHERE :any AND :since
    ) e
    JOIN journey_events j ON j.seq = e.seq AND :copy_any
)"""


def _copy_any(spec: ExperimentSpec) -> exp.Expr:
    """A cheap condition on the copy's `event` column that every metric event meets (TRUE when
    some metric names only a type)."""
    if any(m.event.event is None for m in spec.metrics):
        return exp.true()
    names = sorted({m.event.event for m in spec.metrics if m.event.event is not None})
    return exp.In(this=exp.column("event", table="j"), expressions=[literal(n) for n in names])


def experiment_query(spec: ExperimentSpec, copy: bool = False) -> exp.Expr:
    """The whole statement for `spec`, as one SQLGlot tree (rendered once, at the edge);
    `copy`: read the sorted journey copy for each event's person (`on_copy` must hold).

    Rows: arm, day (of exposure), n, then per metric k: y{k}, yy{k}, x{k}, xx{k}, xy{k}.
    """
    metrics = spec.metrics
    pre = [spec.cuped and m.pre_window is not None for m in metrics]
    subs = _units_subs(spec, spec.arms)
    ev_cols, per_cols, out_cols, sum_cols = [], [], [], []
    max_after = max(m.window for m in metrics)
    max_before = max([m.pre_window or 0 for m, p in zip(metrics, pre, strict=True) if p] or [0])
    any_cond: list[exp.Expr] = []
    for k, m in enumerate(metrics):
        cond = m.event.condition()
        subs[f"cond{k}"] = cond
        any_cond.append(cond.copy())
        ev_cols.append(f":cond{k} AS c{k}")
        if m.kind == "sum":
            subs[f"val{k}"] = property_expr(m.property or "", numeric=True)
            ev_cols.append(f":val{k} AS v{k}")
        subs[f"ws{k}"] = literal(m.window_start)
        subs[f"we{k}"] = literal(m.window)
        subs[f"pw{k}"] = literal(-(m.pre_window or 0))
        y, x = _metric_columns(k, m, pre[k])
        per_cols += [y, x]
        out_cols.append(
            f"sum(y{k}) AS y{k}, sum(y{k} * y{k}) AS yy{k}, sum(x{k}) AS x{k}, "
            f"sum(x{k} * x{k}) AS xx{k}, sum(x{k} * y{k}) AS xy{k}"
        )
        sum_cols.append(", ".join(f"coalesce(s.{c}{k}, 0)" for c in ("y", "yy", "x", "xx", "xy")))
    subs["any"] = exp.paren(exp.or_(*any_cond)) if len(any_cond) > 1 else any_cond[0]
    # A constant bound (zone maps skip older row groups) when the exposures have a start; the
    # join below holds each event to its person's windows either way.
    subs["since"] = (
        TimeRange(start=spec.start - timedelta(seconds=max_before)).condition()
        if spec.start is not None
        else exp.true()
    )
    subs["copy_any"] = _copy_any(spec)
    subs["after"] = literal(max_after)
    subs["before"] = literal(max_before)
    skeleton = f"""
WITH {_units(copy)},{_ev(ev_cols, copy)},
per AS (
    SELECT any_value(u.code) AS code, any_value(u.day) AS day, {", ".join(per_cols)}
    FROM units u
    JOIN ev e ON e.pid = u.pid AND e.s >= u.us - :before AND e.s < u.us + :after
    GROUP BY u.uid
),
sums AS (SELECT code, day, {", ".join(out_cols)} FROM per GROUP BY code, day),
counts AS (SELECT code, day, count(*) AS n FROM units GROUP BY code, day)
SELECT a.arm, c.day, c.n, {", ".join(sum_cols)},
    (SELECT count(*) FROM people WHERE multiple) AS multiple
FROM counts c LEFT JOIN sums s ON s.code = c.code AND s.day = c.day
JOIN arms a ON a.code = c.code
ORDER BY c.day, a.arm
"""
    return _tree(skeleton, subs)


@dataclass(frozen=True)
class ArmDay:
    """The sufficient statistics of everyone exposed to `arm` on `day`, one per metric."""

    arm: str
    day: datetime
    stats: tuple[ArmStats, ...]


@dataclass(frozen=True)
class Exposures:
    """What the log says about an experiment: per arm and exposure day, and how many people
    were seen in more than one arm. `as_of` is set when read from a copy that lags the log
    (None: the log itself, current)."""

    days: list[ArmDay]
    multiple: int
    as_of: datetime | None

    def arms(self) -> list[str]:
        return sorted({d.arm for d in self.days})

    def totals(self) -> dict[str, tuple[ArmStats, ...]]:
        """Each arm's statistics over all days."""
        out: dict[str, tuple[ArmStats, ...]] = {}
        for d in self.days:
            prev = out.get(d.arm)
            out[d.arm] = (
                d.stats
                if prev is None
                else tuple(a + b for a, b in zip(prev, d.stats, strict=True))
            )
        return out


def _units_subs(spec: ExperimentSpec, arms: tuple[str, ...] | None) -> dict[str, exp.Expr]:
    """The values of the exposure CTEs' placeholders."""
    return {
        "viewed": literal(EXPERIMENT_VIEWED),
        "experiment_id": literal(spec.experiment_id),
        "exposure_range": TimeRange(start=spec.start, end=spec.end).condition(),
        "arm_filter": (
            exp.In(
                this=exp.column("code"),
                query=exp.select("code")
                .from_("arms")
                .where(exp.In(this=exp.column("arm"), expressions=[literal(a) for a in arms]))
                .subquery(),
            )
            if arms
            else exp.true()
        ),
    }


def _tree(skeleton: str, subs: dict[str, exp.Expr]) -> exp.Expr:
    """Parse the fixed skeleton and put each placeholder's expression tree in."""
    return parse_one(skeleton, dialect="duckdb").transform(
        lambda node: (
            subs[node.name].copy()
            if isinstance(node, exp.Placeholder) and node.name in subs
            else node
        )
    )


def _render(skeleton: str, subs: dict[str, exp.Expr]) -> str:
    return _tree(skeleton, subs).sql("duckdb")


def _multiple_sql(spec: ExperimentSpec, copy: bool = False) -> str:
    return _render(
        f"WITH {_units(copy)} SELECT count(*) FROM people WHERE multiple", _units_subs(spec, None)
    )


def arms_sql(spec: ExperimentSpec) -> str:
    """The arms people were exposed to (one column, `arm`), by name."""
    return _render(
        f"WITH {_UNITS} SELECT DISTINCT a.arm FROM units u JOIN arms a ON a.code = u.code "
        "ORDER BY a.arm",
        _units_subs(spec, spec.arms),
    )


def arm_profiles_sql(spec: ExperimentSpec, arm: str) -> str:
    """The profiles exposed to `arm` only (one column, `pid`), as the experiment counts them:
    for a static audience per arm, so a journey map can be bound for each arm and compared
    (`touchpath.maps.compare`)."""
    return _render(f"WITH {_UNITS} SELECT pid FROM units", _units_subs(spec, (arm,)))


def read_arms(store: Store, spec: ExperimentSpec) -> Exposures:
    """Run the statement on the event log and return the per-arm, per-day statistics."""
    with store.reading() as cur:
        return exposures(cur, spec)


def exposures(
    cur: duckdb.DuckDBPyConnection, spec: ExperimentSpec, copy: bool = False
) -> Exposures:
    """`read_arms` on a cursor (for a runner that is handed one); `copy`: each event's person
    from the sorted journey copy (the planner's choice: fresh, and `on_copy(spec)`), else the
    log's `resolved_events`. Both give the same numbers."""
    k = len(spec.metrics)
    rows = cur.execute(experiment_sql(spec, copy)).fetchall()
    if rows:
        multiple = rows[0][-1]
    else:  # no one in exactly one arm: count those in several all the same
        (multiple,) = cur.execute(_multiple_sql(spec, copy)).fetchone() or (0,)
    days = []
    for row in rows:
        arm, day, n = row[0], row[1], int(row[2])
        stats = []
        for i in range(k):
            y, yy, x, xx, xy = (float(v or 0) for v in row[3 + 5 * i : 8 + 5 * i])
            stats.append(ArmStats(n=n, total=y, total_sq=yy, pre=x, pre_sq=xx, cross=xy))
        days.append(ArmDay(arm=str(arm), day=day, stats=tuple(stats)))
    return Exposures(days=days, multiple=int(multiple), as_of=None)
