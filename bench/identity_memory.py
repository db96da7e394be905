"""Where the peak memory of a profiles rebuild goes: RSS sampled every 5 ms in a thread
(tracemalloc cannot see DuckDB's or Arrow's allocations) while `profiles.rebuild` runs on a
copy of a demo store, with the peak RSS reached inside each phase of the rebuild.

    python bench/identity_memory.py --big bench/out/demo_1M.duckdb [--runs 1]

Prints, per run: wall seconds, CPU seconds (all threads), peak RSS, the load average; and a
table of phases (first entry to last exit) with the peak RSS seen while each was running.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from identity import UNIFY  # bench/identity.py, beside this file

from touchpath.identity import resolve
from touchpath.profiles import audiences, rebuild, traits
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import SystemClock, Touchpath, components

PHASES: list[tuple[Any, str]] = [
    (resolve, "resolve"),
    (resolve, "_components"),
    (resolve, "_settle_safe"),
    (resolve, "_merge_log"),
    (resolve, "_load"),
    (resolve, "_walk"),
    (resolve, "touch_seen"),
    (resolve, "save"),
    (resolve, "clear_tables"),
    (traits, "update_traits"),
    (traits, "refresh_computed"),
    (audiences, "refresh_audiences"),
]


class Sampler:
    """RSS of this process every 5 ms, and the peak within each named phase."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.active: dict[str, int] = {}
        self.peaks: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.005)

    def sample(self) -> None:
        rss = self.proc.memory_info().rss
        self.peak = max(self.peak, rss)
        for name in list(self.active):
            self.peaks[name] = max(self.peaks.get(name, 0), rss)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.active[name] = self.active.get(name, 0) + 1
            self.sample()
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t
                self.sample()
                self.active[name] -= 1
                if not self.active[name]:
                    del self.active[name]

        return timed

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--memory-limit", help="SET memory_limit to this first (e.g. 1GB)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.big.parent) as d:
        db = Path(d) / "rebuild.duckdb"
        shutil.copy(args.big, db)
        conf = Path(d) / "unify.yaml"
        conf.write_text(UNIFY)
        sampler = Sampler()
        for module, name in PHASES:
            setattr(module, name, sampler.wrap(name, getattr(module, name)))
        with Store(db, Settings(db=db, unify=conf)) as store:
            store.write_sync(
                lambda con: con.execute(
                    "INSERT OR REPLACE INTO identity_state VALUES ('resolved_through', "
                    "(SELECT coalesce(max(seq), 0) FROM events))"
                )
            )
            # only the identity component: the others' footprint (the catalogue's scan of the
            # log is ~570 MB at 1M) would hide the rebuild's
            tp = Touchpath(
                settings=store.settings, store=store, clock=SystemClock(), owns_store=False
            )
            for part in components(False, True):
                if part.name == "identity":
                    part.start(tp)
                    tp.parts.append(part)
            rules = tp.services["unify"].config.identity
            if args.memory_limit:
                store.write_sync(
                    lambda con: con.execute(f"SET memory_limit = '{args.memory_limit}'")
                )
            (events,) = store.query("SELECT count(*) FROM events")[0]
            for _ in range(args.runs):
                sampler.peaks.clear()
                sampler.seconds.clear()
                base = psutil.Process().memory_info().rss
                with sampler:
                    sampler.peak = base
                    t, cpu = time.perf_counter(), time.process_time()
                    result = rebuild(store, rules)
                    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
                sampler._stop.clear()
                sampler._thread = threading.Thread(target=sampler._run, daemon=True)
                print(
                    f"rebuild {events:,} events ({result.profiles:,} profiles, "
                    f"{result.identifiers:,} identifiers, {result.merges:,} merges): "
                    f"{wall:.1f} s, {cpu:.1f} CPU-s, peak RSS {sampler.peak / 2**20:,.0f} MB "
                    f"(before {base / 2**20:,.0f} MB), load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                print("| phase | seconds | peak RSS MB |\n|---|---:|---:|")
                for _, name in PHASES:
                    if name in sampler.peaks:
                        print(f"| {name} | {sampler.seconds.get(name, 0):.2f} | "
                              f"{sampler.peaks[name] / 2**20:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
