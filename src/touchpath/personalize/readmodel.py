"""The read model decisions are answered from: every profile's identifiers, traits, computed
traits, audiences and last events, in memory, kept current as events commit.

A request reads only dictionaries here: it never waits on the writer or reads the log. The
model is built once from the profile tables (`build`), then brought up to date with each range
of committed events (`apply`): the profiles those events resolve to, and those merged in the
same range, are read again from the tables the identity and profiles listener has just updated
(not for the model's own answers' exposures of people it holds: those change no trait).

Computed traits and audiences of touched profiles are settled by that listener on its own
schedule (at once when the writer is idle, within `touchpath.profiles.unify.SETTLE_EVERY`
under load). Audience changes come back as Audience Entered/Exited events, which touch their
profile here again. Computed values carry the time they were computed: when newer ones appear
(a settle or a refresh ran), the profiles they belong to, and the profiles touched since the
last settle, are read again. Privacy deletions remove profiles without events: `forget_deleted`
drops what the tables no longer hold.

Each profile is kept as its traits and computed traits as JSON bytes (decoded when a rule
asks) and its audiences as a frozenset, to keep memory near the size of the tables.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from touchpath.events.names import EXPERIMENT_VIEWED, PERSONALIZE_SOURCE

__all__ = ["SEP", "ProfileView", "ReadModel"]

SEP = "\x1f"
"""Between an identifier's kind and value in the model's keys."""

_EMPTY = b"{}"
_RECORDS = """
    WITH t AS (
        SELECT profile_id, json_group_object(name, value)::VARCHAR AS o FROM profile_traits
        WHERE {scope} GROUP BY profile_id
    ), c AS (
        SELECT profile_id, json_group_object(name, value)::VARCHAR AS o
        FROM computed_trait_values WHERE {scope} GROUP BY profile_id
    ), a AS (
        SELECT profile_id, list(audience ORDER BY audience) AS l FROM audience_members
        WHERE {scope} GROUP BY profile_id
    )
    SELECT p.profile_id, t.o, c.o, a.l FROM profiles p
    LEFT JOIN t USING (profile_id) LEFT JOIN c USING (profile_id) LEFT JOIN a USING (profile_id)
    WHERE {scope_p}
"""
_IN_SCOPE = "profile_id IN (SELECT profile_id FROM _pz_scope)"
_MARK = "SELECT max(created_seq), count(*), sum(hash(profile_id)) FROM profiles"
_EXPOSURE = f"coalesce(source = '{PERSONALIZE_SOURCE}' AND event = '{EXPERIMENT_VIEWED}', FALSE)"


@dataclass(frozen=True, slots=True)
class ProfileView:
    """One person as a rule sees them."""

    profile_id: str
    traits: dict[str, Any]
    computed: dict[str, Any]
    audiences: frozenset[str]


@dataclass(slots=True)
class _Record:
    traits: bytes
    computed: bytes
    audiences: frozenset[str]


class ReadModel:
    """Profiles in memory, by identifier. Written by one thread (`build`, `apply`,
    `forget_deleted`); read by any: each write replaces whole entries, so a reader sees a
    profile before or after a change, never half of it."""

    def __init__(self, last_events: int = 20) -> None:
        self.last_events = last_events
        self._ids: dict[str, str] = {}
        self._records: dict[str, _Record] = {}
        self._last: dict[str, array[int]] = {}
        self._kinds: set[str] = set()
        self.computed_ops: dict[str, str] = {}
        self._computed_mark: datetime | None = None
        self._unsettled: set[str] = set()
        self.applied_through = 0
        """The last seq whose profiles are reflected here."""
        self.ready = threading.Event()
        self.builds = 0
        self._profiles_mark: tuple[Any, Any, Any] | None = None
        self._added: set[str] = set()
        """Profiles taken in since `forget_deleted` last looked."""
        self.id_reads = 0
        """How often `forget_deleted` read every profile id."""

    # ----------------------------------------------------------------------------- reads
    def profile_id(self, kind: str, value: str) -> str | None:
        """The profile an identifier belongs to, or None when it is unknown."""
        return self._ids.get(kind + SEP + value)

    def device_profile_id(self, value: str) -> str | None:
        """The profile of a device id of any device kind (`ios.id`, `android.id`, ...)."""
        for kind in sorted(self._kinds):
            if kind.endswith(".id"):
                pid = self._ids.get(kind + SEP + value)
                if pid is not None:
                    return pid
        return None

    def view(self, pid: str) -> ProfileView | None:
        rec = self._records.get(pid)
        if rec is None:
            return None
        return ProfileView(pid, orjson.loads(rec.traits), orjson.loads(rec.computed), rec.audiences)

    def last_seqs(self, pid: str) -> list[int]:
        """The seqs of the profile's last events, newest first."""
        seqs = self._last.get(pid)
        return list(reversed(seqs)) if seqs is not None else []

    def __len__(self) -> int:
        return len(self._records)

    def stats(self) -> dict[str, int]:
        return {
            "profiles": len(self._records),
            "identifiers": len(self._ids),
            "applied_through": self.applied_through,
            "builds": self.builds,
        }

    # ----------------------------------------------------------------------------- writes
    def build(self, con: duckdb.DuckDBPyConnection) -> None:
        """Load every profile from the tables (on a reader cursor), then swap it in whole."""
        (through,) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()[0]
        ops = self.read_ops(con)
        records = dict(self._read_records(con, "TRUE", "TRUE"))
        ids, kinds = self._read_ids(con, "TRUE")
        last: dict[str, array[int]] = {}
        n = int(self.last_events)
        if n > 0:
            result = con.execute(
                f"SELECT profile_id, list_reverse(arg_max(seq, seq, {n})) FROM resolved_events "
                "WHERE profile_id LIKE 'p\\_%' ESCAPE '\\' GROUP BY profile_id"
            )
            for rows in _batches(result):
                last.update((pid, array("q", seqs)) for pid, seqs in rows if pid in records)
        (mark,) = con.execute("SELECT max(computed_at) FROM computed_trait_values").fetchall()[0]
        self.computed_ops = ops
        self._records, self._ids, self._kinds, self._last = records, ids, kinds, last
        self._computed_mark = mark
        self._unsettled = set()
        self._profiles_mark = None
        self._added = set()
        self.applied_through = max(self.applied_through, int(through))
        self.builds += 1
        self.ready.set()

    def apply(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> int:
        """Bring the profiles of events with seq in [first, last] up to date; returns how many
        profiles were read again."""
        rows = con.execute(
            f"SELECT profile_id, seq, {_EXPOSURE} FROM resolved_events WHERE seq BETWEEN ? AND ? "
            "ORDER BY seq",
            [first, last],
        ).fetchall()
        merged = con.execute(
            "SELECT merged_profile_id, kept_profile_id FROM merges WHERE seq BETWEEN ? AND ?",
            [first, last],
        ).fetchall()
        # An exposure changes no trait of a profile the model holds (a computed value it
        # changes comes with a newer computed_at, an audience with an Audience event): its
        # seq is one of the person's last events, its profile is not read again.
        touched = {pid for pid, _, exposure in rows if not exposure or pid not in self._records}
        touched.update(kept for _, kept in merged)
        self.computed_ops = self.read_ops(con)
        touched |= self._settled(con, touched)
        for gone, kept in merged:
            self._merge(gone, kept)
        self._add_events((pid, seq) for pid, seq, _ in rows)
        self.reload(con, touched)
        self.applied_through = max(self.applied_through, last)
        return len(touched)

    def forget_deleted(self, con: duckdb.DuckDBPyConnection) -> int:
        """Drop profiles the tables no longer hold (a privacy deletion); returns how many.

        Every profile id is read only when one the model may hold is gone: those that existed
        at the last look are checked with one aggregate (their count and the sum of their ids'
        hashes, kept with the newest `created_seq` then: a later profile has a later seq), and
        those the model took in since by their ids; all in one snapshot."""
        con.execute("BEGIN TRANSACTION")
        try:
            have = self._ids_if_changed(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        if have is None:
            return 0
        gone = [pid for pid in list(self._records) if pid not in have]
        if not gone:
            return 0
        dropped = set(gone)
        for pid in gone:
            self._records.pop(pid, None)
            self._last.pop(pid, None)
        for key, pid in list(self._ids.items()):
            if pid in dropped:
                self._ids.pop(key, None)
        return len(gone)

    # ----------------------------------------------------------------------------- internals
    def _ids_if_changed(self, con: duckdb.DuckDBPyConnection) -> set[str] | None:
        """Every profile id when a profile the model may hold is gone, else None (and the mark
        moves on to every profile now: the model holds none that is not among them)."""
        if self._profiles_mark is not None:
            top, n, digest = self._profiles_mark
            (then,) = con.execute(_MARK + " WHERE created_seq <= ?", [top]).fetchall()
            added = sorted(self._added)
            (present,) = con.execute(
                "SELECT count(*) FROM profiles WHERE profile_id IN (SELECT unnest(?))", [added]
            ).fetchall()[0]
            if (then[1], then[2]) == (n, digest) and present == len(added):
                (mark,) = con.execute(_MARK).fetchall()
                self._profiles_mark = (mark[0], mark[1], mark[2])
                self._added.clear()
                return None
        (mark,) = con.execute(_MARK).fetchall()
        self._profiles_mark = (mark[0], mark[1], mark[2])
        self._added.clear()
        self.id_reads += 1
        return {pid for (pid,) in con.execute("SELECT profile_id FROM profiles").fetchall()}

    def _settled(self, con: duckdb.DuckDBPyConnection, touched: set[str]) -> set[str]:
        """Profiles to read again because computed values were settled since the last look:
        those with newer values and those touched while their values may have lagged."""
        if not self.computed_ops:
            self._unsettled.clear()
            return set()
        # fetchall, not fetchone: a result left unfinished on this cursor makes the next
        # register() of `reload` fail (DuckDB: "connection has an unfinished result").
        (mark,) = con.execute("SELECT max(computed_at) FROM computed_trait_values").fetchall()[0]
        if mark is None or (self._computed_mark is not None and mark <= self._computed_mark):
            self._unsettled |= touched
            return set()
        since = self._computed_mark or datetime.min
        newer = {
            pid
            for (pid,) in con.execute(
                "SELECT DISTINCT profile_id FROM computed_trait_values WHERE computed_at > ?",
                [since],
            ).fetchall()
        }
        out = newer | self._unsettled
        # Touched now but not in this settle: their values may still be on the way.
        self._unsettled = touched - newer
        self._computed_mark = mark
        return out

    def settled_since(self, con: duckdb.DuckDBPyConnection) -> int:
        """Read again the profiles whose computed values were settled since the last look,
        with no new commit to bring them (the settle of a commit comes after its range was
        applied); returns how many. Only while some touched profile may still be unsettled."""
        if not self._unsettled:
            return 0
        pids = self._settled(con, set())
        self.reload(con, pids)
        return len(pids)

    def _merge(self, gone: str, kept: str) -> None:
        self._records.pop(gone, None)
        self._added.discard(gone)
        old = self._last.pop(gone, None)
        if old is not None:
            both = sorted(set(old) | set(self._last.get(kept, ())))
            self._last[kept] = array("q", both[-self.last_events :])

    def _add_events(self, rows: Iterable[tuple[str, int]]) -> None:
        n = self.last_events
        if n <= 0:
            return
        for pid, seq in rows:
            seqs = self._last.get(pid)
            if seqs is None:
                self._last[pid] = array("q", [seq])
            elif seq > seqs[-1]:
                seqs.append(seq)
                if len(seqs) > n:
                    del seqs[0]

    def reload(self, con: duckdb.DuckDBPyConnection, pids: set[str]) -> None:
        """Read these profiles again from the tables (a profile that is gone stays as it was
        until `forget_deleted`)."""
        if not pids:
            return
        con.register("_pz_scope_in", pa.table({"profile_id": pa.array(sorted(pids), pa.string())}))
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _pz_scope AS SELECT * FROM _pz_scope_in")
        finally:
            con.unregister("_pz_scope_in")
        try:
            found = dict(self._read_records(con, _IN_SCOPE, "p." + _IN_SCOPE))
            ids, kinds = self._read_ids(con, _IN_SCOPE)
        finally:
            con.execute("DROP TABLE IF EXISTS _pz_scope")
        for pid in pids:
            rec = found.get(pid)
            if rec is None:  # not a profile: no identifier of its events could be used
                self._last.pop(pid, None)
                continue
            if pid not in self._records:
                self._added.add(pid)
            self._records[pid] = rec
        self._ids.update(ids)
        self._kinds |= kinds

    @staticmethod
    def read_ops(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        return {
            str(n): str(op)
            for n, op in con.execute("SELECT name, spec ->> '$.op' FROM computed_traits").fetchall()
        }

    @staticmethod
    def _read_records(
        con: duckdb.DuckDBPyConnection, scope: str, scope_p: str
    ) -> Iterable[tuple[str, _Record]]:
        result = con.execute(_RECORDS.format(scope=scope, scope_p=scope_p))
        for rows in _batches(result):
            for pid, traits, computed, auds in rows:
                yield (
                    pid,
                    _Record(
                        traits.encode() if traits else _EMPTY,
                        computed.encode() if computed else _EMPTY,
                        frozenset(auds) if auds else frozenset(),
                    ),
                )

    @staticmethod
    def _read_ids(con: duckdb.DuckDBPyConnection, scope: str) -> tuple[dict[str, str], set[str]]:
        result = con.execute(f"SELECT kind, value, profile_id FROM identifiers WHERE {scope}")
        pids: dict[str, str] = {}
        ids: dict[str, str] = {}
        kinds: set[str] = set()
        for rows in _batches(result):
            for kind, value, pid in rows:
                ids[kind + SEP + value] = pids.setdefault(pid, pid)
                kinds.add(kind)
        return ids, kinds


BATCH = 50_000
"""Rows a build turns into Python objects at a time: the whole result as tuples at once (every
profile's identifiers, records and last events) was a transient of several hundred MB on the
10M demo, on top of the model it became."""


def _batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[Any]]:
    """A query's rows, `BATCH` at a time."""
    while rows := result.fetchmany(BATCH):
        yield rows
