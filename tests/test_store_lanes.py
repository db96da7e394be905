"""The writer's two lanes on a real store: a request queued behind background jobs waits for the
one running, not for the others; the background jobs keep their order and all run."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb

from touchpath.events.message import stage_messages
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
