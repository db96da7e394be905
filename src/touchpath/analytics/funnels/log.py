"""Funnels on the event log (`resolved_events`), one query tree per ordering, for any dialect.

Every ordering starts from one scan, `base`: each journey event that matches a step, with a bit
mask of the steps it matches (strict funnels keep every journey event: a step must be the very
next one). Profiles are keyed by a 64-bit hash of their id (`TP_PROFILE_KEY`): windows and joins
partition on it about twice as fast as on the text.

- ordered: one ASOF JOIN per step links each step-k event to the latest valid chain at step
  k-1 at or before it. The latest predecessor is the best one (most room for the window, the
  step gap and exclusions), so the chain is exact, set-wise, and costs k-1 sorted merges.
- strict: one window pass; a chain ends at step k on an event whose k previous events (`lag`)
  matched steps k-1 .. 1, within the window.
- any order: the most distinct steps done in a window starting at one of the step events.

Each gives `made`: one row per profile and step reached (`pid`, `step` 0-based, `reached_at`,
`gap_s`, `total_s`), the profile's first chain to reach the step.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from touchpath.analytics.funnels.spec import FunnelSpec
from touchpath.analytics.sql import and_, col, q, table
from touchpath.events.match import JOURNEY_TYPES, literal

__all__ = ["base", "exclusion_checks", "made", "mask", "step_filter", "union", "unordered"]

Ctes = list[tuple[str, exp.Expr]]


def mask(spec: FunnelSpec) -> exp.Expr:
    """The bit mask of the steps an event row matches (bit k: step k+1)."""
    out: exp.Expr | None = None
    for i, s in enumerate(spec.steps):
        bit = (
            exp.Case()
            .when(s.condition(), literal(1 << i), copy=False)
            .else_(literal(0), copy=False)
        )
        out = bit if out is None else exp.BitwiseOr(this=out, expression=bit)
    assert out is not None
    return exp.Paren(this=out)


def step_filter(spec: FunnelSpec) -> exp.Expr:
    """Rows that match any step."""
    return exp.Paren(this=exp.or_(*[exp.Paren(this=s.condition()) for s in spec.steps], copy=False))


def _journey_types() -> exp.Expr:
    return exp.In(this=col("type"), expressions=[literal(t) for t in JOURNEY_TYPES])


def base(spec: FunnelSpec) -> exp.Expr:
    """One scan: the step events (every journey event for strict funnels), with their mask and
    (for a breakdown by the entry event) the value it breaks down by."""
    where = [_journey_types(), spec.time_range.condition()]
    if spec.order != "strict":
        where.append(step_filter(spec))
    cols = "profile_id AS pid, TP_PROFILE_KEY(profile_id) AS h, timestamp AS ts"
    if spec.order == "strict":
        cols += ", seq"
    select = q(f"SELECT {cols}, :mask AS mask FROM resolved_events WHERE :filters", mask=mask(spec),
               filters=and_(where))  # fmt: skip
    if spec.breakdown is not None and (value := spec.breakdown.entry_value()) is not None:
        select = select.select(exp.alias_(value, "bval"), copy=False)  # type: ignore[attr-defined]
    return select


def exclusion_ctes(spec: FunnelSpec) -> Ctes:
    """`x{j}`: the events of exclusion j (profile and time)."""
    return [
        (
            f"x{j}",
            q(
                "SELECT profile_id AS pid, timestamp AS ts FROM resolved_events "
                "WHERE :range AND :cond",
                range=spec.time_range.condition(),
                cond=ex.condition(),
            ),
        )
        for j, ex in enumerate(spec.exclusions)
    ]


def exclusion_checks(
    spec: FunnelSpec, k: int, pid: exp.Expr, ts: exp.Expr, step_time: Sequence[exp.Expr]
) -> list[exp.Expr]:
    """Conditions that no excluded event falls strictly between the steps it guards, checked at
    step k (0-based) for exclusions whose `before` step is k+1: the latest excluded event before
    that step's event `ts` must not follow step `after`'s event (`step_time[after - 1]`)."""
    n = len(spec.steps)
    return [
        q(
            "NOT coalesce((SELECT max(x.ts) FROM :x AS x WHERE x.pid = :pid AND x.ts < :ts) "
            "> :after, FALSE)",
            x=table(f"x{j}"),
            pid=pid,
            ts=ts,
            after=step_time[ex.after - 1],
        )
        for j, ex in enumerate(spec.exclusions)
        if (ex.before or n) - 1 == k
    ]


def _bit(k: int) -> exp.Expr:
    return q(f"mask & {1 << k} <> 0")


def _ordered(spec: FunnelSpec) -> Ctes:
    """CTEs r0..r{n-1}: every valid chain end at each step, with the times c0..ck of its steps,
    then `made`."""
    n = len(spec.steps)
    ctes: Ctes = [("r0", q("SELECT pid, h, ts AS c0 FROM base WHERE mask & 1 <> 0"))]
    for k in range(1, n):
        prev = ", ".join(f"r.c{i}" for i in range(k))
        where = [q("s.ts <= r.c0 + TP_SPAN(:w)", w=int(spec.window))]
        if spec.max_step_gap is not None:
            where.append(q(f"s.ts <= r.c{k - 1} + TP_SPAN(:g)", g=int(spec.max_step_gap)))
        times = [col(f"c{i}", "r") for i in range(k)]
        where += exclusion_checks(spec, k, col("pid", "s"), col("ts", "s"), times)
        ctes.append(
            (
                f"r{k}",
                q(
                    f"SELECT s.pid, s.h, {prev}, s.ts AS c{k} FROM "
                    f"(SELECT pid, h, ts FROM base WHERE mask & {1 << k} <> 0) AS s "
                    f"ASOF JOIN r{k - 1} AS r ON s.h = r.h AND r.c{k - 1} <= s.ts WHERE :filters",
                    filters=and_(where),
                ),
            )
        )
    parts = [q("SELECT pid, 0 AS step, min(c0) AS reached_at, 0.0 AS gap_s, 0.0 AS total_s "
               "FROM r0 GROUP BY pid")]  # fmt: skip
    for k in range(1, n):
        gap = f"TP_SECONDS(c{k}) - TP_SECONDS(c{k - 1})"
        total = f"TP_SECONDS(c{k}) - TP_SECONDS(c0)"
        parts.append(
            q(
                f"SELECT pid, {k} AS step, min(c{k}) AS reached_at, "
                f"arg_min({gap}, c{k}) AS gap_s, arg_min({total}, c{k}) AS total_s "
                f"FROM r{k} GROUP BY pid"
            )
        )
    return [*ctes, ("made", union(parts))]


def union(parts: list[exp.Expr]) -> exp.Expr:
    out = parts[0]
    for p in parts[1:]:
        out = exp.union(out, p, distinct=False, copy=False)
    return out


def _strict(spec: FunnelSpec) -> Ctes:
    """Strict order in one pass: a chain ends at step k on an event whose k previous events
    (`lag` over the profile's journey events by time, then arrival) matched steps k-1 .. 1."""
    n = len(spec.steps)
    lags = "".join(
        f", lag(mask, {i}) OVER w AS m{i}, lag(ts, {i}) OVER w AS t{i}" for i in range(1, n)
    )
    ctes: Ctes = [
        (
            "lagged",
            q(f"SELECT pid, ts AS t0, seq, mask AS m0{lags} FROM base "
              "WINDOW w AS (PARTITION BY h ORDER BY ts, seq) QUALIFY mask <> 0"),
        )
    ]  # fmt: skip
    parts = []
    for k in range(n):
        # t{i} is the time of step k - i: t0 is this event (step k), t{k} the first step.
        conds = [q(f"m{i} & {1 << (k - i)} <> 0") for i in range(k + 1)]
        if k:
            conds.append(q(f"t0 <= t{k} + TP_SPAN(:w)", w=int(spec.window)))
        if spec.max_step_gap is not None:
            gap = int(spec.max_step_gap)
            conds += [q(f"t{i} <= t{i + 1} + TP_SPAN(:g)", g=gap) for i in range(k)]
        times = [col(f"t{k - i}") for i in range(k + 1)]  # times[i]: this chain's step i
        for j in range(1, k + 1):
            conds += exclusion_checks(spec, j, col("pid"), times[j], times)
        gap_s = "TP_SECONDS(t0) - TP_SECONDS(t1)" if k else "0.0"
        total_s = f"TP_SECONDS(t0) - TP_SECONDS(t{k})" if k else "0.0"
        # The profile's first chain: the first in (time, arrival) order.
        agg_gap = f"arg_min({gap_s}, (t0, seq))" if k else gap_s
        agg_total = f"arg_min({total_s}, (t0, seq))" if k else total_s
        parts.append(
            q(
                f"SELECT pid, {k} AS step, min(t0) AS reached_at, {agg_gap} AS gap_s, "
                f"{agg_total} AS total_s FROM lagged WHERE :conds GROUP BY pid",
                conds=and_(conds),
            )
        )
    return [*ctes, ("made", union(parts))]


def unordered(spec: FunnelSpec, partition: str = "h") -> Ctes:
    """Any order: the most distinct steps done in a window starting at one of the step events;
    `reached_at` is the earliest such window's start. Windows partition by `partition` (the
    profile's hash; its number on the copy)."""
    n = len(spec.steps)
    return [
        (
            "w",
            q(
                f"SELECT pid, ts, TP_BITS(bit_or(mask) OVER (PARTITION BY {partition} "
                "ORDER BY TP_TIME_KEY(ts) RANGE BETWEEN CURRENT ROW AND TP_KEY_SPAN(:w) "
                "FOLLOWING)) AS level FROM base",
                w=int(spec.window),
            ),
        ),
        (
            "best",
            q("SELECT pid, max(level) AS most, arg_max(ts, (level, -TP_MICROS(ts))) AS reached_at "
              "FROM w GROUP BY pid"),
        ),
        (
            "made",
            q("SELECT pid, k AS step, reached_at, CAST(NULL AS DOUBLE) AS gap_s, "
              "CAST(NULL AS DOUBLE) AS total_s FROM best, (SELECT UNNEST(TP_NUMBERS(:n)) AS k) AS t "
              "WHERE t.k < least(best.most, :n)", n=n),
        ),
    ]  # fmt: skip


def made(spec: FunnelSpec) -> Ctes:
    """`base` and the CTEs up to `made` for the spec's ordering, on the event log."""
    if spec.order == "any":
        return [("base", base(spec)), *unordered(spec)]
    if spec.order == "strict":
        return [("base", base(spec)), *exclusion_ctes(spec), *_strict(spec)]
    return [("base", base(spec)), *exclusion_ctes(spec), *_ordered(spec)]
