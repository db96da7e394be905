"""Benchmark: the analyses on the sorted journey copy that issue #10 left slower, as an older
commit runs them beside this checkout, alternately.

    python bench/ab_copy.py --old 4c48174 --size 1M --rounds 7

bench/ab.py compares commits through `touchpath.analytics.registry`, which commits before
issue #10 do not have; this script calls what both sides have under the names each side
gives them (`api.funnel`, `funnel_sql`, `insights.attribution` before and `api.attribution`
after), with the same specs as bench/analytics_funnels.py and bench/analytics_insights.py:

- "funnel rows only: sorted copy pass": the ordered funnel's SQL over the copy alone, split by
  the copy's layout as funnels split it (a `count(*)` over the reached rows);
- "funnel + channel breakdown + week trend": `api.funnel` with both;
- "funnel 4 steps ordered 7d": `api.funnel` (the compiled pass once the kernels are loaded,
  where the side has them);
- "attribution (channel, sorted copy)": six models, touches pages and "Application Opened".

Each side is a worker process with its own copy of the demo store of `--size`
(bench/stores.py), the copy built, the event catalogue caught up (where the side has one, as a
server keeps it) and the kernels loaded (where it has them); every case runs
once first (a warm-up, its result compared between the sides), then the driver asks the two
in turn, which goes first alternating. Each figure is the worker's own: wall seconds and CPU
seconds of the process (every thread: getrusage RUSAGE_SELF), with the 1-minute load beside.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ab import ROOT, Worker, unpack
from stores import OUT, demo_store

CASES = [
    "funnel rows only: sorted copy pass",
    "funnel + channel breakdown + week trend",
    "funnel 4 steps ordered 7d",
    "attribution (channel, sorted copy)",
]

WORKER = r"""
import json, os, resource, sys, time
from touchpath.analytics import api, journey
from touchpath.analytics.attribution import AttributionSpec
from touchpath.analytics.funnels import FunnelSpec, funnel_sql
from touchpath.store import Store
try:
    from touchpath.events.match import EventMatch
    run_attribution = api.attribution
except ImportError:  # before issue #10
    from touchpath.analytics import insights
    from touchpath.analytics.common import EventMatch
    run_attribution = insights.attribution

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
FUNNEL = FunnelSpec.model_validate({"steps": [{"event": e} for e in STEPS], "window": "7d"})
TOUCHES = (EventMatch(type="page"), "Application Opened")
store = Store(sys.argv[1])
journey.optimize(store)
try:  # fold the log into the event catalogue, as a server's listener does (bench/ab.py)
    from touchpath.catalogue import catalogue
    store.write_sync(catalogue.catch_up)
except (ImportError, AttributeError):  # before the catalogue
    pass
with store.reading() as cur:
    layout = journey.layout(cur, STEPS)
try:
    from touchpath.analytics.kernels.warm import WARMUP
    WARMUP.start()
    assert WARMUP.wait(1800), WARMUP.error
except ImportError:
    pass

def rows():
    return store.query(f"SELECT count(*) FROM ({funnel_sql(FUNNEL, True, layout)})")[0][0]

def breakdown():
    spec = {**FUNNEL.model_dump(), "breakdown": {"by": "channel"}, "trend": "week"}
    r = api.funnel(store, spec)
    return [g.model_dump(mode="json") for g in r.groups], r.model_dump(mode="json")["trend"]

def funnel():
    return api.funnel(store, FUNNEL).counts()

def attribution():
    r = run_attribution(store, AttributionSpec(by="channel", touches=TOUCHES))
    d = r.model_dump(mode="json")
    return [d["conversions"], d["attributed_conversions"], sorted(
        (row["key"], sorted((m, round(c["conversions"], 6)) for m, c in row["credit"].items()))
        for row in d["rows"])]

CASES = {
    "funnel rows only: sorted copy pass": rows,
    "funnel + channel breakdown + week trend": breakdown,
    "funnel 4 steps ordered 7d": funnel,
    "attribution (channel, sorted copy)": attribution,
}
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    name = json.loads(line)["case"]
    c0, t0 = cpu(), time.perf_counter()
    out = CASES[name]()
    wall, used = time.perf_counter() - t0, cpu() - c0
    print(json.dumps({"wall": wall, "cpu": used, "load": os.getloadavg()[0], "result": out},
                     default=str), flush=True)
store.close()
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--old", default="4c48174", help="the commit to compare against")
    parser.add_argument("--size", default="1M")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--case", nargs="+", default=CASES, choices=CASES)
    args = parser.parse_args(argv)
    rev = subprocess.run(["git", "rev-parse", "--short", args.old], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    print(f"old {args.old} ({rev}) against this checkout; cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()}", flush=True)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="tp-ab-copy-", dir=OUT))
    try:
        src = demo_store(args.size)
        workers = []
        for name, path in (("old", unpack(args.old, tmp / "old")), ("new", ROOT / "src")):
            copy = tmp / f"{name}.duckdb"
            shutil.copyfile(src, copy)
            workers.append(Worker(name, copy, path, WORKER))
        for w in workers:
            w.read()  # ready
        print(f"store demo_{args.size}: both workers ready", flush=True)
        run_rounds(workers, args.case, args.rounds)
        for w in workers:
            w.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_rounds(workers: list[Worker], cases: list[str], rounds: int) -> None:
    from ab import table

    got: dict[tuple[str, str], list[dict[str, object]]] = {}
    for c in cases:
        first = [w.ask({"case": c}) for w in workers]  # warm-up, and the results compared
        same = first[0]["result"] == first[1]["result"]
        print(f"  {c}: results equal: {same}", flush=True)
        assert same, (c, first[0]["result"], first[1]["result"])
    for i in range(rounds):
        for c in cases:
            for w in workers if i % 2 == 0 else workers[::-1]:
                got.setdefault((c, w.name), []).append(w.ask({"case": c}))
    table(got, cases, [w.name for w in workers], rounds)


if __name__ == "__main__":
    main()
