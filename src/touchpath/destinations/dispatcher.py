"""The dispatcher: delivers the outbox at least once.

One thread runs an asyncio loop. It claims due rows in batches (one writer transaction marks them
`sending` with a lease and applies the send policy: refusals and quiet-hours deferrals are
recorded there), renders them (`prepare`), sends each through its destination within the
destination's concurrency and token-bucket rate, and records the results in batches (one writer
transaction each): delivered or sent, a retry at the next backoff time (the receiver's
Retry-After first), or a dead letter after the last attempt; a 410 disables the destination.
Outcomes are written to the event log as message events.

At least once: a message is marked done only after its send returned, so a dispatcher killed
mid-send leaves it `sending`; its lease runs out and it is sent again with the same idempotency
key (`webhook-id`). A store file has one process, so a dispatcher that opens it releases the
claims a dead one left at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from touchpath.clock import Clock
from touchpath.destinations import config as cfg
from touchpath.destinations import policy as pol
from touchpath.destinations.events import Outcome, stage_outcomes
from touchpath.destinations.httpclient import HttpClient
from touchpath.destinations.kinds import Context, build
from touchpath.destinations.prepare import Links, prepare
from touchpath.destinations.protocol import DeliveryResult, Destination, Outgoing
from touchpath.destinations.ratelimit import Limiter, retry_delay
from touchpath.destinations.ssrf import allowed_hosts
from touchpath.destinations.subscriptions import set_subscription
from touchpath.destinations.templates import Renderer
from touchpath.destinations.tracking import Tokens
from touchpath.destinations.vault import Vault
from touchpath.events import names
from touchpath.settings import Settings
from touchpath.store import Store

__all__ = ["Dispatcher", "RetryPolicy", "claim", "record", "summary"]

log = logging.getLogger(__name__)

_DUE_WHERE = """
coalesce(d.enabled, true)
  AND ((q.state = 'pending' AND q.next_attempt_at <= $now)
       OR (q.state = 'sending' AND q.lease_until < $now))
"""

_CLAIM = f"""
UPDATE outbox_queue SET state = 'sending', lease_until = $lease, updated_at = $now
WHERE id IN (
    SELECT q.id FROM outbox_queue q LEFT JOIN destinations d ON d.name = q.destination
    WHERE {_DUE_WHERE}
    ORDER BY q.next_attempt_at, q.seq
    LIMIT $n)
RETURNING id, seq, attempts
"""

_CONTENT = """
SELECT id, idempotency_key, destination, channel, profile_id, recipient, topic, template,
    content, context, render, journey, journey_version, node, entry_key, purpose, created_at
FROM outbox_messages
WHERE seq BETWEEN $lo AND $hi AND seq IN (SELECT unnest($seqs::BIGINT[]))
"""
"""The content of claimed messages, by enqueue order: a claim takes the oldest due messages, so
their `seq`s are close together and the range skips the rest of the table (DuckDB's zone maps)
without an index lookup per row."""

_DUE = f"""
SELECT 1 FROM outbox_queue q LEFT JOIN destinations d ON d.name = q.destination
WHERE {_DUE_WHERE}
LIMIT 1
"""


@dataclass
class _Done:
    """The result of one claimed message, waiting to be recorded."""

    row: dict[str, Any]
    result: DeliveryResult
    at: datetime
    sent: bool = True
    """False: the dispatcher stopped before its turn; its claim is released, nothing recorded."""


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names_ = [d[0] for d in cur.description or []]
    return [dict(zip(names_, r, strict=True)) for r in cur.fetchall()]


def claim(
    con: duckdb.DuckDBPyConnection, n: int, now: datetime, lease: timedelta
) -> tuple[list[dict[str, Any]], list[Outcome]]:
    """Claim up to `n` due messages and apply the send policy (in a writer transaction).

    Returns the rows that may leave now and the refusal events to write."""
    claimed = con.execute(_CLAIM, {"now": now, "lease": now + lease, "n": n}).fetchall()
    if not claimed:
        return [], []
    attempts = {i: a for i, _, a in claimed}
    seqs = [s for _, s, _ in claimed]
    rows = _rows(con.execute(_CONTENT, {"lo": min(seqs), "hi": max(seqs), "seqs": seqs}))
    for row in rows:
        row["attempts"] = attempts[row["id"]]
    rows.sort(key=lambda r: (r["created_at"], r["id"]))
    policy = pol.get_policy(con)
    facts = pol.gather(con, rows, policy, now)
    go: list[dict[str, Any]] = []
    stops: list[dict[str, Any]] = []
    refused: list[Outcome] = []
    for row in rows:
        d = pol.decide(row, facts, policy, now)
        if d.action == "send":
            go.append(row)
            continue
        final = d.action == "refuse"
        stops.append(
            {
                "id": row["id"],
                "state": "refused" if final else "pending",
                "next_at": d.until or now,
                "reason": d.reason,
                "status": None,
                "error": d.reason,
                "provider_id": None,
                "attempts": row["attempts"],
                "done": final,
                "t": now,
                "outcome": "refused" if final else "deferred",
                "attempt": row["attempts"],
            }
        )
        if final:
            refused.append(Outcome(names.MESSAGE_FAILED, row, now, f"refused: {d.reason}"))
    if stops:
        con.register("_stops", pa.Table.from_pylist(stops))
        try:
            _finish(con, "_stops")
            con.execute(
                "UPDATE outbox_queue SET state = 'pending', next_attempt_at = s.next_at, "
                "lease_until = NULL, last_error = s.reason, updated_at = $now "
                "FROM _stops s WHERE outbox_queue.id = s.id AND NOT s.done",
                {"now": now},
            )
            con.execute(
                "INSERT INTO outbox_attempts SELECT id, attempt, $now, outcome, NULL, reason, NULL "
                "FROM _stops",
                {"now": now},
            )
        finally:
            con.unregister("_stops")
    ids = [r["id"] for r in go if r.get("purpose", "message") == "message" and r["profile_id"]]
    if ids:
        con.execute(
            "UPDATE outbox_queue SET approved_at = $now "
            "WHERE id IN (SELECT unnest($ids::VARCHAR[]))",
            {"now": now, "ids": ids},
        )
    return go, refused


def _finish(con: duckdb.DuckDBPyConnection, results: str) -> None:
    """Move the messages of `results` (a registered table of id, state, attempts, status, error,
    provider_id, done, t) that reached a final state from the queue to `outbox_done`, in the
    caller's transaction. A message no longer in the queue (its result was recorded already, by a
    claim whose lease had ended) is not finished twice."""
    con.execute(  # a bounce may be reported (bounces.py) before its send is recorded
        "INSERT INTO outbox_done SELECT r.id, q.seq, "
        "CASE WHEN b.status IS NULL THEN r.state ELSE 'dead' END, r.attempts, r.status, "
        "CASE WHEN b.status IS NULL THEN r.error "
        "ELSE trim('bounced: ' || b.status || ' ' || coalesce(b.diagnostic, '')) END, "
        "r.provider_id, q.approved_at, r.t, r.t "
        f"FROM {results} r JOIN outbox_queue q ON q.id = r.id "
        "LEFT JOIN bounced_addresses b ON b.message_id = r.id WHERE r.done"
    )
    con.execute(f"DELETE FROM outbox_queue WHERE id IN (SELECT id FROM {results} WHERE done)")


_ENHANCED = re.compile(r"\b([45]\.\d{1,3}\.\d{1,3})\b")


def _suppress(con: duckdb.DuckDBPyConnection, bounced: list[_Done]) -> None:
    """Hard bounces at send time (the server refused the recipient with 5xx): no more email to
    the person until they subscribe again, nor to the address, whoever names it (as a DSN's
    hard bounce does, `touchpath.destinations.bounces`)."""
    for d in bounced:
        if d.row.get("profile_id"):
            set_subscription(
                con, d.row["profile_id"], d.row["channel"], "*", False, d.at, "bounce", d.row["id"]
            )
        address = d.row.get("sent_to")
        if d.row["channel"] == "email" and address:
            found = _ENHANCED.search(d.result.error or "")
            status = found.group(1) if found else str(d.result.status or "")
            con.execute(
                "INSERT OR REPLACE INTO bounced_addresses VALUES (lower(?), ?, ?, ?, ?)",
                [address, status, d.result.error, d.row["id"], d.at],
            )


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base: float
    cap: float


def _final_state(
    done: _Done, retry: RetryPolicy, rng: random.Random
) -> tuple[str, datetime, str | None]:
    """(state, next attempt time, message event) of a result."""
    r, attempts = done.result, int(done.row["attempts"]) + 1
    if r.outcome == "delivered":
        return "delivered", done.at, names.MESSAGE_DELIVERED
    if r.outcome == "sent":
        return "sent", done.at, names.MESSAGE_SENT
    if r.outcome == "retry" and attempts < retry.max_attempts:
        delay = retry_delay(attempts, r.retry_after, base=retry.base, cap=retry.cap, rng=rng)
        return "pending", done.at + timedelta(seconds=delay), None
    return "dead", done.at, names.MESSAGE_FAILED


def record(
    con: duckdb.DuckDBPyConnection,
    done: list[_Done],
    retry: RetryPolicy,
    rng: random.Random,
    now: datetime,
) -> list[Outcome]:
    """Record results (in a writer transaction); returns the message events to write."""
    rows: list[dict[str, Any]] = []
    outcomes: list[Outcome] = []
    gone: dict[str, str] = {}
    bounced: list[_Done] = []
    for d in done:
        state, next_at, event = _final_state(d, retry, rng)
        r = d.result
        error = r.error
        if r.outcome == "retry" and state == "dead":
            error = f"gave up after {retry.max_attempts} attempts: {r.error}"
        if r.outcome == "gone":
            gone[d.row["destination"]] = f"HTTP 410 for message {d.row['id']}"
        rows.append(
            {
                "id": d.row["id"],
                "state": state,
                "attempts": int(d.row["attempts"]) + 1,
                "next_at": next_at,
                "status": r.status,
                "error": error,
                "provider_id": r.provider_id,
                "done": state in ("delivered", "sent", "dead"),
                "t": d.at,
                "outcome": r.outcome,
                "ms": r.duration_ms,
            }
        )
        if d.row.get("purpose", "message") != "message":
            event = None  # forwarded events and audience updates are data, not touchpoints
        if r.bounce:
            event = names.MESSAGE_BOUNCED
            bounced.append(d)
        if event is not None:
            outcomes.append(Outcome(event, d.row, d.at, error, status=r.status))
    table = pa.Table.from_pylist(rows)
    con.register("_results", table)
    try:
        _finish(con, "_results")
        con.execute(
            "UPDATE outbox_queue SET state = 'pending', attempts = r.attempts, "
            "next_attempt_at = r.next_at, lease_until = NULL, last_status = r.status, "
            "last_error = r.error, updated_at = r.t "
            "FROM _results r WHERE outbox_queue.id = r.id AND NOT r.done"
        )
        con.execute(
            "INSERT INTO outbox_attempts SELECT id, attempts, t, outcome, status, error, ms "
            "FROM _results"
        )
    finally:
        con.unregister("_results")
    _suppress(con, bounced)
    for name, reason in gone.items():
        try:
            cfg.disable(con, name, reason, now)
        except Exception:  # a destination given in code has no row to disable
            log.warning("destination %s answered 410 and has no row to disable", name)
    return outcomes


class Dispatcher:
    """Delivers the outbox of `store` in a background thread (`start`/`stop`).

    `destinations` overrides destinations by name (tests pass `MemoryDestination`s); the others
    are built from their stored configuration."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        vault: Vault,
        destinations: dict[str, Destination] | None = None,
        seed: int | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.vault = vault
        self._given = dict(destinations or {})
        self._built: dict[str, tuple[Any, Destination, Limiter]] = {}
        self._rng = random.Random(seed)
        self._retry = RetryPolicy(
            settings.destinations_max_attempts,
            settings.destinations_backoff_seconds,
            settings.destinations_backoff_max_seconds,
        )
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._waiting: set[asyncio.Task[_Done]] = set()
        """Sends claimed but still waiting for their destination's concurrency or rate."""
        self._thread: threading.Thread | None = None
        self._renderer = Renderer()
        public = settings.public_url or f"http://{settings.host}:{settings.port}"
        self.links = Links(Tokens(vault.key), public.rstrip("/"))
        self.delivered = 0
        """Messages finished (any final state) since start."""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._release_claims()
        self._thread = threading.Thread(target=self._run, name="touchpath-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the sends in flight: each is recorded once, as it ended; messages claimed
        but not yet sent (waiting for a destination's rate or concurrency) are released to
        pending. Nothing is lost or sent twice by a clean shutdown. Waits at most a send's
        timeout (plus the time to record)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.destinations_timeout_seconds + 30)
            if self._thread.is_alive():
                log.warning("the dispatcher did not stop in time; its claims are released later")

    def wake(self) -> None:
        """Look for due messages now (after an enqueue) instead of at the next poll."""
        self._wake.set()

    def _release_claims(self) -> None:
        """A store file has one process: claims left `sending` by a dead one are released."""
        self.store.write_sync(
            lambda con: con.execute(
                "UPDATE outbox_queue SET state = 'pending', lease_until = NULL "
                "WHERE state = 'sending'"
            )
        )

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            log.exception("the dispatcher stopped")

    # ------------------------------------------------------------------ destinations
    def _destinations(
        self, con: duckdb.DuckDBPyConnection, names: set[str], ctx: Context
    ) -> dict[str, tuple[Destination, Limiter] | str]:
        """The destinations of a batch, built from their configuration (again when it changed
        since), or why one cannot be used."""
        out: dict[str, tuple[Destination, Limiter] | str] = {}
        stamps = dict(
            con.execute(
                "SELECT name, updated_at FROM destinations WHERE name IN (SELECT unnest(?))",
                [sorted(names)],
            ).fetchall()
        )
        for name in names:
            if name in self._given:
                entry = self._built.get(name)
                if entry is None:
                    entry = self._built[name] = (None, self._given[name], Limiter(64, None, 1))
                out[name] = (entry[1], entry[2])
                continue
            if name not in stamps:
                out[name] = f"destination {name!r}: no such destination"
                continue
            entry = self._built.get(name)
            if entry is None or entry[0] != stamps[name]:
                try:
                    config, secrets, _ = cfg.load(con, self.vault, name)
                    dest = build(name, config, secrets, ctx)
                except Exception as exc:
                    out[name] = str(exc)
                    continue
                lim = config.limits
                limiter = Limiter(lim.concurrency, lim.rate_per_second, lim.burst)
                entry = self._built[name] = (stamps[name], dest, limiter)
            out[name] = (entry[1], entry[2])
        return out

    # ------------------------------------------------------------------ the loop
    def _due(self) -> bool:
        with self.store.reading() as con:
            return bool(con.execute(_DUE, {"now": self.clock.now()}).fetchall())

    def _claim(self, n: int) -> tuple[list[dict[str, Any]], list[Outcome]]:
        now = self.clock.now()
        # The lease is wall time (how long a send may take before its dispatcher counts as
        # dead), on the clock's scale: on the living demo's clock, 60x the wall, 120 s would
        # run out in 2 s and a slow send would be claimed and sent again while in flight.
        speed = float(getattr(self.clock, "factor", 1.0))
        lease = timedelta(seconds=self.settings.outbox_lease_seconds * max(1.0, speed))
        return self.store.write_sync(lambda con: claim(con, n, now, lease))

    def _prepare(
        self, rows: list[dict[str, Any]], ctx: Context
    ) -> tuple[list[Outgoing | str], dict[str, tuple[Destination, Limiter] | str]]:
        with self.store.reading() as con:
            dests = self._destinations(con, {r["destination"] for r in rows}, ctx)
            return prepare(con, rows, self._renderer, self.links), dests

    def _record(self, finished: list[_Done], extra: list[Outcome]) -> None:
        now = self.clock.now()
        done = [d for d in finished if d.sent]
        unsent = [d.row["id"] for d in finished if not d.sent]

        def job(con: duckdb.DuckDBPyConnection) -> None:
            if unsent:  # claimed but never sent (stopping): pending again, no attempt counted
                con.execute(
                    "UPDATE outbox_queue SET state = 'pending', lease_until = NULL "
                    "WHERE id IN (SELECT unnest($ids::VARCHAR[])) AND state = 'sending'",
                    {"ids": unsent},
                )
            outcomes = record(con, done, self._retry, self._rng, now) if done else []
            staged = stage_outcomes(con, outcomes + extra, now)
            if staged is not None:  # queued before this commits: whoever waits sees both
                self.store.ingest(staged, internal=True)

        self.store.write_sync(job)
        self.delivered += sum(1 for d in done if d.result.outcome != "retry")

    async def _send(
        self, row: dict[str, Any], msg: Outgoing | str, found: tuple[Destination, Limiter] | str
    ) -> _Done:
        if isinstance(msg, str):
            return _Done(row, DeliveryResult("failed", error=msg), self.clock.now())
        if isinstance(found, str):
            return _Done(row, DeliveryResult("failed", error=found), self.clock.now())
        dest, limiter = found
        task = asyncio.current_task()
        if task is not None:
            self._waiting.add(task)
        try:
            await limiter.__aenter__()
        except asyncio.CancelledError:  # stopping (see `_rounds`): not sent, not lost
            return _Done(
                row, DeliveryResult("retry", error="stopped"), self.clock.now(), sent=False
            )
        finally:
            if task is not None:
                self._waiting.discard(task)
        start = time.perf_counter()
        try:
            result = await dest.send(msg)
        except Exception as exc:  # a destination's bug must not stop the others
            log.exception("destination %s failed on %s", row["destination"], row["id"])
            result = DeliveryResult("retry", error=f"{type(exc).__name__}: {exc}")
        finally:
            await limiter.__aexit__()
        if result.duration_ms is None:
            ms = (time.perf_counter() - start) * 1000
            result = DeliveryResult(
                result.outcome, result.status, result.error, result.retry_after,
                result.provider_id, ms,
            )  # fmt: skip
        if result.bounce:  # the address it bounced from
            row = {**row, "sent_to": msg.recipient}
        return _Done(row, result, self.clock.now())

    async def _main(self) -> None:
        client = HttpClient()
        ctx = Context(
            client=client,
            allow=allowed_hosts(self.settings.destinations_allow_hosts),
            timeout=self.settings.destinations_timeout_seconds,
            public_url=self.links.public_url,
        )
        try:
            await self._loop(ctx)
        finally:
            for _, dest, _ in self._built.values():
                await dest.aclose()
            await client.aclose()

    async def _loop(self, ctx: Context) -> None:
        """Claim, send and record until stopped; a failed round is logged and tried again (what
        it had claimed is sent again when its lease ends: at least once)."""
        while not self._stop.is_set():
            try:
                await self._rounds(ctx)
            except Exception:
                log.exception("dispatcher round failed; retrying in 1 s")
                await asyncio.to_thread(self._stop.wait, 1.0)

    async def _rounds(self, ctx: Context) -> None:
        """Keep up to `outbox_batch` messages in flight: claim more when half have finished;
        record results in batches (at most every 0.1 s, or when a batch is done)."""
        batch = self.settings.outbox_batch
        inflight: set[asyncio.Task[_Done]] = set()
        finished: list[_Done] = []
        refusals: list[Outcome] = []
        signal = asyncio.Event()
        last_flush = time.monotonic()

        def on_done(task: asyncio.Task[_Done]) -> None:
            inflight.discard(task)
            finished.append(task.result())
            signal.set()

        more = True  # whether the last claim may have left due messages behind
        woke = False  # woken while idle: look now, whatever the poll interval
        poll = self.settings.outbox_poll_seconds
        last_look = 0.0
        while not self._stop.is_set() or inflight or finished or refusals:
            if self._stop.is_set():
                for task in list(self._waiting):  # not started: released, not sent
                    task.cancel()
            claimed = False
            room = not self._stop.is_set() and len(inflight) <= batch // 2
            look = more or woke or self._wake.is_set() or time.monotonic() - last_look > poll
            if room and look:
                last_look = time.monotonic()
                woke = False
                self._wake.clear()
            if room and look and (more or await asyncio.to_thread(self._due)):
                want = batch - len(inflight)
                rows, refused = await asyncio.to_thread(self._claim, want)
                refusals += refused
                claimed = bool(rows or refused)
                more = len(rows) + len(refused) >= want
                if rows:
                    msgs, dests = await asyncio.to_thread(self._prepare, rows, ctx)
                    for row, msg in zip(rows, msgs, strict=True):
                        task = asyncio.create_task(self._send(row, msg, dests[row["destination"]]))
                        inflight.add(task)
                        task.add_done_callback(on_done)
            if inflight and not finished:
                signal.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(signal.wait(), 0.05)
            elif inflight:
                await asyncio.sleep(0)
            flush_due = time.monotonic() - last_flush > 0.1 or len(finished) >= batch // 2
            if (finished or refusals) and (flush_due or not inflight):
                done, finished[:] = list(finished), []
                await asyncio.to_thread(self._record, done, refusals)
                refusals = []
                last_flush = time.monotonic()
            if not inflight and not claimed and not finished:
                # Idle: a commit or an enqueue wakes it (`wake`); else it looks again after
                # `outbox_poll_seconds` (retries coming due, enqueues nobody announced).
                woke = await asyncio.to_thread(self._wake.wait, poll) or woke

    # ------------------------------------------------------------------ for tests and tools
    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Block until nothing is due and nothing is in flight (the thread keeps running)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.wake()
            if not self._due() and not self.store.query(
                "SELECT 1 FROM outbox_queue WHERE state = 'sending' LIMIT 1"
            ):
                self.store.wait_idle()
                return
            time.sleep(0.02)
        raise TimeoutError("the outbox did not drain in time")


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Messages by state."""
    rows = con.execute(
        "SELECT state, count(*) FROM outbox_queue GROUP BY 1 "
        "UNION ALL SELECT state, count(*) FROM outbox_done GROUP BY 1"
    ).fetchall()
    return {s: int(n) for s, n in rows}
