"""Benchmark: where an ordered funnel's time goes when the compiled pass runs it.

    python bench/funnel_phases.py --size 1M --rounds 7

On a copy of the demo store of `--size` (bench/stores.py; the sorted copy built first, the
kernels loaded, the event catalogue caught up with the log), the 4-step ordered funnel of bench/journey_analytics.py taken apart, each
phase timed by itself in turn, round after round (interleaved), wall and CPU seconds of the
process (every thread) with the 1-minute load average:

- `registry.run`, the whole call, for reference;
- planning: the catalogue check of the names, the copy's state (FRESH_SQL: count, max(seq) and
  the identifiers' fingerprint), the copy check of the funnel (ties), the kernel check (the
  copy's columns, cached per build, and the steps' masks by code, cached per spec);
- reading the copy into arrays (`columns._read`, which a process does once per build);
- the pass: its slots allocated, the compiled kernel, and the Arrow table of its rows;
- the result: the aggregate SQL over the kernel's rows (counts, quantiles, histograms: how
  it was done before), against the same counted in NumPy from the pass (now), and the
  Python result built from them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stores import catalogue_caught_up, working_copy

from touchpath.analytics import funnels, journey, planner, registry
from touchpath.analytics.funnels import query
from touchpath.analytics.kernels import columns
from touchpath.analytics.kernels import funnel as kernel
from touchpath.analytics.kernels.warm import WARMUP
from touchpath.analytics.planner import Plan
from touchpath.analytics.registry import Read
from touchpath.analytics.sql import table
from touchpath.catalogue import check_names
from touchpath.store import Store

SPEC = {
    "kind": "funnel",
    "steps": [
        {"event": e}
        for e in ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
    ],
    "window": "7d",
}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def phases(store: Store) -> dict[str, Callable[[], Any]]:
    spec = registry.parse(SPEC)
    assert isinstance(spec, funnels.FunnelSpec)
    analysis = registry.get("funnel")
    cur = store.cursor()
    cols, lut = funnels._lookup(cur, spec, store.memo) or (None, None)
    assert cols is not None
    n = len(spec.steps)
    cuts = columns.parts(cols, max(1, min(4 * numba.get_num_threads(), cols.profiles // 2_000)))
    made = kernel.made(cols, spec, lut)
    read = Read(cur, Plan("copy", kernel=True), store.settings, store.memo)

    def alloc() -> Any:
        slots = cols.profiles * n
        return [np.zeros(slots, t) for t in (np.int64, np.float64, np.float64, np.int64, np.uint8)]

    bufs = alloc()

    def run_pass() -> None:
        for b in bufs:
            b[:] = 0
        with columns.threads(len(cols.code)):
            kernel._run(0, cols.pno, cols.us, cols.code, lut, *columns.bounds(None, None), n,
                        7 * 86_400 * 1_000_000, -1, cuts, *bufs)  # fmt: skip

    def aggregate() -> Any:
        with read.frame("tp_funnel_made", made) as name:
            sql = read.sql(("funnel steps", name, False), lambda: query.steps(table(name), False))
            return read.rows(sql)

    rows = aggregate()
    return {
        "registry.run (whole call)": lambda: registry.run(store, SPEC),
        "plan: names in the catalogue": lambda: check_names(cur, spec),
        "plan: the copy's state (FRESH_SQL)": lambda: planner.copy_state(cur, 0.0),
        "plan: ties check, kept per build (now)": lambda: funnels._fits_copy(cur, spec, store.memo),
        "plan: ties query (before: every funnel)": lambda: funnels._fits_copy(cur, spec),
        "plan: kernel check (columns, masks)": lambda: analysis.kernel(cur, spec, store.memo),
        "copy into arrays (once per build)": lambda: columns._read(cur, cols.built_at),
        "pass: slots allocated": alloc,
        "pass: compiled kernel": run_pass,
        "pass + Arrow rows (kernel.made, before)": lambda: kernel.made(cols, spec, lut),
        "result: aggregate SQL over the rows (before)": aggregate,
        "pass + counts in NumPy (kernel.steps, now)": lambda: kernel.steps(cols, spec, lut),
        "result: Python result from the rows": lambda: funnels._groups(spec, rows),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="1M")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    path = working_copy(args.size, "funnel_phases")
    with Store(path) as store:
        (events,) = store.query("SELECT count(*) FROM events")[0]
        with store.reading() as cur:
            fresh = journey.is_fresh(cur)
        if not fresh:
            journey.optimize(store)
        catalogue_caught_up(store)
        WARMUP.start()
        assert WARMUP.wait(1800), WARMUP.error
        cases = phases(store)
        print(f"store {path.name}: {events:,} events; load average {os.getloadavg()}")
        for fn in cases.values():
            fn()  # warm-up
        wall: dict[str, list[float]] = {k: [] for k in cases}
        used: dict[str, list[float]] = {k: [] for k in cases}
        loads: list[float] = []
        for _ in range(args.rounds):
            for name, fn in cases.items():
                c0, t0 = cpu(), time.perf_counter()
                fn()
                wall[name].append(time.perf_counter() - t0)
                used[name].append(cpu() - c0)
            loads.append(os.getloadavg()[0])
    print(f"\n{args.rounds} interleaved rounds, load {min(loads):.1f}-{max(loads):.1f}; "
          "median (min-max) ms")  # fmt: skip
    print("| phase | wall ms | CPU ms |")
    print("|---|---|---|")
    for name in cases:
        w, c = wall[name], used[name]
        print(f"| {name} | {1e3 * statistics.median(w):.1f} ({1e3 * min(w):.1f}-{1e3 * max(w):.1f}) "
              f"| {1e3 * statistics.median(c):.1f} ({1e3 * min(c):.1f}-{1e3 * max(c):.1f}) |")  # fmt: skip


if __name__ == "__main__":
    main()
