"""Benchmark: a process's first funnel, with the kernels loaded on the request path or beside it.

    python bench/kernels_cold.py --size 1M --runs 3

Each run is a fresh Python process on the demo store of `--size` (its sorted copy built first):
it opens the store and times its first ordered funnel, then a second one.

- `on the request path`: the first funnel waits for the kernels (`WARMUP.wait()` first), as
  every first call did before kernels.warm: compiling them (numba cache empty) or loading them
  from numba's on-disk cache (cache filled by an earlier run).
- `beside it`: the planner answers with the SQL over the copy while the kernels load in the
  background (the server starts the load as it starts), so the first funnel does not wait.

The cache is a fresh NUMBA_CACHE_DIR per `cold` run and one shared directory for `cached` runs.
Runs interleave the four set-ups; the table gives the median, min and max and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stores import OUT, demo_store

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from touchpath.analytics import api
from touchpath.analytics.kernels.warm import WARMUP
from touchpath.store import Store
spec = {"steps": [{"event": e} for e in ["Product Viewed", "Product Added", "Checkout Started",
        "Order Completed"]], "window": "7d"}
with Store(sys.argv[1]) as store:
    if sys.argv[2] == "request":
        WARMUP.wait()
    r = api.funnel(store, spec)
    first = time.perf_counter() - t0
    WARMUP.wait()
    ready = time.perf_counter() - t0
    t1 = time.perf_counter()
    api.funnel(store, spec)
    second = time.perf_counter() - t1
print(json.dumps({"first": first, "ready": ready, "second": second, "counts": r.counts()}))
"""


def child(store: Path, mode: str, cache: str) -> dict[str, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", CHILD, str(store), mode], env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    got: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    got["load"] = os.getloadavg()[0]
    return got


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="1M")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    path = OUT / f"cold_{args.size}.duckdb"
    if not path.exists():
        shutil.copyfile(demo_store(args.size), path)
    from touchpath.analytics import journey
    from touchpath.store import Store

    with Store(path) as store:
        journey.optimize(store)
    shared = tempfile.mkdtemp(prefix="numba-cache-", dir=OUT)
    child(path, "request", shared)  # fills the shared cache
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    try:
        for _ in range(args.runs):
            for mode in ("request", "beside"):
                for cache in ("cold", "cached"):
                    where = tempfile.mkdtemp(prefix="numba-cold-", dir=OUT)
                    got = child(path, mode, where if cache == "cold" else shared)
                    shutil.rmtree(where, ignore_errors=True)
                    results.setdefault((mode, cache), []).append(got)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    print(f"store {path.name}, {args.runs} interleaved runs, seconds from process start")
    print("| kernels loaded | numba cache | first funnel | kernels ready | second funnel | load |")
    print("|---|---|---|---|---|---|")
    for (mode, cache), runs in results.items():

        def cell(key: str, runs: list[dict[str, float]] = runs) -> str:
            xs = [r[key] for r in runs]
            return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"

        loads = [r["load"] for r in runs]
        where = "on the request path" if mode == "request" else "beside it (SQL answers)"
        print(f"| {where} | {cache} | {cell('first')} | {cell('ready')} | {cell('second')} | "
              f"{min(loads):.1f}-{max(loads):.1f} |")  # fmt: skip
    counts = {json.dumps(r["counts"]) for runs in results.values() for r in runs}
    assert len(counts) == 1, counts  # every run, kernel or SQL, gives the same funnel
    print(f"funnel counts equal in every run: {counts.pop()}")


if __name__ == "__main__":
    main()
