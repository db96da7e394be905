"""The embedded store: one DuckDB file, one writer thread, reads on their own cursors.

DuckDB allows one writer, so every write in a process goes through `Store`'s writer thread, fed by
a queue in two lanes (`touchpath.store.lanes`: requests, and background work that yields to them).
Ingest jobs that queue up while a commit is under way are committed together in the next
transaction (group commit): the commit rate, not the request rate, decides throughput.
A future is resolved only after its transaction commits, so the collector answers 200 only for
durable messages.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from touchpath.errors import BadRequest, Overloaded, StoreUnavailable
from touchpath.events.message import Staged
from touchpath.settings import Settings
from touchpath.store.keys import Source
from touchpath.store.lanes import Lanes, LanesClosed
from touchpath.store.listeners import CommitListener, Listeners
from touchpath.store.memo import Memo
from touchpath.store.migrations import apply_migrations, discover
from touchpath.store.outcomes import Appended, IngestResult, RowsChecked
from touchpath.store.sources import SourcesMixin

if TYPE_CHECKING:  # NumPy, Arrow and the dedupe window are the writer's: loaded as it starts
    import pyarrow as pa

    from touchpath.store.recent import RecentHashes

__all__ = ["Appended", "CommitListener", "IngestResult", "Source", "Store"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _IngestJob:
    staged: Staged
    future: Future[IngestResult]
    background: bool = False


@dataclass
class _WriteJob:
    fn: Callable[[duckdb.DuckDBPyConnection], Any]
    future: Future[Any]
    background: bool = False
    yielded: bool = False  # it waited once already for requests after running the listeners


_STOP = object()


def utcnow() -> datetime:
    """The current time as a naive UTC datetime, the form the store keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


class Store(SourcesMixin):
    """A Touchpath store on one DuckDB file. Use as a context manager or call `close()`."""

    def __init__(self, path: str | Path, settings: Settings | None = None) -> None:
        self.settings = settings or Settings(db=Path(path))
        self.path = Path(path)
        try:
            self._root = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise StoreUnavailable(f"{self.path}: cannot open the store: {exc}") from exc
        self._root.execute("SET GLOBAL TimeZone = 'UTC'")
        if self.settings.memory_limit_mb is not None:
            self._root.execute(
                f"SET GLOBAL memory_limit = '{int(self.settings.memory_limit_mb)}MB'"
            )
        self._root_lock = threading.Lock()
        self._migrate()
        self.memo = Memo()
        """Results of pure functions its readers ask again (the rendered SQL of analyses)."""
        self._queue = Lanes()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._listeners = Listeners()
        self._gates: list[Callable[[Staged], Staged]] = []
        self._rows_gates: list[Callable[[pa.Table], RowsChecked]] = []
        self._keys_by_write_key: dict[str, tuple[str, float | None]] = {}
        """Live write keys seen: source id and the key's end (epoch seconds)."""
        self._window = timedelta(hours=self.settings.dedupe_window_hours)
        # Hashes of (source, messageId) committed within the dedupe window, by commit time
        # (made with the writer, `_start`).
        self._recent_hashes: RecentHashes
        self._next_seq = 0
        self._closed = False
        self._failed: BaseException | None = None
        self.ingest_commits = 0
        """Ingest transactions committed since the store was opened (group commit: many requests each)."""
        self.ingest_requests = 0
        """Ingest jobs (requests) those transactions carried."""
        self.ingest_messages = 0
        """Messages those transactions carried, duplicates and rejected ones included."""
        self._last_ingest = time.monotonic()
        self._last_request = float("-inf")  # when a request (not an internal write) came
        self._last_group = 0  # requests in the last ingest commit
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._normaliser: Any = None
        self._normalise: Callable[[pa.Table, pa.Table | None], pa.Table] = self._normalise_first
        self._wal = Path(f"{self.path}.wal")
        self._checkpoint_after = 0.0  # a failed checkpoint is tried again after this time

    def _normalise_first(self, table: pa.Table, typed: pa.Table | None = None) -> pa.Table:
        """The ingest normaliser, prepared on the first commit (in the writer thread): its
        module and statements are the writer's, which a process that only reads never needs."""
        from touchpath.store import ingest

        if self._normaliser is None:
            self._normaliser = ingest.Normaliser(
                self._writer_con, timedelta(hours=self.settings.max_future_hours)
            )
        out: pa.Table = self._normaliser(table, typed)
        return out

    @property
    def _recent(self) -> RecentHashes:
        """The dedupe window (loaded with the writer, on first use)."""
        self._start()
        return self._recent_hashes

    def _start(self) -> None:
        """Start the writer on the first write: a store opened only to read (a CLI query)
        never loads the dedupe window, prepares the ingest statements or starts the thread
        (about half a second on a store with a few hundred thousand recent messages)."""
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is not None:
                return
            from touchpath.store.recent import RecentHashes

            self._recent_hashes = RecentHashes()
            self._next_seq = self._load_state()
            self._writer_con = self.cursor()
            # The channel rules' IN lists would each become a join (DuckDB's in_clause rewrite),
            # a fixed cost per commit larger than the per-row work; this connection only.
            self._writer_con.execute("SET disabled_optimizers = 'in_clause'")
            # The writer checkpoints in slices of its own (`_checkpoint`); DuckDB's automatic
            # checkpoint, inside the commit that crosses its threshold, is the backstop.
            mb = self.settings.checkpoint_wal_mb
            self._writer_con.execute(f"SET checkpoint_threshold = '{int(4 * mb * 2**20)}B'")
            thread = threading.Thread(target=self._run, name="touchpath-writer", daemon=True)
            thread.start()
            self._thread = thread

    # ----------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish queued writes, then close the file."""
        if self._closed:
            return
        self._closed = True
        with self._start_lock:
            if self._thread is not None:
                self._queue.put_last(_STOP)
                self._thread.join()
                self._writer_con.close()
            self._refuse_left(StoreUnavailable(f"{self.path}: the store closed before it ran"))
        # A reader on another thread (a component's worker) may be mid-query: DuckDB refuses
        # to close under it rather than wait, so wait here for that query to end.
        deadline = time.monotonic() + 10
        while True:
            try:
                self._root.close()
                return
            except duckdb.Error as exc:
                if "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @property
    def closed(self) -> bool:
        """Whether `close` was called (a worker reading beside the store stops then)."""
        return self._closed

    def _migrate(self) -> None:
        apply_migrations(self._root, utcnow())

    def _load_state(self) -> int:
        con = self._root
        cutoff = utcnow() - self._window
        self._recent_hashes.load_log(con, cutoff)
        # fetchall: a result left unfinished on the root connection held its transaction open,
        # and with it every checkpoint off (the WAL and memory grew with everything written).
        ((max_seq,),) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()
        return int(max_seq) + 1

    @property
    def schema_version(self) -> int:
        return max(m.version for m in discover())

    # ----------------------------------------------------------------------------- reads
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the same database, for reads on the caller's thread."""
        if self._closed:
            raise StoreUnavailable(f"{self.path}: the store is closed")
        with self._root_lock:
            return self._root.cursor()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read cursor that is closed afterwards."""
        cur = self.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one read query and return its rows."""
        with self.reading() as cur:
            return cur.execute(sql, params or []).fetchall()

    def query_dicts(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Run one read query and return its rows as dicts keyed by column name."""
        with self.reading() as cur:
            result = cur.execute(sql, params or [])
            names = [d[0] for d in result.description or []]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    # ----------------------------------------------------------------------------- writes
    def add_commit_listener(self, listener: CommitListener, *, prompt: bool = False) -> None:
        """Run `listener` in the writer thread after each ingest commit (once, however often it
        is added). `prompt`: also within `listener_prompt_seconds` of a commit holding one of
        `set_prompt_events` (identity, then the journeys; `touchpath.store.listeners`)."""
        self._listeners.add(listener, prompt=prompt)

    def remove_commit_listener(self, listener: CommitListener) -> None:
        """Stop running `listener` (a component stopping); unknown listeners are ignored."""
        self._listeners.remove(listener)

    def set_prompt_events(self, names: frozenset[str]) -> None:
        """The event names whose commit runs the prompt listeners soon (the journey engine's)."""
        self._listeners.prompt_events = names

    def write(
        self, fn: Callable[[duckdb.DuckDBPyConnection], T], *, background: bool = False
    ) -> Future[T]:
        """Run `fn(con)` in the writer thread inside one transaction (`background`: in the lane
        that yields to requests, for work split into short jobs such as the journey timers)."""
        self._check_open()
        self._start()
        fut: Future[T] = Future()
        self._put(_WriteJob(fn, fut, background))
        return fut

    def _put(self, job: _IngestJob | _WriteJob) -> None:
        try:
            self._queue.put(job, background=job.background)
        except LanesClosed:  # the store closed meanwhile: refused as those left queued are
            self._refuse_left(StoreUnavailable(f"{self.path}: the store is closed"), [job])

    def write_sync(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`write`, waiting for the result."""
        return self.write(fn).result()

    def ingest(
        self, staged: Staged, *, internal: bool = False, background: bool = False
    ) -> Future[IngestResult]:
        """Queue staged messages; the future resolves once they are committed.

        `internal`: messages Touchpath writes itself (audience changes, journey and message
        events) skip the queue limit, since refusing them would lose what was already decided;
        they may be queued from any thread, the writer's listeners included. `background`
        (internal ones only): committed alone, in the lane that yields to requests."""
        self._check_open()
        if staged.rows is not None and not internal:
            raise ValueError("typed rows (Staged.rows) are for messages Touchpath made itself")
        if not internal:
            for gate in self._gates:
                staged = gate(staged)
            if not staged.raws:  # a plan refused every message: record why, nothing to stage
                return self._side_only(staged)
        n = len(staged)
        if not internal:
            self._last_request = time.monotonic()
        with self._pending_lock:
            if (
                not internal
                and self._pending
                and self._pending + n > self.settings.writer_queue_max
            ):
                raise Overloaded(
                    f"the writer has {self._pending} messages waiting; retry shortly",
                    retry_after=self.settings.retry_after_seconds,
                )
            self._pending += n
        fut: Future[IngestResult] = Future()
        self._start()
        background = internal and (background or staged.rows is not None)
        self._put(_IngestJob(staged, fut, background))
        return fut

    def add_ingest_gate(self, gate: Callable[[Staged], Staged]) -> None:
        """Pass every request's messages through `gate` before they are queued (in the
        request's thread): it may rewrite or take out messages, count those it refused in
        `Staged.refused` and add `side_writes` (a tracking plan, touchpath.catalogue.gate)."""
        if gate not in self._gates:
            self._gates.append(gate)

    def remove_ingest_gate(self, gate: Callable[[Staged], Staged]) -> None:
        if gate in self._gates:
            self._gates.remove(gate)

    def add_rows_gate(self, gate: Callable[[pa.Table], RowsChecked]) -> None:
        """Pass the rows of every `append_rows` (the file importers) through `gate` before they
        are queued: the ingest gates' check for rows already in the event log's shape."""
        if gate not in self._rows_gates:
            self._rows_gates.append(gate)

    def remove_rows_gate(self, gate: Callable[[pa.Table], RowsChecked]) -> None:
        if gate in self._rows_gates:
            self._rows_gates.remove(gate)

    def _side_only(self, staged: Staged) -> Future[IngestResult]:
        """Commit a request's side writes alone (every message of it was refused)."""

        def run(con: duckdb.DuckDBPyConnection) -> IngestResult:
            for write in staged.side_writes:
                write(con)
            return IngestResult(accepted=0, rejected=staged.refused, duplicates=0)

        return self.write(run)

    def seconds_since_ingest(self) -> float:
        """Seconds since the last ingest or append committed (or since the store was opened)."""
        return time.monotonic() - self._last_ingest

    def requests_recent(self, seconds: float = 1.0) -> bool:
        """Whether an ingest request came within `seconds` (background work then goes in
        shorter slices)."""
        return time.monotonic() - self._last_request < seconds

    @property
    def pending(self) -> int:
        """Messages queued for the writer and not yet committed."""
        return self._pending

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable(f"{self.path}: the store is closed")
        if self._failed is not None:
            raise StoreUnavailable(f"{self.path}: the writer stopped: {self._failed}")

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # a bug, not a failed write: those resolve their futures
            log.exception("the writer thread stopped")
            self._failed = exc
            self._refuse_left(StoreUnavailable(f"{self.path}: the writer stopped: {exc}"))

    def _refuse_left(self, err: StoreUnavailable, jobs: list[Any] | None = None) -> None:
        """Refuse the jobs still queued (or `jobs`) and any queued from now on: one queued as
        the writer took its stop waited forever, and any stop or exit joining its thread."""
        for job in self._queue.close() if jobs is None else jobs:
            if isinstance(job, _IngestJob | _WriteJob) and not job.future.done():
                with self._pending_lock:
                    self._pending -= len(job.staged) if isinstance(job, _IngestJob) else 0
                job.future.set_exception(err)

    def _loop(self) -> None:
        carry: Any = None
        while True:
            if carry is None:
                self._checkpoint()
            job = carry if carry is not None else self._next_job()
            carry = None
            if job is _STOP:
                self._flush_listeners()
                return
            if isinstance(job, _WriteJob):
                # A write may read what the listeners maintain (profiles, sentiment): bring
                # them up to date first. A background job (a timer batch) then waits its
                # turn again if requests came meanwhile: a request waits for one slice of
                # work (the listeners, or the job), not both.
                if job.background and not job.yielded and self._listeners.unlistened is not None:
                    self._flush_listeners(yielding=True)
                    job.yielded = True
                    if self._queue.requests_waiting():
                        self._queue.yield_turn(job)
                        continue
                self._flush_listeners(yielding=job.background)
                self._run_write(job)
                continue
            jobs = [job]
            n = len(job.staged)
            # Under concurrent load (the last commit carried several requests), wait a moment
            # for the requests that are on their way: a commit has a fixed cost of ~10 ms, so
            # larger groups cost less per message (like PostgreSQL's commit_delay).
            gather = self.settings.writer_gather_seconds if self._last_group > 1 else 0.0
            deadline = time.monotonic() + gather
            while n < self.settings.writer_max_batch and not job.background:
                try:
                    wait = deadline - time.monotonic()
                    nxt = self._queue.get(timeout=max(wait, 0), lane=0)
                except queue.Empty:
                    break
                if isinstance(nxt, _IngestJob):
                    jobs.append(nxt)
                    n += len(nxt.staged)
                else:
                    carry = nxt
                    break
            self._last_group = len(jobs)
            self._commit_ingest(jobs)
            if self._listeners_overdue():
                self._flush_listeners(yielding=True)
                self._queue.yield_turn()  # a background slice: waiting requests go next
            elif self._listeners.prompt_due(self.settings.listener_prompt_seconds):
                self._listeners.flush_prompt(self._writer_con)
                self._queue.yield_turn()

    def _next_job(self) -> Any:
        """The next job; while listeners have unseen events, an idle writer runs them first."""
        while self._listeners.unlistened is not None:
            try:
                return self._queue.get(timeout=self.settings.listener_idle_seconds)
            except queue.Empty:
                self._flush_listeners(yielding=True)
        return self._queue.get()

    def _run_write(self, job: _WriteJob) -> None:
        con = self._writer_con
        try:
            con.execute("BEGIN")
            result = job.fn(con)
            con.execute("COMMIT")
        except BaseException as exc:
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)

    def _commit_ingest(self, jobs: list[_IngestJob]) -> None:
        con = self._writer_con
        total = sum(len(j.staged) for j in jobs)
        try:
            import numpy as np
            import pyarrow as pa

            from touchpath.store import ingest
            from touchpath.store.recent import fresh

            table, owner = ingest.staged_table([job.staged for job in jobs])
            base = self._next_seq
            # Few statements per commit: each costs a fixed overhead, which is a large part of
            # a commit's work at the batch sizes concurrent requests give.
            normalised = self._normalise(table, jobs[0].staged.rows)
            keep = fresh(self._writer_con, normalised, self._recent_hashes, self._window)
            good, bad = ingest.split_normalised(normalised, table, pa.array(keep))
            con.register("normalised", good)
            if bad.num_rows:  # each registration costs ~0.3 ms: most commits reject nothing
                con.register("rejected_rows", bad)
            try:
                con.execute("BEGIN")
                (any_suppressed,) = con.execute(
                    "SELECT EXISTS (SELECT 1 FROM suppressions)"
                ).fetchone() or (True,)
                (inserted,) = con.execute(
                    ingest.insert_events_sql(base, suppressions=bool(any_suppressed))
                ).fetchone() or (0,)
                if bad.num_rows:
                    con.execute(
                        "INSERT INTO rejected SELECT received_at, source, message_id, type, "
                        "reason, raw FROM rejected_rows"
                    )
                for job in jobs:
                    for write in job.staged.side_writes:
                        write(con)
                con.execute("COMMIT")
            except BaseException:
                with suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
            finally:
                con.unregister("normalised")
                if bad.num_rows:
                    con.unregister("rejected_rows")
        except BaseException as exc:
            self._ingest_failed(jobs, exc, total)
            return
        self.ingest_commits += 1
        self.ingest_requests += len(jobs)
        self.ingest_messages += total
        dups = np.bincount(owner[~keep], minlength=len(jobs)).tolist()
        bad_ords = bad.column("ord").to_numpy()
        rejected = np.bincount(owner[bad_ords], minlength=len(jobs)).tolist()
        self._next_seq = base + int(inserted)
        # Valid rows count as seen (rejected ones may be sent again, fixed).
        self._recent_hashes.add(utcnow(), good.column("h").to_numpy())
        with self._pending_lock:
            self._pending -= total
        for j, job in enumerate(jobs):
            kept = len(job.staged) - dups[j]
            job.future.set_result(
                IngestResult(
                    accepted=kept - rejected[j],
                    rejected=rejected[j] + job.staged.refused,
                    duplicates=dups[j],
                )
            )
        self._last_ingest = time.monotonic()
        if inserted:
            self._listeners.committed(base, base + int(inserted) - 1, good)

    def _ingest_failed(self, jobs: list[_IngestJob], exc: BaseException, total: int) -> None:
        """A commit of `jobs` failed and was rolled back: retry each request alone when there
        are several (one request's message can fail the group it was committed with, so only
        the one that carries it gets the error), else answer the request."""
        if len(jobs) > 1 and isinstance(exc, Exception):
            log.warning("ingest commit of %d requests failed (%s); one by one", len(jobs), exc)
            for job in jobs:
                self._commit_ingest([job])
            return
        log.exception("ingest commit failed")
        with self._pending_lock:
            self._pending -= total
        err: Exception = StoreUnavailable(
            f"{self.path}: the write failed and was rolled back: {exc}"
        )
        if isinstance(
            exc,
            duckdb.ConversionException | duckdb.OutOfRangeException | duckdb.InvalidInputException,
        ):
            # The data, not the store: resending it will not help (SDKs retry a 5xx).
            err = BadRequest(f"batch: cannot be stored: {exc}")
        jobs[0].future.set_exception(err)

    # ----------------------------------------------------------------------------- listeners
    def _flush_listeners(self, *, yielding: bool = False) -> None:
        """Run the commit listeners once over every seq committed since they last ran
        (`yielding`: a background slice, which commits the requests waiting between two
        listeners)."""
        self._listeners.flush(self._writer_con, self._commit_waiting if yielding else None)

    def _commit_waiting(self) -> None:
        """Commit the ingest requests at the head of their lane, as one group (between two
        listeners of a round: their own listeners run in the next round)."""
        jobs: list[_IngestJob] = []
        n = 0
        while n < self.settings.writer_max_batch:
            job = self._queue.take_request(lambda j: isinstance(j, _IngestJob))
            if job is None:
                break
            jobs.append(job)
            n += len(job.staged)
        if jobs:
            self._last_group = len(jobs)
            self._commit_ingest(jobs)

    def _checkpoint(self) -> None:
        """Between slices, when no request waits but requests came in the last second:
        checkpoint once the write-ahead log holds `checkpoint_wal_mb`. DuckDB's checkpoint
        blocks every commit while it runs and costs about what was written since the last one,
        so small, frequent checkpoints in a slice of their own keep a request from waiting
        behind a large one inside another job's commit (measured: a 100k-timer drain's timer
        jobs carried 1-5 s checkpoints of a 9-12 MB log, with requests waiting behind them).
        Without requests nobody waits, and DuckDB's own checkpoint (at 4x) costs less."""
        if self._queue.requests_waiting() or time.monotonic() < self._checkpoint_after:
            return
        try:
            size = self._wal.stat().st_size
        except OSError:
            return
        if size < self.settings.checkpoint_wal_mb * 2**20 * (1 if self.requests_recent() else 4):
            return
        try:
            self._writer_con.execute("CHECKPOINT")
        except duckdb.Error as exc:  # a transaction open elsewhere: DuckDB's own, later
            log.debug("checkpoint skipped: %s", exc)
            self._checkpoint_after = time.monotonic() + 1.0
        self._queue.yield_turn()

    def _listeners_overdue(self) -> bool:
        """Listeners wait while ingest keeps coming (they then cover one larger range, which
        costs less set-wise) but never longer than `listener_delay_seconds`; an idle writer runs
        them after `listener_idle_seconds` (see `_next_job`)."""
        return self._listeners.overdue(self.settings.listener_delay_seconds)

    # ----------------------------------------------------------------------------- bulk appends
    def append_rows(self, rows: pa.Table) -> Future[Appended]:
        """Append rows already in the event log's shape (every column but `seq`, and `k` = 0, 1,
        ... giving their order) in one writer transaction: the file importers' path.

        Rows already in the log (same source and messageId: a file imported again) and rows of
        suppressed users are dropped, the latter by the check ingest makes; the rest are
        numbered in order. The rows gates (a tracking plan) check them first; what they refuse
        or flag is recorded in the same transaction. After the commit the commit listeners run,
        as for ingest.
        """
        checked = [RowsChecked(rows)]
        for gate in self._rows_gates:
            checked.append(gate(checked[-1].rows))
        rows = checked[-1].rows

        def job(con: duckdb.DuckDBPyConnection) -> Appended:
            from touchpath.store import ingest

            base = self._next_seq
            got = ingest.append(con, base, rows)
            for c in checked:
                for write in c.side_writes:
                    write(con)
            got = replace(
                got,
                blocked=sum(c.blocked for c in checked),
                flagged=sum(c.flagged for c in checked),
            )
            con.execute("COMMIT")
            self._next_seq = base + got.inserted
            self._last_ingest = time.monotonic()
            if got.inserted:
                self._listeners.committed(base, base + got.inserted - 1)
                self._flush_listeners()
            con.execute("BEGIN")  # the empty transaction `_run_write` commits
            return got

        return self.write(job)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until every queued write has been committed (tests, demo)."""
        deadline = time.monotonic() + timeout
        self.write_sync(lambda con: None)
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.01)
