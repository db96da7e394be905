"""Funnels: how many profiles reach each of 2-20 steps, in order, within a conversion window.

Ordered funnels (the default) follow ClickHouse's `windowFunnel(window)` exactly: a profile
reaches step k when it has events e1..ek matching steps 1..k with t1 <= t2 <= ... <= tk and
tk - t1 <= window (inclusive). Events with equal timestamps chain in step order, and one event
may satisfy two consecutive steps when it matches both. An optional `max_step_gap` bounds each
t(i+1) - t(i); exclusion steps break a chain when the excluded event happens strictly between
the two steps' events. `strict` needs the steps to be consecutive events of the profile;
`any` counts steps done in any order within the window.

SQL: one scan of `resolved_events` keeps the step events; then one ASOF JOIN per step links each
step-k event to the latest valid chain at step k-1 at or before it. The latest predecessor is the
best one (most room for the window, the gap and exclusions), so the chain is exact, set-wise, and
costs k-1 sorted merges instead of a per-profile loop.

>>> spec = FunnelSpec(steps=[FunnelStep(event="Product Viewed"), FunnelStep(event="Order Completed")], window="1d")
>>> spec.window
86400
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import Literal

import duckdb
from pydantic import Field, model_validator
from sqlglot import exp

from touchpath.analytics import journey, planner
from touchpath.analytics.breakdown import Breakdown, Duration, grouped_sql
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result, Spec
from touchpath.errors import SpecError
from touchpath.events.match import JOURNEY_TYPES, EventMatch, Frozen, TimeRange
from touchpath.events.message import Staged
from touchpath.profiles import audiences
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = [
    "ANALYSIS",
    "HISTOGRAM_BUCKETS",
    "Dropped",
    "Exclusion",
    "FunnelGroup",
    "FunnelResult",
    "FunnelSpec",
    "FunnelStep",
    "FunnelStepResult",
    "SavedAudience",
    "TimeToConvert",
    "TrendPoint",
    "can_use_sorted",
    "dropped_sql",
    "funnel_sql",
    "reached_sql",
    "save_dropped",
    "use_sorted",
]


HISTOGRAM_BUCKETS: tuple[tuple[str, float], ...] = (
    ("<1m", 60), ("1-5m", 300), ("5-30m", 1800), ("30m-1h", 3600), ("1-6h", 21600),
    ("6-24h", 86400), ("1-3d", 259200), ("3-7d", 604800), ("7-30d", 2592000),
    (">=30d", float("inf")),
)  # fmt: skip
"""Upper bounds (exclusive, seconds) of the time-to-convert histogram."""


class FunnelStep(EventMatch):
    """One step: an event definition with an optional display name."""

    name: str | None = None

    def title(self) -> str:
        return self.name or self.label()


class Exclusion(EventMatch):
    """A chain breaks when this event happens strictly between steps `after` and `before` (1-based)."""

    after: int = Field(default=1, ge=1)
    before: int | None = Field(default=None, ge=2)


class FunnelSpec(Spec):
    """What to count: steps, window, order mode, exclusions, breakdown, trend, drop-offs."""

    kind: Literal["funnel"] = "funnel"
    steps: tuple[FunnelStep, ...] = Field(min_length=2, max_length=20)
    window: Duration = 14 * 86400
    max_step_gap: Duration | None = None
    order: Literal["ordered", "strict", "any"] = "ordered"
    exclusions: tuple[Exclusion, ...] = ()
    breakdown: Breakdown | None = None
    time_range: TimeRange = TimeRange()
    trend: Literal["day", "week"] | None = None
    dropped_at: int | None = Field(default=None, ge=2)
    dropped_limit: int = Field(default=100, ge=1, le=100_000)

    @model_validator(mode="after")
    def _consistent(self) -> FunnelSpec:
        n = len(self.steps)
        if self.dropped_at is not None and self.dropped_at > n:
            raise ValueError(f"dropped_at: {self.dropped_at} is past the last step ({n})")
        for i, ex in enumerate(self.exclusions):
            before = ex.before or n
            if before > n or ex.after >= before:
                raise ValueError(
                    f"exclusions[{i}]: needs 1 <= after < before <= {n}, got {ex.after}, {before}"
                )
        if self.order == "any" and (self.exclusions or self.max_step_gap):
            raise ValueError("order: exclusions and max_step_gap need an ordered or strict funnel")
        return self


class TimeToConvert(Frozen):
    """Seconds between two steps over the profiles that made both (their first conversion)."""

    median_s: float | None
    p90_s: float | None
    histogram: dict[str, int]


class FunnelStepResult(Frozen):
    index: int
    name: str
    count: int
    conversion: float
    step_conversion: float
    dropped: int
    time_from_previous: TimeToConvert | None = None
    time_from_start: TimeToConvert | None = None


class FunnelGroup(Frozen):
    """The funnel of one breakdown group; `value` is None for everyone."""

    value: str | None
    entered: int
    converted: int
    conversion: float
    steps: list[FunnelStepResult]


class TrendPoint(Frozen):
    period: date
    entered: int
    converted: int
    conversion: float


class Dropped(Frozen):
    """Profiles that made step `step - 1` but not step `step`."""

    step: int
    total: int
    profiles: list[str]


class FunnelResult(Result):
    kind: Literal["funnel"] = "funnel"
    steps: list[str]
    groups: list[FunnelGroup]
    trend: list[TrendPoint] | None = None
    dropped: Dropped | None = None

    @property
    def overall(self) -> FunnelGroup:
        return self.groups[0]

    def counts(self) -> list[int]:
        """Per-step counts of everyone (the numbers windowFunnel's levels give)."""
        return [s.count for s in self.overall.steps]


# --------------------------------------------------------------------------------- SQL
def _cond(match: EventMatch) -> str:
    return match.condition().sql("duckdb")


def _base_sql(spec: FunnelSpec) -> str:
    """One scan: the step events with a bit mask of the steps each matches."""
    masks = " | ".join(
        f"CASE WHEN {_cond(s)} THEN {1 << i} ELSE 0 END" for i, s in enumerate(spec.steps)
    )
    any_step = " OR ".join(f"({_cond(s)})" for s in spec.steps)
    types = ", ".join(f"'{t}'" for t in JOURNEY_TYPES)
    where = f"type IN ({types}) AND {spec.time_range.condition().sql('duckdb')}"
    extra = ""
    if spec.breakdown is not None and (value := spec.breakdown.entry_value()) is not None:
        extra = f", {value.sql('duckdb')} AS bval"
    if spec.order == "strict":
        # Every journey event is kept: a step must be the very next event.
        return (
            f"SELECT profile_id AS pid, hash(profile_id) AS h, timestamp AS ts, seq, "
            f"({masks}) AS mask{extra} FROM resolved_events WHERE {where}"
        )
    return (
        f"SELECT profile_id AS pid, hash(profile_id) AS h, timestamp AS ts, ({masks}) AS mask{extra} "
        f"FROM resolved_events WHERE {where} AND ({any_step})"
    )


def _chain_ctes(spec: FunnelSpec) -> list[tuple[str, str]]:
    """CTEs r0..r{n-1}: every valid chain end at each step, with the times c0..ck of its steps."""
    n = len(spec.steps)
    ctes: list[tuple[str, str]] = []
    ctes.append(("r0", "SELECT pid, h, ts AS c0 FROM base WHERE mask & 1 <> 0"))
    for k in range(1, n):
        prev = ", ".join(f"r.c{i}" for i in range(k))
        # A 64-bit hash of the profile id sorts twice as fast as the text.
        join = f"ASOF JOIN r{k - 1} r ON s.h = r.h AND r.c{k - 1} <= s.ts"
        where = [f"s.ts <= r.c0 + to_seconds({int(spec.window)})"]
        if spec.max_step_gap is not None:
            where.append(f"s.ts <= r.c{k - 1} + to_seconds({int(spec.max_step_gap)})")
        where += _exclusion_checks(spec, k, "s.pid", "s.ts", lambda i: f"r.c{i}")
        src = f"(SELECT pid, h, ts FROM base WHERE mask & {1 << k} <> 0)"
        ctes.append(
            (
                f"r{k}",
                f"SELECT s.pid, s.h, {prev}, s.ts AS c{k} "
                f"FROM {src} s {join} WHERE {' AND '.join(where)}",
            )
        )
    return ctes


def _exclusion_checks(
    spec: FunnelSpec, k: int, pid: str, ts: str, step_time: Callable[[int], str]
) -> list[str]:
    """Conditions that no excluded event falls strictly between the steps it guards, checked at
    step k (0-based) for exclusions whose `before` step is k+1: the latest excluded event before
    that step's event `ts` must not follow step `after`'s event."""
    n = len(spec.steps)
    return [
        f"NOT coalesce((SELECT max(x.ts) FROM x{j} x WHERE x.pid = {pid} "
        f"AND x.ts < {ts}) > {step_time(ex.after - 1)}, false)"
        for j, ex in enumerate(spec.exclusions)
        if (ex.before or n) - 1 == k
    ]


def _strict_ctes(spec: FunnelSpec, sorted_copy: bool = False) -> list[tuple[str, str]]:
    """Strict order in one pass: a chain ends at step k on an event whose k previous events
    (`lag` over the profile's journey events by time) matched steps k-1 .. 1, within the window.
    On the sorted copy the pass streams in stored order and checks the lags' profile."""
    n = len(spec.steps)
    lags = ", ".join(
        f"lag(mask, {i}) OVER w AS m{i}, lag(ts, {i}) OVER w AS t{i}"
        + (f", lag(pid, {i}) OVER w AS q{i}" if sorted_copy else "")
        for i in range(1, n)
    )
    window = "()" if sorted_copy else "(PARTITION BY h ORDER BY ts, seq)"
    ctes = [
        (
            "lagged",
            f"SELECT pid, ts AS t0, mask AS m0{', ' + lags if lags else ''} FROM base "
            f"WINDOW w AS {window} QUALIFY mask <> 0",
        )
    ]
    parts = []
    for k in range(n):
        # t{i} is the time of step k - i: t0 is this event (step k), t{k} the first step.
        conds = [f"m{i} & {1 << (k - i)} <> 0" for i in range(k + 1)]
        if sorted_copy:
            conds += [f"q{i} = pid" for i in range(1, k + 1)]
        if k:
            conds.append(f"t0 <= t{k} + to_seconds({int(spec.window)})")
        if spec.max_step_gap is not None:
            gap = int(spec.max_step_gap)
            conds += [f"t{i} <= t{i + 1} + to_seconds({gap})" for i in range(k)]
        times = [f"t{k - i}" for i in range(k + 1)]  # times[i]: this chain's step i
        for j in range(1, k + 1):
            conds += _exclusion_checks(spec, j, "pid", times[j], times.__getitem__)
        gap_s = "arg_min(epoch(t0) - epoch(t1), t0)" if k else "0.0"
        total_s = f"arg_min(epoch(t0) - epoch(t{k}), t0)" if k else "0.0"
        parts.append(
            f"SELECT pid, {k} AS step, min(t0) AS reached_at, {gap_s} AS gap_s, "
            f"{total_s} AS total_s FROM lagged WHERE {' AND '.join(conds)} GROUP BY pid"
        )
    ctes.append(("made", " UNION ALL ".join(parts)))
    return ctes


def _exclusion_ctes(spec: FunnelSpec) -> list[tuple[str, str]]:
    where = spec.time_range.condition().sql("duckdb")
    return [
        (
            f"x{j}",
            f"SELECT profile_id AS pid, timestamp AS ts FROM resolved_events "
            f"WHERE {where} AND {_cond(ex)}",
        )
        for j, ex in enumerate(spec.exclusions)
    ]


def _unordered_ctes(spec: FunnelSpec, sorted_copy: bool = False) -> list[tuple[str, str]]:
    """Any order: the most distinct steps done in a window starting at one of the step events;
    `reached_at` is the earliest such window's start."""
    n = len(spec.steps)
    # A 64-bit hash (or the copy's profile number) partitions faster than the text id.
    part = "pno" if sorted_copy else "h"
    return [
        (
            "w",
            f"SELECT pid, ts, bit_count(bit_or(mask) OVER (PARTITION BY {part} ORDER BY ts "
            f"RANGE BETWEEN CURRENT ROW AND to_seconds({int(spec.window)}) FOLLOWING)) AS level "
            "FROM base",
        ),
        (
            "best",
            "SELECT pid, max(level) AS level, arg_max(ts, (level, -epoch_us(ts))) AS reached_at "
            "FROM w GROUP BY pid",
        ),
        (
            "made",
            "SELECT pid, k AS step, reached_at, NULL::DOUBLE AS gap_s, NULL::DOUBLE AS total_s "
            f"FROM best, range(least(level, {n})) t(k)",
        ),
    ]


_SORTED_COLUMNS = {"event", "type", "channel", "timestamp"}


def can_use_sorted(spec: FunnelSpec) -> bool:
    """Whether the sorted journey copy holds all this funnel needs (no exclusions; steps and
    breakdown on event, type and channel only)."""
    if spec.exclusions:
        return False
    exprs = [s.condition() for s in spec.steps] + [spec.time_range.condition()]
    if spec.breakdown is not None and (value := spec.breakdown.entry_value()) is not None:
        exprs.append(value)
    return all(c.name in _SORTED_COLUMNS for e in exprs for c in e.find_all(exp.Column))


def use_sorted(cur: duckdb.DuckDBPyConnection, spec: FunnelSpec, max_lag: float = 0.0) -> bool:
    """Whether the planner reads this funnel from the sorted journey copy now (with the copy
    allowed to lag by `max_lag` seconds)."""
    state = planner.copy_state(cur, max_lag)
    return planner.plan(cur, spec, state, can_use_sorted, _fits_copy).sorted_copy


def _fits_copy(cur: duckdb.DuckDBPyConnection, spec: FunnelSpec) -> bool:
    """Whether the copy's data suits this funnel: its step events are in order without ties
    across steps (asked by the planner once the copy is usable and holds what it reads)."""
    if spec.order != "ordered" or not journey.has_ties(cur):
        return True  # strict order is (time, seq), the copy's own order; any order has no order
    (bad,) = cur.execute(sorted_ties_sql(spec)).fetchone() or (1,)
    return bool(bad == 0)


def _sorted_base_sql(
    spec: FunnelSpec, layout: journey.Layout | None = None, part: tuple[int, int] | None = None
) -> str:
    """The step events of the sorted journey copy, in its stored order. `pid` is the profile's
    number (pno) until `funnel_sql` maps it back to the id at the end. With a `layout`, rows
    are pre-filtered by activity code (an integer test instead of text); `part` keeps the
    profiles numbered in (lo, hi]."""
    masks = " | ".join(
        f"CASE WHEN {_cond(s)} THEN {1 << i} ELSE 0 END" for i, s in enumerate(spec.steps)
    )
    where = [spec.time_range.condition().sql("duckdb")]
    if part is not None:
        where.insert(0, f"pno > {int(part[0])} AND pno <= {int(part[1])}")
    # Strict funnels need every journey event: a step must be the very next one.
    if spec.order != "strict":
        if layout is not None and (codes := layout.code_filter([s.event for s in spec.steps])):
            where.append(codes)
        where.append("(" + " OR ".join(f"({_cond(s)})" for s in spec.steps) + ")")
    extra = ""
    if spec.breakdown is not None and (value := spec.breakdown.entry_value()) is not None:
        extra = f", {value.sql('duckdb')} AS bval"
    return (
        f"SELECT pno, pno AS pid, timestamp AS ts, ({masks}) AS mask{extra} FROM "
        "(SELECT pno, ts AS timestamp, seq, type, event, channel, code FROM journey_events) "
        f"WHERE {' AND '.join(where)}"
    )


def sorted_ties_sql(spec: FunnelSpec) -> str:
    """SELECT count: rows out of (profile, time) order, or sharing a time with a row of another
    step mask, which the streaming pass cannot chain exactly (then the funnel uses the joins)."""
    return (
        "SELECT count(*) FROM (SELECT pno, ts, mask, lag(pno) OVER () AS lp, lag(ts) OVER () AS lt, "
        f"lag(mask) OVER () AS lm FROM ({_sorted_base_sql(spec)})) "
        "WHERE lp > pno OR (lp = pno AND (lt > ts OR (lt = ts AND lm <> mask)))"
    )


_NONE = -(2**62)
"""The carried value of a level with no hit yet in this profile: far enough in the past that
no window or step gap reaches it, so every test against it is false without a NULL check."""


def _sorted_ctes(spec: FunnelSpec, base: str = "base", tag: str = "") -> list[tuple[str, str]]:
    """Ordered funnel in one streaming pass over the sorted copy.

    Per level k, `s{k}` is the start of the latest chain at step k so far in this profile and
    `p{k}` its step-k event's time: the values at the last hit of level k so far in the stored
    order (`last_value(... IGNORE NULLS)`, no sort). A profile's first row resets them to
    `_NONE` (unless it is a hit itself), so a value carried over from the profile before is
    never seen. Within a profile both only grow, so the last hit holds the latest chain. A
    step-k event extends the latest chain at step k-1 when it is within the window (and the
    step gap), exactly as the ASOF joins do. A profile's row for step k is its first hit at
    level k (the value carried to the row before is `_NONE`, or the row starts the profile):
    no GROUP BY.

    The CTEs read `base` and their names end in `tag`, so that one statement can run a pass
    per range of profiles (`reached_sql` with a layout).
    """
    n = len(spec.steps)
    win = int(spec.window) * 1_000_000
    over = "OVER (ROWS UNBOUNDED PRECEDING)"

    def carried(hit: str, value: str, name: str) -> str:
        return (
            f"last_value(CASE WHEN {hit} THEN {value} WHEN newp THEN {_NONE} END IGNORE NULLS) "
            f"{over} AS {name}"
        )

    # s0 = p0: the latest step-1 event is the latest chain's start and its step-1 time.
    ctes = [
        (
            f"l0{tag}",
            f"SELECT *, mask & 1 <> 0 AS hit0, {carried('mask & 1 <> 0', 'us', 's0')}, "
            "s0 AS p0 FROM (SELECT *, epoch_us(ts) AS us, "
            f"lag(pno) OVER () IS DISTINCT FROM pno AS newp FROM {base})",
        )
    ]
    prev = f"l0{tag}"
    for k in range(1, n):
        # s{k-1}, p{k-1}: start and step-(k-1) time of the latest chain at step k-1.
        cond = [f"mask & {1 << k} <> 0", f"us <= s{k - 1} + {win}"]
        if spec.max_step_gap is not None:
            cond.append(f"us <= p{k - 1} + {int(spec.max_step_gap) * 1_000_000}")
        if k < n - 1:
            carry = (
                f"{carried(f'hit{k}', f's{k - 1}', f's{k}')}, {carried(f'hit{k}', 'us', f'p{k}')}"
            )
        else:  # the last level: only whether it was hit before (for its first hit)
            carry = carried(f"hit{k}", "0", f"s{k}")
        ctes.append(
            (
                f"l{k}{tag}",
                f"SELECT *, {carry} FROM (SELECT *, {' AND '.join(cond)} AS hit{k} FROM {prev})",
            )
        )
        prev = f"l{k}{tag}"
    # A row is the profile's first hit at level k when it starts the profile or the value
    # carried to the row before is _NONE. All lags in one window; the first hits go on.
    lags = ", ".join(f"hit{k} AND (newp OR lag(s{k}) OVER () = {_NONE}) AS f{k}" for k in range(n))
    keep = ", ".join(
        ["pno", "ts", "us"] + [f"s{k}, p{k}" for k in range(n - 1)] + [f"f{k}" for k in range(n)]
    )
    flags = " OR ".join(f"f{k}" for k in range(n))
    ctes.append(
        (
            f"firsts{tag}",
            # entry_us: the profile's entry (its first row here is where f0), carried over its
            # later firsts.
            f"SELECT *, last_value(CASE WHEN f0 THEN us END IGNORE NULLS) {over} AS entry_us "
            f"FROM (SELECT {keep} FROM (SELECT *, {lags} FROM {prev}) WHERE {flags})",
        )
    )
    parts = [
        "SELECT pno AS pid, 0 AS step, ts AS reached_at, 0.0 AS gap_s, 0.0 AS total_s, "
        f"ts AS entry FROM firsts{tag} WHERE f0"
    ]
    for k in range(1, n):
        parts.append(
            f"SELECT pno AS pid, {k} AS step, ts AS reached_at, "
            f"epoch(ts) - epoch(make_timestamp(p{k - 1})) AS gap_s, "
            f"epoch(ts) - epoch(make_timestamp(s{k - 1})) AS total_s, "
            f"make_timestamp(entry_us) AS entry FROM firsts{tag} WHERE f{k}"
        )
    ctes.append((f"made{tag}", " UNION ALL ".join(parts)))
    return ctes


def reached_sql(
    spec: FunnelSpec, sorted_copy: bool = False, layout: journey.Layout | None = None
) -> str:
    """SELECT pid, step (0-based), reached_at, gap_s, total_s, entry: one row per profile and step made.

    `reached_at` is the time of the profile's first chain to reach the step; `gap_s` and `total_s`
    are that chain's seconds from the previous step and from the first step; `entry` is the
    profile's first step-1 event. Other analyses embed this (paths after a drop-off).
    `sorted_copy` reads the sorted journey copy (see `can_use_sorted`, touchpath.analytics.journey);
    with its `layout`, an ordered funnel's pass runs per part of the profiles, side by side.
    """
    ctes: list[tuple[str, str]]
    if sorted_copy and spec.order == "strict":
        ctes = [("base", _sorted_base_sql(spec)), *_strict_ctes(spec, sorted_copy=True)]
    elif sorted_copy and spec.order == "any":
        ctes = [("base", _sorted_base_sql(spec, layout)), *_unordered_ctes(spec, sorted_copy=True)]
    elif sorted_copy:
        # `base` (all parts) stays for the first-touch breakdown's values; unread, it costs nothing.
        ctes = [("base", _sorted_base_sql(spec, layout))]
        ranges = layout.ranges() if layout is not None else []
        if len(ranges) < 2:
            ctes += _sorted_ctes(spec)
        else:
            for i, part in enumerate(ranges):
                ctes.append((f"base_{i}", _sorted_base_sql(spec, layout, part)))
                ctes += _sorted_ctes(spec, f"base_{i}", f"_{i}")
            made = " UNION ALL ".join(f"SELECT * FROM made_{i}" for i in range(len(ranges)))
            ctes.append(("made", made))
        with_ = ",\n".join(f"{name} AS ({sql})" for name, sql in ctes)
        return f"WITH {with_}\nSELECT * FROM made"  # made has the entry already
    elif spec.order == "any":
        ctes = [("base", _base_sql(spec)), *_unordered_ctes(spec)]
    elif spec.order == "strict":
        ctes = [("base", _base_sql(spec)), *_exclusion_ctes(spec), *_strict_ctes(spec)]
    else:
        ctes = [("base", _base_sql(spec)), *_exclusion_ctes(spec), *_chain_ctes(spec)]
        parts = [
            "SELECT pid, 0 AS step, min(c0) AS reached_at, 0.0 AS gap_s, 0.0 AS total_s FROM r0 GROUP BY pid"
        ]
        for k in range(1, len(spec.steps)):
            parts.append(
                f"SELECT pid, {k} AS step, min(c{k}) AS reached_at, "
                f"arg_min(epoch(c{k}) - epoch(c{k - 1}), c{k}) AS gap_s, "
                f"arg_min(epoch(c{k}) - epoch(c0), c{k}) AS total_s FROM r{k} GROUP BY pid"
            )
        ctes.append(("made", " UNION ALL ".join(parts)))
    body = (
        "SELECT m.*, e.reached_at AS entry FROM made m JOIN (SELECT pid, reached_at FROM made WHERE step = 0) e "
        "USING (pid)"
    )
    with_ = ",\n".join(f"{name} AS ({sql})" for name, sql in ctes)
    return f"WITH {with_}\n{body}"


def funnel_sql(
    spec: FunnelSpec, sorted_copy: bool = False, layout: journey.Layout | None = None
) -> str:
    """SELECT pid, step, reached_at, gap_s, total_s, entry, grp: `reached_sql` with each profile's group."""
    if not sorted_copy:
        return _funnel_sql(spec, False)
    # The sorted copy numbers profiles: back to their ids once, at the end.
    return (
        f"SELECT p.profile_id AS pid, f.* EXCLUDE (pid) FROM ({_funnel_sql(spec, True, layout)}) f "
        "JOIN journey_profiles p ON p.pno = f.pid"
    )


def _funnel_sql(spec: FunnelSpec, sorted_copy: bool, layout: journey.Layout | None = None) -> str:
    reached = reached_sql(spec, sorted_copy, layout)
    bd = spec.breakdown
    if bd is None:
        return f"SELECT *, NULL::VARCHAR AS grp FROM ({reached})"
    entries = "SELECT pid FROM reached WHERE step = 0"
    values = bd.profile_values_sql(spec.time_range)
    if values is not None and sorted_copy:
        values = (
            f"SELECT p.pno AS pid, v.value FROM ({values}) v "
            "JOIN journey_profiles p ON p.profile_id = v.pid"
        )
    if values is None:
        # The value of the profile's first entry event (first-touch attribution).
        values = "SELECT pid, arg_min(bval, ts) AS value FROM base WHERE mask & 1 <> 0 GROUP BY pid"
        # Reuse the same base: splice `grp` in under reached_sql's WITH.
        head, _, tail = reached.rpartition("\n")
        return (
            f"{head},\nreached AS ({tail}),\n"
            f"groups AS ({grouped_sql(entries, values, bd.top)})\n"
            "SELECT r.*, g.grp FROM reached r JOIN groups g USING (pid)"
        )
    return (
        f"WITH reached AS ({reached}), groups AS ({grouped_sql(entries, values, bd.top)})\n"
        "SELECT r.*, g.grp FROM reached r JOIN groups g USING (pid)"
    )


def _bucket_sql(column: str) -> str:
    """The index of `column`'s bucket in HISTOGRAM_BUCKETS (NULL when negative or NULL)."""
    parts = [f"WHEN {column} < 0 THEN NULL"]
    parts += [
        f"WHEN {column} < {high} THEN {i}" for i, (_, high) in enumerate(HISTOGRAM_BUCKETS[:-1])
    ]
    return f"CASE {' '.join(parts)} ELSE {len(HISTOGRAM_BUCKETS) - 1} END"


def _steps_sql(table: str, grouped: bool = True) -> str:
    """Per (group, step) and per step: count, median and p90 seconds from the previous step and
    from the first, and their histograms (bucket index -> count). One aggregate over the rows;
    `grouped=False` (no breakdown) skips the per-group grouping set."""
    grouping = "GROUPING SETS ((grp, step), (step))" if grouped else "step"
    everyone = "GROUPING(grp)" if grouped else "1"
    return f"""
        SELECT grp, step, n, gq[1], gq[2], gh, tq[1], tq[2], th, everyone FROM (
            SELECT {"grp" if grouped else "NULL"} AS grp, step, count(*) AS n,
                quantile_cont(gap_s, [0.5, 0.9]) AS gq, histogram({_bucket_sql("gap_s")}) AS gh,
                quantile_cont(total_s, [0.5, 0.9]) AS tq, histogram({_bucket_sql("total_s")}) AS th,
                {everyone} AS everyone
            FROM {table} GROUP BY {grouping}
        )
    """


# --------------------------------------------------------------------------------- running
def _ttc(median: float | None, p90: float | None, hist: dict[int, int] | None) -> TimeToConvert:
    counts = hist or {}
    return TimeToConvert(
        median_s=median,
        p90_s=p90,
        histogram={label: int(counts.get(i, 0)) for i, (label, _) in enumerate(HISTOGRAM_BUCKETS)},
    )


def _group(spec: FunnelSpec, value: str | None, rows: dict[int, tuple]) -> FunnelGroup:  # type: ignore[type-arg]
    counts = [int(rows[k][2]) if k in rows else 0 for k in range(len(spec.steps))]
    steps: list[FunnelStepResult] = []
    timed = spec.order != "any"
    for k, step in enumerate(spec.steps):
        prev = counts[k - 1] if k else counts[0]
        row = rows.get(k)
        steps.append(
            FunnelStepResult(
                index=k + 1,
                name=step.title(),
                count=counts[k],
                conversion=counts[k] / counts[0] if counts[0] else 0.0,
                step_conversion=counts[k] / prev if prev else 0.0,
                dropped=prev - counts[k] if k else 0,
                time_from_previous=_ttc(row[3], row[4], row[5]) if timed and k and row else None,
                time_from_start=_ttc(row[6], row[7], row[8]) if timed and k and row else None,
            )
        )
    return FunnelGroup(
        value=value,
        entered=counts[0],
        converted=counts[-1],
        conversion=counts[-1] / counts[0] if counts[0] else 0.0,
        steps=steps,
    )


def _groups(spec: FunnelSpec, rows: list[tuple]) -> list[FunnelGroup]:  # type: ignore[type-arg]
    """Everyone first, then each breakdown group by size, from the rows of `_steps_sql`."""
    by_group: dict[str | None, dict[int, tuple]] = {}  # type: ignore[type-arg]
    for row in rows:
        if not row[9] and spec.breakdown is None:
            continue
        key = None if row[9] else row[0]
        by_group.setdefault(key, {})[int(row[1])] = row
    everyone = _group(spec, None, by_group.pop(None, {}))
    others = sorted(
        (_group(spec, v, r) for v, r in by_group.items()),
        key=lambda g: (-g.entered, str(g.value)),
    )
    return [everyone, *others]


def dropped_sql(
    spec: FunnelSpec,
    step: int,
    sorted_copy: bool = False,
    group: str | None = None,
    layout: journey.Layout | None = None,
) -> str:
    """SELECT pid: the profiles that made step `step - 1` of the funnel but not step `step`;
    with `group`, only those in that group of the spec's breakdown.

    For saving a drop-off as an audience or following it elsewhere (paths after a drop-off).
    `sorted_copy` reads the sorted journey copy (see `use_sorted`); the ids are the same.
    """
    if not 2 <= step <= len(spec.steps):
        raise ValueError(f"step: needs 2 <= step <= {len(spec.steps)}, got {step}")
    if group is not None and spec.breakdown is None:
        raise ValueError("group: needs a breakdown")
    k = step - 1
    rows = (
        reached_sql(spec, sorted_copy, layout)
        if group is None
        else _funnel_sql(spec, sorted_copy, layout)
    )
    in_group = "" if group is None else f" AND grp = {exp.Literal.string(group).sql('duckdb')}"
    sql = (
        f"WITH reached AS MATERIALIZED ({rows})\n"
        f"SELECT pid FROM reached WHERE step = {k - 1}{in_group} "
        f"AND pid NOT IN (SELECT pid FROM reached WHERE step = {k})"
    )
    if sorted_copy:
        return f"SELECT p.profile_id AS pid FROM ({sql}) d JOIN journey_profiles p ON p.pno = d.pid"
    return sql


class SavedAudience(Frozen):
    """A funnel drop-off saved as a static audience."""

    audience: str
    step: int
    group: str | None = None
    size: int
    entered: int
    exited: int


def save_dropped(
    store: Store, spec: FunnelSpec, step: int, name: str, group: str | None = None
) -> SavedAudience:
    """Save the profiles that dropped at `step` (made step - 1, not step) as static audience
    `name` (created or replaced), with `Audience Entered`/`Exited` events for who came and went.
    `group` keeps only the drop-offs in that group of the spec's breakdown.
    """
    if not 2 <= step <= len(spec.steps):
        raise SpecError(f"step: needs 2 <= step <= {len(spec.steps)}, got {step}")
    if group is not None and spec.breakdown is None:
        raise SpecError(f"group: {group!r} needs a breakdown in the funnel")
    with store.reading() as cur:
        _check(cur, spec)
        # Only a copy that matches the log: a saved list must hold everyone who dropped.
        plan = planner.plan(cur, spec, planner.copy_state(cur, 0.0), can_use_sorted, _fits_copy)
        fast = plan.sorted_copy
        layout = journey.layout(cur, [s.event for s in spec.steps]) if fast else None
    origin: dict[str, object] = {
        "funnel": spec.model_dump(mode="json", exclude_none=True),
        "dropped_at": step,
    }
    if group is not None:
        origin["group"] = group

    def run(con: duckdb.DuckDBPyConnection) -> tuple[int, list[audiences.Change], Staged | None]:
        now = utcnow()
        sql = dropped_sql(spec, step, fast, group, layout)
        changes = audiences.save_static(con, name, sql, now, origin)
        ((size,),) = con.execute(
            "SELECT count(*) FROM audience_members WHERE audience = ?", [name]
        ).fetchall()
        ((last,),) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()
        return int(size), changes, audiences.stage_changes(con, changes, int(last), now)

    size, changes, staged = store.write_sync(run)
    if staged is not None:
        store.ingest(staged).result()
    return SavedAudience(
        audience=name,
        step=step,
        group=group,
        size=size,
        entered=sum(c.entered for c in changes),
        exited=sum(not c.entered for c in changes),
    )


def _check(cur: duckdb.DuckDBPyConnection, spec: FunnelSpec) -> None:
    if spec.breakdown is not None:
        spec.breakdown.check(cur)


def _run(read: Read, spec: FunnelSpec) -> FunnelResult:
    """Run a funnel with the source the planner chose."""
    last = len(spec.steps) - 1
    fast = read.sorted_copy
    layout = journey.layout(read.cur, [s.event for s in spec.steps]) if fast else None
    # On the sorted copy the rows keep profile numbers; only listed drop-offs need the ids.
    sql = _funnel_sql(spec, fast, layout)
    grouped = spec.breakdown is not None
    if spec.trend is None and spec.dropped_at is None:
        # Counts, medians and histograms straight off the pass: one statement, no table.
        rows = read.rows(f"WITH reached_rows AS ({sql}) {_steps_sql('reached_rows', grouped)}")
        return FunnelResult(steps=[s.title() for s in spec.steps], groups=_groups(spec, rows))
    with read.table("funnel_" + secrets.token_hex(4), sql) as table:
        groups = _groups(spec, read.rows(_steps_sql(table, grouped)))
        trend = None
        if spec.trend is not None:
            trend_rows = read.rows(
                f"SELECT date_trunc('{spec.trend}', entry)::DATE AS period, count(*) AS entered, "
                f"count(*) FILTER (WHERE converted) FROM (SELECT pid, min(entry) AS entry, "
                f"bool_or(step = {last}) AS converted FROM {table} GROUP BY pid) "
                "GROUP BY 1 ORDER BY 1"
            )
            trend = [
                TrendPoint(period=p, entered=e, converted=c, conversion=c / e if e else 0.0)
                for p, e, c in trend_rows
            ]
        dropped = None
        if spec.dropped_at is not None:
            k = spec.dropped_at - 1
            sql = (
                f"SELECT pid FROM {table} WHERE step = {k - 1} "
                f"AND pid NOT IN (SELECT pid FROM {table} WHERE step = {k})"
            )
            (total,) = read.one(f"SELECT count(*) FROM ({sql})") or (0,)
            if fast:  # profile numbers follow the ids' order
                sql = f"SELECT p.profile_id AS pid FROM ({sql}) d JOIN journey_profiles p ON p.pno = d.pid"
            pids = read.rows(f"{sql} ORDER BY pid LIMIT {int(spec.dropped_limit)}")
            dropped = Dropped(step=spec.dropped_at, total=int(total), profiles=[p for (p,) in pids])
    return FunnelResult(
        steps=[s.title() for s in spec.steps], groups=groups, trend=trend, dropped=dropped
    )


ANALYSIS = Analysis(
    "funnel",
    FunnelSpec,
    FunnelResult,
    _run,
    "Per-step counts, conversion, time to convert, breakdown, trend and drop-offs.",
    copy=can_use_sorted,
    fits=_fits_copy,
    check=_check,
)
