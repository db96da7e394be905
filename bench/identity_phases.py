"""Where the time of a profiles rebuild goes: wall and CPU seconds (every thread) of each SQL
statement and of each Python phase of `profiles.rebuild`, on a copy of a demo store.

    python bench/identity_phases.py --big bench/out/demo_1M.duckdb [--runs 1] [--top 25]

The writer connection is wrapped (the same object to DuckDB) so that each `execute` and the
fetch of its result are timed under the statement's first words; the phases are the functions
of `identity.resolve` and `profiles.traits`/`audiences`. Prints, per run, the rebuild's wall
and CPU seconds, peak RSS and the load average, then the statements and phases by CPU.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Timings:
    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def add(self, name: str, wall: float, cpu_s: float) -> None:
        self.wall[name] = self.wall.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu_s
        self.calls[name] = self.calls.get(name, 0) + 1

    def timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            t, c = time.perf_counter(), cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - t, cpu() - c)

        return run


def label(sql: str) -> str:
    words = re.sub(r"\s+", " ", sql).strip()
    m = re.search(r"TEMP TABLE (\w+)", words)
    if m:
        return f"CREATE {m.group(1)}"
    return words[:70]


class Result:
    def __init__(self, con: Any, name: str, timings: Timings) -> None:
        self._con, self._name, self._t = con, name, timings

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._con, attr)
        if attr.startswith("fetch") or attr in ("arrow", "df", "pl"):
            return self._t.timed(self._name, value)
        return value


class Con:
    """The writer connection with `execute` timed per statement."""

    def __init__(self, con: Any, timings: Timings, explain: list[str], out: Path) -> None:
        self._con, self._t, self._explain, self._out = con, timings, explain, out
        self._profiling = False

    def execute(self, sql: str, *args: Any) -> Result:
        name = label(sql)
        if self._profiling:  # switched off here, not after it: that would replace its result
            self._con.execute("PRAGMA disable_profiling")
            self._profiling = False
        if any(name.startswith(e) for e in self._explain):
            # DuckDB's operator timings of this statement, to a file of its own
            calls = self._t.calls.get(name, 0) + 1
            path = self._out / (re.sub(r"\W+", "_", name)[:40] + f"_{calls}.txt")
            self._con.execute("PRAGMA enable_profiling = 'query_tree'")
            self._con.execute(f"PRAGMA profiling_output = '{path}'")
            self._profiling = True
        self._t.timed(name, self._con.execute)(sql, *args)
        return Result(self._con, name, self._t)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._con, attr)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument(
        "--explain",
        nargs="*",
        default=[],
        help="statements (by the start of their label) whose operator timings DuckDB writes "
        "to --explain-dir",
    )
    ap.add_argument("--explain-dir", type=Path, default=Path("out/explain"))
    ap.add_argument(
        "--memory-mb",
        type=int,
        nargs="+",
        default=[1024],
        help="`rebuild_memory_mb` of each run, in turn (0: DuckDB's default limit)",
    )
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    if args.explain:
        args.explain_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.big.resolve().parent) as d:
        db = Path(d) / "phases.duckdb"
        shutil.copy(args.big, db)
        conf = Path(d) / "unify.yaml"
        conf.write_text(UNIFY)
        phases = Timings()
        for module, name in PHASES:
            setattr(module, name, phases.timed(name, getattr(module, name)))
        with Store(db, Settings(db=db, unify=conf)) as store:
            settings = store.settings
            store.write_sync(
                lambda con: con.execute(
                    "INSERT OR REPLACE INTO identity_state VALUES ('resolved_through', "
                    "(SELECT coalesce(max(seq), 0) FROM events))"
                )
            )
            tp = Touchpath(
                settings=store.settings, store=store, clock=SystemClock(), owns_store=False
            )
            for part in components(False, True):
                if part.name == "identity":
                    part.start(tp)
                    tp.parts.append(part)
            rules = tp.services["unify"].config.identity
            (events,) = store.query("SELECT count(*) FROM events")[0]
            stmts = Timings()
            write_sync = store.write_sync

            def timed_write(fn: Callable[[Any], Any]) -> Any:
                """The transaction's work, then its COMMIT (the rest of write_sync's time)."""
                t, c = time.perf_counter(), cpu()
                inside = phases.timed(
                    "transaction", lambda con: fn(Con(con, stmts, args.explain, args.explain_dir))
                )
                try:
                    return write_sync(inside)
                finally:
                    phases.add("commit", time.perf_counter() - t - phases.wall["transaction"],
                               cpu() - c - phases.cpu["transaction"])  # fmt: skip

            store.write_sync = timed_write  # type: ignore[method-assign]
            for i in range(args.runs):
                mb = args.memory_mb[i % len(args.memory_mb)]
                store.settings = settings.model_copy(update={"rebuild_memory_mb": mb or None})
                for t in (phases, stmts):
                    t.wall.clear(), t.cpu.clear(), t.calls.clear()
                load = os.getloadavg()[0]
                t0, c0 = time.perf_counter(), cpu()
                result = rebuild(store, rules)
                wall, used = time.perf_counter() - t0, cpu() - c0
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(
                    f"rebuild {events:,} events ({result.profiles:,} profiles, "
                    f"{result.identifiers:,} identifiers, {result.merges:,} merges), "
                    f"rebuild_memory_mb {mb or None}: "
                    f"{wall:.2f} s, {used:.2f} CPU-s, peak RSS {rss:,.0f} MB, "
                    f"load {load:.1f} -> {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                for title, t, top in (("phase", phases, 99), ("statement", stmts, args.top)):
                    print(f"| {title} | calls | wall s | CPU-s |\n|---|---:|---:|---:|")
                    for name in sorted(t.cpu, key=t.cpu.__getitem__, reverse=True)[:top]:
                        print(f"| {name} | {t.calls[name]} | {t.wall[name]:.2f} | {t.cpu[name]:.2f} |")  # fmt: skip
                    print()


if __name__ == "__main__":
    main()
