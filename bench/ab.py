"""Benchmark: one analysis as an older commit runs it against this checkout, alternately.

    python bench/ab.py --old main --size 1M --rounds 7 --analysis retention funnel

Two worker processes, one per version: the old one imports `touchpath` from `git archive OLD`
unpacked into bench/out (ahead of the installed package on its path), the new one from this
checkout. Each opens its own copy of the demo store of `--size` (bench/stores.py), builds the
sorted copy if it is not built, folds the log into the event catalogue (as a server's listener
does), loads the compiled kernels, runs every analysis once (a
warm-up, and its result is checked equal between the two versions), then waits. The driver asks
them in turn, old and new alternately (which goes first alternates too), so load changes hit
both alike. Each figure is the worker's own: wall seconds, and CPU seconds of the process (every
thread: getrusage RUSAGE_SELF), with the 1-minute load average beside them; the table gives the
median, min and max over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stores import OUT, demo_store

ROOT = Path(__file__).resolve().parent.parent
SPECS: dict[str, dict[str, Any]] = {
    "funnel": {
        "kind": "funnel",
        "steps": [
            {"event": e}
            for e in ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
        ],
        "window": "7d",
    },
    "dfg": {"kind": "dfg"},
    "paths": {"kind": "paths", "start": {"event": "Home"}},
    "paths-end": {"kind": "paths", "end": {"event": "Order Completed"}},
    "retention": {"kind": "retention", "cohort_event": {"event": "Order Completed"}},
}

WORKER = r"""
import json, os, resource, sys, time
from touchpath.analytics import journey, registry
from touchpath.catalogue import catalogue
from touchpath.analytics.kernels.warm import WARMUP
from touchpath.store import Store

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

store = Store(sys.argv[1])
with store.reading() as cur:
    fresh = journey.is_fresh(cur)
if not fresh:
    journey.optimize(store)
store.write_sync(catalogue.catch_up)  # as a server's listener does (stores.catalogue_caught_up)
WARMUP.start()
assert WARMUP.wait(1800), WARMUP.error
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    spec = json.loads(line)
    c0, t0 = cpu(), time.perf_counter()
    result = registry.run(store, spec)
    wall, used = time.perf_counter() - t0, cpu() - c0
    out = result.model_dump(mode="json", exclude={"as_of"})
    print(json.dumps({"wall": wall, "cpu": used, "load": os.getloadavg()[0],
                      "source": result.source, "result": out}), flush=True)
store.close()
"""


def unpack(rev: str, where: Path) -> Path:
    """`git archive rev src` unpacked under `where`: the old version's package."""
    where.mkdir(parents=True, exist_ok=True)
    tar = where / "src.tar"
    with tar.open("wb") as f:
        subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, stdout=f, check=True)
    with tarfile.open(tar) as t:
        t.extractall(where, filter="data")
    tar.unlink()
    return where / "src"


class Worker:
    """One version's process, answering one spec a line."""

    def __init__(self, name: str, store: Path, pythonpath: Path, code: str = WORKER) -> None:
        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(store)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:  # lines that are not the worker's JSON (e.g. a blank one) are skipped
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"{self.name} worker ended (exit {self.proc.wait()})")
            if line.startswith("{"):
                got: dict[str, Any] = json.loads(line)
                return got

    def ask(self, spec: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(spec) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--old", default="main", help="the commit to compare against")
    parser.add_argument("--size", default="1M")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--analysis", nargs="+", default=list(SPECS), choices=list(SPECS))
    args = parser.parse_args(argv)
    rev = subprocess.run(["git", "rev-parse", "--short", args.old], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    print(f"old {args.old} ({rev}) against this checkout; cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()}", flush=True)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="tp-ab-", dir=OUT))
    try:
        src = demo_store(args.size)
        workers = []
        for name, path in (("old", unpack(args.old, tmp / "old")), ("new", ROOT / "src")):
            copy = tmp / f"{name}.duckdb"
            shutil.copyfile(src, copy)
            workers.append(Worker(name, copy, path))
        for w in workers:
            w.read()  # ready
        print(f"store demo_{args.size}: both workers ready", flush=True)
        run_rounds(workers, args.analysis, args.rounds)
        for w in workers:
            w.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_rounds(workers: list[Worker], analyses: list[str], rounds: int) -> None:
    got: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in analyses:
        first = [w.ask(SPECS[a]) for w in workers]  # warm-up, and the results compared
        same = first[0]["result"] == first[1]["result"]
        print(f"  {a}: sources {[f['source'] for f in first]}, results equal: {same}", flush=True)
        assert same, (a, first[0]["result"], first[1]["result"])
    for i in range(rounds):
        for a in analyses:
            for w in workers if i % 2 == 0 else workers[::-1]:
                got.setdefault((a, w.name), []).append(w.ask(SPECS[a]))
    table(got, analyses, [w.name for w in workers], rounds)


def table(
    got: dict[tuple[str, str], list[dict[str, Any]]],
    analyses: list[str],
    names: list[str],
    rounds: int,
) -> None:
    """The rounds' figures per analysis and version (the last of `names` is the new one)."""
    print(f"\n{rounds} alternating rounds: median (min-max) of wall and CPU seconds; load: "
          "1-minute average")  # fmt: skip
    print("| analysis | version | wall s | CPU s | load | new / old (wall, CPU) |")
    print("|---|---|---|---|---|---|")
    for a in analyses:
        med = {}
        for name in names:
            runs = got[(a, name)]
            wall = [r["wall"] for r in runs]
            cpu = [r["cpu"] for r in runs]
            loads = [r["load"] for r in runs]
            med[name] = (statistics.median(wall), statistics.median(cpu))
            ratio = ""
            if name == names[-1]:
                ratio = (
                    f"{med[name][0] / med[names[0]][0]:.2f}x, "
                    f"{med[name][1] / med[names[0]][1]:.2f}x"
                )
            print(f"| {a} | {name} | {med[name][0]:.3f} ({min(wall):.3f}-{max(wall):.3f}) "
                  f"| {med[name][1]:.3f} ({min(cpu):.3f}-{max(cpu):.3f}) "
                  f"| {min(loads):.1f}-{max(loads):.1f} | {ratio} |")  # fmt: skip


if __name__ == "__main__":
    main()
