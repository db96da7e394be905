"""Benchmark: funnels, paths and retention on the 1M and 10M demo event logs.

    python bench/analytics_funnels.py              # 1M and 10M
    python bench/analytics_funnels.py --sizes 1M

The demo stores come from bench/stores.py (stage_messages + Store.ingest in big groups, cached
under bench/out/), copied to bench/out/funnels_<size>.duckdb so runs do not fight over the file.
The ordered funnel runs beside ClickHouse's windowFunnel (chdb) on the same events, exported
once to Parquet (export time not counted); both give per-level counts, which must be equal.
The table gives the best of `--repeat` runs, the mean process CPU seconds per run (DuckDB's and
chdb's threads included; steadier than wall time on a shared machine) and the peak RSS growth.
`touchpath optimize` (the sorted journey copy) is run first and timed; ordered funnels then read
the copy. "rows only" runs just the reached-rows SQL both ways (sorted copy pass, split into
ranges of profiles as funnels split it; ASOF joins).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import chdb
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stores import OUT, measure, working_copy

from touchpath.analytics import api, journey
from touchpath.analytics.funnels import FunnelSpec, funnel_sql
from touchpath.store import Store

FUNNEL = FunnelSpec.model_validate(
    {
        "steps": [
            {"event": "Product Viewed"},
            {"event": "Product Added"},
            {"event": "Checkout Started"},
            {"event": "Order Completed"},
        ],
        "window": "7d",
    }
)


def chdb_funnel(parquet: Path) -> list[int]:
    conds = ", ".join(f"event = '{s.event}'" for s in FUNNEL.steps)
    names = ", ".join(f"'{s.event}'" for s in FUNNEL.steps)
    out = chdb.query(  # type: ignore[no-untyped-call]
        f"SELECT level, count() FROM (SELECT pid, windowFunnel({FUNNEL.window})(ts, {conds}) AS level "
        f"FROM file('{parquet}', Parquet) WHERE event IN ({names}) GROUP BY pid) GROUP BY level",
        "CSV",
    )
    by = {int(a): int(b) for a, b in (x.split(",") for x in str(out).split())}
    return [sum(n for lv, n in by.items() if lv >= k) for k in range(1, len(FUNNEL.steps) + 1)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"cpus: {psutil.cpu_count()}, load average: {psutil.getloadavg()}")
    print(f"{'events':>7} | {'analysis':<40} | {'seconds':>8} | {'CPU s':>6} | {'peak MB':>8}")
    print(f"{'-' * 7}-+-{'-' * 40}-+-{'-' * 8}-+-{'-' * 6}-+-{'-' * 8}")
    for label in args.sizes:
        path = working_copy(label, "funnels")
        with Store(path) as store:
            (n,) = store.query("SELECT count(*) FROM events")[0]
            parquet = OUT / f"funnels_{label}.parquet"
            if not parquet.exists():
                store.query(
                    "COPY (SELECT profile_id AS pid, epoch(timestamp)::UBIGINT AS ts, event "
                    f"FROM resolved_events) TO '{parquet}' (FORMAT parquet)"
                )
            c0 = time.process_time()
            secs, peak, _ = measure(lambda: journey.optimize(store), 1)
            cpu = time.process_time() - c0
            name = "optimize (sorted journey copy)"
            print(f"{n / 1e6:>6.1f}M | {name:<40} | {secs:8.3f} | {cpu:6.2f} | {peak:8.0f}")

            with store.reading() as cur:
                layout = journey.layout(cur, [s.event for s in FUNNEL.steps])

            def rows(sorted_copy: bool, layout: journey.Layout = layout) -> Any:
                sql = funnel_sql(FUNNEL, sorted_copy, layout if sorted_copy else None)
                return store.query(f"SELECT count(*) FROM ({sql})")

            cases: list[tuple[str, Any]] = [
                ("funnel 4 steps ordered 7d (touchpath)", lambda: api.funnel(store, FUNNEL)),
                ("funnel 4 steps windowFunnel (chdb)", lambda p=parquet: chdb_funnel(p)),
                ("funnel rows only: sorted copy pass", lambda: rows(True)),
                ("funnel rows only: ASOF joins", lambda: rows(False)),
                (
                    "funnel strict",
                    lambda: api.funnel(store, FUNNEL.model_copy(update={"order": "strict"})),
                ),
                (
                    "funnel any order",
                    lambda: api.funnel(store, FUNNEL.model_copy(update={"order": "any"})),
                ),
                (
                    "funnel + channel breakdown + week trend",
                    lambda: api.funnel(
                        store,
                        {**FUNNEL.model_dump(), "breakdown": {"by": "channel"}, "trend": "week"},
                    ),
                ),
                (
                    "paths from Home, 5 steps",
                    lambda: api.paths(store, {"start": {"event": "Home"}}),
                ),
                (
                    "paths to Order Completed, 4 steps",
                    lambda: api.paths(store, {"end": {"event": "Order Completed"}, "steps": 4}),
                ),
                (
                    "retention weekly, Order Completed",
                    lambda: api.retention(store, {"cohort_event": {"event": "Order Completed"}}),
                ),
            ]
            results: dict[str, Any] = {}
            for name, fn in cases:
                c0 = time.process_time()  # DuckDB's and chdb's threads run in this process
                secs, peak, res = measure(fn, args.repeat)
                cpu = (time.process_time() - c0) / args.repeat
                results[name] = res
                print(
                    f"{n / 1e6:>6.1f}M | {name:<40} | {secs:8.3f} | {cpu:6.2f} | {peak:8.0f}",
                    flush=True,
                )
            ours = results["funnel 4 steps ordered 7d (touchpath)"].counts()
            theirs = results["funnel 4 steps windowFunnel (chdb)"]
            print(f"        per-level counts touchpath {ours} chdb {theirs} equal={ours == theirs}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.0f}s")
