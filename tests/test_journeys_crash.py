"""A process running a journey for many people is killed with SIGKILL mid-run, with its sends
going to a real webhook receiver on 127.0.0.1; a new process picks up from the file. Every person
ends where the definition says, every step ran once, and the receiver gets exactly the keys the
definition calls for (a repeat, if any, is a redelivery of the same message: same key and body).

CI runs 5,000 people (10,000 sends; the machine is shared); `JOURNEY_CRASH_PEOPLE=100000` runs the issue's 100k (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from touchpath.demo.receivers import HttpReceiver, Received
from touchpath.destinations import api as dapi
from touchpath.events.message import stage_messages
from touchpath.orchestrate import load_journey, publish, save_journey
from touchpath.orchestrate.nodes import split_bucket_sql
from touchpath.settings import Settings
from touchpath.store import Store, utcnow
from touchpath.system import Touchpath

N = int(os.environ.get("JOURNEY_CRASH_PEOPLE", "5000"))
CHILD = (  # SIGTERM stops it as `serve` does: the dispatcher records what it has sent
    "import signal, threading, touchpath.system as s; tp = s.Touchpath.open(background=True); "
    "stop = threading.Event(); signal.signal(signal.SIGTERM, lambda *a: stop.set()); "
    "stop.wait(); tp.close()"
)
JOURNEY = """
name: crashy
entry: {{kind: schedule, start: "{start}"}}
nodes:
  split:
    kind: split
    variants: [{{name: a, weight: 50, next: hook_a}}, {{name: b, weight: 50, next: hook_b}}]
  hook_a: {{kind: webhook, destination: hooks, body: {{arm: a}}, next: pause}}
  hook_b: {{kind: webhook, destination: hooks, body: {{arm: b}}, next: pause}}
  pause: {{kind: wait, duration: 30s, next: last}}
  last: {{kind: webhook, destination: hooks, body: {{step: last}}}}
"""


class Keys:
    """What the receiver got, by idempotency key (the receiver keeps no request bodies)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count: Counter[str] = Counter()
        self.bodies: dict[str, bytes] = {}
        self.changed: list[str] = []
        self.unverified = 0

    def __call__(self, r: Received) -> None:
        if r.kind != "webhook":
            return
        key = r.headers.get("idempotency-key", "")
        with self.lock:
            self.count[key] += 1
            if self.bodies.setdefault(key, r.body) != r.body:
                self.changed.append(key)
            self.unverified += r.verified is not True


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _setup(db: Path, url: str) -> str:
    """N people (identified through the tracking path), a webhook destination, the journey
    published to start now; returns the destination's signing secret."""
    with Touchpath.open(Settings(db=db)) as tp:
        for lo in range(0, N, 20_000):
            raws = [
                b'{"type":"identify","userId":"p%d","traits":{"n":%d}}' % (i, i)
                for i in range(lo, min(N, lo + 20_000))
            ]
            tp.store.ingest(stage_messages(raws, source="test", received_at=utcnow())).result()
        tp.store.wait_idle()
        out = dapi.put_destination(
            tp.store, "hooks",
            {"config": {"kind": "webhook", "url": url + "/hooks/j", "limits": {"concurrency": 16}}},
        )  # fmt: skip
        start = datetime.now(UTC).replace(tzinfo=None).replace(microsecond=0) - timedelta(seconds=1)
        text = JOURNEY.format(start=start.isoformat())
        engine = tp.services["journeys"]
        save_journey(engine, load_journey(text), text)
        publish(engine, "crashy")
        return out.new_secret or ""


@pytest.mark.slow
def test_sigkill_mid_journey_then_restart(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    env = {**os.environ, "TOUCHPATH_DB": str(db), "TOUCHPATH_DESTINATIONS_ALLOW_HOSTS": "127.0.0.1",
           "TOUCHPATH_OUTBOX_POLL_SECONDS": "0.05", "TOUCHPATH_JOURNEY_REFRESH_SECONDS": "0"}  # fmt: skip
    keys = Keys()
    with HttpReceiver(keep=100, on_receive=keys) as hooks:
        hooks.secrets = [_setup(db, hooks.url)]
        child = _spawn(env)
        deadline = time.monotonic() + 300
        t0 = time.monotonic()
        # The kill comes with a twentieth of the sends made: the first sends are under way and
        # people are in the journey, before the pause or in it.
        while hooks.count < N // 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        print(f"killed after {time.monotonic() - t0:.1f}s with {hooks.count} requests received")
        assert hooks.count >= N // 10, child.stderr.read().decode() if child.poll() else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        with Store(db, Settings(db=db)) as store:  # the kill came mid-run
            ((waiting,),) = store.query("SELECT count(*) FROM journey_state WHERE status <> 'done'")
        assert hooks.count < 2 * N and waiting > 0, (hooks.count, waiting)
        child = _spawn(env)
        try:
            deadline = time.monotonic() + 600
            while len(keys.count) < 2 * N and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)  # the dispatcher records the last results
            print(f"restarted: done {time.monotonic() - t0:.1f}s after the first start")
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(60)
    with Store(db, Settings(db=db)) as store:
        people = store.query_dicts(
            f"""
            SELECT s.profile_id, s.entry_key, s.node, s.status, s.exit_reason, s.step,
                (SELECT list(node || ':' || coalesce(outcome, '') ORDER BY step)
                 FROM journey_steps t WHERE t.instance = s.id) AS path,
                CASE WHEN {split_bucket_sql("crashy", "split")} < 0.5 THEN 'a' ELSE 'b' END AS arm
            FROM journey_state s
            """
        )
        outbox = dict(store.query("SELECT state, count(*) FROM outbox GROUP BY 1"))
    assert len(people) == N  # everyone entered once
    expected: set[str] = set()
    for p in people:
        arm = p["arm"]
        assert (p["node"], p["status"], p["exit_reason"]) == ("last", "done", "completed"), p
        assert p["path"] == ["@entry:", f"split:{arm}", f"hook_{arm}:queued", "pause:",
                             "last:queued", "@exit:completed"], p  # fmt: skip
        base = f"journey:crashy:v1:{p['profile_id']}:{p['entry_key']}"
        expected |= {f"{base}:hook_{arm}:2", f"{base}:last:4"}
    assert set(keys.count) == expected  # each key the definition calls for, no other
    # Every message is delivered; a batch whose results the stopping dispatcher had not yet
    # written may still read `sending` (a later start releases it: sent again, same key).
    assert outbox.get("delivered", 0) + outbox.get("sending", 0) == 2 * N, outbox
    assert outbox.get("sending", 0) <= 500, outbox
    assert keys.changed == [] and keys.unverified == 0
    repeats = sum(keys.count.values()) - 2 * N
    assert repeats <= 16 + 500, repeats  # only what was in flight or claimed at the kill
