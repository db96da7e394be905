"""The writer's two lanes on a real store: a request queued behind background jobs waits for the
one running, not for the others; the background jobs keep their order and all run."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import duckdb
import pytest

from touchpath.errors import StoreUnavailable
from touchpath.events.message import stage_messages
from touchpath.settings import Settings
from touchpath.store import Store, utcnow


def test_a_request_passes_queued_background_jobs(tmp_path: Path) -> None:
    order: list[str] = []
    started, release = threading.Event(), threading.Event()

    def job(name: str) -> Any:
        def run(con: duckdb.DuckDBPyConnection) -> None:
            if name == "b0":
                started.set()
                release.wait(30)
            order.append(name)

        return run

    with Store(tmp_path / "lanes.duckdb") as store:
        futures = [store.write(job("b0"), background=True)]
        assert started.wait(30)  # b0 holds the writer; b1 and b2 queue behind it
        futures += [store.write(job(f"b{i}"), background=True) for i in (1, 2)]
        raw = b'{"type":"track","event":"Hi","userId":"u1","messageId":"m1"}'
        fut = store.ingest(stage_messages([raw], source="test", received_at=utcnow()))
        fut.add_done_callback(lambda _f: order.append("request"))
        release.set()
        assert fut.result(30).accepted == 1
        for f in futures:
            f.result(30)
    assert order == ["b0", "request", "b1", "b2"]


def test_background_jobs_run_when_requests_never_stop(tmp_path: Path) -> None:
    with Store(tmp_path / "lanes.duckdb") as store:
        stop = threading.Event()

        def requests() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                raw = b'{"type":"track","event":"Hi","userId":"u1","messageId":"m%d"}' % i
                store.ingest(stage_messages([raw], source="test", received_at=utcnow())).result()

        threads = [threading.Thread(target=requests) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            done = [store.write(lambda con: 1, background=True) for _ in range(20)]
            assert [f.result(60) for f in done] == [1] * 20
        finally:
            stop.set()
            for t in threads:
                t.join()


def _hi(event: str, mid: str) -> Any:
    raw = b'{"type":"track","event":"%s","userId":"u1","messageId":"%s"}' % (
        event.encode(),
        mid.encode(),
    )
    return stage_messages([raw], source="test", received_at=utcnow())


def test_a_request_racing_the_close_is_refused_not_left_waiting(tmp_path: Path) -> None:
    """A request that passed the open check (its gates still running) as the store closed was
    queued behind the writer's stop and never answered: its caller, and a stop or an exit
    joining that caller's thread (a component's, an executor's), waited forever. It is now
    refused (StoreUnavailable), whichever side of the close it was queued on."""
    store = Store(tmp_path / "close.duckdb")
    store.ingest(_hi("Ping", "m1")).result(30)  # the writer runs
    in_gate, release = threading.Event(), threading.Event()

    def gate(staged: Any) -> Any:
        in_gate.set()
        release.wait(30)  # the store closes meanwhile
        return staged

    store.add_ingest_gate(gate)
    got: list[Any] = []

    def request() -> None:
        try:
            got.append(store.ingest(_hi("Pong", "m2")))
        except StoreUnavailable as exc:
            got.append(exc)

    caller = threading.Thread(target=request)
    caller.start()
    assert in_gate.wait(30)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(60)
    assert not closer.is_alive()  # the writer took its stop and ended
    release.set()
    caller.join(60)
    (answer,) = got
    if isinstance(answer, Future):  # queued: answered, not left waiting
        with pytest.raises(StoreUnavailable):
            answer.result(timeout=30)
    else:
        assert isinstance(answer, StoreUnavailable)
    assert store.pending == 0


def test_prompt_listeners_run_ahead_of_the_round(tmp_path: Path) -> None:
    """A commit holding a prompt event runs the prompt listeners (identity, the journeys) at
    once; the others wait for their round and then see the whole range, the prompt ones only
    what they have not seen."""
    settings = Settings(
        db=tmp_path / "p.duckdb",
        listener_delay_seconds=3600,
        listener_idle_seconds=3600,
        listener_prompt_seconds=0,
    )
    calls: list[tuple[str, int, int]] = []
    prompted = threading.Event()

    def prompt(con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        calls.append(("prompt", first, last))
        prompted.set()

    def other(con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        calls.append(("other", first, last))

    with Store(settings.db, settings) as store:
        store.add_commit_listener(prompt, prompt=True)
        store.add_commit_listener(other)
        store.set_prompt_events(frozenset({"Pong"}))
        store.ingest(_hi("Ping", "m1")).result(30)
        assert not prompted.wait(0.3)  # no prompt event: nothing runs before the round
        store.ingest(_hi("Pong", "m2")).result(30)
        assert prompted.wait(30)
        assert calls == [("prompt", 1, 2)]
        store.ingest(_hi("Ping", "m3")).result(30)
        store.wait_idle()  # a write brings every listener up to date first
    assert calls == [("prompt", 1, 2), ("prompt", 3, 3), ("other", 1, 3)]


def test_a_request_waits_for_one_listener_not_the_round(tmp_path: Path) -> None:
    """A request that comes while a round of listeners runs is committed between two of them
    (its own listeners run in the next round), so it waits for one listener, not the round."""
    settings = Settings(db=tmp_path / "r.duckdb", listener_idle_seconds=0.01)
    seen: list[tuple[str, int, int]] = []
    request: list[Future[Any]] = []
    done_when_second_ran: list[bool] = []
    second_ran = threading.Event()

    def first(con: duckdb.DuckDBPyConnection, a: int, b: int) -> None:
        seen.append(("first", a, b))
        if not request:  # a request arrives while the round runs
            request.append(store.ingest(_hi("Later", "m2")))
            while not store._queue.requests_waiting():
                pass

    def second(con: duckdb.DuckDBPyConnection, a: int, b: int) -> None:
        seen.append(("second", a, b))
        done_when_second_ran.append(request[0].done())
        second_ran.set()

    with Store(settings.db, settings) as store:
        store.add_commit_listener(first)
        store.add_commit_listener(second)
        store.ingest(_hi("Hi", "m1")).result(30)
        assert second_ran.wait(30)
        assert request[0].result(30).accepted == 1
        store.wait_idle()
    assert done_when_second_ran[0] is True
    assert seen == [("first", 1, 1), ("second", 1, 1), ("first", 2, 2), ("second", 2, 2)]


def test_the_writer_checkpoints_in_a_slice_of_its_own(tmp_path: Path) -> None:
    """Once the write-ahead log holds `checkpoint_wal_mb`, the writer checkpoints between
    slices (DuckDB's own checkpoint, inside a commit, only at 4x that)."""
    settings = Settings(db=tmp_path / "c.duckdb", checkpoint_wal_mb=0.05)
    wal = Path(f"{settings.db}.wal")
    with Store(settings.db, settings) as store:
        raws = [
            b'{"type":"track","event":"Hi","userId":"u%d","messageId":"m%d"}' % (i, i)
            for i in range(400)
        ]
        store.ingest(stage_messages(raws, source="test", received_at=utcnow())).result(30)
        store.wait_idle()
        (threshold,) = store.query("SELECT current_setting('checkpoint_threshold')")[0]
        assert threshold == "204.7 KiB"  # 4 x 0.05 MB
        # the commit's log was over 0.05 MB and under 0.2 MB: only the writer's slice
        # checkpointed it (the next write finds the log empty, or nearly)
        store.write_sync(lambda con: None)
        assert not wal.exists() or wal.stat().st_size < 0.05 * 2**20
        assert store.query("SELECT count(*) FROM events") == [(400,)]
