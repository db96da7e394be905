"""What an ingest request waits on while the journey timers drain (issue #16, target (b)).

Runs bench/journeys.py's first two phases (entry, then N timers due at once beside ingest)
with the store's writer instrumented: every slice of the writer thread (a commit of requests,
a commit of the steps' events, a timer batch, a round of commit listeners and each listener
in it) with its wall and thread-CPU time, and each request's time from queue to the start of
its commit. Prints, for the drain: the slices' duration histogram by kind, and for the slowest
requests what the writer did while they waited (by kind), plus a GIL probe (how late a 1 ms
sleep wakes on another thread).

    python bench/journeys_probe.py [--people 100000] [--rate 500]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import journeys  # bench/journeys.py, beside this file

from touchpath.store import listeners as listeners_mod
from touchpath.store import store as store_mod

Slice = tuple[str, float, float, float]  # kind, start, end, thread CPU s


class Probe:
    def __init__(self) -> None:
        self.slices: list[Slice] = []
        self.requests: list[tuple[float, float, float]] = []  # put, commit start, commit end
        self.phase = "idle"
        self.gil: dict[str, list[float]] = defaultdict(list)
        self._depth = 0
        self.wal: Path | None = None
        self.ckpt = ""
        self.checkpoints: list[tuple[float, int]] = []  # when the WAL shrank, from what size

    def _wal(self) -> None:
        last = 0
        while True:
            try:
                size = self.wal.stat().st_size if self.wal else 0
            except OSError:
                size = 0
            if size < last:
                self.checkpoints.append((time.monotonic(), last))
            last = size
            time.sleep(0.005)

    def slice(self, kind: str, fn: Any, *args: Any) -> Any:
        if self._depth:  # a listener inside a round: recorded as its own kind, nested
            t0, c0 = time.monotonic(), time.thread_time()
            try:
                return fn(*args)
            finally:
                self.slices.append((kind, t0, time.monotonic(), time.thread_time() - c0))
        self._depth += 1
        t0, c0 = time.monotonic(), time.thread_time()
        try:
            return fn(*args)
        finally:
            self._depth -= 1
            self.slices.append((kind, t0, time.monotonic(), time.thread_time() - c0))

    def install(self) -> None:
        S = store_mod.Store
        probe = self
        put, commit, run_write = S._put, S._commit_ingest, S._run_write
        flush, flush_prompt = S._flush_listeners, listeners_mod.Listeners.flush_prompt
        call = listeners_mod._call

        def _put(self: Any, job: Any) -> None:
            if probe.wal is None:
                probe.wal = Path(str(self.path) + ".wal")
                if probe.ckpt:
                    self._root.execute(f"SET GLOBAL checkpoint_threshold = '{probe.ckpt}'")
                threading.Thread(target=probe._wal, daemon=True).start()
            job.t_put = time.monotonic()
            put(self, job)

        def _commit_ingest(self: Any, jobs: list[Any]) -> None:
            bg = jobs[0].background
            t0 = time.monotonic()
            probe.slice("steps' events commit" if bg else "requests commit", commit, self, jobs)
            t1 = time.monotonic()
            if not bg:
                for j in jobs:
                    probe.requests.append((j.t_put, t0, t1))

        def _run_write(self: Any, job: Any) -> None:
            kind = "timer batch (write, bg)" if job.background else "write"
            probe.slice(kind, run_write, self, job)

        def _flush(self: Any, **kw: Any) -> None:
            probe.slice("listeners: full round", lambda: flush(self, **kw))

        def _flush_prompt(self: Any, con: Any) -> None:
            probe.slice("listeners: prompt round", flush_prompt, self, con)

        def _call(listener: Any, con: Any, first: int, last: int) -> None:
            name = getattr(listener, "__qualname__", repr(listener))
            probe.slice(f"  listener {name}", call, listener, con, first, last)

        checkpoint = getattr(S, "_checkpoint", None)

        def _checkpoint(self: Any) -> None:
            t0 = time.monotonic()
            assert checkpoint is not None
            checkpoint(self)
            if time.monotonic() - t0 > 0.002:
                probe.slices.append(("checkpoint (own slice)", t0, time.monotonic(), 0.0))

        if checkpoint is not None:
            S._checkpoint = _checkpoint  # type: ignore[method-assign]
        S._put, S._commit_ingest, S._run_write = _put, _commit_ingest, _run_write  # type: ignore[method-assign]
        S._flush_listeners = _flush  # type: ignore[method-assign]
        listeners_mod.Listeners.flush_prompt = _flush_prompt  # type: ignore[method-assign]
        listeners_mod._call = _call
        threading.Thread(target=self._gil, daemon=True).start()

    def _gil(self) -> None:
        while True:
            t0 = time.perf_counter()
            time.sleep(0.001)
            self.gil[self.phase].append(time.perf_counter() - t0 - 0.001)


def _q(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")


def report(probe: Probe, t0: float, t1: float, label: str) -> None:
    print(f"\n== {label}: {t1 - t0:.1f} s ==")
    by: dict[str, list[Slice]] = defaultdict(list)
    for s in probe.slices:
        if t0 <= s[1] < t1:
            by[s[0]].append(s)
    print(f"{'slice':44} {'n':>6} {'wall s':>8} {'cpu s':>7} {'p50 ms':>7} {'p90':>7} "
          f"{'p99':>7} {'max':>7}")  # fmt: skip
    for kind, ss in sorted(by.items(), key=lambda kv: -sum(s[2] - s[1] for s in kv[1])):
        d = [s[2] - s[1] for s in ss]
        print(f"{kind[:44]:44} {len(ss):6} {sum(d):8.2f} {sum(s[3] for s in ss):7.2f} "
              f"{_q(d, .5):7.1f} {_q(d, .9):7.1f} {_q(d, .99):7.1f} {max(d) * 1000:7.1f}")  # fmt: skip
    cps = [c for c in probe.checkpoints if t0 <= c[0] < t1]
    print(
        f"checkpoints (the WAL shrank): {len(cps)}, WAL before them (MB): "
        f"{[round(c[1] / 2**20) for c in cps][:20]}"
    )
    top = sorted((s for s in probe.slices if t0 <= s[1] < t1 and not s[0].startswith("  ")),
                 key=lambda s: s[1] - s[2])[:12]  # fmt: skip
    for kind, a, b, c in top:
        cp = any(a <= t <= b + 0.01 for t, _ in cps)
        print(
            f"  slowest: {kind:28} {(b - a) * 1000:7.1f} ms wall {c * 1000:7.1f} ms cpu"
            f"{'  (a checkpoint ended in it)' if cp else ''}"
        )
    reqs = [r for r in probe.requests if t0 <= r[0] < t1]
    if not reqs:
        return
    lat = [r[2] - r[0] for r in reqs]
    wait = [r[1] - r[0] for r in reqs]
    print(f"requests {len(reqs)}: latency p50 {_q(lat, .5):.1f} p99 {_q(lat, .99):.1f} ms; "
          f"queue wait p50 {_q(wait, .5):.1f} p99 {_q(wait, .99):.1f}; commit p50 "
          f"{_q([r[2] - r[1] for r in reqs], .5):.1f} p99 "
          f"{_q([r[2] - r[1] for r in reqs], .99):.1f} ms")  # fmt: skip
    slow = sorted(reqs, key=lambda r: r[2] - r[0])[-max(1, len(reqs) // 50) :]
    share: dict[str, float] = defaultdict(float)
    for put, start, _end in slow:
        for kind, a, b, _c in probe.slices:
            if kind.startswith("  "):
                continue
            share[kind] += max(0.0, min(b, start) - max(a, put))
        share["(writer idle or between slices)"] += 0.0
    total = sum(r[1] - r[0] for r in slow)
    busy = sum(share.values())
    share["(writer idle or between slices)"] = total - busy
    print(
        f"the slowest 2 % ({len(slow)}): queue wait {total / len(slow) * 1000:.0f} ms each, "
        "spent by the writer on:"
    )
    for kind, spent in sorted(share.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:44} {spent / len(slow) * 1000:8.1f} ms")
    g = probe.gil.get(label, [])
    if g:
        print(f"GIL probe (1 ms sleep overshoot): p50 {_q(g, .5):.2f} p99 {_q(g, .99):.2f} "
              f"max {max(g) * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--people", type=int, default=100_000)
    p.add_argument("--rate", type=int, default=500)
    p.add_argument("--quiet", type=float, default=10.0)
    p.add_argument("--ckpt", default="", help="DuckDB's checkpoint_threshold (e.g. 4MB)")
    a = p.parse_args()
    probe = Probe()
    probe.ckpt = a.ckpt
    probe.install()
    marks: dict[str, float] = {}
    enter, timers = journeys._enter, journeys._timers

    class PLoad(journeys.Load):  # mirror the phase into the probe
        def __setattr__(self, k: str, v: Any) -> None:
            object.__setattr__(self, k, v)
            if k == "phase":
                probe.phase = v
                marks[v] = time.monotonic()

    journeys.Load = PLoad  # type: ignore[misc,unused-ignore]

    def _enter(*args: Any) -> Any:
        marks["enter"] = time.monotonic()
        probe.phase = "enter"
        out = enter(*args)
        marks["entered"] = time.monotonic()
        return out

    def _timers(*args: Any) -> Any:
        out = timers(*args)
        marks["timers done"] = time.monotonic()
        return out

    journeys._enter, journeys._timers = _enter, _timers

    journeys._deliver = lambda *_a: {}  # only the first two phases
    journeys._latency = lambda *_a: {}
    print(f"load average before: {os.getloadavg()}")
    c0 = time.process_time()
    journeys.run(a.people, a.rate, 0, a.quiet, 0)
    print(f"CPU s {time.process_time() - c0:.1f}, load average after: {os.getloadavg()}")
    report(probe, marks["enter"], marks["entered"], "enter")
    report(probe, marks["alone"], marks["drain"], "alone")
    report(probe, marks["drain"], marks["after"], "drain")


if __name__ == "__main__":
    main()
