"""The unify pipeline: after each ingest commit, resolve identities, then bring traits, computed
traits and audiences of the touched profiles up to date, all in one transaction.

`attach(store, settings)` registers it on a store (once per store) and catches up with events
committed while nothing was attached.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass

import duckdb

from touchpath.events.message import Staged
from touchpath.identity import graph
from touchpath.profiles import audiences, traits
from touchpath.profiles.specs import UnifyConfig, load_config
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = ["Unify", "attach", "rebuild", "refresh"]

log = logging.getLogger(__name__)
_attached: weakref.WeakKeyDictionary[Store, Unify] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


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

    def on_commit(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        """Commit listener (writer thread): update everything for seq in [first, last]."""
        con.execute("BEGIN")
        try:
            start = min(first, graph.resolved_through(con) + 1)
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
        """Resolve [first, last] and refresh the touched profiles (inside a transaction)."""
        res = graph.resolve(con, first, last, self.config.identity)
        traits.apply_merges(con, res.merged)
        traits.update_traits(con, first, last)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT profile_id "
            f"FROM resolved_events WHERE seq BETWEEN {int(first)} AND {int(last)}"
        )
        con.execute(
            "INSERT INTO _touched SELECT DISTINCT new FROM (SELECT unnest(?) AS new)",
            [sorted(set(res.merged.values()))],
        )
        now = utcnow()
        traits.refresh_computed(con, now, "_touched")
        changes = audiences.refresh_audiences(con, now, "_touched")
        con.execute("DROP TABLE _touched")
        return audiences.stage_changes(con, changes, last, now)

    def catch_up(self, con: duckdb.DuckDBPyConnection) -> Staged | None:
        """Resolve whatever was committed after the last resolved seq (inside a transaction)."""
        (last,) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()[0]
        start = graph.resolved_through(con) + 1
        if start > int(last):
            return None
        return self.update(con, start, int(last))


def attach(store: Store, settings: Settings | None = None) -> Unify:
    """Keep identities and profiles of `store` current as events arrive (idempotent)."""
    with _lock:
        unify = _attached.get(store)
        if unify is not None:
            return unify
        config = load_config(getattr(settings or store.settings, "unify", None))
        unify = Unify(store, config)
        _attached[store] = unify

    def setup(con: duckdb.DuckDBPyConnection) -> Staged | None:
        now = utcnow()
        for trait in config.computed_traits:
            traits.define_computed(con, trait, now)
        for aud in config.audiences:
            audiences.define_audience(con, aud, now)
        return unify.catch_up(con)

    staged = store.write_sync(setup)
    store.add_commit_listener(unify.on_commit)
    if staged is not None:
        store.ingest(staged)
    return unify


def refresh(store: Store, what: str = "all") -> Refreshed:
    """Recompute computed traits and audiences for every profile (windows move with time)."""
    unify = attach(store)

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
    del unify
    return result


def rebuild(store: Store) -> Refreshed:
    """Recompute the identity graph and every profile from the event log, in one transaction."""
    unify = attach(store)

    def run(con: duckdb.DuckDBPyConnection) -> tuple[Refreshed, Staged | None]:
        graph.rebuild(con, unify.config.identity)
        con.execute("DELETE FROM profile_traits")
        traits.update_traits(con, None, None)
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
