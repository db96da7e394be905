"""Feedback: NPS, CSAT and CES per touchpoint and stage, sentiment, and negative phrases.

A response is an event matching `nps`, `csat`, `ces` or `texts` (reviews). Its score is the
`score_property`; its *touchpoint* is the response's `touchpoint_property` when set (a CSAT
survey asks about one: `checkout`, `support`), else the response's own event name (a review is
its own touchpoint); its *stage* is the stage of the profile's last staged event at or before
it (where in the journey the person was when answering).

- NPS = % promoters (9-10) - % detractors (0-6), on the 0-10 scale;
- CSAT = % of answers at or above `csat_satisfied_from` (4 on a 1-5 scale), and the mean;
- CES = the mean effort score (1-7, higher is easier) and the % at or above `ces_easy_from`;
- sentiment = the mean VADER score of the response's text, scored once at ingest
  (`touchpath.analytics.sentiment`), and the share of texts labelled negative;
- negative phrases = the 2- and 3-word phrases found in most negative texts of a touchpoint
  (first and last word not a stop word).

>>> nps_of(promoters=5, detractors=2, responses=10)
30.0
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlglot import exp

from touchpath.analytics.dialects import render
from touchpath.analytics.discovery import Stage, match_of, stage_case
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.sentiment import TEXT_PROPERTIES
from touchpath.analytics.spec import Result, Spec
from touchpath.analytics.sql import and_, q, with_
from touchpath.events.match import (
    EventMatch,
    TimeRange,
    journey_types,
    literal,
    property_expr,
)

__all__ = [
    "ANALYSIS",
    "STOP_WORDS",
    "FeedbackResult",
    "FeedbackRow",
    "FeedbackSpec",
    "Phrase",
    "feedback_sql",
    "nps_of",
    "phrases_sql",
    "responses_sql",
]

STOP_WORDS: tuple[str, ...] = (
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for", "from", "had", "has",
    "have", "i", "in", "is", "it", "its", "it's", "me", "my", "of", "on", "or", "so", "that",
    "the", "their", "them", "then", "there", "they", "this", "to", "too", "us", "was", "we",
    "were", "what", "when", "which", "with", "you", "your", "our", "just", "very", "all", "after",
    "again", "also", "am", "if", "into", "than", "will", "would", "could", "i'm", "i've", "do",
    "did", "about", "out", "up", "one", "get", "got",
)  # fmt: skip
"""Words a negative phrase may not start or end with."""


def nps_of(promoters: int, detractors: int, responses: int) -> float:
    """Net promoter score in points (-100 .. 100)."""
    return round(100.0 * (promoters - detractors) / responses, 2) if responses else 0.0


class FeedbackSpec(Spec):
    """Which events are survey answers and reviews, and how to read them."""

    kind: Literal["feedback"] = "feedback"
    nps: EventMatch = EventMatch(event="NPS Survey Completed")
    csat: EventMatch = EventMatch(event="CSAT Survey Completed")
    ces: EventMatch = EventMatch(event="CES Survey Completed")
    texts: tuple[str | EventMatch, ...] = ("Review Submitted",)
    """Other events whose text counts as feedback (their sentiment, not a score)."""
    score_property: str = "score"
    rating_property: str = "rating"
    """Numeric rating of the `texts` events (e.g. review stars), averaged as `rating_avg`."""
    touchpoint_property: str | None = "touchpoint"
    stages: tuple[Stage, ...] = ()
    csat_satisfied_from: float = 4
    ces_easy_from: float = 5
    time_range: TimeRange | None = None
    phrases: int = Field(5, ge=0, le=100)
    """Negative phrases to list per touchpoint."""
    min_phrase_count: int = Field(2, ge=1)
    audience: str | None = None
    """Only answers of this audience's current members (or, with `members=False`, of everyone
    else): a journey map's persona against the rest."""
    members: bool = True
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Named groups of `stages` (name, stage names), each a row of `FeedbackResult.groups`
    over the answers attributed to any of its stages (a journey map's stages over its
    touchpoints: one pass instead of a second call with the stages merged; answers of no
    group are the group `(none)`)."""


class FeedbackRow(BaseModel):
    name: str
    responses: int
    nps: float | None
    nps_responses: int
    csat: float | None
    csat_avg: float | None
    csat_responses: int
    ces_avg: float | None
    ces_easy: float | None
    ces_responses: int
    rating_avg: float | None
    texts: int
    sentiment_avg: float | None
    negative_share: float | None


class Phrase(BaseModel):
    phrase: str
    count: int
    """Negative texts of the touchpoint that contain it."""


class FeedbackResult(Result):
    kind: Literal["feedback"] = "feedback"
    overall: FeedbackRow
    touchpoints: list[FeedbackRow]
    stages: list[FeedbackRow]
    groups: list[FeedbackRow] = Field(default_factory=list)
    """Per group of stages (`FeedbackSpec.groups`)."""
    negative_phrases: dict[str, list[Phrase]]


def responses(spec: FeedbackSpec) -> exp.Expr:
    """The responses: kind, score, rating, touchpoint, stage, sentiment, negative text.

    It runs once; `feedback_query` and `phrases` then read its rows as the relation `r`.
    """
    kinds = exp.Case()
    for name, match in (("nps", spec.nps), ("csat", spec.csat), ("ces", spec.ces)):
        kinds = kinds.when(match.condition(), literal(name))
    if spec.texts:
        kinds = kinds.when(exp.or_(*[match_of(t).condition() for t in spec.texts]), literal("text"))
    explicit = property_expr(spec.touchpoint_property) if spec.touchpoint_property else exp.null()
    text = exp.func("coalesce", *[property_expr(p) for p in TEXT_PROPERTIES])
    rows = [journey_types(), spec.time_range.condition() if spec.time_range else exp.true()]
    if spec.audience is not None:
        members = q(
            "profile_id IN (SELECT profile_id FROM audience_members WHERE audience = :a)",
            a=spec.audience,
        )
        rows.append(members if spec.members else exp.Not(this=exp.Paren(this=members)))
    f = q(
        "SELECT seq, profile_id, timestamp AS ts, kind, :score AS score, :rating AS rating, "
        ":explicit AS explicit_tp, coalesce(event, type) AS name, :text AS text "
        "FROM (SELECT *, :kind AS kind FROM resolved_events WHERE :rows) AS e "
        "WHERE kind IS NOT NULL",
        score=property_expr(spec.score_property, numeric=True),
        rating=property_expr(spec.rating_property, numeric=True),
        explicit=explicit,
        text=text,
        kind=kinds,
        rows=and_(rows),
    )
    body = """
    SELECT f.seq, f.kind, f.score, f.rating, coalesce(f.explicit_tp, f.name) AS touchpoint,
           coalesce({stage}, '(none)') AS stage, {group} AS stage_group, senti.sentiment,
           coalesce(senti.negative, FALSE) AS negative,
           CASE WHEN senti.negative THEN f.text END AS text
    FROM f {join}
    LEFT JOIN senti ON senti.seq = f.seq
    """
    staged = ""
    if spec.stages:
        staged = """
        ASOF LEFT JOIN (SELECT profile_id, timestamp AS ts, :stage AS stage FROM resolved_events
                        WHERE :stage IS NOT NULL AND :journey
                          AND profile_id IN (SELECT profile_id FROM f)) AS s
          ON s.profile_id = f.profile_id AND f.ts >= s.ts"""
    return with_(
        [
            ("f", f),
            ("senti", q("SELECT seq, avg(score) AS sentiment, TP_ANY_TRUE(label = 'negative') "
                        "AS negative FROM sentiment WHERE seq IN (SELECT seq FROM f) GROUP BY seq")),
        ],
        q(
            body.format(stage="s.stage" if spec.stages else "CAST(NULL AS VARCHAR)", join=staged,
                        group=":group"),
            stage=stage_case(spec.stages) if spec.stages else exp.null(),
            journey=journey_types(),
            group=_group_case(spec),
        ),
    )  # fmt: skip


def _group_case(spec: FeedbackSpec) -> exp.Expr:
    """A response's group of stages (`FeedbackSpec.groups`): the first that holds its stage."""
    if not spec.groups or not spec.stages or not any(stages for _, stages in spec.groups):
        return exp.cast(exp.null(), exp.DataType.build("VARCHAR"))
    case = exp.Case()
    for name, stages in spec.groups:
        if stages:
            case = case.when(
                exp.In(this=exp.column("stage", "s"), expressions=[literal(n) for n in stages]),
                literal(name),
            )
    return exp.func("coalesce", case.else_(exp.null()), literal("(none)"))


def responses_sql(spec: FeedbackSpec) -> str:
    """`responses` as DuckDB SQL text."""
    return render(responses(spec))


def feedback_query(spec: FeedbackSpec) -> exp.Expr:
    """The metrics per touchpoint, per stage and overall (GROUPING SETS), over `r`."""
    return q(
        """
    SELECT CASE WHEN grouping(touchpoint) = 0 THEN 'touchpoint'
                WHEN grouping(stage) = 0 THEN 'stage'{group_label} ELSE 'all' END AS grp,
           coalesce(touchpoint, stage, {group_name}'(all)') AS name,
           count(*) AS responses,
           count(score) FILTER (WHERE kind = 'nps' AND score >= 9) AS promoters,
           count(score) FILTER (WHERE kind = 'nps' AND score <= 6) AS detractors,
           count(score) FILTER (WHERE kind = 'nps') AS nps_n,
           avg(CAST(score >= :sat AS INT)) FILTER (WHERE kind = 'csat') AS csat,
           avg(score) FILTER (WHERE kind = 'csat') AS csat_avg,
           count(score) FILTER (WHERE kind = 'csat') AS csat_n,
           avg(score) FILTER (WHERE kind = 'ces') AS ces_avg,
           avg(CAST(score >= :easy AS INT)) FILTER (WHERE kind = 'ces') AS ces_easy,
           count(score) FILTER (WHERE kind = 'ces') AS ces_n,
           avg(rating) FILTER (WHERE kind = 'text') AS rating_avg,
           count(sentiment) AS texts,
           avg(sentiment) AS sentiment_avg,
           avg(negative::INT) FILTER (WHERE sentiment IS NOT NULL) AS negative_share
    FROM r GROUP BY GROUPING SETS ((touchpoint), (stage), {groups}())
    ORDER BY grp, responses DESC, name
    """.format(
            groups="(stage_group), " if spec.groups else "",
            group_label=" WHEN grouping(stage_group) = 0 THEN 'group'" if spec.groups else "",
            group_name="stage_group, " if spec.groups else "",
        ),
        sat=float(spec.csat_satisfied_from),
        easy=float(spec.ces_easy_from),
    )


def feedback_sql(spec: FeedbackSpec) -> str:
    """`feedback_query` as DuckDB SQL text."""
    return render(feedback_query(spec))


def phrases(spec: FeedbackSpec) -> exp.Expr:
    """The most frequent 2- and 3-word phrases of negative texts per touchpoint, over `r`
    (DuckDB: list lambdas)."""
    return q(
        """
    WITH neg AS (SELECT touchpoint, seq,
                   list_filter(regexp_split_to_array(
                       regexp_replace(lower(text), '[^a-z'' ]+', ' ', 'g'), ' '),
                       lambda x: length(x) > 0) AS w
            FROM r WHERE negative AND text IS NOT NULL),
    grams AS (SELECT touchpoint, seq, unnest(list_concat(
                  list_transform(range(1, len(w)), lambda i: [w[i], w[i + 1]]),
                  list_transform(range(1, len(w) - 1), lambda i: [w[i], w[i + 1], w[i + 2]])
              )) AS g FROM neg),
    counted AS (SELECT touchpoint, array_to_string(g, ' ') AS phrase, len(g) AS n,
                       count(DISTINCT seq) AS texts
                FROM grams
                WHERE NOT list_contains(:stop, g[1]) AND NOT list_contains(:stop, g[-1])
                GROUP BY ALL HAVING count(DISTINCT seq) >= :least),
    -- a phrase inside a longer one found in as many texts says nothing more
    kept AS (SELECT * FROM counted c ANTI JOIN counted l
             ON l.touchpoint = c.touchpoint AND l.n > c.n AND l.texts = c.texts
            AND contains(' ' || l.phrase || ' ', ' ' || c.phrase || ' '))
    SELECT touchpoint, phrase, texts FROM kept
    QUALIFY row_number() OVER (PARTITION BY touchpoint ORDER BY texts DESC, n DESC, phrase)
            <= :most
    ORDER BY touchpoint, texts DESC, n DESC, phrase
    """,
        stop=exp.Array(expressions=[literal(w) for w in STOP_WORDS]),
        least=int(spec.min_phrase_count),
        most=int(spec.phrases),
    )


def phrases_sql(spec: FeedbackSpec) -> str:
    """`phrases` as DuckDB SQL text."""
    return render(phrases(spec))


def _row(r: tuple[object, ...]) -> FeedbackRow:
    def num(v: object, scale: float = 1.0) -> float | None:
        return None if v is None else round(float(v) * scale, 4)  # type: ignore[arg-type]

    promoters, detractors, nps_n = (int(r[i]) for i in (3, 4, 5))  # type: ignore[call-overload]
    return FeedbackRow(
        name=str(r[1]),
        responses=int(r[2]),  # type: ignore[call-overload]
        nps=nps_of(promoters, detractors, nps_n) if nps_n else None,
        nps_responses=nps_n,
        csat=num(r[6], 100.0),
        csat_avg=num(r[7]),
        csat_responses=int(r[8]),  # type: ignore[call-overload]
        ces_avg=num(r[9]),
        ces_easy=num(r[10], 100.0),
        ces_responses=int(r[11]),  # type: ignore[call-overload]
        rating_avg=num(r[12]),
        texts=int(r[13]),  # type: ignore[call-overload]
        sentiment_avg=num(r[14]),
        negative_share=num(r[15]),
    )


def _run(read: Read, spec: FeedbackSpec) -> FeedbackResult:
    """Feedback metrics per touchpoint and stage, with negative phrases per touchpoint (read
    from the log: answers are properties the copy leaves out)."""
    key = spec.model_dump_json()
    with read.table("r", read.sql(("feedback responses", key), lambda: responses(spec))):
        rows = read.rows(read.sql(("feedback", key), lambda: feedback_query(spec)))
        found = read.rows(read.sql(("phrases", key), lambda: phrases(spec))) if spec.phrases else []
    overall = next((r for r in rows if r[0] == "all"), None)
    empty = ("all", "(all)", 0, 0, 0, 0, None, None, 0, None, None, 0, None, 0, None, None)
    by_tp: dict[str, list[Phrase]] = {}
    for tp, phrase, n in found:
        by_tp.setdefault(str(tp), []).append(Phrase(phrase=phrase, count=int(n)))
    return FeedbackResult(
        overall=_row(overall or empty),
        touchpoints=[_row(r) for r in rows if r[0] == "touchpoint"],
        stages=[_row(r) for r in rows if r[0] == "stage"] if spec.stages else [],
        groups=[_row(r) for r in rows if r[0] == "group"],
        negative_phrases=by_tp,
    )


ANALYSIS = Analysis(
    "feedback",
    FeedbackSpec,
    FeedbackResult,
    _run,
    "NPS, CSAT, CES and sentiment per touchpoint and stage, with negative phrases.",
)
