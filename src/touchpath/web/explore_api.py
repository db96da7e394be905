"""Read routes of the web app's Home and Events pages (/api/explore): the day at a glance, events
filtered by the shared matching vocabulary, their trend broken down by a property, and the names,
property keys and values the filters autocomplete from.

Filters are `touchpath.events.match` specs (an EventMatch and a TimeRange), so they mean what they
mean in every analysis; user values enter SQL only as SQLGlot literals.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import orjson
import pyarrow as pa
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlglot import exp

from touchpath.events.match import (
    EventMatch,
    Frozen,
    TimeRange,
    literal,
    own_touchpoints,
    property_expr,
)
from touchpath.store import Store
from touchpath.web.deps import StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/explore", tags=["explore"])


class Count(BaseModel):
    name: str
    count: int


class HourCount(BaseModel):
    hour: datetime
    count: int


class Summary(BaseModel):
    """The store at a glance: all-time totals and one day's activity."""

    events: int
    rejected: int
    sources: int
    day: date | None = Field(
        description="The UTC day of the day_* figures: the latest on which people did something"
    )
    day_is_today: bool
    day_events: int
    day_people: int
    day_by_channel: list[Count]
    day_by_event: list[Count]
    day_by_hour: list[HourCount]
    latest_at: datetime | None


class Filter(Frozen):
    """Which events: what they match and when they happened."""

    match: EventMatch = EventMatch()
    range: TimeRange = TimeRange()


class EventsQuery(Filter):
    before_seq: int | None = Field(None, description="Only events older than this (paging).")
    limit: int = Field(50, ge=1, le=500)


class EventRow(BaseModel):
    seq: int
    message_id: str
    source: str
    type: str
    event: str | None
    anonymous_id: str | None
    user_id: str | None
    timestamp: datetime
    received_at: datetime
    channel: str | None
    properties: dict[str, Any]
    context: dict[str, Any]
    traits: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventRow]
    next_before_seq: int | None = Field(description="Pass as before_seq for the next page.")


Interval = Literal["hour", "day", "week", "month"]


class TrendQuery(Filter):
    interval: Interval = "day"
    breakdown: str | None = Field(
        None, description="A column (channel, type, source) or property path to split by."
    )
    top: int = Field(8, ge=1, le=25, description="Groups kept; the rest are summed as (other).")


class Point(BaseModel):
    t: datetime
    value: int


class Series(BaseModel):
    name: str
    total: int
    points: list[Point]


class TrendResult(BaseModel):
    events: int
    people: int
    interval: Interval
    series: list[Series]


class PropertyKey(BaseModel):
    key: str
    count: int = Field(description="Events of the sample that have it.")
    examples: list[str]


def _where(f: Filter) -> str:
    return exp.and_(f.match.condition(), f.range.condition()).sql("duckdb")


_OWN = own_touchpoints().sql("duckdb")
"""People's own touchpoints, not the events Touchpath writes about them (audience changes,
journey steps, exposures, sends): what "seen" and "came from channel x" count."""


@router.get("/summary", response_model=Summary)
def summary(store: StoreDep) -> Summary:
    """All-time totals, and one day of what people did themselves (`own_touchpoints`: the
    events Touchpath writes about them are left out, so a journey or an audience refresh does
    not fill the day): today (UTC), or the latest day on which people did something."""
    with store.reading() as cur:
        total, latest = cur.execute("SELECT count(*), max(timestamp) FROM events").fetchall()[0]
        (own,) = cur.execute(f"SELECT max(timestamp) FROM events WHERE {_OWN}").fetchall()[0]
        (rejected,) = cur.execute("SELECT count(*) FROM rejected").fetchall()[0]
        (sources,) = cur.execute("SELECT count(*) FROM sources").fetchall()[0]
        (today,) = cur.execute("SELECT current_date").fetchall()[0]
        last = own if own is not None else latest
        day = last.date() if last is not None else None
        n, people, by_channel, by_event, by_hour = _day(cur, day)
    return Summary(
        events=total,
        rejected=rejected,
        sources=sources,
        day=day,
        day_is_today=day is not None and day == today,
        day_events=n,
        day_people=people,
        day_by_channel=[Count(name=k, count=v) for k, v in by_channel],
        day_by_event=[Count(name=k, count=v) for k, v in by_event],
        day_by_hour=[HourCount(hour=h, count=v) for h, v in by_hour],
        latest_at=latest,
    )


def _day(cur: Any, day: date | None) -> tuple[int, int, list[Any], list[Any], list[Any]]:
    """One day's own touchpoints: events, people, and counts by channel, event and hour."""
    if day is None:
        return 0, 0, [], [], []
    where = f"timestamp >= ?::DATE AND timestamp < ?::DATE + 1 AND {_OWN}"
    n, people = cur.execute(
        f"SELECT count(*), count(DISTINCT profile_id) FROM resolved_events WHERE {where}",
        [day, day],
    ).fetchall()[0]
    by_channel = cur.execute(
        f"SELECT coalesce(channel, '(none)'), count(*) FROM events WHERE {where} "
        "GROUP BY 1 ORDER BY 2 DESC",
        [day, day],
    ).fetchall()
    by_event = cur.execute(
        f"SELECT coalesce(event, '(' || type || ')'), count(*) FROM events WHERE {where} "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
        [day, day],
    ).fetchall()
    by_hour = cur.execute(
        f"SELECT date_trunc('hour', timestamp), count(*) FROM events WHERE {where} "
        "GROUP BY 1 ORDER BY 1",
        [day, day],
    ).fetchall()
    return n, people, by_channel, by_event, by_hour


@router.post("/events", response_model=EventPage)
def events(store: StoreDep, q: EventsQuery) -> EventPage:
    """The events that match, newest first, with their JSON; page with `before_seq`."""
    where = _where(q)
    if q.before_seq is not None:
        where += f" AND seq < {int(q.before_seq)}"
    rows = store.query_dicts(
        "SELECT seq, message_id, source, type, event, anonymous_id, user_id, timestamp, "
        "received_at, channel, properties, context, traits FROM events "
        f"WHERE {where} ORDER BY seq DESC LIMIT ?",
        [q.limit],
    )
    for r in rows:
        for col in ("properties", "context", "traits"):
            r[col] = orjson.loads(r[col]) if r[col] else {}
    nxt = rows[-1]["seq"] if len(rows) == q.limit else None
    return EventPage(events=[EventRow(**r) for r in rows], next_before_seq=nxt)


@router.post("/trend", response_model=TrendResult)
def trend(store: StoreDep, q: TrendQuery) -> TrendResult:
    """Counts per interval of the matching events, split by `breakdown` (top groups)."""
    where = _where(q)
    bucket = f"date_trunc('{q.interval}', timestamp)"
    with store.reading() as cur:
        events_n, people = cur.execute(
            f"SELECT count(*), count(DISTINCT profile_id) FROM resolved_events WHERE {where}"
        ).fetchone() or (0, 0)
        if q.breakdown is None:
            rows = cur.execute(
                f"SELECT 'all', {bucket} AS t, count(*) FROM events WHERE {where} "
                "GROUP BY 2 ORDER BY 2"
            ).fetchall()
        else:
            group = exp.func("coalesce", property_expr(q.breakdown), literal("(none)"))
            g = group.sql("duckdb")
            rows = cur.execute(
                f"WITH m AS (SELECT {g} AS g, {bucket} AS t FROM events WHERE {where}), "
                f"top AS (SELECT g FROM m GROUP BY g ORDER BY count(*) DESC, g LIMIT {q.top}) "
                "SELECT CASE WHEN g IN (SELECT g FROM top) THEN g ELSE '(other)' END AS grp, t, "
                "count(*) FROM m GROUP BY 1, 2 ORDER BY 1, 2"
            ).fetchall()
    by: dict[str, list[Point]] = {}
    for name, t, n in rows:
        by.setdefault(str(name), []).append(Point(t=t, value=n))
    series = [Series(name=k, total=sum(p.value for p in v), points=v) for k, v in by.items()]
    series.sort(key=lambda s: (s.name == "(other)", -s.total))
    return TrendResult(events=events_n, people=people, interval=q.interval, series=series)


@router.get("/names", response_model=list[Count])
def names(
    store: StoreDep,
    q: Annotated[str, Query(description="Only names containing this (any case).")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Count]:
    """Event names with their counts, most frequent first (for autocomplete)."""
    rows = store.query(
        "SELECT event, count(*) FROM events WHERE event IS NOT NULL "
        "AND contains(lower(event), lower(?)) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
        [q, limit],
    )
    return [Count(name=k, count=v) for k, v in rows]


@router.get("/properties", response_model=list[PropertyKey])
def properties(
    store: StoreDep,
    event: Annotated[str | None, Query(description="Only keys of this event.")] = None,
) -> list[PropertyKey]:
    """Property keys seen on the latest 20,000 matching events, with a few example values."""
    return _keys(store, event)


@router.get("/values", response_model=list[Count])
def values(
    store: StoreDep,
    property: Annotated[str, Query(min_length=1, description="A column or property path.")],
    event: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Count]:
    """The most common values of a property (for autocomplete of conditions)."""
    value = property_expr(property).sql("duckdb")
    where = EventMatch(event=event).condition().sql("duckdb")
    rows = store.query(
        f"SELECT {value} AS v, count(*) FROM events WHERE {where} AND v IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
        [limit],
    )
    return [Count(name=str(k), count=v) for k, v in rows]


def _keys(store: Store, event: str | None) -> list[PropertyKey]:
    where = EventMatch(event=event).condition().sql("duckdb")
    rows = store.query(
        "WITH s AS (SELECT properties FROM events "
        f"WHERE {where} AND properties IS NOT NULL ORDER BY seq DESC LIMIT 20000), "
        "k AS (SELECT unnest(json_keys(properties)) AS key, properties FROM s) "
        "SELECT key, count(*), list(DISTINCT json_extract_string(properties, '$.\"' || key || '\"'))"
        "[1:5] FROM k GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 200"
    )
    return [
        PropertyKey(key=k, count=n, examples=[str(x) for x in ex if x is not None])
        for k, n, ex in rows
    ]


class Identifier(BaseModel):
    kind: str
    value: str


class PersonHit(BaseModel):
    profile_id: str
    identifiers: list[Identifier]
    last_seen: datetime | None


@router.get("/people", response_model=list[PersonHit])
def people(
    store: StoreDep,
    q: Annotated[
        str, Query(description="Part of any identifier: user id, email, anonymous id, device.")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[PersonHit]:
    """Profiles with an identifier containing `q` (any case), most recently seen first; without
    `q`, the most recently seen profiles. Seen: their own latest touchpoint (`own_touchpoints`),
    so a journey step or an audience change Touchpath wrote does not make them "seen today"."""
    with store.reading() as cur:
        seen = _seen_matching(cur, q, limit) if q else _seen_latest(cur, limit)
        order = {pid: i for i, (pid, _) in enumerate(seen)}
        cur.register("_people_in", pa.table({"profile_id": pa.array(list(order), pa.string())}))
        try:
            ids = dict(
                cur.execute(
                    "SELECT profile_id, list(struct_pack(kind := kind, value := value) "
                    "ORDER BY kind = 'user_id' DESC, kind = 'email' DESC, kind, value) "
                    "FROM identifiers WHERE profile_id IN (SELECT profile_id FROM _people_in) "
                    "GROUP BY 1"
                ).fetchall()
            )
        finally:
            cur.unregister("_people_in")
    return [
        PersonHit(profile_id=p, last_seen=s, identifiers=[Identifier(**i) for i in ids[p]])
        for p, s in seen
        if p in ids
    ]


def _seen_matching(cur: Any, q: str, limit: int) -> list[tuple[str, datetime | None]]:
    """Profiles with an identifier containing `q`, by their own latest touchpoint: the events
    of their user and anonymous ids are found first, then resolved (not the whole log)."""
    return [
        (str(p), s)
        for p, s in cur.execute(
            "WITH cand AS (SELECT DISTINCT profile_id FROM identifiers "
            "WHERE contains(lower(value), lower(?))), "
            "ids AS (SELECT kind, value FROM identifiers "
            "WHERE profile_id IN (SELECT profile_id FROM cand)), "
            f"hits AS (SELECT seq FROM events WHERE {_OWN} AND ("
            "user_id IN (SELECT value FROM ids WHERE kind = 'user_id') OR "
            "anonymous_id IN (SELECT value FROM ids WHERE kind = 'anonymous_id'))), "
            "seen AS (SELECT profile_id, max(timestamp) AS s FROM resolved_events "
            "WHERE seq IN (SELECT seq FROM hits) GROUP BY 1) "
            "SELECT c.profile_id, seen.s FROM cand c LEFT JOIN seen USING (profile_id) "
            "ORDER BY 2 DESC NULLS LAST, 1 LIMIT ?",
            [q, limit],
        ).fetchall()
    ]


def _seen_latest(cur: Any, limit: int) -> list[tuple[str, datetime | None]]:
    """The `limit` profiles with the latest own touchpoints, from the latest `k` such events
    (exact: a profile left out has nothing later than the k-th), k growing until enough;
    then, if the log runs out, profiles never seen by their own touchpoints."""
    k, own = max(1000, 20 * limit), None
    while True:
        rows = cur.execute(
            f"WITH last AS (SELECT seq FROM events WHERE {_OWN} ORDER BY timestamp DESC LIMIT ?) "
            "SELECT profile_id, max(timestamp) FROM resolved_events "
            "WHERE seq IN (SELECT seq FROM last) "
            "AND profile_id IN (SELECT profile_id FROM identifiers) "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
            [k, limit],
        ).fetchall()
        if len(rows) >= limit:
            break
        if own is None:
            (own,) = cur.execute(f"SELECT count(*) FROM events WHERE {_OWN}").fetchall()[0]
        if k >= own:
            break
        k *= 4
    found = [(str(p), s) for p, s in rows]
    if len(found) < limit:
        have = {p for p, _ in found}
        rest = cur.execute(
            "SELECT DISTINCT profile_id FROM identifiers ORDER BY 1 LIMIT ?", [limit + len(have)]
        ).fetchall()
        found += [(str(p), None) for (p,) in rest if p not in have][: limit - len(found)]
    return found
