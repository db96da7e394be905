"""Feedback and channel mix per touchpoint, as the map binder needs them, in one query each.

Feedback after a touchpoint is what the people who reached it said within the map's window:
NPS and CSAT survey scores and the sentiment of any scored text (the `sentiment` table that
`analytics.sentiment` fills at ingest). NPS is %promoters (9-10) minus %detractors (0-6).
The analytics `feedback` function, once it lands, replaces this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from touchpath.analytics.common import TimeRange, literal
from touchpath.maps.document import JourneyMap
from touchpath.store import Store

__all__ = ["CSAT_EVENT", "NPS_EVENT", "Feedback", "channel_mix", "feedback"]

NPS_EVENT = "NPS Survey Completed"
CSAT_EVENT = "CSAT Survey Completed"


@dataclass(frozen=True)
class Feedback:
    count: int
    nps: float | None
    nps_score: float | None
    csat: float | None
    sentiment: float | None
    negative_share: float | None
    """Share of scored texts whose sentiment is negative."""


def _touches_sql(doc: JourneyMap, time_range: TimeRange) -> str:
    """(tp, stage, profile_id, ts): every touchpoint event in the range."""
    rng = time_range.condition().sql("duckdb")
    return " UNION ALL ".join(
        f"SELECT {literal(t.name).sql('duckdb')} AS tp, {literal(s.name).sql('duckdb')} AS stage, "
        f"profile_id, timestamp AS ts FROM resolved_events "
        f"WHERE {t.match.condition().sql('duckdb')} AND {rng}"
        for s in doc.stages
        for t in s.touchpoints
    )


def feedback(store: Store, doc: JourneyMap, time_range: TimeRange) -> dict[str, Feedback]:
    """Feedback per touchpoint name and per `stage:<name>`.

    Each answer (a survey score, a scored comment) counts for the touchpoint the person met last
    before it, within the map's window (last touch), and for the touchpoint it is itself, when
    the map has one for surveys.
    """
    if not doc.touchpoints():
        return {}
    window = int(doc.window_days)
    nps, csat = literal(NPS_EVENT).sql(), literal(CSAT_EVENT).sql()
    sql = f"""
    WITH touches AS ({_touches_sql(doc, time_range)}),
    scored AS (SELECT seq, avg(score) AS sentiment FROM sentiment GROUP BY seq),
    fb AS (
        SELECT e.profile_id, e.timestamp AS ts, e.seq, e.event,
               TRY_CAST(json_extract_string(e.properties, '$.score') AS DOUBLE) AS score,
               s.sentiment
        FROM resolved_events e LEFT JOIN scored s USING (seq)
        WHERE (e.event IN ({nps}, {csat}) OR s.seq IS NOT NULL)
          AND {time_range.condition("e.timestamp").sql("duckdb")}
    ),
    prior AS (  -- touchpoints that are not themselves answers
        SELECT t.* FROM touches t ANTI JOIN fb ON fb.profile_id = t.profile_id AND fb.ts = t.ts
    ),
    last_touch AS (
        SELECT p.tp, p.stage, fb.* FROM fb ASOF JOIN prior p
            ON p.profile_id = fb.profile_id AND p.ts < fb.ts
        WHERE fb.ts < p.ts + INTERVAL {window} DAY
    ),
    own AS (
        SELECT t.tp, t.stage, fb.* FROM fb JOIN touches t
            ON t.profile_id = fb.profile_id AND t.ts = fb.ts
    ),
    attributed AS (SELECT * FROM last_touch UNION SELECT * FROM own),
    keyed AS (
        SELECT tp AS key, * EXCLUDE (tp, stage) FROM attributed
        UNION ALL SELECT DISTINCT 'stage:' || stage AS key, * EXCLUDE (tp, stage) FROM attributed
    )
    SELECT key,
           count(DISTINCT seq) AS n,
           100 * (avg(CASE WHEN score >= 9 THEN 1.0 ELSE 0.0 END) FILTER (WHERE event = {nps})
                - avg(CASE WHEN score <= 6 THEN 1.0 ELSE 0.0 END) FILTER (WHERE event = {nps})),
           avg(score) FILTER (WHERE event = {nps}),
           avg(score) FILTER (WHERE event = {csat}),
           avg(sentiment),
           avg(CASE WHEN sentiment <= -0.05 THEN 1.0 ELSE 0.0 END) FILTER (WHERE sentiment IS NOT NULL)
    FROM keyed GROUP BY key
    """
    return {r[0]: Feedback(int(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in store.query(sql)}


def channel_mix(
    store: Store, doc: JourneyMap, time_range: TimeRange
) -> dict[str, dict[str, float]]:
    """Share of each touchpoint's events by channel."""
    if not doc.touchpoints():
        return {}
    rng = time_range.condition().sql("duckdb")
    parts = [
        f"SELECT {literal(t.name).sql('duckdb')} AS key, channel, count(*) AS n "
        f"FROM resolved_events WHERE {t.match.condition().sql('duckdb')} AND {rng} GROUP BY channel"
        for _, t in doc.touchpoints()
    ]
    rows = store.query(
        f"SELECT key, channel, n / sum(n) OVER (PARTITION BY key) FROM ({' UNION ALL '.join(parts)})"
    )
    out: dict[str, dict[str, float]] = {}
    for key, channel, share in rows:
        out.setdefault(key, {})[channel] = float(share)
    return out
