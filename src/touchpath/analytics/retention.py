"""Retention: of the profiles that entered in a period, how many came back in each later period.

A cohort is the day, week or month of a profile's first `cohort_event` (`first_time`), or of
every period in which it did the event (`recurring`: one entry per such period). Period k counts
the cohort's profiles with a `return_event` at or after their entry in period k (`on`), or in
period k or any later one (`on_or_after`, "unbounded" retention). Period 0 counts returns in the
entry period itself, so with the same cohort and return event it is the whole cohort. The average
curve weighs each cohort by its size and only uses periods that have begun. The repeat rate is the
share of profiles with a return event that have two or more, and the time between returns is
over consecutive return events of a profile.

>>> RetentionSpec(cohort_event={"event": "Order Completed"}, period="month").periods
8
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import duckdb
from pydantic import Field

from touchpath.analytics.breakdown import Breakdown, grouped_sql
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result, Spec
from touchpath.events.match import JOURNEY_TYPES, EventMatch, Frozen, TimeRange

__all__ = [
    "ANALYSIS",
    "Cohort",
    "RepeatStats",
    "RetentionGroup",
    "RetentionResult",
    "RetentionSpec",
    "retention_sql",
]


class RetentionSpec(Spec):
    """Who enters (cohort event), what counts as a return, period, count and mode."""

    kind: Literal["retention"] = "retention"
    cohort_event: EventMatch = EventMatch()
    return_event: EventMatch | None = None
    cohort_type: Literal["first_time", "recurring"] = "first_time"
    period: Literal["day", "week", "month"] = "week"
    periods: int = Field(default=8, ge=1, le=120)
    mode: Literal["on", "on_or_after"] = "on"
    breakdown: Breakdown | None = None
    time_range: TimeRange = TimeRange()

    @property
    def returns(self) -> EventMatch:
        return self.return_event or self.cohort_event


class Cohort(Frozen):
    """One row of the cohort table; `retained[k]` is None while period k has not begun."""

    cohort: date
    size: int
    retained: list[int | None]
    rates: list[float | None]


class RetentionGroup(Frozen):
    """The average curve of one breakdown group (None: everyone)."""

    value: str | None
    size: int
    curve: list[float | None]


class RepeatStats(Frozen):
    """Repeat rate and the time between consecutive return events (seconds)."""

    profiles: int
    repeaters: int
    repeat_rate: float
    median_gap_s: float | None
    p90_gap_s: float | None
    median_first_to_second_s: float | None


class RetentionResult(Result):
    kind: Literal["retention"] = "retention"
    period: str
    cohorts: list[Cohort]
    groups: list[RetentionGroup]
    repeat: RepeatStats

    @property
    def curve(self) -> list[float | None]:
        return self.groups[0].curve


def _types() -> str:
    return ", ".join(f"'{t}'" for t in JOURNEY_TYPES)


def retention_sql(spec: RetentionSpec) -> str:
    """SELECT pid, cohort, k, grp: one row per profile entry and period it was retained in."""
    unit = spec.period
    rng = spec.time_range.condition().sql("duckdb")
    cohort_cond = spec.cohort_event.condition().sql("duckdb")
    return_cond = spec.returns.condition().sql("duckdb")
    bd = spec.breakdown
    bval = bd.entry_value() if bd is not None else None
    bcol = f", {bval.sql('duckdb')} AS bval" if bval is not None else ", NULL AS bval"
    if spec.cohort_type == "first_time":
        # First ever: the profile's first matching event, even before the time range.
        entries = (
            f"SELECT pid, date_trunc('{unit}', ts)::DATE AS cohort, ts AS entry_ts, bval FROM ("
            f"SELECT profile_id AS pid, min(timestamp) AS ts, arg_min(bval, timestamp) AS bval FROM "
            f"(SELECT profile_id, timestamp{bcol} FROM resolved_events WHERE type IN ({_types()}) "
            f"AND {cohort_cond}) GROUP BY profile_id) WHERE "
            + spec.time_range.condition("ts").sql("duckdb")
        )
    else:
        entries = (
            f"SELECT profile_id AS pid, date_trunc('{unit}', timestamp)::DATE AS cohort, "
            f"min(timestamp) AS entry_ts, arg_min(bval, timestamp) AS bval FROM "
            f"(SELECT profile_id, timestamp{bcol} FROM resolved_events WHERE type IN ({_types()}) "
            f"AND {cohort_cond} AND {rng}) GROUP BY ALL"
        )
    horizon = f"AND r.ts < e.cohort + to_{unit}s({int(spec.periods)})" if spec.mode == "on" else ""
    hits = f"""
        SELECT DISTINCT e.pid, e.cohort, date_diff('{unit}', e.cohort, date_trunc('{unit}', r.ts)::DATE) AS k
        FROM entries e JOIN rets r ON r.pid = e.pid AND r.ts >= e.entry_ts {horizon}
    """
    if spec.mode == "on_or_after":
        hits = (
            f"SELECT h.pid, h.cohort, t.k FROM (SELECT pid, cohort, least(max(k), {int(spec.periods) - 1}) "
            f"AS top FROM ({hits}) GROUP BY ALL) h, range(h.top + 1) t(k)"
        )
    if bd is None:
        groups = "SELECT DISTINCT pid, NULL::VARCHAR AS grp FROM entries"
    else:
        values = bd.profile_values_sql(spec.time_range) or (
            "SELECT pid, arg_min(bval, entry_ts) AS value FROM entries GROUP BY pid"
        )
        groups = grouped_sql("SELECT DISTINCT pid FROM entries", values, bd.top)
    return f"""
WITH entries AS MATERIALIZED ({entries}),
rets AS (SELECT profile_id AS pid, timestamp AS ts FROM resolved_events
         WHERE type IN ({_types()}) AND {return_cond} AND {rng}),
hits AS ({hits}),
groups AS ({groups})
SELECT e.pid, e.cohort, h.k, g.grp FROM entries e JOIN groups g USING (pid)
LEFT JOIN hits h ON h.pid = e.pid AND h.cohort = e.cohort
"""


def _repeat_sql(spec: RetentionSpec) -> str:
    cond = spec.returns.condition().sql("duckdb")
    rng = spec.time_range.condition().sql("duckdb")
    return f"""
        WITH r AS (
            SELECT profile_id AS pid, timestamp AS ts,
                row_number() OVER (PARTITION BY profile_id ORDER BY timestamp, seq) AS n,
                epoch(timestamp) - epoch(lag(timestamp) OVER (PARTITION BY profile_id ORDER BY timestamp, seq)) AS gap
            FROM resolved_events WHERE type IN ({_types()}) AND {cond} AND {rng}
        )
        SELECT count(DISTINCT pid), count(DISTINCT pid) FILTER (WHERE n = 2),
            median(gap), quantile_cont(gap, 0.9), median(gap) FILTER (WHERE n = 2)
        FROM r
    """


def _check(cur: duckdb.DuckDBPyConnection, spec: RetentionSpec) -> None:
    if spec.breakdown is not None:
        spec.breakdown.check(cur)


def _run(read: Read, spec: RetentionSpec) -> RetentionResult:
    """Run a retention analysis (on the event log: cohorts need the traits and properties the
    copy leaves out)."""
    n = spec.periods
    kept_sql = ", ".join(f"count(DISTINCT pid) FILTER (WHERE k = {k})" for k in range(n))
    with read.table("retention_hits", retention_sql(spec)):
        (last,) = read.one(
            f"SELECT date_trunc('{spec.period}', max(timestamp))::DATE FROM resolved_events "
            f"WHERE {spec.time_range.condition().sql('duckdb')}"
        ) or (None,)
        table = read.rows(
            "SELECT grp, cohort, count(DISTINCT pid) AS size, "
            f"[{kept_sql}] AS kept, "
            "GROUPING(grp) AS everyone FROM retention_hits "
            "GROUP BY GROUPING SETS ((grp, cohort), (cohort)) ORDER BY cohort"
        )
    profiles, repeaters, med, p90, first_second = read.one(_repeat_sql(spec)) or (
        0, 0, None, None, None,
    )  # fmt: skip

    def begun(cohort: date, k: int) -> bool:
        if not isinstance(last, date):
            return False
        if spec.period == "day":
            return (last - cohort).days >= k
        if spec.period == "week":
            return (last - cohort).days >= 7 * k
        return (last.year - cohort.year) * 12 + last.month - cohort.month >= k

    cohorts: list[Cohort] = []
    by_group: dict[str | None, list[tuple[date, int, list[int]]]] = {}
    for grp, cohort, size, kept, everyone in table:
        if not everyone and spec.breakdown is None:
            continue
        key = None if everyone else grp
        by_group.setdefault(key, []).append((cohort, int(size), list(kept)))
        if everyone:
            retained = [int(kept[k]) if begun(cohort, k) else None for k in range(n)]
            cohorts.append(
                Cohort(
                    cohort=cohort,
                    size=int(size),
                    retained=retained,
                    rates=[None if r is None else r / size for r in retained],
                )
            )

    def curve(rows: list[tuple[date, int, list[int]]]) -> list[float | None]:
        out: list[float | None] = []
        for k in range(n):
            obs = [(size, kept[k]) for c, size, kept in rows if begun(c, k)]
            total = sum(s for s, _ in obs)
            out.append(sum(x for _, x in obs) / total if total else None)
        return out

    everyone_rows = by_group.pop(None, [])
    groups = [
        RetentionGroup(
            value=None, size=sum(s for _, s, _ in everyone_rows), curve=curve(everyone_rows)
        )
    ]
    for value, rows in sorted(by_group.items(), key=lambda kv: -sum(s for _, s, _ in kv[1])):
        groups.append(
            RetentionGroup(value=value, size=sum(s for _, s, _ in rows), curve=curve(rows))
        )
    return RetentionResult(
        period=spec.period,
        cohorts=cohorts,
        groups=groups,
        repeat=RepeatStats(
            profiles=int(profiles),
            repeaters=int(repeaters),
            repeat_rate=repeaters / profiles if profiles else 0.0,
            median_gap_s=med,
            p90_gap_s=p90,
            median_first_to_second_s=first_second,
        ),
    )


ANALYSIS = Analysis(
    "retention",
    RetentionSpec,
    RetentionResult,
    _run,
    "The cohort table, the average curve, the repeat rate and the time between returns.",
    check=_check,
)
