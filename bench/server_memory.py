"""Benchmark: the server's resident memory once it has settled, on the 1M and 10M demo stores.

    python bench/server_memory.py --sizes 1M 10M [--old main --runs 2]

For each size, `touchpath serve` (uvicorn, one process, on 127.0.0.1) on a copy of the demo
store of that size (bench/stores.py). One tracked message through /v1 (a fresh write key) makes
sure the writer has started and loaded the duplicate window. The server then does what it
does at start (the commit listeners catching up with the log, the journey copy, the compiled
kernels loading, the journey maps binding); its RSS is sampled every 0.5 s. The process counts
as settled once, over 30 s, it used under 10 % of a core and its RSS stayed within 2 % (or after
`--settle` seconds: then the table says "not settled"): the median of those 60 samples is the
steady figure, beside the peak seen since start, the server's CPU seconds, its CPU share over
the last 30 s and the load.

The rule was "under 5 % of a core over 10 s". An idle server is never that quiet: the journey
timers look for due people every 0.5 s, the personalisation worker every 50 ms, so its floor
was 4-5 % of a core at 1M on a quiet machine and more on a loaded one (the 10M run of
2026-12-07 12:55 never met it in 25 minutes). What settles is the start-up work, which uses
a core or more while it runs and grows or shrinks RSS by hundreds of MB: a 30 s window under
10 % with RSS flat tells it apart from that floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ab import unpack
from stores import OUT, demo_store

SERVER = """
import sys
from touchpath.settings import Settings
from touchpath.web.server import serve
serve(Settings(db=sys.argv[1], port=int(sys.argv[2])))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_key(db: Path) -> str:
    from touchpath.store import Store

    with Store(db) as store:
        key = store.rotate_source_key("demo", timedelta(days=1)).write_key
    assert key is not None
    return key


def measure(size: str, settle: float, src: Path | None = None) -> dict[str, float]:
    """One server's figures (`src`: the package of an older commit, else this checkout's)."""
    db = OUT / f"server_memory_{size}.duckdb"
    shutil.copyfile(demo_store(size), db)
    Path(str(db) + ".wal").unlink(missing_ok=True)
    key = _write_key(db)
    port = _free_port()
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(db), str(port)], env=env)
    ps = psutil.Process(proc.pid)
    peak = 0

    def rss() -> int:
        nonlocal peak
        now = int(ps.memory_info().rss)
        peak = max(peak, now)
        return now

    def cpu() -> float:
        t = ps.cpu_times()
        return float(t.user + t.system)

    try:
        url = f"http://127.0.0.1:{port}/v1/track"
        msg = {"userId": "bench", "event": "Server Memory", "messageId": f"sm-{time.time()}"}
        while True:
            rss()
            try:
                if httpx.post(url, json=msg, auth=(key, ""), timeout=30).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.perf_counter() - t0 > 900:
                raise SystemExit(f"the server on {db.name} did not answer /v1/track")
            time.sleep(0.5)
        ready = time.perf_counter() - t0
        samples: list[int] = []
        idle_cpu = 0.0
        while True:
            c0 = cpu()
            samples = []
            for _ in range(60):
                samples.append(rss())
                time.sleep(0.5)
            idle_cpu = (cpu() - c0) / 30
            if _settled(samples, idle_cpu) or time.perf_counter() - t0 > settle:
                break
        settled = time.perf_counter() - t0
        return {"ready": ready, "settled": settled, "rss": statistics.median(samples) / 2**20,
                "peak": peak / 2**20, "cpu": cpu(), "idle": idle_cpu,
                "ok": float(_settled(samples, idle_cpu))}  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
        db.unlink(missing_ok=True)
        Path(str(db) + ".wal").unlink(missing_ok=True)


def _settled(samples: list[int], cpu_share: float) -> bool:
    """The rule: over 30 s, under 10 % of a core, and RSS within 2 % (of its median)."""
    return cpu_share < 0.10 and max(samples) - min(samples) < 0.02 * statistics.median(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1M"])
    parser.add_argument("--settle", type=float, default=600.0)
    parser.add_argument("--old", help="also an older commit's server, alternately")
    parser.add_argument("--runs", type=int, default=1, help="servers per version and size")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="tp-srv-", dir=OUT))
    versions: dict[str, Path | None] = {"this checkout": None}
    if args.old:
        versions = {f"old ({args.old})": unpack(args.old, tmp), **versions}
    rows = []
    try:
        for size in args.sizes:
            for i in range(args.runs):
                for v in list(versions)[:: 1 if i % 2 == 0 else -1]:
                    load0 = os.getloadavg()[0]
                    got = measure(size, args.settle, versions[v])
                    rows.append((f"demo_{size}, {v}", got, load0, os.getloadavg()[0]))
                    print(rows[-1], flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| store | steady RSS MB (median over 30 s) | peak RSS MB | answered /v1 after s "
          "| settled after s | server CPU s | idle CPU (share of a core) | load |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for size, g, l0, l1 in rows:
        late = "" if g["ok"] else " (not settled)"
        print(f"| {size} | {g['rss']:.0f}{late} | {g['peak']:.0f} | {g['ready']:.1f} "
              f"| {g['settled']:.0f} | {g['cpu']:.1f} | {g['idle']:.3f} "
              f"| {l0:.1f}-{l1:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
