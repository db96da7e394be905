"""The map's touchpoint events, tagged in one pass per bind: channel mix, population, repeated
support contacts, error pages and channel switches are read from that one table.

Each journey event (track, page, screen) in the time range gets the name of the first
touchpoint, in map order, whose event definition it meets (the same rule as the DFG's
stages), a flag when its name looks like an error (`error`, `404`, `not found`, `fail`), and
a flag when it meets the map's goal. Only tagged, error or goal events are kept. When the
sorted journey copy is fresh (`touchpath optimize`), the pass reads the copy instead of
resolving identities again (the goal must test only `event`, `type` and `channel`);
touchpoints that test a property take it from the log for their own events only.

None of these is an analytics metric: they are counts of the map's own events.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from touchpath.analytics.discovery import DfgSpec, Stage, stage_case
from touchpath.analytics.discovery.journeys import log_lookup, looked_up
from touchpath.events.match import EVENTS, TimeRange, literal
from touchpath.events.names import EXPERIMENT_VIEWED, PERSONALIZE_SOURCE
from touchpath.maps.document import JourneyMap, Touchpoint
from touchpath.maps.words import describe
from touchpath.store.memo import Memo

__all__ = [
    "CONTACT_END",
    "ERROR_PATTERN",
    "EXPOSURE_SEQS",
    "SWITCH_GAP",
    "WEB_CHANNELS",
    "ChannelSwitch",
    "Contacts",
    "ErrorPage",
    "Touches",
    "contact_touchpoints",
    "counts_exposures",
    "tagged",
    "touches",
]

ERROR_PATTERN = r"(?i)(error|\b404\b|not found|fail)"
"""Event and page names that are error pages or failed steps."""

CONTACT_END = r"(?i)(resolved|closed|solved|ended|replied)"
"""Support touchpoints named like this end a contact (the business answering), not start one."""

WEB_CHANNELS = (
    "paid_search",
    "paid_social",
    "display",
    "social",
    "organic_search",
    "referral",
    "direct",
)
"""Channels that are all the website, told apart by how people arrived: one medium, `web`,
when looking for channel switches (app to web, chat to phone), not a switch among them."""

SWITCH_GAP = 86_400
"""An arrival at a touchpoint is a step of one journey (and may be a channel switch) when the
touchpoint met just before is at most this many seconds earlier."""

_TYPES = "('track', 'page', 'screen')"

ORDERED = "map_touches_o_"
"""The prefix of a tagged table whose rows are stored in the copy's (person, time, seq) order."""


@dataclass(frozen=True)
class Contacts:
    """People who contacted support through one touchpoint again within `days` days."""

    touchpoint: str
    days: int
    people: int
    """People with at least one contact."""
    repeat_people: int
    """People with two contacts at most `days` apart."""
    contacts: int

    @property
    def repeat_share(self) -> float:
        return self.repeat_people / self.people if self.people else 0.0


@dataclass(frozen=True)
class ErrorPage:
    """An error page or failed event, with the touchpoint people met last before it."""

    event: str
    stage: str | None
    touchpoint: str | None
    events: int
    people: int


@dataclass(frozen=True)
class ChannelSwitch:
    """Persona members arriving at a touchpoint from the touchpoint they met just before (at
    most `SWITCH_GAP` earlier): on another channel at least once (switchers) or only ever on
    the same one (stayers), and how many of each reach the goal (without a goal: a later stage)
    within the map's window."""

    touchpoint: str
    switchers: int
    switchers_converted: int
    stayers: int
    stayers_converted: int
    pair: tuple[str, str] | None
    """The (from, to) channel pair most switchers took."""
    pair_people: int
    target: str
    """What converting means: the goal's event name, or `the next stage`."""
    days: int

    @property
    def switcher_conversion(self) -> float:
        return self.switchers_converted / self.switchers if self.switchers else 0.0

    @property
    def stayer_conversion(self) -> float:
        return self.stayers_converted / self.stayers if self.stayers else 0.0


@dataclass(frozen=True)
class Touches:
    """What the tagged pass yields for a bound map."""

    population: dict[bool, int]
    """Profiles with journey events in the range, by persona membership (True without audience)."""
    channel_mix: dict[tuple[str, bool], dict[str, float]]
    """(touchpoint, member) -> share of its events by channel."""
    contacts: list[Contacts]
    errors: list[ErrorPage]
    switches: list[ChannelSwitch] = field(default_factory=list)
    online: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Shop touchpoints (channel `store`) -> (persona people met there, of them the people
    also met on the website or in the app): the store-to-online link of the identity graph."""


def contact_touchpoints(doc: JourneyMap) -> list[Touchpoint]:
    """Touchpoints where a person contacts support: on the support channel, not ending one."""
    out = []
    for _, t in doc.touchpoints():
        chans = [t.match.channel] if isinstance(t.match.channel, str) else t.match.channel or []
        if "support" in chans and not re.search(CONTACT_END, t.name + " " + t.match.event):
            out.append(t)
    return out


def _source(copy: bool) -> str:
    """The journey columns, from the sorted copy (the profile's number as its id) or from
    `resolved_events`."""
    if copy:
        return (
            "SELECT pno AS profile_id, ts AS timestamp, seq, type, event, channel "
            "FROM journey_events"
        )
    return f"SELECT profile_id, timestamp, seq, type, event, channel FROM {EVENTS}"


def _row_tags(cur: duckdb.DuckDBPyConnection, doc: JourneyMap, memo: Memo) -> pa.Table | None:
    """Per row of the copy in stored order: its touchpoint's number (1-based, map order; 0:
    none), whether it meets the goal, whether its name looks like an error, from the
    condition codes the map's funnels and DFG read (`funnels.many.codes`, kept for the
    copy's build); None when a condition cannot be read that way."""
    from touchpath.analytics.funnels.many import (
        BITS,
        codes,
        copy_condition,
        first_claim,
        row_condition,
    )
    from touchpath.analytics.kernels import columns

    conds: dict[Any, int] = {}
    bits: list[int] = []
    for _, t in doc.touchpoints():
        c = row_condition(t.match.condition(), t.match.event)
        if c is None:
            return None
        bits.append(1 << conds.setdefault(c, len(conds)))
    error = f"regexp_matches(coalesce(event, ''), {literal(ERROR_PATTERN).sql('duckdb')})"
    goal_sql = copy_condition(doc.goal.condition()) if doc.goal is not None else "FALSE"
    goal_bit, error_bit = (1 << conds.setdefault(c, len(conds)) for c in (goal_sql, error))
    if len(conds) > BITS:
        return None
    found = codes(cur, memo, columns.load(cur, memo), list(conds))
    if found is None:
        return None
    masks, row_codes = found
    tp = first_claim(masks, bits, np.int16)
    return pa.table({
        "tp_no": tp[row_codes],
        "is_goal": ((masks & goal_bit) != 0)[row_codes],
        "is_error": ((masks & error_bit) != 0)[row_codes],
    })  # fmt: skip


EXPOSURE_SEQS = (
    f"SELECT seq FROM events WHERE source = '{PERSONALIZE_SOURCE}' "
    f"AND event = '{EXPERIMENT_VIEWED}'"
)
"""The seqs of personalisation's exposures: a decision answered is not something the person
did, so a map's population leaves them out (`tagged`) and a new person's exposure does not make
a bound map stale (`touchpath.maps.cache`)."""


def counts_exposures(doc: JourneyMap) -> bool:
    """Whether a touchpoint or the goal of `doc` is an `Experiment Viewed`: then exposures are
    its events and its population counts their people like any touchpoint's."""
    events = [t.match.event for _, t in doc.touchpoints()]
    events += [doc.goal.event] if doc.goal is not None else []
    return EXPERIMENT_VIEWED in events


def _member(audience: str | None, copy: bool) -> str:
    """Whether a row's person is in `audience` (TRUE without one); the copy numbers people."""
    if audience is None:
        return "TRUE"
    aud = literal(audience).sql("duckdb")
    members = f"SELECT profile_id FROM audience_members WHERE audience = {aud}"
    if copy:
        members = f"SELECT pno FROM journey_profiles WHERE profile_id IN ({members})"
    return f"profile_id IN ({members})"


@contextmanager
def tagged(
    cur: duckdb.DuckDBPyConnection,
    doc: JourneyMap,
    time_range: TimeRange,
    copy: bool,
    audience: str | None,
    memo: Memo | None = None,
) -> Iterator[str]:
    """A temporary table (pid, member, ts, seq, tp, event, channel, error, goal) of the tagged
    events.

    `copy` reads the sorted journey copy (the caller checks it is fresh and sufficient for the
    touchpoints with `DFG.copy`; a goal that tests more than `event`, `type` and `channel`
    reads `resolved_events` instead); `member` is whether the profile is in `audience` (True
    for everyone without one). The population (`<table>_pop`) is the people with a journey
    event in the range other than an exposure (`EXPOSURE_SEQS`, unless `counts_exposures`). Touchpoints that test properties take them from the log for
    their events only (`log_lookup`), as the DFG does. With the store's `memo` the copy's
    rows are tagged from the condition codes of its build (`_row_tags`: numbers, no CASE
    over every row, no join to the log), matched to the rows by position.
    """
    name = "map_touches_" + secrets.token_hex(4)
    stages = tuple(Stage(name=t.name, events=(t.match,)) for _, t in doc.touchpoints())
    tp = stage_case(stages).sql("duckdb") if stages else "NULL::VARCHAR"
    goal = "FALSE"
    if doc.goal is not None:
        cond = doc.goal.condition()
        if copy and any(
            c.name not in ("event", "type", "channel") for c in cond.find_all(exp.Column)
        ):
            copy = False
        goal = cond.sql("duckdb")
    rng = time_range.condition().sql("duckdb")
    member = _member(audience, copy)
    src = f"SELECT * FROM {EVENTS}"  # conditions may read JSON
    if copy:  # touchpoints that test properties take them from the log for their events only
        lookup = log_lookup(DfgSpec(stages=stages))
        assert lookup is not None  # the caller asked `DFG.copy`
        src = f"SELECT * FROM {looked_up(f'({_source(copy)})', *lookup)}"
    tags = _row_tags(cur, doc, memo) if copy and memo is not None and stages else None
    if tags is not None:  # its rows are stored in the copy's order (see `_switches`)
        name = ORDERED + name.removeprefix("map_touches_")
    pop = f"{name}_pop"
    own = "" if counts_exposures(doc) else f" AND seq NOT IN ({EXPOSURE_SEQS})"
    cur.execute(
        f"CREATE TEMP TABLE {pop} AS SELECT {member} AS member, count(DISTINCT profile_id) AS n "
        f"FROM (SELECT DISTINCT profile_id FROM ({_source(copy)}) WHERE type IN {_TYPES} "
        f"AND {rng}{own}) GROUP BY ALL"
    )
    if tags is not None:  # the copy's rows in stored order, each beside its tags
        names = ", ".join(literal(t.name).sql("duckdb") for _, t in doc.touchpoints())
        src = (
            f"(SELECT pno AS profile_id, ts AS timestamp, seq, type, event, channel, "
            f"[{names}][tp_no] AS tp, is_goal AS goal, is_error AS error "
            f"FROM journey_events POSITIONAL JOIN {name}_tags)"
        )
        cur.register(f"{name}_tags", tags)
    else:
        src = (
            f"(SELECT profile_id, timestamp, seq, type, event, channel, {tp} AS tp, "
            f"coalesce({goal}, FALSE) AS goal, regexp_matches(coalesce(event, ''), "
            f"{literal(ERROR_PATTERN).sql('duckdb')}) AS error FROM ({src}))"
        )
    try:
        cur.execute(
            f"CREATE TEMP TABLE {name} AS SELECT profile_id AS pid, {member} AS member, ts, "
            "seq, tp, event, channel, error, goal FROM (SELECT profile_id, timestamp AS ts, "
            f"seq, event, channel, tp, goal, error FROM {src} WHERE type IN {_TYPES} AND {rng}) "
            "WHERE tp IS NOT NULL OR error OR goal"
        )
        yield name
    finally:
        if tags is not None:
            cur.unregister(f"{name}_tags")
        cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.execute(f"DROP TABLE IF EXISTS {pop}")


def touches(
    cur: duckdb.DuckDBPyConnection,
    doc: JourneyMap,
    time_range: TimeRange,
    copy: bool,
    audience: str | None,
    contact_days: int,
    memo: Memo | None = None,
) -> Touches:
    """Population, channel mix, repeated contacts, error pages and channel switches from one
    tagged pass (`tagged`: with `memo`, from the copy's condition codes)."""
    with tagged(cur, doc, time_range, copy, audience, memo) as table:
        population = {
            bool(m): int(n) for m, n in cur.execute(f"SELECT * FROM {table}_pop").fetchall()
        }
        mix: dict[tuple[str, bool], dict[str, float]] = {}
        rows = cur.execute(
            "SELECT tp, member, channel, n / sum(n) OVER (PARTITION BY tp, member) FROM "
            f"(SELECT tp, member, channel, count(*) AS n FROM {table} WHERE tp IS NOT NULL "
            "GROUP BY ALL)"
        ).fetchall()
        for tp, member, channel, share in rows:
            mix.setdefault((tp, bool(member)), {})[channel] = float(share)
        contacts: list[Contacts] = []
        names = [t.name for t in contact_touchpoints(doc)]
        if names:
            listed = ", ".join(literal(n).sql("duckdb") for n in names)
            rows = cur.execute(
                f"""SELECT tp, count(DISTINCT pid), count(DISTINCT pid) FILTER (WHERE again),
                           count(*)
                    FROM (SELECT tp, pid, ts - lag(ts) OVER (PARTITION BY tp, pid ORDER BY ts)
                                 <= INTERVAL {int(contact_days)} DAY AS again
                          FROM {table} WHERE tp IN ({listed}))
                    GROUP BY tp"""
            ).fetchall()
            by = {r[0]: r for r in rows}
            contacts = [
                Contacts(n, contact_days, int(by[n][1]), int(by[n][2]), int(by[n][3]))
                for n in names
                if n in by
            ]
        stage_of = {t.name: s.name for s, t in doc.touchpoints()}
        rows = cur.execute(
            f"""WITH err AS (SELECT pid, ts, event, tp FROM {table} WHERE error),
                     before AS (SELECT pid, ts, tp FROM {table} WHERE tp IS NOT NULL AND NOT error)
                SELECT e.event, coalesce(e.tp, b.tp), count(*), count(DISTINCT e.pid)
                FROM err e ASOF LEFT JOIN before b ON b.pid = e.pid AND b.ts <= e.ts
                GROUP BY ALL ORDER BY 4 DESC, 1"""
        ).fetchall()
        # An error event's place: the touchpoint most of its people met last before it.
        errors: dict[str, ErrorPage] = {}
        for event, tp, n, people in rows:
            prev = errors.get(event)
            if prev is None:
                errors[event] = ErrorPage(event, stage_of.get(tp), tp, int(n), int(people))
            else:
                errors[event] = ErrorPage(
                    event, prev.stage, prev.touchpoint, prev.events + int(n), prev.people
                )
        distinct = dict(
            cur.execute(
                f"SELECT event, count(DISTINCT pid) FROM {table} WHERE error GROUP BY event"
            ).fetchall()
        )
        error_list = [
            ErrorPage(e.event, e.stage, e.touchpoint, e.events, int(distinct[e.event]))
            for e in errors.values()
        ]
        switches = _switches(cur, table, doc)
        online = _online(cur, table, doc)
    return Touches(population, mix, contacts, error_list, switches, online)


def _online(
    cur: duckdb.DuckDBPyConnection, table: str, doc: JourneyMap
) -> dict[str, tuple[int, int]]:
    """For each shop touchpoint: its persona people, and those of them also seen online (an
    event on a web channel or the app)."""
    shops = [t.name for _, t in doc.touchpoints() if t.match.channel in ("store", ["store"])]
    if not shops:
        return {}
    listed = ", ".join(literal(n).sql("duckdb") for n in shops)
    online = ", ".join(literal(c).sql("duckdb") for c in (*WEB_CHANNELS, "app"))
    rows = cur.execute(
        f"""WITH shop AS (SELECT DISTINCT tp, pid FROM {table} WHERE member AND tp IN ({listed})),
                web AS (SELECT DISTINCT pid FROM {table} WHERE channel IN ({online}))
            SELECT tp, count(*), count(web.pid) FROM shop LEFT JOIN web USING (pid) GROUP BY tp"""
    ).fetchall()
    return {str(tp): (int(n), int(k)) for tp, n, k in rows}


def _switches(cur: duckdb.DuckDBPyConnection, table: str, doc: JourneyMap) -> list[ChannelSwitch]:
    """Channel switches at each touchpoint, counted set-wise over the tagged table.

    An arrival at a touchpoint is an event there whose previous tagged event (by `lag` over the
    person's events in time order) was another touchpoint at most `SWITCH_GAP` seconds before:
    a step in the middle of a journey. It switches when the two are on different channels (web
    channels count as one, `web`: see `WEB_CHANNELS`). A persona member who switches at a
    touchpoint at least once is a switcher there, counted from their first switch; one who
    only ever arrives on the same channel is a stayer, counted from their first arrival. They
    convert when a goal event (without a goal: a touchpoint of a later stage) follows within
    the map's window.
    """
    stage_no = {t.name: i for i, s in enumerate(doc.stages) for t in s.touchpoints}
    if not stage_no:
        return []
    sidx = (
        "CASE tp "
        + " ".join(f"WHEN {literal(n).sql('duckdb')} THEN {i}" for n, i in stage_no.items())
        + " END"
    )
    if doc.goal is not None:
        succ = f"SELECT pid, ts FROM {table} WHERE goal"
        later, target = "TRUE", describe(doc.goal)
    else:
        succ = f"SELECT pid, ts, {sidx} AS sidx FROM {table} WHERE tp IS NOT NULL"
        later, target = "s.sidx > a.sidx", "the next stage"
    days = int(doc.window // 86400)
    web = ", ".join(literal(c).sql("duckdb") for c in WEB_CHANNELS)
    medium = f"CASE WHEN channel IN ({web}) THEN 'web' ELSE channel END"
    # In the copy's order (`ORDERED`), the row before is the one stored before when it is the
    # same person's: no sort.
    if table.startswith(ORDERED):
        prev = "CASE WHEN lag(pid) OVER w = pid THEN lag({x}) OVER w END"
        window = "()"
    else:
        prev, window = "lag({x}) OVER w", "(PARTITION BY pid ORDER BY ts, seq)"
    lags = ", ".join(
        prev.format(x=x) + f" AS {alias}"
        for x, alias in (("tp", "prev_tp"), (medium, "prev_ch"), ("ts", "prev_ts"))
    )
    rows = cur.execute(
        f"""WITH t AS (
                SELECT pid, member, ts, seq, tp, {medium} AS channel, {sidx} AS sidx, {lags}
                FROM {table} WHERE tp IS NOT NULL
                WINDOW w AS {window}),
            arrivals AS (
                SELECT pid, tp, sidx, ts, seq, prev_ch, channel, prev_ch <> channel AS switched
                FROM t WHERE member AND prev_tp IS NOT NULL AND prev_tp <> tp
                     AND prev_ch IS NOT NULL AND channel IS NOT NULL
                     AND ts <= prev_ts + INTERVAL {int(SWITCH_GAP)} SECOND),
            a AS (
                SELECT pid, tp, any_value(sidx) AS sidx, bool_or(switched) AS switched,
                       coalesce(min(ts) FILTER (WHERE switched), min(ts)) AS ts,
                       arg_min({{'p': prev_ch, 'c': channel}}, (ts, seq))
                           FILTER (WHERE switched) AS pair
                FROM arrivals GROUP BY pid, tp),
            s AS ({succ}),
            per AS (
                SELECT a.tp, a.switched, a.pair.p AS prev_ch, a.pair.c AS channel,
                       count(s.pid) > 0 AS ok
                FROM a LEFT JOIN s ON s.pid = a.pid AND s.ts >= a.ts
                     AND s.ts <= a.ts + INTERVAL {int(doc.window)} SECOND AND {later}
                GROUP BY a.pid, a.tp, a.switched, a.pair)
            SELECT tp, switched, prev_ch, channel, count(*), count(*) FILTER (WHERE ok)
            FROM per GROUP BY ALL ORDER BY tp, 2, 5 DESC, 3, 4"""
    ).fetchall()
    return _fold_switches(rows, stage_no, target, days)


def _fold_switches(
    rows: list[Any], stage_no: dict[str, int], target: str, days: int
) -> list[ChannelSwitch]:
    """A handful of rows per touchpoint (one per channel pair), folded into its switches."""
    out: dict[str, ChannelSwitch] = {}
    for tp, switched, prev_ch, ch, n, ok in rows:
        c = out.get(tp) or ChannelSwitch(str(tp), 0, 0, 0, 0, None, 0, target, days)
        if not switched:
            c = replace(
                c, stayers=c.stayers + int(n), stayers_converted=c.stayers_converted + int(ok)
            )
        else:
            pair = c.pair or (prev_ch, ch)  # rows come most people first
            pair_people = c.pair_people if c.pair else int(n)
            c = replace(
                c,
                switchers=c.switchers + int(n),
                switchers_converted=c.switchers_converted + int(ok),
                pair=pair,
                pair_people=pair_people,
            )
        out[tp] = c
    return [out[n] for n in stage_no if n in out]
