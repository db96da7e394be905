"""Benchmark: resident memory of a process that opens a store to read, then starts its writer.

    python bench/store_memory.py --size 10M

Each figure is a fresh Python process on a copy of the demo store of `--size` (bench/stores.py;
its messages were received when it was built, so within a day all of them are inside the 24 h
duplicate window): RSS after imports, after opening the store and answering a count (a CLI
query: nothing of the write path is loaded), and after starting the writer (which loads the
duplicate window: 8 bytes a message in a sorted array), with the peak while it loads.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
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
    out["events"] = n
print(json.dumps(out))
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="1M")
    args = parser.parse_args(argv)
    path = OUT / f"memory_{args.size}.duckdb"
    if not path.exists():
        shutil.copyfile(demo_store(args.size), path)
    res = subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True,
                         capture_output=True, text=True)  # fmt: skip
    got = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"store {path.name}: {got['events']:,} events, {got['window']:,} messages in the "
          f"duplicate window; load average {os.getloadavg()}")  # fmt: skip
    print("| process | RSS MB |")
    print("|---|---|")
    print(f"| imports (touchpath.store) | {got['imports']:.0f} |")
    print(f"| store opened, a count answered (read only) | {got['read']:.0f} |")
    print(f"| writer started (duplicate window loaded in {got['writer_s']:.1f} s) | "
          f"{got['writer']:.0f} (peak {got['writer_peak']:.0f}) |")  # fmt: skip


if __name__ == "__main__":
    main()
