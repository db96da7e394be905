"""Attribution: which channels and touchpoints get the credit for conversions and their revenue.

For every conversion (an event matching `conversion`), its *path* is the profile's touches in
the lookback window before it and after the profile's previous conversion. A touch is, by
default, the first event of each session (a visit, keyed by its channel, as web analytics
counts them) or, with `touch="event"`, every matching event. The rule-based models split one
conversion over its path:

- `first_touch`, `last_touch`: all credit to the first or last touch;
- `linear`: equal credit to every touch;
- `time_decay`: credit halving every `half_life` before the conversion;
- `position_based`: 40 % first, 40 % last, 20 % shared by the middle (one touch: 100 %,
  two: 50/50);
- `markov`: the data-driven removal effect of a first-order Markov chain over all paths,
  converting and not (a profile's touches after its last conversion form a path to "null"):
  the transition counts come from SQL, the small chain (one state per channel) is solved in
  numpy, and each channel gets conversions in proportion to how much the conversion
  probability falls when it is removed.

Conversions with no touch in the window are reported as unattributed, never spread.

>>> round(decay_weight(age_days=7.0, half_life_days=7.0), 3)
0.5
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import duckdb
import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlglot import exp

from touchpath.analytics.discovery import match_of
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import Result, Spec
from touchpath.events.durations import Duration, renamed_durations
from touchpath.events.match import (
    EVENTS,
    JOURNEY_TYPES,
    EventMatch,
    TimeRange,
    literal,
    property_expr,
)

__all__ = [
    "ANALYSIS",
    "MODELS",
    "AttributionResult",
    "AttributionRow",
    "AttributionSpec",
    "Credit",
    "attribution_sql",
    "can_use_sorted",
    "decay_weight",
    "markov_removal_effects",
    "transitions_sql",
]

Model = Literal["first_touch", "last_touch", "linear", "time_decay", "position_based", "markov"]
MODELS: tuple[Model, ...] = (
    "first_touch", "last_touch", "linear", "time_decay", "position_based", "markov",
)  # fmt: skip
RULE_MODELS: tuple[Model, ...] = MODELS[:-1]
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


def decay_weight(age_days: float, half_life_days: float) -> float:
    """The unnormalised time-decay weight of a touch `age_days` before the conversion."""
    return float(0.5 ** (age_days / half_life_days))


_RENAMED = {
    "session_gap_minutes": ("session_gap", 60),
    "lookback_days": ("lookback", 86400),
    "half_life_days": ("half_life", 86400),
}
"""Deprecated input names of the durations, with their units."""


class AttributionSpec(Spec):
    """Which conversions, which touches, which models."""

    kind: Literal["attribution"] = "attribution"
    conversion: EventMatch = EventMatch(event="Order Completed")
    revenue_property: str | None = "revenue"
    """Numeric property of the conversion event holding its revenue (None: count only)."""
    by: Literal["channel", "touchpoint"] = "channel"
    """Credit channels, or touchpoints (the touch's event/page name, or `touchpoint_property`)."""
    touchpoint_property: str | None = None
    """With `by="touchpoint"`, key touches by this property instead (e.g. context.campaign.name)."""
    touch: Literal["session", "event"] = "session"
    """A touch is the first event of a session (default) or every matching event."""
    touches: tuple[str | EventMatch, ...] = ()
    """Events that can be touches (empty: every track, page and screen event)."""
    exclude_touches: tuple[str | EventMatch, ...] = ()
    """Events that are never touches (e.g. `Email Delivered`: a send is not a visit)."""
    exclude_channels: tuple[str, ...] = ()
    """Channels that never get credit (e.g. `direct` for a last non-direct model)."""
    session_gap: Duration = 1800
    """Inactivity that ends a session, in seconds (input also `30m`)."""
    lookback: Duration = 30 * 86400
    """How far before a conversion its touches may be, in seconds (input also `30d`)."""
    half_life: Duration = 7 * 86400
    """Time-decay: a touch this much older gets half the credit, in seconds (input also `7d`)."""
    position_first: float = Field(0.4, ge=0, le=1)
    position_last: float = Field(0.4, ge=0, le=1)
    models: tuple[Model, ...] = MODELS
    time_range: TimeRange | None = None
    """Conversions in this range (their touches may start up to the lookback before it)."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return renamed_durations(data, _RENAMED)

    @field_validator("revenue_property", "touchpoint_property")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v if v is None or v.strip() else None

    @model_validator(mode="after")
    def _check(self) -> AttributionSpec:
        if self.position_first + self.position_last > 1:
            raise ValueError("position_first + position_last: must not exceed 1")
        if not self.models:
            raise ValueError("models: name at least one model")
        return self


class Credit(BaseModel):
    conversions: float
    revenue: float
    share: float
    """Share of the attributed conversions."""


class AttributionRow(BaseModel):
    key: str
    credit: dict[str, Credit]


class AttributionResult(Result):
    kind: Literal["attribution"] = "attribution"
    by: str
    models: list[str]
    conversions: int
    revenue: float
    attributed_conversions: int
    attributed_revenue: float
    rows: list[AttributionRow]
    removal_effects: dict[str, float] = Field(default_factory=dict)
    """Markov: the share of conversions lost when each key is removed."""


def _or(items: tuple[str | EventMatch, ...]) -> str:
    return exp.or_(*[match_of(e).condition() for e in items]).sql("duckdb")


_COPY_COLUMNS = {"event", "type", "channel", "timestamp"}


def can_use_sorted(spec: AttributionSpec) -> bool:
    """Whether the sorted journey copy (`touchpath optimize`) holds what `spec` reads: the
    conversion, touch and time conditions test only event, type, channel and time, and touches
    are keyed by channel or event name (revenue is read from the log for conversions only)."""
    if spec.by == "touchpoint" and spec.touchpoint_property:
        return False
    matches = [spec.conversion, *map(match_of, (*spec.touches, *spec.exclude_touches))]
    exprs = [m.condition() for m in matches]
    if spec.time_range is not None:
        exprs.append(spec.time_range.condition())
    return all(c.name in _COPY_COLUMNS for e in exprs for c in e.find_all(exp.Column))


def _base_sql(spec: AttributionSpec, sorted_copy: bool = False) -> str:
    """CTEs `conv` (conversions with their previous one), `touch` (keyed touches) and `path`.

    Profiles are keyed by a 64-bit hash of the profile id: windows and the range join
    partition on it far faster than on the text id. With `sorted_copy` (see `can_use_sorted`)
    events come from the journey copy keyed by its profile number, in stored (profile, time,
    seq) order, so session starts stream with no sort; revenue joins in by seq.
    """
    is_conv = spec.conversion.condition().sql("duckdb")
    revenue = (
        f"coalesce({property_expr(spec.revenue_property, numeric=True).sql('duckdb')}, 0)"
        if spec.revenue_property
        else "0"
    )
    types = ", ".join(f"'{t}'" for t in JOURNEY_TYPES)
    if spec.by == "channel":
        key = "channel"
    elif spec.touchpoint_property:
        key = f"coalesce({property_expr(spec.touchpoint_property).sql('duckdb')}, event, type)"
    else:
        key = "coalesce(event, type)"
    eligible = [f"NOT ({is_conv})"]
    if spec.touches:
        eligible.append(f"({_or(spec.touches)})")
    if spec.exclude_touches:
        eligible.append(f"NOT ({_or(spec.exclude_touches)})")
    time_cond = spec.time_range.condition("conv_ts").sql("duckdb") if spec.time_range else "TRUE"
    lower = ""
    if spec.time_range and spec.time_range.start is not None:
        start = TimeRange(start=spec.time_range.start).condition("x").args["expression"]
        lower = f" AND timestamp >= {start.sql('duckdb')} - INTERVAL {float(spec.lookback)} SECOND"
    gap = float(spec.session_gap)
    session_start = (
        f"QUALIFY coalesce(epoch(ts - lag(ts) OVER (PARTITION BY profile_id ORDER BY ts, seq)) > {gap}, TRUE)"
        if spec.touch == "session"
        else ""
    )
    excluded = ""
    if spec.exclude_channels:
        names = ", ".join(literal(c).sql("duckdb") for c in spec.exclude_channels)
        excluded = f"WHERE channel NOT IN ({names})"
    if sorted_copy:
        return _sorted_base_sql(spec, key, is_conv, revenue, eligible, lower, gap, excluded)
    return f"""
    e AS (SELECT hash(profile_id) AS profile_id, timestamp AS ts, seq, {key} AS key, channel,
                 ({is_conv}) AS is_conv,
                 CASE WHEN ({is_conv}) THEN {revenue} END AS revenue,
                 ({" AND ".join(eligible)}) AS eligible
          FROM {EVENTS} WHERE type IN ({types}){lower}),
    conv AS (SELECT * FROM (
                SELECT profile_id, seq AS conv_seq, ts AS conv_ts, revenue,
                       lag(ts) OVER (PARTITION BY profile_id ORDER BY ts, seq) AS prev_ts
                FROM e WHERE is_conv) WHERE {time_cond}),
    touch AS (SELECT * FROM (
                SELECT profile_id, ts, seq, key, channel FROM e WHERE eligible {session_start}) {excluded}),
    {_path_cte(spec)}
    """


def _path_cte(spec: AttributionSpec) -> str:
    """CTE `path`: each conversion's touches within the lookback, after its previous one."""
    return f"""path AS (SELECT c.conv_seq, c.conv_ts, c.revenue, t.key, t.ts, t.seq
             FROM conv c JOIN touch t ON t.profile_id = c.profile_id
              AND t.ts <= c.conv_ts
              AND t.ts >= c.conv_ts - INTERVAL {float(spec.lookback)} SECOND
              AND (c.prev_ts IS NULL OR t.ts > c.prev_ts))"""


@contextmanager
def _shared_base(
    cur: duckdb.DuckDBPyConnection, spec: AttributionSpec, sorted_copy: bool
) -> Iterator[str]:
    """`conv`, `touch` and `path` computed once into temporary tables of `cur`, as CTEs that
    read them: the rule-based and Markov statements then share one scan and session pass."""
    names = {cte: f"attribution_{cte}_{secrets.token_hex(4)}" for cte in ("conv", "touch", "path")}
    base = _base_sql(spec, sorted_copy)
    try:
        for cte in ("conv", "touch"):
            cur.execute(f"CREATE TEMP TABLE {names[cte]} AS WITH {base} SELECT * FROM {cte}")
        read = f"conv AS (SELECT * FROM {names['conv']}), touch AS (SELECT * FROM {names['touch']})"
        cur.execute(
            f"CREATE TEMP TABLE {names['path']} AS WITH {read}, {_path_cte(spec)} SELECT * FROM path"
        )
        yield f"{read}, path AS (SELECT * FROM {names['path']})"
    finally:
        for name in names.values():
            cur.execute(f"DROP TABLE IF EXISTS {name}")


def _sorted_base_sql(
    spec: AttributionSpec,
    key: str,
    is_conv: str,
    revenue: str,
    eligible: list[str],
    lower: str,
    gap: float,
    excluded: str,
) -> str:
    """`_base_sql` on the sorted journey copy (same CTEs and rows, profiles keyed by pno)."""
    time_cond = spec.time_range.condition("conv_ts").sql("duckdb") if spec.time_range else "TRUE"
    session_start = (
        f"QUALIFY lag(profile_id) OVER () IS DISTINCT FROM profile_id "
        f"OR epoch(ts - lag(ts) OVER ()) > {gap}"
        if spec.touch == "session"
        else ""
    )
    return f"""
    e AS (SELECT pno AS profile_id, ts, seq, {key} AS key, channel, ({is_conv}) AS is_conv,
                 ({" AND ".join(eligible)}) AS eligible
          FROM (SELECT pno, ts, ts AS timestamp, seq, type, event, channel FROM journey_events)
          WHERE TRUE{lower}),
    conv AS (SELECT * FROM (
                SELECT c.profile_id, c.seq AS conv_seq, c.ts AS conv_ts, r.revenue,
                       lag(c.ts) OVER (PARTITION BY c.profile_id ORDER BY c.ts, c.seq) AS prev_ts
                FROM (SELECT profile_id, ts, seq FROM e WHERE is_conv) c
                LEFT JOIN (SELECT seq, {revenue} AS revenue FROM events
                           WHERE type IN ({", ".join(f"'{t}'" for t in JOURNEY_TYPES)})
                             AND ({is_conv})) r USING (seq)) WHERE {time_cond}),
    touch AS (SELECT * FROM (
                SELECT profile_id, ts, seq, key, channel FROM e WHERE eligible {session_start})
              {excluded}),
    {_path_cte(spec)}
    """


def attribution_sql(
    spec: AttributionSpec, sorted_copy: bool = False, base: str | None = None
) -> str:
    """SQL of the rule-based credit per key, plus the conversion totals on every row.
    `base` replaces the CTEs of `_base_sql` (see `_shared_base`).

    Columns: key, then `<model>_conversions` and `<model>_revenue` for each rule-based model,
    then conversions, revenue, attributed_conversions, attributed_revenue.
    """
    pf, pl = float(spec.position_first), float(spec.position_last)
    hl = spec.half_life / 86400.0
    weights = {
        "first_touch": "(pos = 1)::DOUBLE",
        "last_touch": "(pos = k)::DOUBLE",
        "linear": "1.0 / k",
        "time_decay": (
            f"pow(0.5, age / {hl}) / sum(pow(0.5, age / {hl})) OVER (PARTITION BY conv_seq)"
        ),
        "position_based": (
            "CASE WHEN k = 1 THEN 1.0 "
            f"WHEN k = 2 THEN CASE WHEN pos = 1 THEN {pf} ELSE {pl} END / {pf + pl or 1.0} "
            f"WHEN pos = 1 THEN {pf} WHEN pos = k THEN {pl} ELSE {1.0 - pf - pl} / (k - 2) END"
        ),
    }
    cols = ", ".join(f"{w} AS {m}" for m, w in weights.items())
    sums = ", ".join(
        f"sum({m}) AS {m}_conversions, sum({m} * revenue) AS {m}_revenue" for m in weights
    )
    return f"""
    WITH {base or _base_sql(spec, sorted_copy)},
    numbered AS (SELECT conv_seq, revenue, key,
                        row_number() OVER (PARTITION BY conv_seq ORDER BY ts, seq) AS pos,
                        count(*) OVER (PARTITION BY conv_seq) AS k,
                        epoch(conv_ts - ts) / 86400.0 AS age
                 FROM path),
    weighted AS (SELECT key, revenue, {cols} FROM numbered),
    per_key AS (SELECT key, {sums} FROM weighted GROUP BY key),
    totals AS (SELECT count(*) AS conversions, coalesce(sum(revenue), 0) AS revenue,
                      count(*) FILTER (WHERE conv_seq IN (SELECT conv_seq FROM path)) AS attributed,
                      coalesce(sum(revenue) FILTER (WHERE conv_seq IN (SELECT conv_seq FROM path)), 0)
                        AS attributed_revenue
               FROM conv)
    SELECT per_key.*, totals.* FROM totals LEFT JOIN per_key ON TRUE
    ORDER BY per_key.last_touch_conversions DESC NULLS LAST, per_key.key
    """


def transitions_sql(
    spec: AttributionSpec, sorted_copy: bool = False, base: str | None = None
) -> str:
    """SQL of the Markov chain's transition counts (src, dst, n) over every path.
    `base` replaces the CTEs of `_base_sql` (see `_shared_base`).

    Converting paths end in `(conversion)`; a profile's touches after its last conversion
    (within the lookback before its last touch) form one path that ends in `(null)`.
    """
    lookback = float(spec.lookback)
    return f"""
    WITH {base or _base_sql(spec, sorted_copy)},
    last_conv AS (SELECT profile_id, max(conv_ts) AS last_ts FROM conv GROUP BY profile_id),
    open_touch AS (SELECT t.profile_id, t.ts, t.seq, t.key,
                          max(t.ts) OVER (PARTITION BY t.profile_id) AS end_ts
                   FROM touch t LEFT JOIN last_conv l USING (profile_id)
                   WHERE l.last_ts IS NULL OR t.ts > l.last_ts),
    steps AS (SELECT 'c' || conv_seq AS path_id, key, ts, seq, TRUE AS converted FROM path
              UNION ALL
              SELECT 'n' || profile_id::VARCHAR, key, ts, seq, FALSE FROM open_touch
              WHERE ts >= end_ts - INTERVAL {lookback} SECOND),
    linked AS (SELECT coalesce(lag(key) OVER w, '{START}') AS src, key AS dst,
                      lead(key) OVER w IS NULL AS last, converted
               FROM steps WINDOW w AS (PARTITION BY path_id ORDER BY ts, seq))
    SELECT src, dst, count(*) FROM linked GROUP BY ALL
    UNION ALL
    SELECT dst, CASE WHEN converted THEN '{CONVERSION}' ELSE '{NULL}' END, count(*)
    FROM linked WHERE last GROUP BY ALL
    """


def markov_removal_effects(transitions: list[tuple[str, str, int]]) -> dict[str, float]:
    """Removal effect of each state: 1 - P(convert without it) / P(convert with it)."""
    keys = sorted({s for s, _, _ in transitions} | {d for _, d, _ in transitions})
    keys = [k for k in keys if k not in (START, CONVERSION, NULL)]
    states = [START, *keys]
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    counts = np.zeros((n, n + 1))  # last column: (conversion)
    totals = np.zeros((n, 1))  # every transition out, (null) included
    for src, dst, k in transitions:
        totals[index[src], 0] += k
        if dst == CONVERSION:
            counts[index[src], n] += k
        elif dst != NULL:
            counts[index[src], index[dst]] += k
    base = _probability(counts, totals, None)
    if base <= 0:
        return {k: 0.0 for k in keys}
    return {k: max(0.0, 1.0 - _probability(counts, totals, index[k]) / base) for k in keys}


def _probability(counts: np.ndarray, totals: np.ndarray, removed: int | None) -> float:
    """P(reach conversion from start); a removed state loses every journey that reaches it."""
    n = counts.shape[0]
    probs = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    conv = probs[:, n].copy()
    q = probs[:, :n].copy()
    if removed is not None:
        q[:, removed] = 0.0
        q[removed, :] = 0.0
        conv[removed] = 0.0
    x = np.linalg.solve(np.eye(n) - q, conv)
    return float(x[0])


def _run(read: Read, spec: AttributionSpec) -> AttributionResult:
    """Credit for the conversions by channel or touchpoint under each model."""
    fast = read.sorted_copy
    transitions: list[tuple[str, str, int]] = []
    if "markov" in spec.models:
        with _shared_base(read.cur, spec, fast) as base:
            rows = read.rows(attribution_sql(spec, fast, base))
            transitions = [
                (str(a), str(b), int(n)) for a, b, n in read.rows(transitions_sql(spec, fast, base))
            ]
    else:
        rows = read.rows(attribution_sql(spec, fast))
    rule = [m for m in spec.models if m in RULE_MODELS]
    n_rule = len(RULE_MODELS)
    conversions, revenue, attributed, attributed_revenue = rows[0][1 + 2 * n_rule :]
    attributed = int(attributed)
    credit: dict[str, dict[str, Credit]] = {}
    for row in rows:
        if row[0] is None:
            continue
        credit[row[0]] = {}
        for i, m in enumerate(RULE_MODELS):
            if m in rule:
                conv_credit = float(row[1 + 2 * i] or 0.0)
                credit[row[0]][m] = Credit(
                    conversions=round(conv_credit, 6),
                    revenue=round(float(row[2 + 2 * i] or 0.0), 2),
                    share=round(conv_credit / attributed, 6) if attributed else 0.0,
                )
    effects: dict[str, float] = {}
    if "markov" in spec.models and transitions:
        effects = markov_removal_effects(transitions)
        total_effect = sum(effects.values())
        for key, effect in effects.items():
            share = effect / total_effect if total_effect else 0.0
            credit.setdefault(key, {})["markov"] = Credit(
                conversions=round(share * attributed, 6),
                revenue=round(share * float(attributed_revenue), 2),
                share=round(share, 6),
            )
    return AttributionResult(
        by=spec.by,
        models=list(spec.models),
        conversions=int(conversions),
        revenue=round(float(revenue), 2),
        attributed_conversions=attributed,
        attributed_revenue=round(float(attributed_revenue), 2),
        rows=[AttributionRow(key=k, credit=v) for k, v in credit.items()],
        removal_effects={k: round(v, 6) for k, v in effects.items()},
    )


ANALYSIS = Analysis(
    "attribution",
    AttributionSpec,
    AttributionResult,
    _run,
    "Conversion credit per channel or touchpoint under each attribution model.",
    copy=can_use_sorted,
)
