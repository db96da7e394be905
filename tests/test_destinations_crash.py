"""A dispatcher process killed with SIGKILL mid-send, then restarted: every message is
delivered, and a message received twice is the same message (same webhook-id and
idempotency key), never a different one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from touchpath.demo.receivers import HttpReceiver
from touchpath.destinations import OutboxMessage, enqueue, message_id
from touchpath.destinations import api as dapi
from touchpath.settings import Settings
from touchpath.store import Store

N = 300
CHILD = "import threading, touchpath.system as s; tp = s.Touchpath.open(background=True); threading.Event().wait()"


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_sigkill_mid_send_then_restart_delivers_everything(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    env = {**os.environ, "TOUCHPATH_DB": str(db), "TOUCHPATH_DESTINATIONS_ALLOW_HOSTS": "127.0.0.1",
           "TOUCHPATH_OUTBOX_POLL_SECONDS": "0.05", "TOUCHPATH_OUTBOX_BATCH": "50",
           "TOUCHPATH_JOURNEY_REFRESH_SECONDS": "0"}  # fmt: skip
    with HttpReceiver() as hooks:
        with Store(db, Settings(db=db)) as store:
            out = dapi.put_destination(
                store, "hooks",
                {"config": {"kind": "webhook", "url": hooks.url + "/hooks/k",
                            "limits": {"concurrency": 8}}},
            )  # fmt: skip
            hooks.secrets = [out.new_secret or ""]
            msgs = [
                OutboxMessage(
                    idempotency_key=f"k{i}",
                    destination="hooks",
                    channel="webhook",
                    content={"payload": {"i": i}},
                )
                for i in range(N)
            ]
            store.write_sync(lambda con: enqueue(con, msgs))
        hooks.delay("/hooks/k", 0.2)  # sends are in flight when the kill comes
        child = _spawn(env)
        deadline = time.monotonic() + 60
        while hooks.count < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert hooks.count >= 40, child.stderr.read().decode() if child.poll() is not None else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        got_before = hooks.count
        assert got_before < N
        hooks.delay("/hooks/k", 0.0)
        child = _spawn(env)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if len({r.headers["webhook-id"] for r in hooks.of("webhook")}) == N:
                    break
                time.sleep(0.05)
            time.sleep(1.0)  # the dispatcher records the last results
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(30)
    got = hooks.of("webhook")
    ids = Counter(r.headers["webhook-id"] for r in got)
    assert set(ids) == {message_id(f"k{i}") for i in range(N)}  # every message arrived
    for r in got:  # a repeat is the same message: same id, key and body
        i = r.data["i"]
        assert r.headers["webhook-id"] == message_id(f"k{i}")
        assert r.headers["idempotency-key"] == f"k{i}"
        assert r.verified is True
    assert sum(ids.values()) - N <= 8 + 50  # at most what was in flight or claimed at the kill
    with Store(db, Settings(db=db)) as store:
        states = dict(store.query("SELECT state, count(*) FROM outbox GROUP BY 1"))
    assert states == {"delivered": N}
