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
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import numpy as np
from pydantic import Field
from sqlglot import exp

from touchpath.analytics.breakdown import Breakdown, grouped
from touchpath.analytics.dialects import render
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result, Spec
from touchpath.analytics.sql import and_, q, with_
from touchpath.events.match import EventMatch, Frozen, TimeRange, journey_types, literal

if TYPE_CHECKING:
    from touchpath.store.memo import Memo

__all__ = [
    "ANALYSIS",
    "Cohort",
    "RepeatStats",
    "RetentionGroup",
    "RetentionResult",
    "RetentionSpec",
    "can_use_copy",
    "retention_query",
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


def _events(sorted_copy: bool) -> exp.Expr:
    """The events retention reads: the log, or the sorted journey copy under the log's column
    names (profile numbers as ids: only counted)."""
    if sorted_copy:
        return q("(SELECT pno AS profile_id, ts AS timestamp, seq, type, event, channel "
                 "FROM journey_events)")  # fmt: skip
    return exp.to_table("resolved_events")


def can_use_copy(spec: RetentionSpec) -> bool:
    """Whether the sorted journey copy holds what this retention reads: no breakdown, and
    cohort and return events on `event`, `type` and `channel` only."""
    conds = [spec.cohort_event.condition(), spec.returns.condition()]
    cols = {c.name for e in conds for c in e.find_all(exp.Column)}
    return spec.breakdown is None and cols <= {"event", "type", "channel"}


def _entries(spec: RetentionSpec, sorted_copy: bool = False) -> exp.Expr:
    """SELECT pid, cohort, entry_ts, bval: each profile's entry into a cohort (its first ever,
    or one per period it did the cohort event)."""
    bd = spec.breakdown
    bval = bd.entry_value() if bd is not None else None
    unit = spec.period
    rows = q(
        "SELECT profile_id, timestamp, :bval AS bval FROM :events AS e WHERE :journey AND :cohort",
        bval=bval if bval is not None else exp.null(),
        events=_events(sorted_copy),
        journey=journey_types(),
        cohort=spec.cohort_event.condition(),
    )
    if spec.cohort_type == "first_time":
        # First ever: the profile's first matching event, even before the time range.
        return q(
            "SELECT pid, CAST(date_trunc(:unit, ts) AS DATE) AS cohort, ts AS entry_ts, bval "
            "FROM (SELECT profile_id AS pid, min(timestamp) AS ts, arg_min(bval, timestamp) "
            "AS bval FROM :rows AS c GROUP BY profile_id) AS f WHERE :range",
            unit=unit,
            rows=rows,
            range=spec.time_range.condition("ts"),
        )
    rows.set("where", exp.Where(this=and_([rows.args["where"].this, spec.time_range.condition()])))
    return q(
        "SELECT profile_id AS pid, CAST(date_trunc(:unit, timestamp) AS DATE) AS cohort, "
        "min(timestamp) AS entry_ts, arg_min(bval, timestamp) AS bval FROM :rows AS c "
        "GROUP BY profile_id, CAST(date_trunc(:unit, timestamp) AS DATE)",
        unit=unit,
        rows=rows,
    )


def _hits(spec: RetentionSpec) -> exp.Expr:
    """SELECT pid, cohort, k: the periods k each entry was retained in."""
    unit = spec.period
    on = [q("r.pid = e.pid"), q("r.ts >= e.entry_ts")]
    if spec.mode == "on":
        horizon = exp.Interval(this=literal(int(spec.periods)), unit=exp.var(unit.upper()))
        on.append(q("r.ts < e.cohort + :horizon", horizon=horizon))
    hits = q(
        "SELECT DISTINCT e.pid, e.cohort, "
        "date_diff(:unit, e.cohort, CAST(date_trunc(:unit, r.ts) AS DATE)) AS k "
        "FROM entries AS e JOIN rets AS r ON :joined",
        unit=unit,
        joined=and_(on),
    )
    if spec.mode == "on":
        return hits
    # Unbounded: a return in period k counts for k and every period before it.
    return q(
        "SELECT h.pid, h.cohort, t.k FROM (SELECT pid, cohort, least(max(k), :last) AS top "
        "FROM :hits AS x GROUP BY pid, cohort) AS h, (SELECT UNNEST(TP_NUMBERS(:n)) AS k) AS t "
        "WHERE t.k <= h.top",
        last=int(spec.periods) - 1,
        n=int(spec.periods),
        hits=hits,
    )


def retention_query(spec: RetentionSpec, sorted_copy: bool = False) -> exp.Expr:
    """SELECT pid, cohort, k, grp: one row per profile entry and period it was retained in
    (`sorted_copy`: read from the sorted journey copy)."""
    bd = spec.breakdown
    if bd is None:
        groups = q("SELECT DISTINCT pid, CAST(NULL AS VARCHAR) AS grp FROM entries")
    else:
        values = bd.profile_values(spec.time_range) or q(
            "SELECT pid, arg_min(bval, entry_ts) AS value FROM entries GROUP BY pid"
        )
        groups = grouped(q("SELECT DISTINCT pid FROM entries"), values, bd.top)
    rets = q(
        "SELECT profile_id AS pid, timestamp AS ts FROM :events AS e "
        "WHERE :journey AND :returns AND :range",
        events=_events(sorted_copy),
        journey=journey_types(),
        returns=spec.returns.condition(),
        range=spec.time_range.condition(),
    )
    return with_(
        [
            ("entries", _entries(spec, sorted_copy)),
            ("rets", rets),
            ("hits", _hits(spec)),
            ("groups", groups),
        ],
        q(
            "SELECT e.pid, e.cohort, h.k, g.grp FROM entries AS e JOIN groups AS g USING (pid) "
            "LEFT JOIN hits AS h ON h.pid = e.pid AND h.cohort = e.cohort"
        ),
        materialized=["entries"],
    )


def retention_sql(spec: RetentionSpec) -> str:
    """`retention_query` as DuckDB SQL text."""
    return render(retention_query(spec))


def _repeat(spec: RetentionSpec, sorted_copy: bool) -> exp.Expr:
    """Profiles with a return event, those with two or more, and the time between returns."""
    return q(
        """
        WITH r AS (
            SELECT profile_id AS pid, timestamp AS ts,
                row_number() OVER w AS n,
                TP_SECONDS(timestamp) - TP_SECONDS(lag(timestamp) OVER w) AS gap
            FROM :events AS e WHERE :journey AND :returns AND :range
            WINDOW w AS (PARTITION BY profile_id ORDER BY timestamp, seq)
        )
        SELECT count(DISTINCT pid), count(DISTINCT CASE WHEN n = 2 THEN pid END),
            TP_QUANTILE(gap, 0.5), TP_QUANTILE(gap, 0.9),
            TP_QUANTILE(CASE WHEN n = 2 THEN gap END, 0.5)
        FROM r
        """,
        events=_events(sorted_copy),
        journey=journey_types(),
        returns=spec.returns.condition(),
        range=spec.time_range.condition(),
    )


def _table(spec: RetentionSpec) -> exp.Expr:
    """Per (group, cohort) and per cohort: size, and the profiles retained in each period."""
    kept = exp.Array(
        expressions=[
            q(f"count(DISTINCT CASE WHEN k = {k} THEN pid END)") for k in range(spec.periods)
        ]
    )
    return q(
        "SELECT grp, cohort, count(DISTINCT pid) AS size, :kept AS kept, GROUPING(grp) AS everyone "
        "FROM retention_hits GROUP BY GROUPING SETS ((grp, cohort), (cohort)) ORDER BY cohort",
        kept=kept,
    )


def _check(cur: duckdb.DuckDBPyConnection, spec: RetentionSpec) -> None:
    if spec.breakdown is not None:
        spec.breakdown.check(cur)


def _kernel(cur: duckdb.DuckDBPyConnection, spec: RetentionSpec, memo: Memo | None) -> bool:
    """Whether the compiled pass computes this retention: cohort and return events on
    `event` and `type` only (a lookup by activity code), and a cohort table of bounded size."""
    return _lookup(cur, spec, memo) is not None


def _lookup(
    cur: duckdb.DuckDBPyConnection, spec: RetentionSpec, memo: Memo | None
) -> tuple[Any, np.ndarray] | None:
    """The copy's columns and, per activity code, bit 0 for a cohort event and bit 1 for a
    return event (None: not by code). Kept per build and events in the store's memo, keyed by
    the events themselves (their conditions are built and rendered the first time only)."""
    from touchpath.analytics.kernels import columns
    from touchpath.analytics.kernels import retention as kernel

    conds = columns.by_code(memo, [spec.cohort_event, spec.returns])
    if conds is None:
        return None
    cols = columns.load(cur, memo)
    if kernel.cells(cols, spec.period, spec.periods) > kernel.MAX_CELLS:
        return None

    def make() -> Any:
        return columns.masks(cur, cols, conds)

    events = (spec.cohort_event.model_dump_json(), spec.returns.model_dump_json())
    look = make() if memo is None else memo.get(("retention masks", cols.built_at, events), make)
    return None if look is None else (cols, look)


Repeat = tuple[int, int, float | None, float | None, float | None]
Table = list[tuple[str | None, date, int, list[int], bool]]


def _compiled(read: Read, spec: RetentionSpec) -> tuple[Table, Repeat]:
    """The cohort table (rows as `_table` gives them, everyone only) and the repeat statistics
    from the compiled pass."""
    from touchpath.analytics.kernels import columns
    from touchpath.analytics.kernels import retention as kernel

    found = _lookup(read.cur, spec, read.memo)
    assert found is not None  # the planner asked `_kernel`
    cols, look = found
    got = kernel.count(cols, look, columns.bounds(spec.time_range.start, spec.time_range.end),
                       spec.period, spec.periods, spec.mode == "on_or_after",
                       spec.cohort_type == "recurring")  # fmt: skip
    table: Table = [(None, c, size, kept, True) for c, size, kept in got.cohorts]
    return table, (got.profiles, got.repeaters, got.median_gap_s, got.p90_gap_s,
                   got.median_first_to_second_s)  # fmt: skip


def _queried(read: Read, spec: RetentionSpec) -> tuple[Table, Repeat]:
    """The cohort table and the repeat statistics from the SQL (on the log or the copy)."""
    key = (spec.model_dump_json(), read.sorted_copy)
    build = lambda: retention_query(spec, read.sorted_copy)  # noqa: E731
    with read.table("retention_hits", read.sql(("retention", key), build)):
        table = read.rows(read.sql(("retention table", key), lambda: _table(spec)))
    repeat = read.sql(("retention repeat", key), lambda: _repeat(spec, read.sorted_copy))
    found = read.one(repeat) or (0, 0, None, None, None)
    return table, tuple(found)


def _last(read: Read, spec: RetentionSpec) -> date | None:
    """The period of the log's last event in the time range (periods after it have not begun).
    Read from `events` itself: `resolved_events` is the same rows joined twice to the
    identifiers (a LEFT JOIN neither drops nor adds a time, so the max is the same), and
    those joins cost 90% of a retention on the copy (issue #13). An external engine holds only
    `resolved_events`."""
    table = "events" if read.plan.dialect == "duckdb" else "resolved_events"

    def build() -> exp.Expr:
        return q(
            "SELECT CAST(date_trunc(:unit, max(timestamp)) AS DATE) FROM :events WHERE :range",
            unit=spec.period,
            events=exp.to_table(table),
            range=spec.time_range.condition(),
        )

    key = ("retention last", table, spec.period, spec.time_range.model_dump_json())
    (last,) = read.one(read.sql(key, build)) or (None,)
    return last if isinstance(last, date) else None


def _run(read: Read, spec: RetentionSpec) -> RetentionResult:
    """Run a retention analysis with the source the planner chose (the log when it is broken
    down: groups need the traits and properties the copy leaves out)."""
    n = spec.periods
    table, (profiles, repeaters, med, p90, first_second) = (
        _compiled(read, spec) if read.plan.kernel else _queried(read, spec)
    )
    last = _last(read, spec)

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
        group = None if everyone else grp
        by_group.setdefault(group, []).append((cohort, int(size), list(kept)))
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
    copy=can_use_copy,
    check=_check,
    kernel=_kernel,
)
