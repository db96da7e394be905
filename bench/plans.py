"""Tracking plans' cost to ingestion: events/s through POST /v1/batch with and without a plan.

The same demo payloads go to the real server (bench/ingest.py's `run_server`: uvicorn in a
subprocess, concurrent keep-alive clients, 200 only after COMMIT) with the source checked
against a plan inferred from those very messages (every event planned, so every message is
checked) in flag, block and drop mode, and with no plan; runs interleave (none, flag, none,
flag, ...) so drift in the shared machine's load hits both alike. Next to it, the check alone:
`Checker.check` over every message in one thread (no HTTP, no store), in messages/s.

    python bench/plans.py [--customers 1500] [--batch 250] [--clients 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from ingest import payloads, run_server  # bench/ingest.py, beside this file

from touchpath import catalogue
from touchpath.catalogue import Checker, TrackingPlan
from touchpath.events.message import stage_messages
from touchpath.store import Store, utcnow


def inferred_plan(bodies: list[bytes]) -> TrackingPlan:
    """The plan `touchpath plan infer` writes for these messages (with its identify traits)."""
    db = Path(tempfile.mkdtemp(prefix="touchpath-bench-")) / "infer.duckdb"
    with Store(db) as store:
        src = store.create_source("bench")
        for body in bodies:
            raws = [orjson.dumps(m) for m in orjson.loads(body)["batch"]]
            store.ingest(stage_messages(raws, source=src.id, received_at=utcnow())).result()
        store.wait_idle()
        store.write_sync(catalogue.rebuild)
        with store.reading() as cur:
            return catalogue.infer(cur, "bench")


def check_alone(plan: TrackingPlan, bodies: list[bytes], mode: str) -> float:
    """Messages/s `Checker.check` takes in one thread (best of 3)."""
    raws = [orjson.dumps(m) for b in bodies for m in orjson.loads(b)["batch"]]
    checker = Checker(plan, mode)
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for raw in raws:
            checker.check(raw, None)
        best = max(best, len(raws) / (time.perf_counter() - t))
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--customers", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--modes", default="flag,block,drop")
    args = ap.parse_args(argv)
    bodies = payloads(args.customers, args.batch)
    messages = sum(len(orjson.loads(b)["batch"]) for b in bodies)
    plan = inferred_plan(bodies)
    print(
        f"{messages:,} demo messages in {len(bodies)} batches of {args.batch}; {args.clients} "
        f"clients; plan of {len(plan.events)} events (inferred from them); "
        f"load average before {os.getloadavg()}"
    )

    def with_plan(mode: str) -> Callable[[Store], None]:
        def prepare(store: Store) -> None:
            catalogue.save_plan(store, plan)
            catalogue.assign(store, "bench", plan.name, mode)

        return prepare

    modes = [m for m in args.modes.split(",") if m]
    rates: dict[str, list[float]] = {"no plan": [], **{m: [] for m in modes}}
    cpu: dict[str, list[float]] = {k: [] for k in rates}
    for _ in range(args.rounds):
        for label in rates:
            prep = None if label == "no plan" else with_plan(label)
            r = run_server(label, bodies, messages, args.clients, 20_000, prepare=prep)
            rates[label].append(r.rate)
            cpu[label].append(r.messages / r.cpu_seconds)
    base = statistics.median(rates["no plan"])
    base_cpu = statistics.median(cpu["no plan"])
    print(f"load average after {os.getloadavg()}")
    print(f"{'run':<16} {'events/s (each round)':<34} {'median':>8} {'vs none':>8} "
          f"{'per CPU-s':>10} {'vs none':>8}")  # fmt: skip
    for label, xs in rates.items():
        each = ", ".join(f"{x:,.0f}" for x in xs)
        med, per = statistics.median(xs), statistics.median(cpu[label])
        print(
            f"{label:<16} {each:<34} {med:>8,.0f} {med / base:>8.2f} {per:>10,.0f} "
            f"{per / base_cpu:>8.2f}"
        )
    # Each round's plan run against the no-plan run beside it: drift in the shared machine's
    # load between rounds cancels out of the ratio.
    for mode in modes:
        paired = [p / n for p, n in zip(rates[mode], rates["no plan"], strict=True)]
        each = ", ".join(f"{x:.2f}" for x in paired)
        print(f"{mode}: ratio to the no-plan run of its round: {each}; median "
              f"{statistics.median(paired):.2f}")  # fmt: skip
    for mode in modes:
        alone = check_alone(plan, bodies, mode)
        # The check's CPU per message over the whole server's (no plan) CPU per message.
        print(
            f"check alone ({mode}): {alone:,.0f} messages/s in one thread, "
            f"{1e6 / alone:.1f} us a message: {base_cpu / alone:.1%} of the server's CPU per message"
        )


if __name__ == "__main__":
    main()
