"""The engine: people move through their journey's nodes set-wise, in SQL.

The rows of `journey_state` to move (due timers, new entries, people an event released) are
copied into a work table `_jw`. Each pass takes the rows whose node is due (`run`), runs each
node for all of its rows at once (grouped by journey, version and node: a handful of statements
per group, whatever the number of people), records one `journey_steps` row per person and node,
and moves them on. Passes repeat until everyone waits, listens or is done; the work table is
then written back in one UPDATE. All of it happens inside the caller's transaction, so a crash
leaves everyone where the last commit put them, and a step is never recorded twice (the steps'
primary key is the instance, the node and the step number).

A person's steps are numbered from 0 (`@entry`); the step number is the `sequence` in a send's
idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb

from touchpath.orchestrate.plan import Plan, plan_from_json
from touchpath.orchestrate.sql import count, lit, one, ts

__all__ = [
    "ACTIVE",
    "ENTRY",
    "EXIT",
    "Tick",
    "advance",
    "finish",
    "lit",
    "next_ids",
]

ENTRY = "@entry"
EXIT = "@exit"
ACTIVE = ("run", "wait", "listen", "heard")
"""Statuses of people still in a journey (`heard`: their awaited event came, in this
transaction)."""
WORK_COLUMNS = (
    "id, journey, version, profile_id, entry_key, node, status, wake_at, step, listen_from, "
    "entry_props, user_id, anonymous_id"
)


class Tick:
    """One engine transaction: its time, the latest committed event, ids handed out, what moved.

    The latest seq and the next step id are read when first needed (each is a max over a large
    table, and most commits move nobody)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        now: datetime,
        plans: Callable[[str, int], Plan],
        seq: int | None = None,
    ) -> None:
        self.con = con
        self.now = now
        self.plans = plans
        self._seq = seq
        self._next_step: int | None = None
        self.transitions = 0
        """Nodes run (the benchmark's unit)."""
        self.sends = 0

    @property
    def seq(self) -> int:
        """The latest committed event seq: a person who starts listening now counts later
        events only."""
        if self._seq is None:
            row = one(self.con, "SELECT coalesce(max(seq), 0) FROM events")
            self._seq = int(row[0]) if row else 0
        return self._seq

    @property
    def next_step(self) -> int:
        """The id the next journey_steps row gets."""
        if self._next_step is None:
            self._next_step = next_ids(self.con, "journey_steps")
        return self._next_step

    @next_step.setter
    def next_step(self, value: int) -> None:
        self._next_step = value

    @property
    def may_have_stepped(self) -> bool:
        """Whether steps may have been recorded (the next step id was asked for)."""
        return self._next_step is not None


def load_plan(con: duckdb.DuckDBPyConnection, journey: str, version: int) -> Plan:
    """The plan of a published version (callers cache it: a published plan never changes)."""
    row = one(
        con,
        "SELECT plan FROM journey_versions WHERE journey = ? AND version = ?",
        [journey, version],
    )
    if row is None or row[0] is None:
        raise LookupError(f"journey {journey!r} v{version}: not published")
    return plan_from_json(journey, version, str(row[0]))


def next_ids(con: duckdb.DuckDBPyConnection, table: str, column: str = "id") -> int:
    row = one(con, f"SELECT coalesce(max({column}), 0) + 1 FROM {table}")
    return int(row[0]) if row else 1


# ------------------------------------------------------------------------------ the loop
def advance(con: duckdb.DuckDBPyConnection, tick: Tick, claim: str) -> int:
    """Move the instances `claim` selects (a query over journey_state returning its rows, or
    the ids in a table) as far as they go now; returns how many were moved.

    Rows in `wait` take their node's `next`; rows in `listen` time out to `on_timeout`; rows in
    `run` run their node. Nodes run until each person waits, listens or is done."""
    from touchpath.orchestrate.nodes import run_group  # the node kinds use the loop's tables

    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _jw AS SELECT {WORK_COLUMNS}, "
        "CAST(NULL AS VARCHAR) AS came_from, CAST(NULL AS VARCHAR) AS via, "
        "CAST(NULL AS VARCHAR) AS exit_reason, "
        f"wake_at AS ts FROM ({claim})"
    )
    (n,) = one(con, "SELECT count(*) FROM _jw") or (0,)
    if not n:
        return 0
    _wake(con, tick)
    for _pass in range(1000):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _jc AS SELECT *, CAST(NULL AS VARCHAR) AS kind, "
            "CAST(NULL AS VARCHAR) AS st, CAST(NULL AS VARCHAR) AS nxt, "
            "CAST(NULL AS VARCHAR) AS via2, CAST(NULL AS TIMESTAMP) AS wake, "
            "CAST(NULL AS VARCHAR) AS outcome, CAST(NULL AS JSON) AS detail, "
            "CAST(NULL AS VARCHAR) AS reason FROM _jw WHERE status = 'run'"
        )
        groups = con.execute("SELECT DISTINCT journey, version, node FROM _jc").fetchall()
        if not groups:
            break
        for journey, version, node in groups:
            plan = tick.plans(journey, int(version))
            where = f"journey = {lit(journey)} AND version = {int(version)} AND node = {lit(node)}"
            run_group(con, tick, plan, str(node), where)
        _record(con, tick)
    con.execute(
        f"""
        UPDATE journey_state SET node = w.node, status = w.status, step = w.step,
            wake_at = CASE WHEN w.status = 'done' THEN NULL ELSE w.wake_at END,
            listen_from = w.listen_from, updated_at = {ts(tick.now)},
            exited_at = CASE WHEN w.status = 'done' THEN w.ts END,
            exit_reason = w.exit_reason
        FROM _jw w WHERE journey_state.id = w.id
        """
    )
    con.execute("DROP TABLE _jw")
    con.execute("DROP TABLE IF EXISTS _jc")
    return int(n)


def _wake(con: duckdb.DuckDBPyConnection, tick: Tick) -> None:
    """Rows whose wait is over go to the wait's next node, rows whose listening timed out to
    `on_timeout`, rows that heard their event to `on_event`; they run there at the time they
    woke."""
    groups = con.execute(
        "SELECT DISTINCT journey, version, node, status FROM _jw "
        "WHERE status IN ('wait', 'listen', 'heard')"
    ).fetchall()
    labels = {"wait": "next", "listen": "on_timeout", "heard": "on_event"}
    for journey, version, node, status in groups:
        spec = tick.plans(journey, int(version)).doc.nodes[node]
        label = labels[status]
        target = spec.targets().get(label)
        con.execute(
            f"UPDATE _jw SET status = 'run', ts = wake_at, via = {lit(label)}, came_from = node, "
            f"node = coalesce({lit(target)}, node), "
            f"exit_reason = {lit(None if target else 'completed')} "
            f"WHERE journey = {lit(journey)} AND version = {int(version)} AND node = {lit(node)} "
            f"AND status = {lit(status)}"
        )
    # A wait with nowhere to go ends the journey there.
    ended = "status = 'run' AND exit_reason IS NOT NULL"
    m = count(con, f"SELECT count(*) FROM _jw WHERE {ended}")
    if m:
        con.execute(
            f"""
            INSERT INTO journey_steps
            SELECT {tick.next_step - 1} + row_number() OVER (ORDER BY id), id, '{EXIT}',
                step + 1, journey, version, 'exited', node, NULL, exit_reason, ts, NULL
            FROM _jw WHERE {ended}
            """
        )
        tick.next_step += m
        con.execute(f"UPDATE _jw SET status = 'done', step = step + 1 WHERE {ended}")


def _record(con: duckdb.DuckDBPyConnection, tick: Tick) -> None:
    """Record the pass's steps (and the exits it caused), then move the work rows on."""
    n = count(con, "SELECT count(*) FROM _jc")
    con.execute(
        f"""
        INSERT INTO journey_steps
        SELECT {tick.next_step - 1} + row_number() OVER (ORDER BY id), id, node, step + 1,
            journey, version, kind, came_from, via, outcome, ts, detail
        FROM _jc
        """
    )
    tick.next_step += n
    tick.transitions += n
    con.execute(
        """
        UPDATE _jc SET
            st = CASE WHEN st = 'run' AND nxt IS NULL THEN 'done' ELSE st END,
            reason = CASE WHEN st = 'run' AND nxt IS NULL THEN coalesce(reason, 'completed')
                          ELSE reason END,
            wake = coalesce(wake, ts)
        """
    )
    con.execute(
        """
        UPDATE _jw SET step = c.step + 1, status = c.st, node = coalesce(c.nxt, c.node),
            came_from = c.node, via = c.via2, wake_at = c.wake,
            ts = CASE WHEN c.st = 'run' THEN c.ts ELSE c.wake END,
            listen_from = coalesce(c.listen_from, _jw.listen_from), exit_reason = c.reason
        FROM _jc c WHERE _jw.id = c.id
        """
    )
    # Leaving is a step too (its event is Journey Exited), at the time of the node it left from.
    m = count(con, "SELECT count(*) FROM _jc WHERE st = 'done'")
    if m:
        con.execute(
            f"""
            INSERT INTO journey_steps
            SELECT {tick.next_step - 1} + row_number() OVER (ORDER BY id), id, '{EXIT}',
                step + 2, journey, version, 'exited', node, NULL, reason, ts, NULL
            FROM _jc WHERE st = 'done'
            """
        )
        tick.next_step += m
        con.execute(
            "UPDATE _jw SET step = _jw.step + 1, ts = c.ts FROM _jc c "
            "WHERE _jw.id = c.id AND c.st = 'done'"
        )


def finish(
    con: duckdb.DuckDBPyConnection, tick: Tick, ids: str, reason: str, at: str | None = None
) -> int:
    """End the active instances whose ids `ids` selects (a query with an `id` column, and
    optionally `at`), with `reason`; records their @exit step. Returns how many."""
    when = at or ts(tick.now)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _jf AS
        SELECT s.id, s.journey, s.version, s.node, s.step, {when} AS ts
        FROM journey_state s JOIN ({ids}) x USING (id)
        WHERE s.status IN ('run', 'wait', 'listen', 'heard')
        """
    )
    n = count(con, "SELECT count(*) FROM _jf")
    con.execute(
        f"""
        INSERT INTO journey_steps
        SELECT {tick.next_step - 1} + row_number() OVER (ORDER BY id), id, '{EXIT}', step + 1,
            journey, version, 'exited', node, NULL, {lit(reason)}, ts, NULL
        FROM _jf
        """
    )
    tick.next_step += n
    con.execute(
        f"""
        UPDATE journey_state SET status = 'done', step = f.step + 1, wake_at = NULL,
            exited_at = f.ts, exit_reason = {lit(reason)}, updated_at = {ts(tick.now)}
        FROM _jf f WHERE journey_state.id = f.id
        """
    )
    con.execute("DROP TABLE _jf")
    return int(n)
