"""Journeys benchmark (issue #16): node transitions/s for N people, N timers due at once while
ingest goes on, and the latency from an event's commit to the person's next node.

One store, one run, three phases:

1. Entry: N people (profiles with a `plan` and an `email` trait, a static audience of all of
   them, set up in SQL) enter journey `bench` on publishing (`entry: audience, existing: true`).
   The engine's timers (`JourneyEngine.run_due`, batches sized to the writer's time budget)
   move them to `pause` (a 1 h wait). Node transitions/s and the process's peak RSS growth.
2. Timers: the clock moves 1 h, so all N timers are due in the same minute. Ingest runs at a
   steady rate throughout (batches of 100 track events through `Store.ingest`), first alone
   (the timers thread runs, nothing is due), then while the timers drain everyone through
   `route` (branch on a trait), `ab` (a 1:1 split with a holdout) and `hello` (a send through
   the outbox). The p99 of each ingest request (queue to commit) alone and during the drain;
   transitions/s of the drain. A dispatcher then delivers the sends to a destination that only
   counts.
3. Latency: `ping` people (entered by a Ping event, waiting for a Pong) get their Pong while
   ingest runs at 5,000 events/s. From the Pong's commit (its ingest future resolves in the
   writer thread) to the commit of the transaction that moved the person on (a commit listener
   registered after the engine's sees it), p50/p99 (bench/_lag.py, shared with bench/live.py).

    python bench/journeys.py [--people 1000000] [--rate 500] [--pings 2000]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import _lag  # bench/_lag.py, beside this file: commit -> next node
import duckdb
import orjson
import stores  # bench/stores.py, beside this file
from destinations import Count  # bench/destinations.py: a destination that only counts

from touchpath.clock import ManualClock, utcnow
from touchpath.destinations.dispatcher import Dispatcher
from touchpath.destinations.vault import Vault
from touchpath.events.message import stage_messages
from touchpath.orchestrate import JourneyEngine, load_journey, publish, save_journey
from touchpath.profiles.audiences import save_static
from touchpath.settings import Settings
from touchpath.system import Touchpath

BENCH = """
name: bench
entry: {kind: audience, audience: everyone, existing: true}
nodes:
  pause: {kind: wait, duration: 1h, next: route}
  route:
    kind: branch
    branches:
      - {name: pro, when: {kind: trait, trait: plan, value: pro}, next: ab}
    otherwise: ab
  ab:
    kind: split
    variants: [{name: a, weight: 1, next: hello}, {name: b, weight: 1, next: hello}]
    holdout: 1
  hello: {kind: send, destination: count, channel: email,
          content: {subject: "Hello", text: "Hi {{ traits.plan }}"}}
"""


def _people(con: duckdb.DuckDBPyConnection, n: int) -> None:
    """N people (a profile, a user id, a plan and an email trait) and the static audience
    `everyone` of all of them."""
    now = utcnow()
    args = {"n": n, "now": now}
    con.execute("INSERT INTO profiles SELECT 'p_' || i, 0, $now FROM range($n) t(i)", args)
    con.execute(
        "INSERT INTO identifiers (kind, value, profile_id, first_seen, last_seen) "
        "SELECT 'user_id', 'u' || i, 'p_' || i, $now, $now FROM range($n) t(i)",
        args,
    )
    con.execute(
        "INSERT INTO profile_traits SELECT 'p_' || i, 'plan', "
        "to_json(CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END), $now, 0 FROM range($n) t(i)",
        args,
    )
    con.execute(
        "INSERT INTO profile_traits SELECT 'p_' || i, 'email', to_json('u' || i || '@x.test'), "
        "$now, 0 FROM range($n) t(i)",
        args,
    )
    save_static(con, "everyone", "SELECT profile_id FROM profiles", now)


def _publish(engine: JourneyEngine, text: str) -> int:
    doc = load_journey(text)
    save_journey(engine, doc, text)
    return publish(engine, doc.name).entered


class Load:
    """Ingest at a steady rate on its own thread: `per_s` events in requests of `batch`; the
    latency of each request (queue to commit), tagged with the phase it started in."""

    def __init__(self, tp: Touchpath, per_s: int, batch: int = 100) -> None:
        self.tp, self.per_s, self.batch = tp, per_s, batch
        self.phase = "idle"
        self.lat: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._i = 0

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _messages(self) -> list[bytes]:
        out = []
        for _ in range(self.batch):
            self._i += 1
            out.append(orjson.dumps({
                "type": "track", "event": "Page Viewed", "userId": f"v{self._i % 50_000}",
                "messageId": f"load{self._i}", "properties": {"path": "/p"},
            }))  # fmt: skip
        return out

    def _run(self) -> None:
        interval = self.batch / self.per_s
        due = time.monotonic()
        while not self._stop.is_set():
            staged = stage_messages(self._messages(), source="bench", received_at=utcnow())
            t0 = time.perf_counter()
            phase = self.phase
            fut = self.tp.store.ingest(staged)
            fut.add_done_callback(
                lambda _f, t0=t0, phase=phase: self.lat.setdefault(phase, []).append(
                    time.perf_counter() - t0
                )
            )
            due += interval
            self._stop.wait(max(0.0, due - time.monotonic()))


POLL_SECONDS = 0.25
"""How often the bench asks whether the timers are done. Each look counts `journey_state` (a
scan of N rows, on the same two cores as the engine): every 0.05 s it was a tenth of the entry
phase's CPU at 300k people (py-spy, 2026-12-07), and grew with N twice (larger scans, a longer
phase). 0.25 s adds at most that to the phase's wall."""


def _drain_timers(engine: JourneyEngine, until: Callable[[], bool], timeout: float) -> float:
    """Let the timers thread work until `until()`; the seconds it took."""
    t0 = time.monotonic()
    while not until():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("the timers did not drain")
        time.sleep(POLL_SECONDS)
    return time.monotonic() - t0


def run(n: int, rate: int, pings: int, quiet: float, deliver: float) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as d:
        settings = Settings(
            db=Path(d) / "j.duckdb", journey_refresh_seconds=0, writer_queue_max=500_000
        )
        clock = ManualClock(utcnow().replace(microsecond=0))
        with Touchpath.open(settings, clock=clock, background=False) as tp:
            engine: JourneyEngine = tp.services["journeys"]
            tp.store.write_sync(lambda con: _people(con, n))
            _publish(engine, _lag.PING)
            gc.collect()
            rows = []
            for phase in (
                lambda: _enter(tp, engine, n),
                lambda: _timers(tp, engine, clock, n, rate, quiet),
                lambda: _deliver(tp, settings, clock, deliver),
                lambda: _latency(tp, pings),
            ):
                rows.append(phase())
                print(rows[-1], flush=True)  # a long run shows each phase as it ends
            return rows


def _count(tp: Touchpath, sql: str) -> int:
    return int(tp.store.query(sql)[0][0])


def _steps(tp: Touchpath) -> int:
    """Steps recorded (entries, nodes run and exits): the transitions."""
    return _count(tp, "SELECT count(*) FROM journey_steps")


def _until(tp: Touchpath, status: str, n: int) -> Callable[[], bool]:
    sql = f"SELECT count(*) FROM journey_state WHERE journey = 'bench' AND status = '{status}'"
    return lambda: _count(tp, sql) >= n


def _logged(tp: Touchpath, t0: float, timeout: float = 1800) -> float | str:
    """Seconds from t0 until every step's event is in the log."""
    sql = (
        "SELECT (SELECT count(*) FROM journey_steps) - (SELECT count(*) FROM events "
        "WHERE source = 'touchpath.journeys' AND event <> 'Experiment Viewed')"
    )
    while _count(tp, sql) > 0:
        if time.monotonic() - t0 > timeout:
            return f"> {timeout:.0f}"
        time.sleep(0.2)
    tp.store.wait_idle(60)
    return round(time.monotonic() - t0, 1)


def _enter(tp: Touchpath, engine: JourneyEngine, n: int) -> dict[str, Any]:
    """Everyone enters on publishing and the timers take them to the wait."""
    steps0 = _steps(tp)
    with stores.PeakRss() as mem:
        t0, cpu0 = time.monotonic(), time.process_time()
        entered = _publish(engine, BENCH)
        engine.start_timers()
        _drain_timers(engine, _until(tp, "wait", n), 3600)
        took, cpu = time.monotonic() - t0, time.process_time() - cpu0
        events = _logged(tp, t0)
    moved = _steps(tp) - steps0
    return {
        "phase": "enter on publishing + first node", "people": entered, "transitions": moved,
        "seconds": round(took, 2), "transitions/s": round(moved / took), "CPU s": round(cpu, 1),
        "peak RSS growth MB": round((mem.peak - mem.base) / 2**20),
        "s until their events are in the log": events,
    }  # fmt: skip


def _timers(
    tp: Touchpath, engine: JourneyEngine, clock: ManualClock, n: int, rate: int, quiet: float
) -> dict[str, Any]:
    """Ingest alone, then N timers due at once while the same ingest goes on."""
    steps0 = _steps(tp)
    with Load(tp, rate) as load, stores.PeakRss() as mem:
        load.phase = "alone"
        time.sleep(quiet)
        load.phase = "drain"
        t0, cpu0 = time.monotonic(), time.process_time()
        clock.advance(timedelta(hours=1, seconds=30))
        _drain_timers(engine, _until(tp, "done", n), 3600)
        took, cpu = time.monotonic() - t0, time.process_time() - cpu0
        load.phase = "after"
        events = _logged(tp, t0)
    moved = _steps(tp) - steps0
    alone, during = load.lat.get("alone", []), load.lat.get("drain", [])
    return {
        "phase": "1 h later: all timers due", "people": n, "transitions": moved,
        "seconds": round(took, 2), "transitions/s": round(moved / took), "CPU s": round(cpu, 1),
        "peak RSS growth MB": round((mem.peak - mem.base) / 2**20),
        "s until their events are in the log": events,
        "ingest p99 ms alone": round(_lag.pct(alone, 0.99), 1),
        "ingest p99 ms during drain": round(_lag.pct(during, 0.99), 1),
        "ingest p50 ms alone / during": f"{_lag.pct(alone, 0.5):.1f} / {_lag.pct(during, 0.5):.1f}",
        "ingest requests alone / during": f"{len(alone)} / {len(during)}",
    }  # fmt: skip


def _deliver(
    tp: Touchpath, settings: Settings, clock: ManualClock, seconds: float
) -> dict[str, Any]:
    """The sends leave through the outbox to a destination that only counts (for at most
    `seconds`: the dispatcher's own rate is bench/destinations.py's)."""
    sends = _count(tp, "SELECT count(*) FROM outbox")
    counter = Count()
    disp = Dispatcher(tp.store, settings, clock, Vault.open(settings), {"count": counter})
    t0 = time.monotonic()
    disp.start()
    deadline = time.monotonic() + seconds
    while counter.n < sends and time.monotonic() < deadline:
        time.sleep(0.1)
    took = time.monotonic() - t0
    disp.stop()
    return {
        "phase": "the sends delivered (counting destination)", "people": sends,
        "transitions": f"{counter.n} delivered", "seconds": round(took, 2),
        "transitions/s": f"{round(counter.n / took)} messages/s",
    }  # fmt: skip


def _latency(tp: Touchpath, pings: int) -> dict[str, Any]:
    users = [f"ping{i}" for i in range(pings)]
    with _lag.PongLag(tp.store) as lag:
        lag.enter(users)
        with Load(tp, 5000, batch=50) as load:
            time.sleep(1)
            load.phase = "pong"
            t0 = time.monotonic()
            for i in range(0, pings, 10):  # 10 Pongs a request, 20 requests a second
                lag.pong(users[i : i + 10])
                time.sleep(0.05)
            lag.wait(120)
            took = time.monotonic() - t0
            load.phase = "after"
    rate = len(load.lat.get("pong", [])) * load.batch / took
    return {
        "phase": "Pong commit -> next node, ingest at 5,000 events/s", "people": pings,
        "transitions": lag.ponged(), "seconds": round(took, 1),
        "transitions/s": lag.summary(),
        "ingest p50 ms alone / during": f"committed {rate:.0f} events/s",
    }  # fmt: skip


def _print(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n{title}")
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print(" | ".join(c.ljust(width[c]) for c in cols))
    print("-|-".join("-" * width[c] for c in cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "")).ljust(width[c]) for c in cols))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--people", type=int, default=1_000_000)
    p.add_argument("--rate", type=int, default=500, help="events/s of the ingest load")
    p.add_argument("--pings", type=int, default=2000)
    p.add_argument("--quiet", type=float, default=10.0, help="seconds of ingest alone")
    p.add_argument("--deliver", type=float, default=120.0, help="seconds of delivery at most")
    a = p.parse_args(argv)
    print(f"load average before: {os.getloadavg()}")
    _print(run(a.people, a.rate, a.pings, a.quiet, a.deliver), f"Journeys, {a.people:,} people")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
