"""Benchmark: resident memory of a process that opens a store to read, then starts its writer.

    python bench/store_memory.py --size 10M

Each figure is a fresh Python process on a copy of the demo store of `--size` (bench/stores.py;
its messages were received when it was built, so within a day all of them are inside the 24 h
duplicate window): RSS after imports, after opening the store and answering a count (a CLI
query: nothing of the write path is loaded), and after starting the writer (which loads the
duplicate window: 12 bytes a message, its hashes sorted beside their commit seconds), with
the peak while it loads, and the window's own arrays.
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
from ab import unpack
from stores import OUT, demo_store

CHILD = r"""
import json, sys, threading, time
import psutil
proc = psutil.Process()
from touchpath.store import Store
mb = lambda: proc.memory_info().rss / 2**20
out = {"imports": mb()}
with Store(sys.argv[1]) as store:
    (n,) = store.query("SELECT count(*) FROM events")[0]
    out["read"] = mb()
    peak = [0.0]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], mb())
            time.sleep(0.005)
    t = threading.Thread(target=sample); t.start()
    t0 = time.perf_counter()
    store._start()  # the writer: loads the duplicate window
    out["writer_s"] = time.perf_counter() - t0
    done.set(); t.join()
    out["writer"] = mb()
    out["writer_peak"] = max(peak[0], out["writer"])
    out["window"] = len(store._recent_hashes)
    out["window_mb"] = getattr(store._recent_hashes, "nbytes", 0) / 2**20  # none before
    out["events"] = n
print(json.dumps(out))
"""


def child(path: Path, src: Path | None) -> dict[str, float]:
    """One fresh process's figures (`src`: the package of an older commit, else this one)."""
    env = {**os.environ, "PYTHONPATH": str(src)} if src is not None else None
    res = subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True,
                         capture_output=True, text=True, env=env)  # fmt: skip
    got: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
    return got


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="1M")
    parser.add_argument("--old", help="also an older commit's process, alternately")
    parser.add_argument("--runs", type=int, default=1, help="processes per version")
    args = parser.parse_args(argv)
    path = OUT / f"memory_{args.size}.duckdb"
    if not path.exists():
        shutil.copyfile(demo_store(args.size), path)
    tmp = Path(tempfile.mkdtemp(prefix="tp-mem-", dir=OUT))
    try:
        versions: dict[str, Path | None] = {"this checkout": None}
        if args.old:
            versions = {f"old ({args.old})": unpack(args.old, tmp), **versions}
        runs: dict[str, list[dict[str, float]]] = {v: [] for v in versions}
        loads = []
        for i in range(args.runs):
            for v in list(versions)[:: 1 if i % 2 == 0 else -1]:
                runs[v].append(child(path, versions[v]))
                loads.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    first = next(iter(runs.values()))[0]
    print(f"store {path.name}: {first['events']:,} events, {first['window']:,} messages in the "
          f"duplicate window; load average {min(loads):.1f}-{max(loads):.1f}; median (min-max) "
          f"of {args.runs} process(es) per version, alternately")  # fmt: skip

    def cell(v: str, key: str) -> str:
        xs = [r[key] for r in runs[v]]
        d = 1 if key == "writer_s" else 0
        return f"{statistics.median(xs):.{d}f} ({min(xs):.{d}f}-{max(xs):.{d}f})"

    print("| process | " + " | ".join(f"{v}: RSS MB" for v in runs) + " |")
    print("|---|" + "---|" * len(runs))
    rows = [("imports (touchpath.store)", "imports"),
            ("store opened, a count answered (read only)", "read"),
            ("writer started (duplicate window loaded)", "writer"),
            ("peak while the writer starts", "writer_peak"),
            ("the window's own arrays (0: not counted)", "window_mb"),
            ("seconds to start the writer", "writer_s")]  # fmt: skip
    for label, key in rows:
        print(f"| {label} | " + " | ".join(cell(v, key) for v in runs) + " |")
    for v in runs:
        grow = [r["writer"] - r["read"] for r in runs[v]]
        print(f"{v}: starting the writer grew RSS by {statistics.median(grow):.0f} MB "
              f"({min(grow):.0f}-{max(grow):.0f})")  # fmt: skip


if __name__ == "__main__":
    main()
