"""Funnels: how many profiles reach each of 2-20 steps, in order, within a conversion window.

The spec and result are in `funnels.spec` (ordered funnels equal ClickHouse's `windowFunnel`);
the queries by access path, then ordering: `funnels.log` (the event log, any dialect) and
`funnels.copy` (the sorted journey copy, DuckDB); `funnels.query` assembles them with the
breakdown, the per-step aggregates, the trend and the drop-offs. This module runs them: the
registered `ANALYSIS`, and `save_dropped`, which keeps a drop-off as a static audience.
"""

from __future__ import annotations

import secrets
from typing import Any

import duckdb
from sqlglot import exp

from touchpath.analytics import journey, planner
from touchpath.analytics.dialects import render
from touchpath.analytics.funnels import copy, query
from touchpath.analytics.funnels.spec import (
    HISTOGRAM_BUCKETS,
    Dropped,
    Exclusion,
    FunnelGroup,
    FunnelResult,
    FunnelSpec,
    FunnelStep,
    FunnelStepResult,
    TimeToConvert,
    TrendPoint,
    can_use_sorted,
)
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.sql import q, table, with_
from touchpath.errors import SpecError
from touchpath.events.match import Frozen
from touchpath.events.message import Staged
from touchpath.store import Store
from touchpath.store.memo import Memo
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


def reached_sql(
    spec: FunnelSpec, sorted_copy: bool = False, layout: journey.Layout | None = None
) -> str:
    """`query.reached` as DuckDB SQL text."""
    return render(query.reached(spec, sorted_copy, layout))


def funnel_sql(
    spec: FunnelSpec, sorted_copy: bool = False, layout: journey.Layout | None = None
) -> str:
    """SELECT pid, step, reached_at, gap_s, total_s, entry, grp as DuckDB SQL text, with the
    profiles' ids (also on the copy)."""
    tree = query.funnel(spec, sorted_copy, layout)
    return render(copy.to_ids(tree) if sorted_copy else tree)


def dropped_sql(
    spec: FunnelSpec,
    step: int,
    sorted_copy: bool = False,
    group: str | None = None,
    layout: journey.Layout | None = None,
) -> str:
    """SELECT pid: the profiles that made step `step - 1` of the funnel but not step `step`
    (with `group`, only those in that breakdown group), as DuckDB SQL text; the ids are the
    profiles' ids on either source."""
    return render(_dropped(spec, step, sorted_copy, group, layout))


def _dropped(
    spec: FunnelSpec,
    step: int,
    sorted_copy: bool,
    group: str | None,
    layout: journey.Layout | None,
) -> Any:
    if not 2 <= step <= len(spec.steps):
        raise ValueError(f"step: needs 2 <= step <= {len(spec.steps)}, got {step}")
    if group is not None and spec.breakdown is None:
        raise ValueError("group: needs a breakdown")
    rows = (
        query.reached(spec, sorted_copy, layout)
        if group is None
        else query.funnel(spec, sorted_copy, layout)
    )
    pids = with_(
        [("reached", rows)], query.dropped(table("reached"), step, group), materialized=["reached"]
    )
    if sorted_copy:
        return q(
            "SELECT p.profile_id AS pid FROM :d AS d JOIN journey_profiles AS p ON p.pno = d.pid",
            d=pids,
        )
    return pids


def use_sorted(cur: duckdb.DuckDBPyConnection, spec: FunnelSpec, max_lag: float = 0.0) -> bool:
    """Whether the planner reads this funnel from the sorted journey copy now (with the copy
    allowed to lag by `max_lag` seconds)."""
    state = planner.copy_state(cur, max_lag)
    return planner.plan(cur, spec, state, can_use_sorted, _fits_copy).sorted_copy


def _fits_copy(cur: duckdb.DuckDBPyConnection, spec: FunnelSpec, memo: Memo | None = None) -> bool:
    """Whether the copy's data suits this funnel: its step events are in order without ties
    across steps (asked by the planner once the copy is usable and holds what it reads). The
    answer depends only on the copy's build and the steps' query, so with the store's `memo`
    it is asked once per build (on the 1M demo, whose copy has 44,583 ties, the check cost
    about five times the compiled pass on every funnel: 86 against 18 CPU-ms)."""
    if spec.order != "ordered":
        return True  # strict order is (time, seq), the copy's own order; any order has no order
    row = cur.execute("SELECT max(ties), max(built_at) FROM journey_build").fetchone()
    if not row or not row[0]:
        return True

    def bad() -> int:
        (n,) = cur.execute(render(copy.ties(spec))).fetchone() or (1,)
        return int(n)

    found = (
        bad() if memo is None else memo.get(("funnel ties", row[1], spec.model_dump_json()), bad)
    )
    return found == 0


def _check(cur: duckdb.DuckDBPyConnection, spec: FunnelSpec) -> None:
    if spec.breakdown is not None:
        spec.breakdown.check(cur)


# --------------------------------------------------------------------------------- results
def _ttc(median: float | None, p90: float | None, hist: list[int]) -> TimeToConvert:
    return TimeToConvert(
        median_s=median,
        p90_s=p90,
        histogram={label: int(hist[i]) for i, (label, _) in enumerate(HISTOGRAM_BUCKETS)},
    )


def _group(spec: FunnelSpec, value: str | None, rows: dict[int, Any]) -> FunnelGroup:
    """One group's funnel from its rows of `query.steps` by step (0-based)."""
    counts = [int(rows[k][2]) if k in rows else 0 for k in range(len(spec.steps))]
    buckets = len(HISTOGRAM_BUCKETS)
    steps: list[FunnelStepResult] = []
    timed = spec.order != "any"
    for k, step in enumerate(spec.steps):
        prev = counts[k - 1] if k else counts[0]
        row = rows.get(k)
        times = bool(timed and k and row is not None)
        steps.append(
            FunnelStepResult(
                index=k + 1,
                name=step.title(),
                count=counts[k],
                conversion=counts[k] / counts[0] if counts[0] else 0.0,
                step_conversion=counts[k] / prev if prev else 0.0,
                dropped=prev - counts[k] if k else 0,
                time_from_previous=_ttc(row[3][0], row[3][1], row[6 : 6 + buckets])
                if times and row is not None
                else None,
                time_from_start=_ttc(row[4][0], row[4][1], row[6 + buckets :])
                if times and row is not None
                else None,
            )
        )
    return FunnelGroup(
        value=value,
        entered=counts[0],
        converted=counts[-1],
        conversion=counts[-1] / counts[0] if counts[0] else 0.0,
        steps=steps,
    )


def _groups(spec: FunnelSpec, rows: list[Any]) -> list[FunnelGroup]:
    """Everyone first, then each breakdown group by size, from the rows of `query.steps`
    (grp, step, n, gap quantiles, total quantiles, everyone, bucket counts...)."""
    by_group: dict[str | None, dict[int, Any]] = {}
    for row in rows:
        if not row[5] and spec.breakdown is None:
            continue
        key = None if row[5] else row[0]
        by_group.setdefault(key, {})[int(row[1])] = row
    everyone = _group(spec, None, by_group.pop(None, {}))
    others = sorted(
        (_group(spec, v, r) for v, r in by_group.items()),
        key=lambda g: (-g.entered, str(g.value)),
    )
    return [everyone, *others]


def _layout_key(layout: journey.Layout | None) -> object:
    if layout is None:
        return None
    return (layout.profiles, layout.parts, tuple(sorted(layout.codes.items())))


def _kernel(cur: duckdb.DuckDBPyConnection, spec: FunnelSpec, memo: Memo | None) -> bool:
    """Whether the compiled pass computes this funnel: no breakdown, and steps on `event` and
    `type` only whose matches the copy's activity codes tell apart (a lookup by code)."""
    return spec.breakdown is None and _lookup(cur, spec, memo) is not None


def _lookup(
    cur: duckdb.DuckDBPyConnection, spec: FunnelSpec, memo: Memo | None
) -> tuple[Any, Any] | None:
    """The copy's columns and the steps' bit masks by activity code (None: not by code: a
    step reads more than `event` and `type`, or one code's rows differ). Kept per build and
    steps in the store's memo, keyed by the steps themselves: their conditions are built and
    rendered only the first time (a few CPU-ms a call, twice a funnel)."""
    from touchpath.analytics.kernels import columns

    conds = columns.by_code(memo, list(spec.steps))
    if conds is None:
        return None
    cols = columns.load(cur, memo)

    def make() -> Any:
        return columns.masks(cur, cols, conds)

    key = ("funnel masks", cols.built_at, tuple(s.model_dump_json() for s in spec.steps))
    lut = make() if memo is None else memo.get(key, make)
    return None if lut is None else (cols, lut)


def _compiled(read: Read, spec: FunnelSpec) -> Any:
    """The funnel's rows from the compiled pass (an Arrow table shaped as `query.funnel`'s)."""
    from touchpath.analytics.kernels import funnel as kernel

    found = _lookup(read.cur, spec, read.memo)
    assert found is not None  # the planner asked `_kernel`
    return kernel.made(*found[:1], spec, found[1])


def _run(read: Read, spec: FunnelSpec) -> FunnelResult:
    """Run a funnel with the source the planner chose."""
    if read.plan.kernel and spec.trend is None and spec.dropped_at is None:
        from touchpath.analytics.kernels import funnel as kernel

        found = _lookup(read.cur, spec, read.memo)
        assert found is not None  # the planner asked `_kernel`
        counted = kernel.steps(found[0], spec, found[1])
        return FunnelResult(steps=[s.title() for s in spec.steps], groups=_groups(spec, counted))
    if read.plan.kernel:
        with read.frame("tp_funnel_made", _compiled(read, spec)) as name:
            return _from_rows(read, spec, table(name), fast=True, memo=True)
    fast = read.sorted_copy
    layout = journey.layout(read.cur, [s.event for s in spec.steps]) if fast else None
    # On the sorted copy the rows keep profile numbers; only listed drop-offs need the ids.
    key = (spec.model_dump_json(), _layout_key(layout))
    grouped = spec.breakdown is not None
    if spec.trend is None and spec.dropped_at is None:
        names = [s.title() for s in spec.steps]
        # Counts, medians and histograms straight off the pass: one statement, no table.
        sql = read.sql(
            ("funnel", key), lambda: query.steps(query.funnel(spec, fast, layout), grouped)
        )
        return FunnelResult(steps=names, groups=_groups(spec, read.rows(sql)))
    rows = read.sql(("funnel rows", key), lambda: query.funnel(spec, fast, layout))
    with read.table("funnel_" + secrets.token_hex(4), rows) as name:
        return _from_rows(read, spec, table(name), fast)


def _from_rows(
    read: Read, spec: FunnelSpec, made: exp.Expr, fast: bool, memo: bool = False
) -> FunnelResult:
    """The result from the funnel's rows `made` (a table): groups, trend and drop-offs; `memo`
    keeps the aggregate's SQL (a table name that stays the same)."""
    grouped = spec.breakdown is not None
    names = [s.title() for s in spec.steps]
    if memo:  # the tree is built and rendered once per store
        sql: exp.Expr | str = read.sql(("funnel steps", render(made), grouped),
                                       lambda: query.steps(made, grouped))  # fmt: skip
    else:
        sql = query.steps(made, grouped)
    groups = _groups(spec, read.rows(sql))
    trend = None
    if spec.trend is not None:
        trend = [
            TrendPoint(period=p, entered=e, converted=c, conversion=c / e if e else 0.0)
            for p, e, c in read.rows(query.trend(made, spec))
        ]
    dropped = None
    if spec.dropped_at is not None:
        pids = query.dropped(made, spec.dropped_at)
        (total,) = read.one(q("SELECT count(*) FROM :d AS d", d=pids)) or (0,)
        if fast:  # profile numbers follow the ids' order
            pids = q(
                "SELECT p.profile_id AS pid FROM :d AS d "
                "JOIN journey_profiles AS p ON p.pno = d.pid",
                d=pids,
            )
        listed = read.rows(q("SELECT pid FROM :d AS d ORDER BY pid LIMIT :n", d=pids,
                             n=int(spec.dropped_limit)))  # fmt: skip
        dropped = Dropped(step=spec.dropped_at, total=int(total), profiles=[p for (p,) in listed])
    return FunnelResult(steps=names, groups=groups, trend=trend, dropped=dropped)


ANALYSIS = Analysis(
    "funnel",
    FunnelSpec,
    FunnelResult,
    _run,
    "Per-step counts, conversion, time to convert, breakdown, trend and drop-offs.",
    copy=can_use_sorted,
    fits=_fits_copy,
    check=_check,
    kernel=_kernel,
)


# ---------------------------------------------------------------------------- save dropped
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
    from touchpath.profiles import audiences  # identity's graph and scipy: only for this

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
    sql = render(_dropped(spec, step, fast, group, layout))

    def run(con: duckdb.DuckDBPyConnection) -> tuple[int, list[Any], Staged | None]:
        now = utcnow()
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
