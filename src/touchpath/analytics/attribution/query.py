"""The queries of attribution as trees: conversions, touches and each conversion's path; the
rule-based credit per key; the Markov chain's transitions.

`base` gives the CTEs `conv` (conversions with their previous one), `touch` (keyed touches)
and `path`. Profiles are keyed by a 64-bit hash of the profile id: windows and the range join
partition on it far faster than on the text id. On the sorted journey copy the events come
keyed by the copy's profile number, in stored (profile, time, seq) order, so session starts
stream with no sort; revenue joins in by seq.
"""

from __future__ import annotations

from sqlglot import exp

from touchpath.analytics.attribution.spec import CONVERSION, NULL, START, AttributionSpec
from touchpath.analytics.discovery import match_of
from touchpath.analytics.sql import and_, or_, q, with_
from touchpath.events.match import EventMatch, TimeRange, journey_types, literal, property_expr

__all__ = ["Ctes", "base", "credit", "path", "transitions"]

Ctes = list[tuple[str, exp.Expr]]


def _any(items: tuple[str | EventMatch, ...]) -> exp.Expr:
    return or_([match_of(e).condition() for e in items])


def _parts(spec: AttributionSpec) -> dict[str, exp.Expr]:
    """The pieces both sources share: the conversion test, revenue, key, touch eligibility."""
    is_conv = spec.conversion.condition()
    revenue = (
        q("coalesce(:r, 0)", r=property_expr(spec.revenue_property, numeric=True))
        if spec.revenue_property
        else literal(0)
    )
    if spec.by == "channel":
        key: exp.Expr = exp.column("channel")
    elif spec.touchpoint_property:
        key = q("coalesce(:p, event, type)", p=property_expr(spec.touchpoint_property))
    else:
        key = q("coalesce(event, type)")
    eligible: list[exp.Expr] = [exp.Not(this=exp.Paren(this=is_conv))]
    if spec.touches:
        eligible.append(exp.Paren(this=_any(spec.touches)))
    if spec.exclude_touches:
        eligible.append(exp.Not(this=exp.Paren(this=_any(spec.exclude_touches))))
    lower: exp.Expr = exp.true()
    if spec.time_range and spec.time_range.start is not None:
        start = TimeRange(start=spec.time_range.start).condition("x").args["expression"]
        lower = q(
            "timestamp >= :start - TP_SPAN(:lookback)", start=start, lookback=int(spec.lookback)
        )
    when = spec.time_range.condition("conv_ts") if spec.time_range else exp.true()
    channels: exp.Expr = exp.true()
    if spec.exclude_channels:
        channels = exp.Not(this=exp.In(this=exp.column("channel"),
                                       expressions=[literal(c) for c in spec.exclude_channels]))  # fmt: skip
    return {"is_conv": is_conv, "revenue": revenue, "key": key, "eligible": and_(eligible),
            "lower": lower, "converted_in": when, "channels": channels}  # fmt: skip


def path(spec: AttributionSpec, sorted_copy: bool = False) -> exp.Expr:
    """Each conversion's touches within the lookback, after its previous conversion; on the
    sorted copy with the touch's neighbours and the conversion's previous time too (for
    `_streamed`)."""
    more = ""
    if sorted_copy:
        more = (", c.prev_ts AS conv_prev_ts, t.profile_id, t.before_key, t.before_profile, "
                "t.before_ts, t.after_profile, t.after_ts")  # fmt: skip
    return q(
        f"SELECT c.conv_seq, c.conv_ts, c.revenue, t.key, t.ts, t.seq{more} FROM conv AS c "
        "JOIN touch AS t ON t.profile_id = c.profile_id AND t.ts <= c.conv_ts "
        "AND t.ts >= c.conv_ts - TP_SPAN(:lookback) AND (c.prev_ts IS NULL OR t.ts > c.prev_ts)",
        lookback=int(spec.lookback),
    )


def base(spec: AttributionSpec, sorted_copy: bool = False) -> Ctes:
    """CTEs `e` (the events), `conv`, `touch` and `path` on the log or the sorted copy."""
    p = _parts(spec)
    gap = float(spec.session_gap)
    if sorted_copy:
        events = q(
            "SELECT pno AS profile_id, ts, seq, :key AS key, channel, :is_conv AS is_conv, "
            ":eligible AS eligible FROM (SELECT pno, ts, ts AS timestamp, seq, type, event, "
            "channel FROM journey_events) AS c WHERE :lower",
            **p,
        )
        conv = q(
            "SELECT * FROM (SELECT c.profile_id, c.seq AS conv_seq, c.ts AS conv_ts, r.revenue, "
            "lag(c.ts) OVER (PARTITION BY c.profile_id ORDER BY c.ts, c.seq) AS prev_ts "
            "FROM (SELECT profile_id, ts, seq FROM e WHERE is_conv) AS c "
            "LEFT JOIN (SELECT seq, :revenue AS revenue FROM events "
            "WHERE :journey AND :is_conv) AS r USING (seq)) AS x WHERE :converted_in",
            journey=journey_types(),
            **p,
        )
        start = "lag(profile_id) OVER () IS DISTINCT FROM profile_id OR "
        start += "TP_DIFF_SECONDS(ts, lag(ts) OVER ()) > :gap"
    else:
        events = q(
            "SELECT TP_PROFILE_KEY(profile_id) AS profile_id, timestamp AS ts, seq, :key AS key, "
            "channel, :is_conv AS is_conv, CASE WHEN :is_conv THEN :revenue END AS revenue, "
            ":eligible AS eligible FROM resolved_events WHERE :journey AND :lower",
            journey=journey_types(),
            **p,
        )
        conv = q(
            "SELECT * FROM (SELECT profile_id, seq AS conv_seq, ts AS conv_ts, revenue, "
            "lag(ts) OVER (PARTITION BY profile_id ORDER BY ts, seq) AS prev_ts "
            "FROM e WHERE is_conv) AS x WHERE :converted_in",
            **p,
        )
        start = "coalesce(TP_DIFF_SECONDS(ts, lag(ts) OVER (PARTITION BY profile_id "
        start += "ORDER BY ts, seq)) > :gap, TRUE)"
    touches = "SELECT profile_id, ts, seq, key, channel FROM e WHERE eligible"
    if spec.touch == "session":
        touches += f" QUALIFY {start}"
    touch = q(f"SELECT * FROM ({touches}) AS x WHERE :channels", gap=gap, **p)
    if sorted_copy:  # each touch's neighbours, from the same stream (`_streamed`)
        touch = q(
            "SELECT *, lag(key) OVER () AS before_key, lag(profile_id) OVER () AS before_profile, "
            "lag(ts) OVER () AS before_ts, lead(profile_id) OVER () AS after_profile, "
            "lead(ts) OVER () AS after_ts FROM :touch AS y",
            touch=touch,
        )
    return [("e", events), ("conv", conv), ("touch", touch), ("path", path(spec, sorted_copy))]


def credit(spec: AttributionSpec, ctes: Ctes) -> exp.Expr:
    """The rule-based credit per key, and the conversion totals on every row.

    Columns: key, then `<model>_conversions` and `<model>_revenue` for each rule-based model,
    then conversions, revenue, attributed_conversions, attributed_revenue.
    """
    pf, pl = float(spec.position_first), float(spec.position_last)
    hl = spec.half_life / 86400.0
    weights = {
        "first_touch": q("CAST(pos = 1 AS DOUBLE)"),
        "last_touch": q("CAST(pos = k AS DOUBLE)"),
        "linear": q("1.0 / k"),
        "time_decay": q("pow(0.5, age / :hl) / sum(pow(0.5, age / :hl)) OVER (PARTITION BY conv_seq)",
                        hl=hl),
        "position_based": q(
            "CASE WHEN k = 1 THEN 1.0 WHEN k = 2 THEN CASE WHEN pos = 1 THEN :pf ELSE :pl END "
            "/ :both WHEN pos = 1 THEN :pf WHEN pos = k THEN :pl ELSE :middle / (k - 2) END",
            pf=pf, pl=pl, both=pf + pl or 1.0, middle=1.0 - pf - pl,
        ),
    }  # fmt: skip
    weighted = q("SELECT key, revenue FROM numbered")
    weighted = weighted.select(*[exp.alias_(w, m) for m, w in weights.items()], copy=False)  # type: ignore[attr-defined]
    per_key = q("SELECT key FROM weighted GROUP BY key")
    for m in weights:
        per_key = per_key.select(  # type: ignore[attr-defined]
            exp.alias_(q(f"sum({m})"), f"{m}_conversions"),
            exp.alias_(q(f"sum({m} * revenue)"), f"{m}_revenue"),
            copy=False,
        )
    numbered = q(
        "SELECT conv_seq, revenue, key, row_number() OVER (PARTITION BY conv_seq ORDER BY ts, seq) "
        "AS pos, count(*) OVER (PARTITION BY conv_seq) AS k, "
        "TP_DIFF_SECONDS(conv_ts, ts) / 86400.0 AS age FROM path"
    )
    totals = q(
        "SELECT count(*) AS conversions, coalesce(sum(revenue), 0) AS total_revenue, "
        "count(*) FILTER (WHERE conv_seq IN (SELECT conv_seq FROM path)) AS attributed, "
        "coalesce(sum(revenue) FILTER (WHERE conv_seq IN (SELECT conv_seq FROM path)), 0) "
        "AS attributed_revenue FROM conv"
    )
    return with_(
        [*ctes, ("numbered", numbered), ("weighted", weighted), ("per_key", per_key),
         ("totals", totals)],
        q("SELECT per_key.*, totals.* FROM totals LEFT JOIN per_key ON TRUE "
          "ORDER BY per_key.last_touch_conversions DESC NULLS LAST, per_key.key"),
    )  # fmt: skip


def transitions(spec: AttributionSpec, ctes: Ctes, sorted_copy: bool = False) -> exp.Expr:
    """The Markov chain's transition counts (src, dst, n) over every path.

    Converting paths end in `(conversion)`; a profile's touches after its last conversion
    (within the lookback before its last touch) form one path that ends in `(null)`. On the
    sorted copy (`sorted_copy`, with `base`'s and `path`'s neighbour columns) each step is
    linked to its neighbours without sorting the paths (`_streamed`).
    """
    last_conv = q("SELECT profile_id, max(conv_ts) AS last_ts FROM conv GROUP BY profile_id")
    if sorted_copy:
        linked = _streamed(spec)
    else:
        linked = [
            ("open_touch", q(
                "SELECT t.profile_id, t.ts, t.seq, t.key, max(t.ts) OVER (PARTITION BY t.profile_id) "
                "AS end_ts FROM touch AS t LEFT JOIN last_conv AS l USING (profile_id) "
                "WHERE l.last_ts IS NULL OR t.ts > l.last_ts")),
            ("steps", q(
                "SELECT 'c' || CAST(conv_seq AS VARCHAR) AS path_id, key, ts, seq, TRUE AS converted "
                "FROM path UNION ALL SELECT 'n' || CAST(profile_id AS VARCHAR), key, ts, seq, FALSE "
                "FROM open_touch WHERE ts >= end_ts - TP_SPAN(:lookback)",
                lookback=int(spec.lookback))),
            ("linked", q(
                "SELECT coalesce(lag(key) OVER w, :start) AS src, key AS dst, "
                "lead(key) OVER w IS NULL AS last, converted FROM steps "
                "WINDOW w AS (PARTITION BY path_id ORDER BY ts, seq)", start=START)),
        ]  # fmt: skip
    return with_(
        [*ctes, ("last_conv", last_conv), *linked],
        q(
            "SELECT src, dst, count(*) FROM linked GROUP BY src, dst UNION ALL "
            "SELECT dst, CASE WHEN converted THEN :conversion ELSE :dead END AS dst2, count(*) "
            "FROM linked WHERE last GROUP BY dst, converted",
            conversion=CONVERSION,
            dead=NULL,
        ),
    )


def _streamed(spec: AttributionSpec) -> Ctes:
    """`linked` (src, dst, last, converted per step) on the sorted copy, with no sort.

    Every path is a run of consecutive touches of one profile in (time, seq) order: a
    conversion's touches after its previous conversion and within the lookback, or the open
    path, the touches after the profile's last conversion and within the lookback before its
    last touch. `touch` streams in that order, so each touch has its neighbours (`before_*`,
    `after_*`, from `lag` and `lead` in `base`), and a step's source is the touch before it
    when that one is in the same path (same profile, within the same bounds), else `(start)`;
    a step is its path's last when the touch after it is not in the path. The same counts as
    the windows sorted per path (tests/test_insights_copy.py compares them)."""
    span = {"lookback": int(spec.lookback), "start": START}
    return [
        ("ends", q(
            "SELECT t.profile_id, t.ts AS end_ts, l.last_ts FROM touch AS t LEFT JOIN last_conv "
            "AS l USING (profile_id) WHERE t.after_profile IS DISTINCT FROM t.profile_id "
            "AND (l.last_ts IS NULL OR t.ts > l.last_ts)")),
        ("linked", q(
            "SELECT CASE WHEN before_profile = profile_id AND before_ts >= conv_ts - "
            "TP_SPAN(:lookback) AND (conv_prev_ts IS NULL OR before_ts > conv_prev_ts) "
            "THEN before_key ELSE :start END AS src, key AS dst, (after_profile IS DISTINCT "
            "FROM profile_id OR after_ts > conv_ts) AS last, TRUE AS converted FROM path "
            "UNION ALL "
            "SELECT CASE WHEN t.before_profile = t.profile_id AND (x.last_ts IS NULL OR "
            "t.before_ts > x.last_ts) AND t.before_ts >= x.end_ts - TP_SPAN(:lookback) "
            "THEN t.before_key ELSE :start END, t.key, t.after_profile IS DISTINCT FROM "
            "t.profile_id, FALSE FROM touch AS t JOIN ends AS x USING (profile_id) "
            "WHERE (x.last_ts IS NULL OR t.ts > x.last_ts) AND t.ts >= x.end_ts - TP_SPAN(:lookback)",
            **span)),
    ]  # fmt: skip
