"""The living demo's cost (issue #18): the CPU of the whole process (server, commit listeners,
journey engine, dispatcher, the demo's receivers and the business) with the living business
running at its default rate and clock, against the same process with the business paused, and
the ingest p99 of a steady outside probe (one /v1/track every 50 ms) in both. Phases interleave
(paused, alive, paused, alive, ...); the table gives the median and min/max of each.

    python bench/live.py --seconds 30 --rounds 2 [--rate 120 --factor 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from touchpath.clock import ScaledClock
from touchpath.demo.live import LiveBusiness, LiveRunner, live_write_key
from touchpath.demo.live.runner import DEFAULT_START
from touchpath.demo.receivers import Received, demo_destinations
from touchpath.orchestrate import load_journey, publish, save_journey
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import opened
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


def p99(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.99 * len(xs)))] * 1000 if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=2)
    defaults = Settings()
    ap.add_argument("--rate", type=float, default=defaults.demo_live_rate)
    ap.add_argument("--factor", type=float, default=defaults.demo_clock_factor)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp())
    settings = Settings(db=root / "live.duckdb", port=0, destinations_allow_hosts="127.0.0.1")
    clock = ScaledClock(DEFAULT_START, a.factor, running=False)
    people: list[LiveBusiness] = []

    def react(r: Received) -> None:
        if people:
            people[0].receive(r)

    with (
        Store(settings.db, settings) as store,
        opened(settings, store=store, clock=clock, background=True) as tp,
        demo_destinations(store, lambda _: None, react=react),
        serving(settings, store, touchpath=tp) as url,
    ):
        for text in (RESCUE, WELCOME):
            doc = load_journey(text)
            save_journey(tp.services["journeys"], doc, text)
            publish(tp.services["journeys"], doc.name)
        business = LiveBusiness(store, clock, url, live_write_key(store), rate=a.rate)
        people.append(business)
        probe = Probe(url, store.create_source("probe").write_key or "")
        threading.Thread(target=probe.run, daemon=True).start()
        runner = LiveRunner(business, clock)
        runner.start()
        time.sleep(3)
        cpu: dict[str, list[float]] = {"paused": [], "alive": []}
        for rnd in range(a.rounds):
            for phase in ("paused", "alive"):
                if phase == "paused":
                    clock.pause()
                    runner.stop()
                else:
                    runner = LiveRunner(business, clock).start()
                probe.phase = f"{phase}{rnd}"
                c0, w0 = time.process_time(), time.monotonic()
                time.sleep(a.seconds)
                cpu[phase].append((time.process_time() - c0) / (time.monotonic() - w0))
        runner.stop()
        probe.stop.set()
        status = store.query("SELECT count(*) FROM demo_live_people")[0][0]
        answered = store.query("SELECT count(*) FROM demo_live_messages")[0][0]
    load = os.getloadavg()
    print(f"living demo at {a.rate:g} people/simulated hour, clock x{a.factor:g}, "
          f"{a.rounds} rounds of {a.seconds:g} s; {status} people, {answered} messages answered; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")  # fmt: skip
    print("| phase | CPU (cores), median [min-max] | ingest p99 ms, median [min-max] |")
    print("| --- | --- | --- |")
    for phase in ("paused", "alive"):
        c = cpu[phase]
        ps = [p99(probe.lat.get(f"{phase}{r}", [])) for r in range(a.rounds)]
        print(f"| {phase} | {statistics.median(c):.2f} [{min(c):.2f}-{max(c):.2f}] | "
              f"{statistics.median(ps):.1f} [{min(ps):.1f}-{max(ps):.1f}] |")  # fmt: skip


if __name__ == "__main__":
    main()
