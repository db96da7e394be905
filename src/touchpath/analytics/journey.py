"""The journey copy: journey events' step-relevant columns stored in (profile, time, seq) order.

Funnels spend most of their time sorting events by profile and time. `optimize(store)` writes
the journey events (track, page, screen) of `resolved_events` once, sorted, into
`journey_events`, numbering the profiles in the order of their ids (`pno`, mapped back to
the id by `journey_profiles`) and the activity names (`code`, named by `journey_names`).
An ordered funnel then reads them in one streaming pass: the last hit of each step carried
over the stored order, no sort, no join.

The copy is used only while it is fresh: the event log has the same count and last seq and
the identifier map the same fingerprint as when it was built. Otherwise analyses read
`resolved_events` as before, so results never depend on whether `optimize` was run.

>>> print(FRESH_SQL.split()[0])
SELECT
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
from sqlglot import exp

from touchpath.events.match import JOURNEY_TYPES
from touchpath.store import Store, utcnow

__all__ = [
    "FRESH_SQL",
    "CopyUse",
    "JourneyBuild",
    "Layout",
    "Refresher",
    "has_ties",
    "is_fresh",
    "layout",
    "optimize",
    "usable",
]

log = logging.getLogger(__name__)

_JOURNEY_TYPES = "(" + ", ".join(f"'{t}'" for t in JOURNEY_TYPES) + ")"

_STATE_SQL = (
    "SELECT (SELECT count(*) FROM events), (SELECT max(seq) FROM events), "
    "(SELECT count(*) || ':' || coalesce(bit_xor(hash(kind, value, profile_id)), 0) "
    "FROM identifiers)"
)

FRESH_SQL = (
    f"SELECT count(*) > 0 AND bool_and(b.events = s.events AND b.max_seq IS NOT DISTINCT FROM "
    f"s.max_seq AND b.identifiers_fp = s.fp), max(b.built_at) "
    f"FROM journey_build b, ({_STATE_SQL}) s(events, max_seq, fp)"
)
"""One row: is the journey copy built and does it match the log and identity; when was it built?"""


@dataclass(frozen=True)
class JourneyBuild:
    """What `optimize` wrote."""

    events: int
    profiles: int
    ties: int
    """Events that share their profile and time with the one before."""
    built_at: datetime
    seconds: float


def is_fresh(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether `journey_events` matches the event log and the identifier map right now."""
    return usable(cur).ok


@dataclass(frozen=True)
class CopyUse:
    """Whether analyses may read the copy now, and the time it holds the log as of when that
    is behind the log (None: it matches the log exactly, or is not used)."""

    ok: bool
    as_of: datetime | None = None


def usable(cur: duckdb.DuckDBPyConnection, max_lag: float = 0.0) -> CopyUse:
    """Whether the copy may be read: it matches the log exactly, or (with `max_lag` > 0, see
    `TOUCHPATH_JOURNEY_MAX_LAG_SECONDS`) it was built at most `max_lag` seconds ago. A lagging
    copy holds the events and identity merges committed before its `as_of`, none after."""
    # Never built (or emptied): no need to read the log's state (a hash of every identifier).
    if not (cur.execute("SELECT count(*) FROM journey_build").fetchone() or (0,))[0]:
        return CopyUse(False)
    fresh, built_at = cur.execute(FRESH_SQL).fetchone() or (False, None)
    if fresh:
        return CopyUse(True)
    if max_lag > 0 and built_at is not None and utcnow() - built_at <= timedelta(seconds=max_lag):
        return CopyUse(True, built_at)
    return CopyUse(False)


def has_ties(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether some events share their profile and time (then funnels check their steps)."""
    row = cur.execute("SELECT max(ties) FROM journey_build").fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class Layout:
    """What a pass over the copy needs to split it and skip rows early: how many profiles it
    numbers (`pno` runs 1..profiles), how many parts to split them into, and the activity codes
    of some names.

    A pass over the copy (the ordered funnel) may be split into `parts` ranges of profiles,
    each its own pipeline; by default it is one (`layout`).
    """

    profiles: int
    parts: int
    codes: dict[str, int]

    def ranges(self) -> list[tuple[int, int]]:
        """The parts' profile-number ranges `(lo, hi]`, in order, covering 1..profiles."""
        n = max(1, min(self.parts, self.profiles))
        return [(self.profiles * i // n, self.profiles * (i + 1) // n) for i in range(n)]

    def codes_of(self, names: list[str | None]) -> list[int] | None:
        """The activity codes of `names` (those the copy has), or None when some name is None
        (any activity)."""
        if any(n is None for n in names):
            return None
        return sorted({self.codes[n] for n in names if n is not None and n in self.codes})

    def code_condition(self, names: list[str | None]) -> exp.Expr | None:
        """A condition on `code` that every row named one of `names` meets (a cheap integer
        pre-filter), or None when some name is None (any activity)."""
        codes = self.codes_of(names)
        if codes is None:
            return None
        if not codes:
            return exp.false()
        return exp.In(this=exp.column("code"), expressions=[exp.Literal.number(c) for c in codes])

    def code_filter(self, names: list[str | None]) -> str | None:
        """`code_condition` as DuckDB SQL text."""
        codes = self.codes_of(names)
        if codes is None:
            return None
        return f"code IN ({', '.join(map(str, codes))})" if codes else "false"


def layout(cur: duckdb.DuckDBPyConnection, names: list[str | None], parts: int = 1) -> Layout:
    """The copy's layout for a pass over activities `names`, in `parts` ranges of profiles.

    One by default: the ordered funnel's pass sorts its rows once (on all of DuckDB's threads)
    and streams the rest, so splitting it only repeats the scan and the sort per part. When its
    windows read the rows unsorted, two parts per thread ran them side by side; with the sort,
    one part took 0.075 CPU-s against 0.099 for four on the 1M demo (2026-12-07, load 9; wall
    0.24 s against 0.32), and 0.078 against 0.100 for two on BPIC 2012."""
    (profiles,) = cur.execute("SELECT count(*) FROM journey_profiles").fetchone() or (0,)
    wanted = sorted({n for n in names if n is not None})
    codes: dict[str, int] = {}
    if wanted:
        marks = ", ".join("?" for _ in wanted)
        codes = dict(
            cur.execute(
                f"SELECT name, code FROM journey_names WHERE name IN ({marks})", wanted
            ).fetchall()
        )
    return Layout(profiles=int(profiles), parts=parts, codes=codes)


def optimize(store: Store) -> JourneyBuild:
    """Rebuild the sorted journey copy in one transaction of the writer."""

    def build(con: duckdb.DuckDBPyConnection) -> JourneyBuild:
        t0 = utcnow()
        events, max_seq, fp = con.execute(_STATE_SQL).fetchone() or (0, None, "")
        for table in ("journey_events", "journey_profiles", "journey_names", "journey_build"):
            con.execute(f"DELETE FROM {table}")
        # Profiles numbered in id order from their distinct ids (a sort of ~1 row per profile),
        # then the events sorted once by (pno, time, seq): one sort of all events instead of two
        # (numbering by a window over all events sorted them by id first), ~2.5x less CPU.
        con.execute(
            "INSERT INTO journey_profiles SELECT (row_number() OVER (ORDER BY profile_id))::INTEGER, "
            "profile_id FROM (SELECT DISTINCT profile_id FROM resolved_events "
            f"WHERE type IN {_JOURNEY_TYPES})"
        )
        # Activity names (event, or type) numbered in name order, for the DFG.
        con.execute(
            "INSERT INTO journey_names SELECT (row_number() OVER (ORDER BY name))::INTEGER, name "
            f"FROM (SELECT DISTINCT coalesce(event, type) AS name FROM events WHERE type IN {_JOURNEY_TYPES})"
        )
        con.execute(
            "INSERT INTO journey_events SELECT p.pno, e.timestamp, e.seq, e.type, e.event, "
            "e.channel, n.code FROM resolved_events e JOIN journey_profiles p USING (profile_id) "
            "JOIN journey_names n ON n.name = coalesce(e.event, e.type) "
            f"WHERE e.type IN {_JOURNEY_TYPES} ORDER BY p.pno, e.timestamp, e.seq"
        )
        (ties,) = con.execute(
            "SELECT count(*) FROM (SELECT pno, ts, lag(pno) OVER () AS lp, lag(ts) OVER () AS lt "
            "FROM journey_events) WHERE lp = pno AND lt = ts"
        ).fetchone() or (0,)
        con.execute(
            "INSERT INTO journey_build VALUES (?, ?, ?, ?, ?)", [t0, events, max_seq, fp, ties]
        )
        (n, profiles) = con.execute(
            "SELECT (SELECT count(*) FROM journey_events), (SELECT count(*) FROM journey_profiles)"
        ).fetchone() or (0, 0)
        return JourneyBuild(
            events=int(n),
            profiles=int(profiles),
            ties=int(ties),
            built_at=t0,
            seconds=(utcnow() - t0).total_seconds(),
        )

    return store.write_sync(build)


class Refresher:
    """Keeps the journey copy fresh in a running server, so analyses stay fast without a manual
    `touchpath optimize`: every `every` seconds, a stale copy is rebuilt once the writer has had
    no ingest for `idle` seconds (a rebuild holds the writer: ~0.5 s per 1M events, so it waits
    for a lull instead of delaying requests). Until then analyses read the log, as always.
    On a store whose ingest never pauses, `max_lag` (analyses accept a copy that old) makes it
    rebuild a copy older than half of it anyway, so the copy stays within the lag.
    """

    def __init__(self, store: Store, every: float, idle: float, max_lag: float = 0.0) -> None:
        self.store = store
        self.every = every
        self.idle = idle
        self.max_lag = max_lag
        """With analyses allowed to read a copy this many seconds old, a copy older than half
        of it is rebuilt even while ingest goes on (it would never pause on a busy store)."""
        self.builds = 0
        """Rebuilds done so far."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Check on a background thread until `stop()`."""
        if self.every <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="touchpath-journey", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop checking; waits for a rebuild under way."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.refresh()
            except Exception:
                log.exception("refreshing the journey copy failed")

    def refresh(self) -> JourneyBuild | None:
        """Rebuild the copy now if it is stale and ingest has paused, or (with `max_lag`) it is
        older than half the lag analyses accept; what was built, or None."""
        paused = not self.store.pending and self.store.seconds_since_ingest() >= self.idle
        if not paused and self.max_lag <= 0:
            return None
        with self.store.reading() as cur:
            (events,) = cur.execute("SELECT count(*) FROM events").fetchone() or (0,)
            copy = usable(cur, self.max_lag / 2)
        exact = copy.ok and copy.as_of is None
        if not events or exact or (copy.ok and not paused):
            return None
        built = optimize(self.store)
        self.builds += 1
        log.info("journey copy rebuilt: %s events in %.1f s", built.events, built.seconds)
        return built
