"""Crash safety: `kill -9` under load loses no acknowledged message and duplicates none."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from touchpath.store import Store

pytestmark = pytest.mark.slow

BATCH = 50
CLIENTS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def _server(db: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from touchpath.cli import main; main()",
         "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=20).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"the server did not start: {err.decode(errors='replace')}")
        time.sleep(0.1)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _batch(client: int, n: int) -> list[dict[str, object]]:
    return [
        {"type": "track", "event": "Product Viewed", "userId": f"c{client}-u{i % 7}",
         "messageId": str(uuid.uuid4()), "properties": {"sku": f"s{i}", "n": n}}
        for i in range(BATCH)
    ]  # fmt: skip


def _counts(db: Path) -> tuple[int, int]:
    with Store(db) as store:
        (total, distinct) = store.query("SELECT count(*), count(DISTINCT message_id) FROM events")[
            0
        ]
    return int(total), int(distinct)


def test_kill_9_under_load_loses_no_acked_message(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    with Store(db) as store:
        key = store.create_source("crash").write_key
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1/batch"
    sent: list[list[dict[str, object]]] = []
    acked: list[list[dict[str, object]]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(c: int) -> None:
        with httpx.Client(auth=(key, ""), timeout=10) as http:
            n = 0
            while not stop.is_set():
                batch = _batch(c, n)
                n += 1
                with lock:
                    sent.append(batch)
                try:
                    r = http.post(url, json={"batch": batch})
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                if r.status_code == 200:
                    with lock:
                        acked.append(batch)

    with _server(db, port) as proc:
        threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # mid-load: requests are in flight right now
        proc.wait(10)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(15)
    assert len(acked) >= 40, "too few batches acknowledged before the kill"
    assert len(sent) > len(acked), "every batch was acknowledged: the kill came too late"

    acked_ids = {m["messageId"] for b in acked for m in b}
    with Store(db) as store:
        stored = dict(store.query("SELECT message_id, count(*) FROM events GROUP BY 1"))
    missing = acked_ids - stored.keys()
    assert not missing, f"{len(missing)} acknowledged messages were lost"
    assert max(stored.values()) == 1

    # The clients resend everything, acknowledged or not, to the restarted server.
    with _server(db, port), httpx.Client(auth=(key, ""), timeout=30) as http:
        for batch in sent:
            r = http.post(url, json={"batch": batch})
            assert r.status_code == 200, r.text
    all_ids = {m["messageId"] for b in sent for m in b}
    assert _counts(db) == (len(all_ids), len(all_ids))
