"""The living demo's cost (issue #18): the CPU of the whole process (server, commit listeners,
journey engine, dispatcher, the demo's receivers and the business) with the living business
running at its default rate and clock, against the same process with the business paused; in
both, the ingest p99 of a steady outside probe (one /v1/track every 50 ms) and the journey
engine's lag (issue #16: from the commit of an event a waiting person's journey waits for to
that person's next node; bench/_lag.py, the mechanism of bench/journeys.py: people of journey
`ping` wait for a Pong, one Pong is ingested every seconds/pongs). Phases interleave (paused,
alive, paused, alive, ...); the table gives the median and min/max of each phase's CPU and
probe p99, and the lag's p50/p99/max over every Pong of the phase.

    python bench/live.py --seconds 30 --rounds 2 [--rate 120 --factor 60 --pongs 150]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import _lag  # bench/_lag.py, beside this file: commit -> next node
import httpx

from touchpath.clock import ScaledClock
from touchpath.demo.live import LiveBusiness, LiveRunner, live_write_key
from touchpath.demo.live.runner import DEFAULT_START
from touchpath.demo.receivers import Received, demo_destinations
from touchpath.orchestrate import load_journey, publish, save_journey
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath, opened
from touchpath.web.server import serving

RESCUE = """\
version: 1
name: app-checkout-rescue
entry: {kind: touchpoint, map: demo-first-purchase, touchpoint: Checkout (app)}
goal: {event: {event: Order Completed}, within: 2d}
nodes:
  wait_order: {kind: wait_for_event, event: {event: Order Completed}, timeout: 1h, on_timeout: split}
  split: {kind: split, variants: [{name: remind, weight: 50, next: sms}], holdout: 50}
  sms: {kind: send, destination: demo-sms, content: {body: "Your order: {{ unsubscribe_url }}"}}
"""
WELCOME = """\
version: 1
name: welcome
entry: {kind: event, event: {event: Signed Up}}
nodes:
  hello: {kind: send, destination: demo-email, template: demo-welcome}
"""


class Probe:
    """One /v1/track every `every` seconds; latencies by phase."""

    def __init__(self, url: str, key: str, every: float = 0.05) -> None:
        self.client = httpx.Client(base_url=url, auth=(key, ""), timeout=30)
        self.every = every
        self.phase = "warmup"
        self.lat: dict[str, list[float]] = {}
        self.stop = threading.Event()
        self.n = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.n += 1
            body = {"userId": f"probe-{self.n % 500}", "event": "Probe", "messageId": f"p{self.n}"}
            t = time.perf_counter()
            r = self.client.post("/v1/track", json=body)
            if r.status_code == 200:
                self.lat.setdefault(self.phase, []).append(time.perf_counter() - t)
            self.stop.wait(self.every)


class Pongs:
    """One Pong every `every` seconds to the next person waiting for it, tagged with the probe's
    phase (the lag of each is in `lag`)."""

    def __init__(self, lag: _lag.PongLag, users: list[str], probe: Probe, every: float) -> None:
        self.lag, self.users, self.probe, self.every = lag, users, probe, every
        self.stop = threading.Event()

    def run(self) -> None:
        left = iter(self.users)
        while not self.stop.wait(self.every):
            if self.probe.phase in ("warmup", "after"):
                continue
            user = next(left, None)
            if user is None:
                return
            self.lag.pong([user], tag=self.probe.phase)


def p99(xs: list[float]) -> float:
    return _lag.pct(xs, 0.99)


def _journeys(tp: Touchpath) -> None:
    """The demo's two journeys (an app-checkout reminder with a 50/50 split, a welcome email)
    and the lag's `ping`."""
    for text in (RESCUE, WELCOME, _lag.PING):
        doc = load_journey(text)
        save_journey(tp.services["journeys"], doc, text)
        publish(tp.services["journeys"], doc.name)


def _phases(
    business: LiveBusiness, clock: ScaledClock, probe: Probe, a: argparse.Namespace
) -> dict[str, list[tuple[float, float]]]:
    """Paused and alive in turn, `a.rounds` times; each phase's (CPU cores, CPU seconds)."""
    runner = LiveRunner(business, clock).start()
    time.sleep(3)
    cpu: dict[str, list[tuple[float, float]]] = {"paused": [], "alive": []}
    for rnd in range(a.rounds):
        for phase in ("paused", "alive"):
            probe.phase = "switching"  # stopping and starting the business are neither phase
            if phase == "paused":
                clock.pause()
                runner.stop()
            else:
                runner = LiveRunner(business, clock).start()
            probe.phase = f"{phase}{rnd}"
            c0, w0 = time.process_time(), time.monotonic()
            time.sleep(a.seconds)
            used = time.process_time() - c0
            cpu[phase].append((used / (time.monotonic() - w0), used))
    probe.phase = "after"
    runner.stop()
    return cpu


def _table(
    cpu: dict[str, list[tuple[float, float]]], probe: Probe, lag: _lag.PongLag, rounds: int
) -> None:
    print("| phase | CPU (cores), median [min-max] | CPU-s a phase | probe ingest p99 ms, median "
          "[min-max] | lag: Pong commit -> next node (Pongs moved / sent) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- |")
    for phase in ("paused", "alive"):
        c = [x[0] for x in cpu[phase]]
        used = "/".join(f"{x[1]:.1f}" for x in cpu[phase])
        ps = [p99(probe.lat.get(f"{phase}{r}", [])) for r in range(rounds)]
        tags = [f"{phase}{r}" for r in range(rounds)]
        print(f"| {phase} | {statistics.median(c):.2f} [{min(c):.2f}-{max(c):.2f}] | {used} | "
              f"{statistics.median(ps):.1f} [{min(ps):.1f}-{max(ps):.1f}] | "
              f"{_lags(lag, tags)} |")  # fmt: skip
    # The business stopping and starting (outside both phases' windows): the probe's p99 and
    # the lag over every switch.
    print(f"| switching | | | {p99(probe.lat.get('switching', [])):.1f} (all switches) | "
          f"{_lags(lag, ['switching'])} |")  # fmt: skip


def _lags(lag: _lag.PongLag, tags: list[str]) -> str:
    lat = [x for t in tags for x in lag.lat(t)]
    sent = sum(1 for t in lag.tags.values() if t in tags)
    return (f"p50 {_lag.pct(lat, 0.5):.0f}, p99 {_lag.pct(lat, 0.99):.0f}, "
            f"max {max(lat, default=float('nan')) * 1000:.0f} ms ({len(lat)} / {sent})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=2)
    defaults = Settings()
    ap.add_argument("--rate", type=float, default=defaults.demo_live_rate)
    ap.add_argument("--factor", type=float, default=defaults.demo_clock_factor)
    ap.add_argument("--pongs", type=int, default=150, help="lag samples a phase")
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp())
    settings = Settings(db=root / "live.duckdb", port=0, destinations_allow_hosts="127.0.0.1")
    clock = ScaledClock(DEFAULT_START, a.factor, running=False)
    people: list[LiveBusiness] = []
    load0 = os.getloadavg()

    def react(r: Received) -> None:
        if people:
            people[0].receive(r)

    with (
        Store(settings.db, settings) as store,
        opened(settings, store=store, clock=clock, background=True) as tp,
        demo_destinations(store, lambda _: None, react=react),
        serving(settings, store, touchpath=tp) as url,
        _lag.PongLag(store, clock) as lag,
    ):
        _journeys(tp)
        users = [f"ping{i}" for i in range(a.pongs * (2 * a.rounds + 2))]  # and the switches
        lag.enter(users)
        business = LiveBusiness(store, clock, url, live_write_key(store), rate=a.rate)
        people.append(business)
        probe = Probe(url, store.create_source("probe").write_key or "")
        pongs = Pongs(lag, users, probe, a.seconds / a.pongs)
        threading.Thread(target=probe.run, daemon=True).start()
        threading.Thread(target=pongs.run, daemon=True).start()
        cpu = _phases(business, clock, probe, a)
        probe.stop.set()
        pongs.stop.set()
        lag.wait(30)
        status = store.query("SELECT count(*) FROM demo_live_people")[0][0]
        answered = store.query("SELECT count(*) FROM demo_live_messages")[0][0]
        ponged = lag.ponged()
    load = os.getloadavg()
    print(f"living demo at {a.rate:g} people/simulated hour, clock x{a.factor:g}, "
          f"{a.rounds} rounds of {a.seconds:g} s; {status} people, {answered} messages answered, "
          f"{ponged} ping people moved on; load average before {load0[0]:.1f} {load0[1]:.1f} "
          f"{load0[2]:.1f}, after {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")  # fmt: skip
    _table(cpu, probe, lag, a.rounds)


if __name__ == "__main__":
    main()
