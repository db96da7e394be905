"""The unify pipeline: after each ingest commit, resolve identities and fold in traits; then bring
computed traits and audiences of the touched profiles up to date.

Identities and traits are updated at every commit, in proportion to the batch. Computed traits
and audiences need each touched profile's whole history, so they are settled on a coalesced
schedule: touched profiles are marked dirty, and the marks are settled when the writer has no
ingest waiting or `SETTLE_EVERY` seconds after the oldest mark (and not at all while no computed
trait or audience is defined). Settling reads only the dirty profiles' events, found through
their identifiers (a semi-join), never a scan of the whole resolved log. Personalisation's
exposures (`Experiment Viewed` from `touchpath.personalize`, one per answer) mark nobody dirty
unless a definition can count them (an event definition of no name or of that name) or the
exposure created the profile: each answer would otherwise re-read its person's history.

`start(store, config)` registers it on a store and catches up with events committed while
nothing listened; the composition root (`touchpath.system`) calls it once per store.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb

from touchpath.events.message import Staged
from touchpath.events.names import EXPERIMENT_VIEWED, PERSONALIZE_SOURCE
from touchpath.identity import resolve as resolver
from touchpath.identity.rules import IdentityRules
from touchpath.profiles import audiences, traits
from touchpath.profiles.specs import UnifyConfig
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = ["Refreshed", "Unify", "rebuild", "refresh", "start"]

log = logging.getLogger(__name__)

SETTLE_EVERY = 1.0
"""While ingest keeps the writer busy, touched profiles' computed traits and audiences are
settled at most this often (seconds): in the listener round that marks them when the last
settle is this old, else in a later round. Bounding how often rather than how long to wait
keeps a change's settle in the round after its commit under steady ingest (the rounds are
about `listener_delay_seconds` apart), so a decision sees it within a second
(docs/personalize.md); waiting 2 s after the first mark put it one or two rounds later."""

CATCH_UP_CHUNK = 2_000_000
"""Events resolved per step when catching up with a long backlog."""


@dataclass
class Refreshed:
    """What a refresh or rebuild did."""

    profiles: int
    identifiers: int
    merges: int
    computed_values: int
    entered: int
    exited: int


class Unify:
    """Keeps identities, traits, computed traits and audiences current on one store."""

    def __init__(self, store: Store, config: UnifyConfig) -> None:
        self.store = store
        self.config = config
        self._last_settle = 0.0
        self._specs: tuple[str, ...] | None = None
        self._sees_exposures = True

    def on_commit(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        """Commit listener (writer thread): update everything for seq in [first, last]."""
        con.execute("BEGIN")
        try:
            start = min(first, resolver.resolved_through(con) + 1)
            if start > last:
                con.execute("COMMIT")
                return
            staged = self.update(con, start, last)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if staged is not None:
            try:
                self.store.ingest(staged)
            except Exception:
                log.exception("audience events could not be queued")

    def update(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> Staged | None:
        """Resolve [first, last], fold in traits and mark the touched profiles; settle computed
        traits and audiences when it is time (inside a transaction)."""
        res = resolver.resolve(con, first, last, self.config.identity)
        traits.apply_merges(con, res.merged)
        traits.update_traits(con, first, last)
        con.execute("CREATE TEMP TABLE IF NOT EXISTS _dirty (profile_id VARCHAR)")
        if not _has_definitions(con):
            con.execute("DELETE FROM _dirty")
            return None
        rng = f"BETWEEN {int(first)} AND {int(last)}"
        unseen = "" if self._exposures_seen(con) else f" AND ({_NOT_EXPOSURE} OR {_NEW})"
        con.execute(
            "INSERT INTO _dirty SELECT DISTINCT profile_id "
            f"FROM resolved_events WHERE seq {rng}{unseen.format(rng=rng)}"
        )
        if res.merged:
            con.execute(
                "INSERT INTO _dirty SELECT DISTINCT new FROM (SELECT unnest(?) AS new)",
                [sorted(set(res.merged.values()))],
            )
        if self.store.pending and time.monotonic() - self._last_settle < SETTLE_EVERY:
            return None
        if not con.execute("SELECT EXISTS (FROM _dirty)").fetchall()[0][0]:
            return None  # nobody to settle (only exposures of people already settled)
        return self.settle(con, last)

    def _exposures_seen(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Whether a computed trait or rule audience can count a personalisation exposure (an
        event definition of any name or of `Experiment Viewed`); read again when they change."""
        specs = tuple(
            s
            for (s,) in con.execute(
                "SELECT spec FROM computed_traits UNION ALL "
                "SELECT spec FROM audiences WHERE kind = 'rule' ORDER BY 1"
            ).fetchall()
        )
        if specs != self._specs:
            self._specs = specs
            self._sees_exposures = any(_sees_exposures(json.loads(s)) for s in specs)
        return self._sees_exposures

    def settle(self, con: duckdb.DuckDBPyConnection, trigger: int) -> Staged | None:
        """Recompute computed traits and audiences of the dirty profiles from their events."""
        con.execute("CREATE TEMP TABLE IF NOT EXISTS _dirty (profile_id VARCHAR)")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT d.profile_id FROM _dirty d "
            "SEMI JOIN profiles p USING (profile_id)"
        )
        con.execute("DELETE FROM _dirty")
        self._last_settle = time.monotonic()
        scope_events(con, "_touched", "_touched_events")
        now = utcnow()
        traits.refresh_computed(con, now, "_touched", events="_touched_events")
        changes = audiences.refresh_audiences(con, now, "_touched", events="_touched_events")
        con.execute("DROP TABLE _touched_events")
        con.execute("DROP TABLE _touched")
        return audiences.stage_changes(con, changes, trigger, now)

    def catch_up(self, con: duckdb.DuckDBPyConnection) -> Staged | None:
        """Resolve whatever was committed after the last resolved seq (inside a transaction).

        A backlog longer than `CATCH_UP_CHUNK` (the first attach to a big log) is resolved in
        chunks, and computed traits and audiences are then refreshed for everyone from
        `resolved_events`, instead of materialising the touched profiles' events (the whole
        log: the 10M demo ran out of 24 GB that way)."""
        (last,) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()[0]
        start = resolver.resolved_through(con) + 1
        if start > int(last):
            return None
        if int(last) - start < CATCH_UP_CHUNK:
            return self.update(con, start, int(last))
        for lo in range(start, int(last) + 1, CATCH_UP_CHUNK):
            hi = min(lo + CATCH_UP_CHUNK - 1, int(last))
            res = resolver.resolve(con, lo, hi, self.config.identity)
            traits.apply_merges(con, res.merged)
            traits.update_traits(con, lo, hi)
        if not _has_definitions(con):
            return None
        now = utcnow()
        traits.refresh_computed(con, now, None)
        changes = audiences.refresh_audiences(con, now, None)
        return audiences.stage_changes(con, changes, int(last), now)


_NOT_EXPOSURE = f"(source IS DISTINCT FROM '{PERSONALIZE_SOURCE}' OR event IS DISTINCT FROM '{EXPERIMENT_VIEWED}')"
_NEW = "profile_id IN (SELECT profile_id FROM profiles WHERE created_seq {rng})"
"""A profile created in the range: settled whatever its events (an audience of people who did
not do something takes in a new visitor whose only event is an exposure)."""


def _sees_exposures(spec: Any) -> bool:
    """Whether an event definition (`"event": {...}`) anywhere in a computed trait's or an
    audience's spec (JSON) can match an `Experiment Viewed`: no name, or that name."""
    if isinstance(spec, list):
        return any(_sees_exposures(v) for v in spec)
    if not isinstance(spec, dict):
        return False
    match = spec.get("event")
    if isinstance(match, dict) and match.get("event") in (None, EXPERIMENT_VIEWED):
        return True
    return any(_sees_exposures(v) for v in spec.values())


def _has_definitions(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether settling has anything to compute: computed traits or rule-based audiences (a
    static audience's members are left alone, so only static ones need no settling: a store
    with one static audience read every touched profile's history at each listener round)."""
    row = con.execute(
        "SELECT EXISTS (FROM computed_traits) OR EXISTS (FROM audiences WHERE kind = 'rule')"
    ).fetchall()
    return bool(row[0][0])


def scope_events(con: duckdb.DuckDBPyConnection, scope: str, name: str) -> None:
    """Create temp table `name`: the resolved events of the profiles in table `scope`.

    The events are found through the profiles' user and anonymous ids (the keys resolved_events
    joins on), so the log is probed on two columns instead of being resolved as a whole.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        WITH ids AS (
            SELECT kind, value FROM identifiers SEMI JOIN {scope} USING (profile_id)
            WHERE kind IN ('user_id', 'anonymous_id')
        ), hits AS (
            SELECT seq FROM events
            WHERE user_id IN (SELECT value FROM ids WHERE kind = 'user_id')
            UNION
            SELECT seq FROM events
            WHERE anonymous_id IN (SELECT value FROM ids WHERE kind = 'anonymous_id')
        )
        SELECT * FROM resolved_events
        WHERE seq IN (SELECT seq FROM hits) AND profile_id IN (SELECT profile_id FROM {scope})
        """
    )


def start(store: Store, config: UnifyConfig) -> Unify:
    """Keep identities and profiles of `store` current as events arrive: define the configured
    computed traits and audiences, catch up with the events no listener has seen, then listen.
    Call once per store (`touchpath.system` does)."""
    unify = Unify(store, config)

    def setup(con: duckdb.DuckDBPyConnection) -> Staged | None:
        now = utcnow()
        for trait in config.computed_traits:
            traits.define_computed(con, trait, now)
        for aud in config.audiences:
            audiences.define_audience(con, aud, now)
        return unify.catch_up(con)

    staged = store.write_sync(setup)
    store.add_commit_listener(unify.on_commit, prompt=True)  # the journeys need identities
    if staged is not None:
        store.ingest(staged)
    return unify


def refresh(store: Store, what: str = "all") -> Refreshed:
    """Recompute computed traits and audiences for every profile (windows move with time)."""

    def run(con: duckdb.DuckDBPyConnection) -> tuple[Refreshed, Staged | None]:
        now = utcnow()
        n = traits.refresh_computed(con, now, None) if what in ("all", "traits") else 0
        changes = (
            audiences.refresh_audiences(con, now, None) if what in ("all", "audiences") else []
        )
        (last,) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()[0]
        staged = audiences.stage_changes(con, changes, int(last), now)
        return _counts(con, n, changes), staged

    result, staged = store.write_sync(run)
    if staged is not None:
        store.ingest(staged)
    return result


def rebuild(store: Store, rules: IdentityRules) -> Refreshed:
    """Recompute the identity graph under `rules` and every profile from the event log, in one
    transaction."""

    def run(con: duckdb.DuckDBPyConnection) -> tuple[Refreshed, Staged | None]:
        s = store.settings
        with memory_limit(con, s.rebuild_memory_mb, then=s.memory_limit_mb):
            return rebuild_all(con)

    def rebuild_all(con: duckdb.DuckDBPyConnection) -> tuple[Refreshed, Staged | None]:
        resolver.rebuild(con, rules)
        resolver.clear_tables(con, "profile_traits")
        traits.update_traits(con, None, None, empty=True)
        # Memberships of profiles that no longer exist go; the rest are re-evaluated.
        con.execute(
            "DELETE FROM audience_members WHERE profile_id NOT IN (SELECT profile_id FROM profiles)"
        )
        now = utcnow()
        n = traits.refresh_computed(con, now, None)
        changes = audiences.refresh_audiences(con, now, None)
        (last,) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()[0]
        return _counts(con, n, changes), audiences.stage_changes(con, changes, int(last), now)

    result, staged = store.write_sync(run)
    if staged is not None:
        store.ingest(staged)
    return result


@contextmanager
def memory_limit(
    con: duckdb.DuckDBPyConnection, mb: int | None, then: int | None
) -> Iterator[None]:
    """DuckDB's memory limit set to `mb` while the block runs, then put back to `then` (the
    store's `memory_limit_mb`; None: DuckDB's default), unchanged when `mb` is None.

    DuckDB keeps the blocks it reads cached up to its limit, so a rebuild, which scans the whole
    log, grew RSS by ~3 GB on the 10M demo under DuckDB's default (80% of RAM); the limit makes
    it evict and spill to its temp directory instead. The limit is the database's, so readers
    share it while the rebuild runs. It is put back through a cursor of its own, which works
    even when the caller's transaction has failed."""
    if mb is None:
        yield
        return
    con.execute(f"SET memory_limit = '{int(mb)}MB'")
    try:
        yield
    finally:
        cur = con.cursor()
        try:
            if then is None:
                cur.execute("RESET memory_limit")
            else:
                cur.execute(f"SET memory_limit = '{int(then)}MB'")
        finally:
            cur.close()


def _counts(
    con: duckdb.DuckDBPyConnection, computed: int, changes: list[audiences.Change]
) -> Refreshed:
    row = con.execute(
        "SELECT (SELECT count(*) FROM profiles), (SELECT count(*) FROM identifiers), "
        "(SELECT count(*) FROM merges)"
    ).fetchall()[0]
    return Refreshed(
        profiles=int(row[0]),
        identifiers=int(row[1]),
        merges=int(row[2]),
        computed_values=computed,
        entered=sum(c.entered for c in changes),
        exited=sum(not c.entered for c in changes),
    )
