"""Identity and profiles benchmark: resolution while ingesting, rebuild, timeline, audiences.

1. Ingest rate of demo messages (batches of 500 through Store.ingest, 8 in flight) into a fresh
   store: unattached (the peer, same messages, same run), attached with no definitions, and
   attached with two computed traits and two audiences (one with `performed` conditions).
2. On the 1M-event demo store (bench/out/insights_1M.duckdb, built by
   bench/analytics_insights.py; copied, never modified): full `rebuild`, timeline lookup latency
   (p50/p99 over random profiles) and a full audience refresh.
Peak memory is the process's max RSS after each step (it only grows); CPU-s is the process's
CPU time (all threads) for the step, next to the 1-minute load average of the machine.

    python bench/identity.py [--customers 3700] [--big bench/out/insights_1M.duckdb]
    python bench/identity.py --skip-ingest --big bench/out/demo_10M_v2.duckdb --build 185000
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import orjson
from stores import load_demo  # bench/stores.py, beside this file

from touchpath.events.message import Staged, stage_messages
from touchpath.profiles import rebuild, refresh
from touchpath.profiles.lookup import timeline
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath

OUT = Path(__file__).resolve().parent / "out"
UNIFY = """
identity:
  custom: {loyalty_id: traits.loyalty_id}
computed_traits:
  - {name: orders_90d, op: count, event: {event: Order Completed}, within_days: 90}
  - {name: revenue, op: sum, event: {event: Order Completed}, property: revenue}
audiences:
  - name: big_spenders
    condition: {kind: computed, trait: revenue, op: gte, value: 300}
  - name: browsers_not_buyers
    condition:
      kind: and
      all:
        - {kind: performed, event: {event: Product Viewed}, at_least: 3, within_days: 30}
        - {kind: performed, event: {event: Order Completed}, at_most: 0}
"""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def staged_batches(customers: int) -> list[Staged]:
    from touchpath.demo import DemoBusiness, DemoConfig

    received = datetime(2026, 11, 2)
    return [
        stage_messages([orjson.dumps(m) for m in b], source="demo", received_at=received)
        for b in DemoBusiness(DemoConfig(customers=customers, seed=7)).batches(500)
    ]


def ingest_rate(batches: list[Staged], mode: str, tmp: Path) -> tuple[float, float]:
    """Messages/s until everything is committed and resolved; and the seconds it took."""
    db = tmp / f"ingest_{mode}.duckdb"
    conf = tmp / "unify.yaml"
    conf.write_text(UNIFY if mode == "attached + definitions" else "identity: {custom: {}}")
    settings = Settings(db=db, unify=conf)
    n = sum(len(b) for b in batches)
    with Store(db, settings) as store:
        if mode != "unattached":
            Touchpath.open(settings, store=store)  # listeners only: nothing to stop
        t = time.perf_counter()
        futures = []
        for b in batches:
            futures.append(store.ingest(b))
            if len(futures) > 8:
                futures.pop(0).result()
        for f in futures:
            f.result()
        store.wait_idle(timeout=600)
        seconds = time.perf_counter() - t
    return n / seconds, seconds


def build_demo(path: Path, customers: int) -> Path:
    """The demo business (seed 7) with `customers` people loaded into a new store at `path`
    (bench/stores.py's loader, but every customer generated: the 10M stores of bench/stores.py
    are the 1M demo copied ten times with only userId/anonymousId suffixed, so ten "people"
    share each email, device and loyalty id)."""
    if path.exists():
        return path
    return load_demo(path, customers)


def big_store(src: Path, tmp: Path) -> tuple[Store, int]:
    db = tmp / "big.duckdb"
    shutil.copy(src, db)
    conf = tmp / "unify_big.yaml"
    conf.write_text(UNIFY)
    store = Store(db, Settings(db=db, unify=conf))
    (n,) = store.query("SELECT count(*) FROM events")[0]
    return store, int(n)


def steps_on_big(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str, str, str]]:
    """Attach, rebuild, timeline lookups and an audience refresh on the big store."""
    rows: list[tuple[str, str, str, str]] = []
    store, events = big_store(args.big, tmp)
    with store:
        t, cpu = time.perf_counter(), time.process_time()
        if args.skip_attach:  # mark the log resolved: attaching then catches nothing up
            store.write_sync(
                lambda con: con.execute(
                    "INSERT OR REPLACE INTO identity_state VALUES ('resolved_through', "
                    "(SELECT coalesce(max(seq), 0) FROM events))"
                )
            )
            tp = Touchpath.open(store=store)
            what = "attach without catch-up"
        else:
            tp = Touchpath.open(store=store)  # catches up the whole log (first resolution)
            store.wait_idle(timeout=1200)
            what = "first attach (catch-up)"
        rows.append((f"{what} {events:,} events", f"{time.perf_counter() - t:.1f} s", f"{time.process_time() - cpu:.1f} CPU-s, load {os.getloadavg()[0]:.1f}", f"{rss_mb():.0f}"))  # fmt: skip
        print(rows[-1], flush=True)
        for _ in range(args.rebuilds):
            t, cpu = time.perf_counter(), time.process_time()
            result = rebuild(store, tp.services["unify"].config.identity)
            rows.append((f"rebuild {events:,} events ({result.profiles:,} profiles)", f"{time.perf_counter() - t:.1f} s", f"{time.process_time() - cpu:.1f} CPU-s, load {os.getloadavg()[0]:.1f}", f"{rss_mb():.0f}"))  # fmt: skip
            print(rows[-1], flush=True)
        pids = [p for (p,) in store.query("SELECT profile_id FROM profiles")]
        rng = random.Random(1)
        lat = []
        for pid in rng.sample(pids, min(args.lookups, len(pids))):
            t = time.perf_counter()
            timeline(store, pid)
            lat.append(time.perf_counter() - t)
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        rows.append((f"timeline lookup x{len(lat)}", f"p50 {statistics.median(lat) * 1000:.0f} ms", f"p99 {p99 * 1000:.0f} ms", f"{rss_mb():.0f}"))  # fmt: skip
        print(rows[-1], flush=True)
        t = time.perf_counter()
        done = refresh(store, "audiences")
        rows.append(("audience refresh, 2 audiences, all profiles", f"{time.perf_counter() - t:.2f} s", f"{done.entered} entered, {done.exited} left", f"{rss_mb():.0f}"))  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=3700)
    ap.add_argument("--big", type=Path, default=OUT / "insights_1M.duckdb")
    ap.add_argument("--lookups", type=int, default=200)
    ap.add_argument("--skip-ingest", action="store_true", help="only the steps on --big")
    ap.add_argument(
        "--skip-attach",
        action="store_true",
        help="attach to --big without resolving its log first (only the rebuilds resolve it)",
    )
    ap.add_argument("--rebuilds", type=int, default=1, help="times to run the timed rebuild")
    ap.add_argument(
        "--build",
        type=int,
        metavar="CUSTOMERS",
        help="first build --big (if missing) from the demo with this many customers "
        "(185000 = 10M events)",
    )
    args = ap.parse_args()
    if args.build:
        build_demo(args.big, args.build)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(dir=OUT if OUT.is_dir() else None) as d:
        tmp = Path(d)
        batches = [] if args.skip_ingest else staged_batches(args.customers)
        n = sum(len(b) for b in batches)
        base = 0.0
        modes = ("unattached", "attached, no definitions", "attached + definitions")
        for mode in modes if batches else ():
            rate, secs = ingest_rate(batches, mode, tmp)
            base = base or rate
            rows.append(
                (
                    f"ingest {n:,} msgs, {mode}",
                    f"{secs:.1f} s",
                    f"{rate:,.0f} msg/s ({rate / base:.0%} of unattached)",
                    f"{rss_mb():.0f}",
                )
            )
            print(rows[-1], flush=True)
        del batches
        if args.big.exists():
            rows += steps_on_big(args, tmp)
    print()
    print("| step | time | rate / detail | peak RSS MB |")
    print("|---|---:|---|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
