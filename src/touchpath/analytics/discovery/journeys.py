"""Journeys for discovery: which events make up a journey, what a step of it is, and its rows.

A *journey* is the time-ordered events of one case: a profile (default) or one of its sessions.
Its *activities* are event names (page and screen names for page/screen calls) or, when `stages`
map events to stages, stage names; events no stage claims are left out and repeated stages
collapse into one (`awareness, awareness, decision` -> `awareness, decision`).

>>> stage = Stage(name="decision", events=("Checkout Started", EventMatch(event="Cart", type="page")))
>>> print(stage_case((stage,)).sql("duckdb"))
CASE WHEN event = 'Checkout Started' OR (event = 'Cart' AND type = 'page') THEN 'decision' END
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from sqlglot import exp

from touchpath.analytics.dialects import render
from touchpath.analytics.spec import Spec
from touchpath.analytics.sql import and_, or_, q
from touchpath.events.durations import Duration, renamed_durations
from touchpath.events.match import EventMatch, Frozen, TimeRange, journey_types, literal

__all__ = [
    "DiscoveryStage",
    "JourneyScope",
    "Stage",
    "activity_expr",
    "can_use_sorted",
    "copy_sessions",
    "covered",
    "journey",
    "journey_sql",
    "log_lookup",
    "looked_up",
    "match_of",
    "sorted_journey",
    "sorted_journey_sql",
    "stage_case",
]


def match_of(item: str | EventMatch) -> EventMatch:
    """An event name is shorthand for `EventMatch(event=name)`."""
    return EventMatch(event=item) if isinstance(item, str) else item


class DiscoveryStage(Frozen):
    """A named stage of a journey and the events that put a person in it."""

    name: str = Field(min_length=1)
    events: tuple[str | EventMatch, ...] = Field(min_length=1)


Stage = DiscoveryStage
"""The name analyses and tests use; the OpenAPI document says `DiscoveryStage` (a journey
map's stage is `Stage` there)."""


def stage_case(stages: tuple[Stage, ...]) -> exp.Expr:
    """A CASE giving each event row its stage name (first stage that claims it), else NULL."""
    case = exp.Case()
    for stage in stages:
        conds = [match_of(e).condition() for e in stage.events]
        case = case.when(exp.or_(*conds) if len(conds) > 1 else conds[0], literal(stage.name))
    return case


class JourneyScope(Spec):
    """Which events make up the journeys and what a step of a journey is."""

    stages: tuple[Stage, ...] = ()
    """When given, activities are stage names in this designed order; unmapped events drop out."""
    include: tuple[str | EventMatch, ...] = ()
    """Only these events (empty: every track, page and screen event)."""
    exclude: tuple[str | EventMatch, ...] = ()
    time_range: TimeRange | None = None
    case: Literal["profile", "session"] = "profile"
    """A journey per profile, or per session (split after `session_gap` of inactivity)."""
    session_gap: Duration = 1800
    """Seconds of inactivity that end a session (input also `30m`, `1h`)."""
    collapse_repeats: bool | None = None
    """Merge directly repeated activities into one step (default: with stages yes, else no)."""
    audience: str | None = None
    """Only the journeys of this audience's current members (or, with `members=False`, of
    everyone else); read from the event log, never the sorted copy."""
    members: bool = True

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return renamed_durations(data, {"session_gap_minutes": ("session_gap", 60)})

    @field_validator("stages")
    @classmethod
    def _unique_stages(cls, v: tuple[Stage, ...]) -> tuple[Stage, ...]:
        names = [s.name for s in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stage names must be unique, repeated: {dupes}")
        return v

    @property
    def collapses(self) -> bool:
        return bool(self.stages) if self.collapse_repeats is None else self.collapse_repeats


def activity_expr(scope: JourneyScope) -> exp.Expr:
    """The activity of an event row: its stage, or its event/page name."""
    if scope.stages:
        return stage_case(scope.stages)
    return exp.func("coalesce", exp.column("event"), exp.column("type"))


def filters(scope: JourneyScope) -> exp.Expr:
    """The rows of a journey: journey events, in the time range, included and not excluded."""
    parts: list[exp.Expr] = [journey_types()]
    if scope.time_range is not None:
        parts.append(scope.time_range.condition())
    if scope.include:
        parts.append(or_([match_of(e).condition() for e in scope.include]))
    if scope.exclude:
        parts.append(exp.Not(this=exp.paren(or_([match_of(e).condition() for e in scope.exclude]))))
    if scope.audience is not None:
        members = q(
            "profile_id IN (SELECT profile_id FROM audience_members WHERE audience = :a)",
            a=scope.audience,
        )
        parts.append(members if scope.members else exp.Not(this=exp.paren(members)))
    return and_(parts)


_IN_ORDER = "PARTITION BY {key} ORDER BY ts, seq"


def journey(scope: JourneyScope) -> exp.Expr:
    """The journey steps: (case_id, profile_id, activity, ts, seq), one row per step.

    `case_id` is a 64-bit hash of the profile id (and the session number for sessions):
    windows partition and sort on it far faster than on the text id. The map binder and the
    other analyses build on this relation.
    """
    act, where = activity_expr(scope), filters(scope)
    if scope.case == "session":
        base = q(
            "SELECT TP_PROFILE_KEY(profile_id) AS pk, profile_id, :act AS activity, "
            "timestamp AS ts, seq FROM resolved_events WHERE :cond",
            act=act,
            cond=where,
        )
        gaps = q(
            "SELECT *, TP_DIFF_SECONDS(ts, lag(ts) OVER (PARTITION BY pk ORDER BY ts, seq)) AS gap "
            "FROM :base AS b",
            base=base,
        )
        sessions = q(
            "SELECT TP_PROFILE_KEY(pk, sum(CASE WHEN gap IS NULL OR gap > :gap THEN 1 ELSE 0 END) "
            "OVER (PARTITION BY pk ORDER BY ts, seq)) AS case_id, profile_id, activity, ts, seq "
            "FROM :gaps AS g",
            gap=float(scope.session_gap),
            gaps=gaps,
        )
        rows = q("SELECT * FROM :s AS s WHERE activity IS NOT NULL", s=sessions)
    else:
        rows = q(
            "SELECT TP_PROFILE_KEY(profile_id) AS case_id, profile_id, :act AS activity, "
            "timestamp AS ts, seq FROM resolved_events WHERE :cond",
            act=act,
            cond=where,
        )
        if scope.stages:
            rows = q("SELECT * FROM :r AS r WHERE activity IS NOT NULL", r=rows)
    if scope.collapses:
        rows = q(
            "SELECT * FROM :r AS r QUALIFY activity IS DISTINCT FROM "
            "lag(activity) OVER (PARTITION BY case_id ORDER BY ts, seq)",
            r=rows,
        )
    return rows


def journey_sql(scope: JourneyScope) -> str:
    """`journey` as DuckDB SQL text."""
    return render(journey(scope))


_COPY_COLUMNS = frozenset({"event", "type", "channel"})
"""What the journey copy holds of an event besides its profile, time and `seq`."""


def log_lookup(scope: JourneyScope) -> tuple[list[str], list[str]] | None:
    """(the log's columns, the event names) that the copy's rows take from the event log by
    `seq` for the stages that test more than `event`, `type` and `channel` (a property, say);
    ([], []) when no stage does, None when one cannot be looked up (it names no event, or
    tests the resolved `profile_id`). Only the rows of those names are read from the log."""
    columns: set[str] = set()
    names: set[str] = set()
    for st in scope.stages:
        for e in st.events:
            m = match_of(e)
            extra = {c.name for c in m.condition().find_all(exp.Column)} - _COPY_COLUMNS
            if not extra:
                continue
            if m.event is None or "profile_id" in extra:
                return None
            columns |= extra
            names.add(m.event)
    return sorted(columns), sorted(names)


def looked_up(rows: str, columns: list[str], names: list[str]) -> str:
    """`rows` (a subquery with `seq`) with `columns` of the log's events named `names` (NULL
    on the other rows), joined by `seq`: the stored order is lost, sort explicitly."""
    if not columns:
        return rows
    cols = ", ".join(f"e.{exp.to_identifier(c).sql('duckdb')}" for c in columns)
    listed = ", ".join(literal(n).sql("duckdb") for n in names)
    return (
        f"(SELECT c.*, {cols} FROM {rows} AS c LEFT JOIN (SELECT seq, "
        f"{cols.replace('e.', '')} FROM events WHERE event IN ({listed})) AS e USING (seq))"
    )


def can_use_sorted(scope: JourneyScope, lookup: bool = False) -> bool:
    """Whether the sorted journey copy (`touchpath optimize`) holds what this scope reads:
    journeys per profile or per session whose stages and filters test only `event`, `type` and
    `channel`; with `lookup`, profile journeys' stages may test more when `log_lookup` can
    fetch it (`sorted_journey` then gives its rows out of stored order)."""
    if scope.audience is not None:
        return False
    matches = [] if lookup else [match_of(e) for st in scope.stages for e in st.events]
    if lookup:
        found = log_lookup(scope)
        if found is None or (scope.case == "session" and found[0]):
            return False  # sessions are cut in stored order, which the lookup loses
    matches += [match_of(e) for e in (*scope.include, *scope.exclude)]
    return all(
        c.name in ("event", "type", "channel")
        for m in matches
        for c in m.condition().find_all(exp.Column)
    )


COPY_ROWS = "(SELECT pno, ts AS timestamp, ts, seq, type, event, channel, code FROM journey_events)"
"""The journey copy's rows with the event log's column names, so conditions apply unchanged."""


def sorted_journey(scope: JourneyScope, coded: bool = False) -> exp.Expr:
    """`journey` on the journey copy, already in (profile, time, seq) order: no sort.

    `case_id` is the copy's profile number (per session: the session's number in stored
    order, `copy_sessions`); the rows come out in stored order, so windows
    over `()` see each journey's steps in time order (checked against `journey` in tests).
    When stages test more than the copy holds (`log_lookup`), their events' columns come
    from the log by `seq` and the rows are not in stored order: the windows sort (`journey`'s
    own `PARTITION BY case_id ORDER BY ts, seq`), still without resolving identities.
    With `coded` (no stages) the activity is the name's integer code (`journey_names`).
    """
    assert not (coded and scope.stages)
    lookup = log_lookup(scope)
    assert lookup is not None  # the caller asked `can_use_sorted`
    rows = q(
        f"SELECT pno AS case_id, :act AS activity, timestamp AS ts, seq "
        f"FROM {looked_up(COPY_ROWS, *lookup)} AS c WHERE :cond",
        act=exp.column("code") if coded else activity_expr(scope),
        cond=filters(scope),
    )
    if scope.case == "session":
        assert not lookup[0]  # `can_use_sorted`: sessions need the stored order
        rows = q(
            "SELECT sid AS case_id, activity, ts, seq FROM :s AS s",
            s=copy_sessions(rows, "case_id", scope.session_gap),
        )
    if scope.stages:
        rows = q("SELECT * FROM :r AS r WHERE activity IS NOT NULL", r=rows)
    if scope.collapses and lookup[0]:
        rows = q(
            "SELECT * FROM :r AS r QUALIFY activity IS DISTINCT FROM "
            "lag(activity) OVER (PARTITION BY case_id ORDER BY ts, seq)",
            r=rows,
        )
    elif scope.collapses:
        rows = q(
            "SELECT * FROM :r AS r QUALIFY activity IS DISTINCT FROM lag(activity) OVER () "
            "OR case_id IS DISTINCT FROM lag(case_id) OVER ()",
            r=rows,
        )
    return rows


def copy_sessions(rows: exp.Expr, profile: str, gap: float) -> exp.Expr:
    """`rows` of the copy in stored order, each profile's (column `profile`) in time order,
    with `sid`: their sessions numbered 1, 2, ... in stored order. As in `journey`, a session
    starts at a profile's first row and at each row more than `gap` seconds after the row before
    it (of the same rows, before stages drop and repeats collapse). No sort: one comparison with
    the row before and a running count, both streaming in stored order."""
    col = exp.to_identifier(profile).sql("duckdb")
    marked = q(
        f"SELECT *, lag({col}) OVER () IS DISTINCT FROM {col} "
        "OR TP_DIFF_SECONDS(ts, lag(ts) OVER ()) > :gap AS opens FROM :r AS r",
        r=rows,
        gap=float(gap),
    )
    return q(
        "SELECT *, count(*) FILTER (WHERE opens) OVER (ROWS UNBOUNDED PRECEDING) AS sid "
        "FROM :m AS m",
        m=marked,
    )


def sorted_journey_sql(scope: JourneyScope) -> str:
    """`sorted_journey` as DuckDB SQL text."""
    return render(sorted_journey(scope))


def covered(scope: JourneyScope, coverage: float | None) -> exp.Expr:
    """The journey steps, keeping only cases whose variant is among the top `coverage` share."""
    steps = journey(scope)
    if coverage is None or coverage >= 1.0:
        return steps
    return q(
        """
        WITH j AS (SELECT * FROM :steps AS s),
        v AS (SELECT case_id, TP_ORDERED_LIST(activity, (ts, seq)) AS variant FROM j
              GROUP BY case_id),
        vc AS (SELECT variant, count(*) AS n FROM v GROUP BY variant),
        vr AS (SELECT variant, sum(n) OVER (ORDER BY n DESC, variant
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
                      sum(n) OVER () AS total FROM vc),
        keep AS (SELECT v.case_id FROM v JOIN vr USING (variant)
                 WHERE coalesce(vr.before, 0) < :coverage * vr.total)
        SELECT j.* FROM j SEMI JOIN keep USING (case_id)
        """,
        steps=steps,
        coverage=float(coverage),
    )
