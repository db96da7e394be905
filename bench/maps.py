"""Benchmark: binding the demo first-purchase map on the demo business at 1M events.

Prints a table: events, the time to bind the map (median of runs), and for comparison the same
number of analytics calls run one after another (the binder runs them on a thread pool).
Run: `python bench/maps.py [customers]` (18,000 customers ≈ 1M events). Not run in CI.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from touchpath.analytics import sentiment
from touchpath.demo import DemoBusiness, DemoConfig
from touchpath.events.message import stage_messages
from touchpath.maps.bind import bind_map
from touchpath.maps.library import example
from touchpath.maps.render import render_html, render_svg
from touchpath.store import Store


def build(path: Path, customers: int) -> float:
    t = time.perf_counter()
    with Store(path) as store:
        sentiment.attach(store)
        now = datetime.now(UTC).replace(tzinfo=None)
        pending = []
        for batch in DemoBusiness(DemoConfig(customers=customers, seed=7)).batches(5000):
            raws = [orjson.dumps(m) for m in batch]
            pending.append(store.ingest(stage_messages(raws, source="demo", received_at=now)))
            if len(pending) > 8:
                pending.pop(0).result()
        for f in pending:
            f.result()
    return time.perf_counter() - t


def timed(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 18_000
    path = Path(tempfile.mkdtemp()) / "bench_maps.duckdb"
    built = build(path, customers)
    doc = example("demo-first-purchase")
    with Store(path) as store:
        events = store.query("SELECT count(*) FROM events")[0][0]
        rows = []
        for workers in (1, 2, 4):
            rows.append(
                (
                    f"bind, {workers} worker(s)",
                    timed(lambda w=workers: bind_map(store, doc, workers=w)),
                )
            )
        bm = bind_map(store, doc)
        rows.append(("render svg", timed(lambda: render_svg(bm))))
        rows.append(("render html", timed(lambda: render_html(bm))))
    print(f"demo business: {customers:,} customers, {events:,} events (built in {built:.0f} s)")
    print(f"map: {doc.name}, {len(doc.stages)} stages, {len(doc.touchpoints())} touchpoints")
    print(f"{'step':<24}{'seconds':>10}")
    for name, secs in rows:
        print(f"{name:<24}{secs:>10.3f}")


if __name__ == "__main__":
    main()
