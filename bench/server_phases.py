"""Benchmark: what a server does at its first start on a store, phase by phase, and what holds
its memory.

    python bench/server_phases.py --size 10M [--settle 900] [--tracemalloc]

In one process on a copy of the demo store of `--size` (bench/stores.py; loaded without
listeners, so a first start catches up with the whole log), `Touchpath.open(background=True)`
as `touchpath serve` does, and the writer started as by a first tracked message. A sampler
thread reads every 0.5 s: RSS, DuckDB's own accounting (`duckdb_memory()`: its buffer pool by
tag, and what it spilled), Python's heap (tracemalloc, with `--tracemalloc`; slows the run) and
each thread's CPU. Each component's start and each piece of the writer's work (a commit
listener over a seq range, a queued write) is a phase: the table gives its seconds, CPU
seconds, RSS at its end and the peak RSS and DuckDB memory within it. The process then waits
until it is settled (the server bench's rule, bench/server_memory.py), and says which threads
used the CPU since the last phase.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stores import OUT, demo_store

MB = 2**20


@dataclass
class Phase:
    name: str
    t0: float
    cpu0: float
    t1: float = 0.0
    cpu1: float = 0.0
    rss1: float = 0.0
    peak: float = 0.0
    duck_peak: float = 0.0
    py_peak: float = 0.0


@dataclass
class Sampler:
    """RSS, DuckDB memory and the Python heap every `every` s, attributed to open phases."""

    store: Any = None
    every: float = 0.5
    phases: list[Phase] = field(default_factory=list)
    open: list[Phase] = field(default_factory=list)
    peak: float = 0.0
    series: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.proc = psutil.Process()
        self.t_start = time.perf_counter()
        self.thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def cpu(self) -> float:
        t = self.proc.cpu_times()
        return float(t.user + t.system)

    def rss(self) -> float:
        return float(self.proc.memory_info().rss) / MB

    def duck(self) -> tuple[float, float]:
        if self.store is None:
            return 0.0, 0.0
        try:
            with self.store.reading() as cur:
                row = cur.execute(
                    "SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) "
                    "FROM duckdb_memory()"
                ).fetchall()[0]
            return float(row[0] or 0) / MB, float(row[1] or 0) / MB
        except Exception:
            return -1.0, -1.0

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        rss = self.rss()
        duck, spill = self.duck()
        py = tracemalloc.get_traced_memory()[0] / MB if tracemalloc.is_tracing() else 0.0
        with self.lock:
            self.peak = max(self.peak, rss)
            self.series.append((time.perf_counter() - self.t_start, rss, duck, spill, py))
            for p in self.open:
                p.peak = max(p.peak, rss)
                p.duck_peak = max(p.duck_peak, duck)
                p.py_peak = max(p.py_peak, py)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        p = Phase(name, time.perf_counter() - self.t_start, self.cpu())
        with self.lock:
            self.open.append(p)
            self.phases.append(p)
        try:
            yield
        finally:
            self.sample()
            with self.lock:
                self.open.remove(p)
            p.t1, p.cpu1, p.rss1 = time.perf_counter() - self.t_start, self.cpu(), self.rss()


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread, by its Python name."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "duckdb/other")
        out[name] = out.get(name, 0.0) + (int(stat[11]) + int(stat[12])) / tick
    return out


def instrument(sampler: Sampler) -> None:
    """Phases for each component's start, each commit listener's call and each queued write."""
    from touchpath import system
    from touchpath.store import listeners, store

    real_call = listeners._call

    def call(listener: Callable[..., None], con: Any, first: int, last: int) -> None:
        name = getattr(listener, "__qualname__", repr(listener))
        with sampler.phase(f"listener {name} [{first}, {last}]"):
            real_call(listener, con, first, last)

    listeners._call = call  # type: ignore[assignment]

    real_write = store.Store.write

    def write(self: Any, fn: Callable[..., Any], *a: Any, **k: Any) -> Any:
        name = getattr(fn, "__qualname__", repr(fn))

        def timed(con: Any) -> Any:
            with sampler.phase(f"write {name}"):
                return fn(con)

        return real_write(self, timed, *a, **k)

    store.Store.write = write  # type: ignore[method-assign]

    real_components = system.components

    def components(background: bool, listen: bool = True) -> list[Any]:
        out = real_components(background, listen)
        for part in out:
            real_start = part.start

            def start(tp: Any, _s: Any = real_start, _n: str = part.name) -> None:
                sampler.store = tp.store
                with sampler.phase(f"start {_n}"):
                    _s(tp)

            part.start = start
        return out

    system.components = components  # type: ignore[assignment]


def report(sampler: Sampler, min_seconds: float) -> None:
    print("| phase | start s | seconds | CPU s | RSS MB at end | peak RSS MB | DuckDB MB peak "
          "| Python heap MB peak |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for p in sampler.phases:
        if p.t1 - p.t0 < min_seconds and (p.cpu1 - p.cpu0) < min_seconds:
            continue
        print(f"| {p.name[:70]} | {p.t0:.1f} | {p.t1 - p.t0:.1f} | {p.cpu1 - p.cpu0:.1f} "
              f"| {p.rss1:.0f} | {max(p.peak, p.rss1):.0f} | {p.duck_peak:.0f} "
              f"| {p.py_peak:.0f} |")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="1M")
    parser.add_argument("--settle", type=float, default=900.0)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the working copy")
    args = parser.parse_args(argv)
    db = OUT / f"server_phases_{args.size}.duckdb"
    shutil.copyfile(demo_store(args.size), db)
    Path(str(db) + ".wal").unlink(missing_ok=True)
    if args.tracemalloc:
        tracemalloc.start()
    from touchpath.settings import Settings
    from touchpath.system import Touchpath

    sampler = Sampler()
    instrument(sampler)
    sampler.thread.start()
    load0 = os.getloadavg()[0]
    try:
        with sampler.phase("open (every component)"):
            tp = Touchpath.open(Settings(db=db), background=True)
        with sampler.phase("writer started"):
            tp.store._start()
        settle(sampler, args.settle)
        report(sampler, 1.0)
        t = sampler.t_start
        print(f"\nsettled after {time.perf_counter() - t:.0f} s; peak RSS {sampler.peak:.0f} MB; "
              f"CPU {sampler.cpu():.1f} s; load {load0:.1f}-{os.getloadavg()[0]:.1f}")  # fmt: skip
        print("series (s, RSS MB, DuckDB MB, spilled MB, Python MB), every 10th:")
        for row in sampler.series[::10]:
            print("  " + ", ".join(f"{v:.0f}" for v in row))
        breakdown(sampler, tp)
        tp.close()
    finally:
        sampler.stop.set()
        if not args.keep:
            db.unlink(missing_ok=True)
            Path(str(db) + ".wal").unlink(missing_ok=True)


def breakdown(sampler: Sampler, tp: Any) -> None:
    """What holds the settled process's memory: DuckDB's buffer pool by tag, what the C
    allocator gives back when asked (freed memory it kept), and what remains."""
    import ctypes

    with tp.store.reading() as cur:
        tags = cur.execute(
            "SELECT tag, memory_usage_bytes / 2**20 FROM duckdb_memory() "
            "WHERE memory_usage_bytes > 0 ORDER BY 2 DESC"
        ).fetchall()
        settings = cur.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads')"
        ).fetchall()[0]
    print(f"\nDuckDB memory_limit {settings[0]}, threads {settings[1]}; by tag (MB): "
          + ", ".join(f"{t} {m:.0f}" for t, m in tags))  # fmt: skip
    before = sampler.rss()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print(f"RSS {before:.0f} MB; after malloc_trim(0) {sampler.rss():.0f} MB")
    model = tp.services.get("personalize")
    if model is not None:
        print(f"personalisation's read model: {model.model.stats()}")


def settle(sampler: Sampler, limit: float) -> None:
    """Wait until the process used under 5% of a core over 10 s (or `limit` s from start),
    printing which threads used the CPU in each 10 s."""
    before = thread_cpu()
    while time.perf_counter() - sampler.t_start < limit:
        c0 = sampler.cpu()
        time.sleep(10)
        now = thread_cpu()
        busy = {k: v - before.get(k, 0.0) for k, v in now.items() if v - before.get(k, 0.0) > 0.05}
        before = now
        used = sampler.cpu() - c0
        print(f"{time.perf_counter() - sampler.t_start:.0f} s: RSS {sampler.rss():.0f} MB, "
              f"{used:.1f} CPU-s in 10 s: {sorted(busy.items(), key=lambda kv: -kv[1])}",
              flush=True)  # fmt: skip
        if used < 0.5:
            return


if __name__ == "__main__":
    main()
