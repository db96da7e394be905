"""Funnels on the sorted journey copy (`journey_events`, touchpath.analytics.journey), DuckDB.

The copy holds the journey events in (profile, time, seq) order, profiles numbered (`pno`), so
the passes run over it with no join; `pid` is the profile's number until `query.funnel` maps it
back to the id at the end. The rows a pass reads are not in stored order by themselves: DuckDB
rewrites a long `IN (...)` list in the step conditions into a mark join, which hands the next
window its rows in no set order (on the 1M demo, empty window clauses over such a scan counted
profiles twice). So each pass's first window sorts its rows (`ORDER BY pno, ts, seq`), and the
windows after it, each over the one before with only SELECT and WHERE between, keep that order
with an empty window clause, as DuckDB documents of an empty OVER (docs: order preservation):
one sort per pass instead of one per window (a 4-step funnel on the 1M demo sorted six times).

- ordered: per level k, the start and step-k time of the latest chain at step k so far in this
  profile are carried over the stored order (`last_value(... IGNORE NULLS)`); a step-k event
  extends the latest chain at step k-1 when it is within the window (and the step gap), as the
  ASOF joins do. With a layout, the pass runs per range of profiles, side by side.
- strict: the `lag`s of the log's strict pass, over the stored order, checking the profile.
- any order: the log's window, partitioned by profile number.
"""

from __future__ import annotations

from sqlglot import exp

from touchpath.analytics import journey
from touchpath.analytics.funnels import log
from touchpath.analytics.funnels.spec import FunnelSpec
from touchpath.analytics.sql import and_, q, table

__all__ = ["NONE", "base", "made", "ties"]

Ctes = list[tuple[str, exp.Expr]]

_ROWS = "(SELECT pno, ts AS timestamp, seq, type, event, channel, code FROM journey_events)"
"""The copy's rows with the event log's column names, so event conditions apply unchanged."""


def base(
    spec: FunnelSpec, layout: journey.Layout | None = None, part: tuple[int, int] | None = None
) -> exp.Expr:
    """The step events of the copy (every journey event for strict funnels), in stored order.
    With a `layout`, rows are pre-filtered by activity code (an integer test instead of text);
    `part` keeps the profiles numbered in (lo, hi]."""
    where = [spec.time_range.condition()]
    if part is not None:
        where.insert(0, q("pno > :lo AND pno <= :hi", lo=int(part[0]), hi=int(part[1])))
    # Strict funnels need every journey event: a step must be the very next one.
    if spec.order != "strict":
        names = [s.event for s in spec.steps]
        if layout is not None and (codes := layout.code_condition(names)) is not None:
            where.append(codes)
        where.append(log.step_filter(spec))
    select = q(
        f"SELECT pno, pno AS pid, timestamp AS ts, seq, :mask AS mask FROM {_ROWS} WHERE :filters",
        mask=log.mask(spec),
        filters=and_(where),
    )
    if spec.breakdown is not None and (value := spec.breakdown.entry_value()) is not None:
        select = select.select(exp.alias_(value, "bval"), copy=False)  # type: ignore[attr-defined]
    return select


def ties(spec: FunnelSpec) -> exp.Expr:
    """SELECT count: rows out of (profile, time) order, or sharing a time with a row of another
    step mask, which the streaming pass cannot chain exactly (then the funnel reads the log)."""
    return q(
        f"SELECT count(*) FROM (SELECT pno, ts, mask, lag(pno) OVER ({_STORED}) AS lp, "
        f"lag(ts) OVER ({_STORED}) AS lt, lag(mask) OVER ({_STORED}) AS lm FROM :base AS b) "
        "WHERE lp > pno OR (lp = pno AND (lt > ts OR (lt = ts AND lm <> mask)))",
        base=base(spec),
    )


_STORED = "ORDER BY pno, ts, seq"
"""The copy's stored order, spelt out in a pass's first window (and the ties check): the step
filter's rows reach it in no set order (a long `IN` list becomes a join)."""

_KEPT = ""
"""The window clause of every later window of a pass: empty, so it keeps the order of the
window it reads (the first one's sort), as DuckDB documents of an empty OVER."""

NONE = -(2**62)
"""The carried value of a level with no hit yet in this profile: far enough in the past that
no window or step gap reaches it, so every test against it is false without a NULL check."""


def _carried(hit: str, value: str, name: str) -> str:
    over = f"OVER ({_KEPT} ROWS UNBOUNDED PRECEDING)"
    return (
        f"last_value(CASE WHEN {hit} THEN {value} WHEN newp THEN {NONE} END IGNORE NULLS) "
        f"{over} AS {name}"
    )


def _ordered(spec: FunnelSpec, source: str, tag: str) -> Ctes:
    """Ordered funnel in one streaming pass over `source` (CTE names end in `tag`).

    Per level k, `s{k}` is the start of the latest chain at step k so far in this profile and
    `p{k}` its step-k event's time, carried from the last hit of level k. A profile's first row
    resets them to `NONE` (unless it is a hit itself), so a value carried over from the
    profile before is never seen; within a profile both only grow, so the last hit holds the
    latest chain. A profile's row for step k is its first hit at level k: no GROUP BY.
    """
    n = len(spec.steps)
    win = int(spec.window) * 1_000_000
    ctes: Ctes = [
        (
            f"l0{tag}",
            q(
                f"SELECT *, mask & 1 <> 0 AS hit0, {_carried('mask & 1 <> 0', 'us', 's0')}, "
                "s0 AS p0 FROM (SELECT *, TP_MICROS(ts) AS us, "
                f"lag(pno) OVER ({_STORED}) IS DISTINCT FROM pno AS newp FROM :src)",
                src=table(source),
            ),
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
                f"{_carried(f'hit{k}', f's{k - 1}', f's{k}')}, {_carried(f'hit{k}', 'us', f'p{k}')}"
            )
        else:  # the last level: only whether it was hit before (for its first hit)
            carry = _carried(f"hit{k}", "0", f"s{k}")
        ctes.append(
            (
                f"l{k}{tag}",
                q(
                    f"SELECT *, {carry} FROM (SELECT *, {' AND '.join(cond)} AS hit{k} FROM :src)",
                    src=table(prev),
                ),
            )
        )
        prev = f"l{k}{tag}"
    return [*ctes, *_firsts(spec, prev, tag)]


def _firsts(spec: FunnelSpec, prev: str, tag: str) -> Ctes:
    """The ordered pass's last steps over its level CTE `prev`: each profile's first hit at
    each level (`firsts`), and `made` from them.

    A row is the profile's first hit at level k when it starts the profile or the value carried
    to the row before is NONE. All lags in one window; the first hits go on."""
    n = len(spec.steps)
    lags = ", ".join(
        f"hit{k} AND (newp OR lag(s{k}) OVER ({_KEPT}) = {NONE}) AS f{k}" for k in range(n)
    )
    keep = ", ".join(
        ["pno", "ts", "us"] + [f"s{k}, p{k}" for k in range(n - 1)] + [f"f{k}" for k in range(n)]
    )
    flags = " OR ".join(f"f{k}" for k in range(n))
    over = f"OVER ({_KEPT} ROWS UNBOUNDED PRECEDING)"
    # entry_us: the profile's entry (its first row here is where f0), carried over its later
    # firsts.
    firsts = q(
        f"SELECT *, last_value(CASE WHEN f0 THEN us END IGNORE NULLS) {over} AS entry_us "
        f"FROM (SELECT {keep} FROM (SELECT *, {lags} FROM :src) WHERE {flags})",
        src=table(prev),
    )
    parts = [
        q(
            "SELECT pno AS pid, 0 AS step, ts AS reached_at, 0.0 AS gap_s, 0.0 AS total_s, "
            "ts AS entry FROM :src WHERE f0",
            src=table(f"firsts{tag}"),
        )
    ]
    for k in range(1, n):
        parts.append(
            q(
                f"SELECT pno AS pid, {k} AS step, ts AS reached_at, "
                f"epoch(ts) - epoch(make_timestamp(p{k - 1})) AS gap_s, "
                f"epoch(ts) - epoch(make_timestamp(s{k - 1})) AS total_s, "
                f"make_timestamp(entry_us) AS entry FROM :src WHERE f{k}",
                src=table(f"firsts{tag}"),
            )
        )
    return [(f"firsts{tag}", firsts), (f"made{tag}", log.union(parts))]


_STRICT = "ORDER BY pid, ts, seq"


def _strict(spec: FunnelSpec) -> Ctes:
    """Strict order in one pass over the stored order: the log's `lag`s, each checking that
    the row it looks back to is of the same profile."""
    n = len(spec.steps)
    lags = "".join(
        f", lag(mask, {i}) OVER ({_STRICT}) AS m{i}, lag(ts, {i}) OVER ({_STRICT}) AS t{i}, "
        f"lag(pid, {i}) OVER ({_STRICT}) AS q{i}"
        for i in range(1, n)
    )
    ctes: Ctes = [
        ("lagged", q(f"SELECT pid, ts AS t0, mask AS m0{lags} FROM base QUALIFY mask <> 0"))
    ]
    parts = []
    for k in range(n):
        conds = [q(f"m{i} & {1 << (k - i)} <> 0") for i in range(k + 1)]
        conds += [q(f"q{i} = pid") for i in range(1, k + 1)]
        if k:
            conds.append(q(f"t0 <= t{k} + TP_SPAN(:w)", w=int(spec.window)))
        if spec.max_step_gap is not None:
            gap = int(spec.max_step_gap)
            conds += [q(f"t{i} <= t{i + 1} + TP_SPAN(:g)", g=gap) for i in range(k)]
        gap_s = "arg_min(epoch(t0) - epoch(t1), t0)" if k else "0.0"
        total_s = f"arg_min(epoch(t0) - epoch(t{k}), t0)" if k else "0.0"
        parts.append(
            q(
                f"SELECT pid, {k} AS step, min(t0) AS reached_at, {gap_s} AS gap_s, "
                f"{total_s} AS total_s FROM lagged WHERE :conds GROUP BY pid",
                conds=and_(conds),
            )
        )
    return [*ctes, ("made", log.union(parts))]


def made(spec: FunnelSpec, layout: journey.Layout | None) -> tuple[Ctes, bool]:
    """`base` and the CTEs up to `made` for the spec's ordering, on the copy; and whether
    `made` carries each profile's `entry` already (the ordered pass does)."""
    if spec.order == "strict":
        return [("base", base(spec)), *_strict(spec)], False
    if spec.order == "any":
        return [("base", base(spec, layout)), *log.unordered(spec, partition="pno")], False
    # `base` (all parts) stays for the first-touch breakdown's values; unread, it costs nothing.
    ctes: Ctes = [("base", base(spec, layout))]
    ranges = layout.ranges() if layout is not None else []
    if len(ranges) < 2:
        return [*ctes, *_ordered(spec, "base", "")], True
    for i, part in enumerate(ranges):
        ctes.append((f"base_{i}", base(spec, layout, part)))
        ctes += _ordered(spec, f"base_{i}", f"_{i}")
    made = log.union([q(f"SELECT * FROM made_{i}") for i in range(len(ranges))])
    return [*ctes, ("made", made)], True


def to_ids(rows: exp.Expr) -> exp.Expr:
    """`rows` (a `pid` column of profile numbers, and others) with the profiles' ids."""
    return q(
        "SELECT p.profile_id AS pid, f.* EXCLUDE (pid) FROM :rows AS f "
        "JOIN journey_profiles AS p ON p.pno = f.pid",
        rows=rows,
    )
