"""Tracking plans' cost to ingestion: events/s through POST /v1/batch with and without a plan.

The same demo payloads (about 300k messages at the default 5,000 customers: a run of 15-20 s on
this machine) go to the real server (bench/ingest.py's `run_server`: uvicorn in a subprocess,
concurrent keep-alive clients, 200 only after COMMIT; the first four batches a warm-up, not
measured; the kernels' load and the journey copy's rebuilds off in both arms) with the source
checked against a plan inferred from those very messages (every event planned, so every message
is checked and none violates it: the violations column says so, and "rejected" is the store's
own refusals of the demo's malformed messages, the same in every arm) in flag, block and drop
mode, and with no plan. Each mode runs in `--pairs` pairs with a no-plan run of its own,
alternating which goes first (bench/_alternate.py); the table gives the median (min-max) of
events/s and of the server process's CPU microseconds per event, and each mode's ratio to the
no-plan run of its pair. Next to it, the check alone: `Checker.check` over every message in
one thread (no HTTP, no store), in messages/s.

    python bench/plans.py [--customers 5000] [--batch 250] [--clients 8] [--pairs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from _alternate import Sample, alternate, report  # bench/_alternate.py, beside this file
from ingest import QUIET_SERVER, payloads, run_server  # bench/ingest.py, beside this file

from touchpath import catalogue
from touchpath.catalogue import Checker, TrackingPlan
from touchpath.events.message import stage_messages
from touchpath.store import Store, utcnow


def inferred_plan(bodies: list[bytes]) -> TrackingPlan:
    """The plan `touchpath plan infer` writes for these messages (with its identify traits)."""
    tmp = Path(tempfile.mkdtemp(prefix="touchpath-bench-"))
    try:
        with Store(tmp / "infer.duckdb") as store:
            src = store.create_source("bench")
            pending = []
            for body in bodies:
                raws = [orjson.dumps(m) for m in orjson.loads(body)["batch"]]
                if len(pending) >= 40:  # as clients would: the writer refuses a deeper queue
                    pending.pop(0).result()
                pending.append(store.ingest(stage_messages(raws, source=src.id,
                                                           received_at=utcnow())))  # fmt: skip
            for f in pending:
                f.result()
            store.wait_idle()
            store.write_sync(catalogue.rebuild)
            with store.reading() as cur:
                return catalogue.infer(cur, "bench")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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


def _run(
    label: str,
    bodies: list[bytes],
    messages: int,
    clients: int,
    prepare: Callable[[Store], None] | None,
) -> Sample:
    """One server run; its blocked messages and violations counted from its store."""
    r = run_server(label, bodies, messages, clients, 20_000, prepare=prepare, env=QUIET_SERVER)
    assert r.db is not None
    with Store(r.db) as store:
        ((blocked, found),) = store.query(
            "SELECT (SELECT count(*) FROM rejected), (SELECT count(*) FROM plan_violations)"
        )
    shutil.rmtree(r.db.parent, ignore_errors=True)
    return Sample(r.messages, r.seconds, r.cpu_seconds,
                  extra={"rejected": blocked, "violations": found})  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pairs", type=int, default=3)
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

    def arm(label: str, prepare: Callable[[Store], None] | None) -> Callable[[], Sample]:
        return lambda: _run(label, bodies, messages, args.clients, prepare)

    modes = [m for m in args.modes.split(",") if m]
    pairs = alternate(
        "no plan", arm("no plan", None), {m: arm(m, with_plan(m)) for m in modes}, args.pairs
    )
    print(f"load average after {os.getloadavg()}")
    report(pairs, "no plan", budget=0.10)
    base_cpu = statistics.median(b.cpu_us for runs in pairs.values() for b, _ in runs)
    for mode in modes:
        alone = check_alone(plan, bodies, mode)
        # The check's CPU per message over the whole server's (no plan) CPU per message.
        print(
            f"check alone ({mode}): {alone:,.0f} messages/s in one thread, "
            f"{1e6 / alone:.1f} us a message: {1e6 / alone / base_cpu:.1%} of the server's CPU "
            "per message"
        )


if __name__ == "__main__":
    main()
