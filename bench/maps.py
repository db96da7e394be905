"""Benchmark: binding the demo first-purchase map on the 1M-event demo business.

Prints a table: the time to bind the map with the sorted journey copy fresh (1, 2 and 4 worker
threads), the same bind with every funnel run one by one (the peer: the binder before
`funnels.many`), after one new event made it stale (funnels and the DFG resolve and sort
again), the `optimize` that makes it fresh, and the pieces of a bind one at a time. Each row
gives the best wall seconds and the best CPU seconds (user + system of the process and its
children, `resource.getrusage`): on a shared machine only the CPU column compares. The kernels
are loaded first (`WARMUP.wait`), as a server has them. The store is a copy of
bench/out/insights_1M.duckdb (the demo, seed 7, with sentiment), or the demo built by
bench/stores.py when that is missing; it is kept as bench/out/maps_1M.duckdb.

Run: `python bench/maps.py` (add `--repeat 5` for more runs). Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from stores import OUT, demo_store  # bench/stores.py, beside this file

from touchpath.analytics import journey, planner, registry
from touchpath.analytics.discovery import DFG, DfgSpec, Stage
from touchpath.analytics.funnels import FunnelSpec, many
from touchpath.analytics.kernels import warm
from touchpath.events.match import EventMatch, TimeRange
from touchpath.events.message import stage_messages
from touchpath.maps.bind import _funnel_jobs, bind_map
from touchpath.maps.feedback import map_feedback
from touchpath.maps.library import example
from touchpath.maps.render import render_html, render_svg
from touchpath.maps.touches import touches
from touchpath.store import Store, utcnow


def store_path() -> Path:
    mine = OUT / "maps_1M.duckdb"
    if not mine.exists():
        src = OUT / "insights_1M.duckdb"
        shutil.copyfile(src if src.exists() else demo_store("1M"), mine)
    return mine


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its children so far."""
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best wall seconds, best CPU seconds, the last result) of `repeat` runs."""
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        c, t = cpu_seconds(), time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, cpu_seconds() - c)
    return best, best_cpu, result


def one_by_one(fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn` with the map's funnels run one at a time (`funnels.many` batching off)."""

    def run() -> Any:
        ready = many._kernels_ready
        many._kernels_ready = lambda store: False  # type: ignore[assignment]
        try:
            return fn()
        finally:
            many._kernels_ready = ready  # type: ignore[assignment]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    doc = example("demo-first-purchase")
    rows: list[tuple[str, float, float]] = []
    print(f"load average at start: {os.getloadavg()}")
    assert warm.WARMUP.wait(600), warm.WARMUP.error
    with Store(store_path()) as store:
        events = store.query("SELECT count(*) FROM events")[0][0]
        if not store.query(journey.FRESH_SQL)[0][0]:
            journey.optimize(store)
        bm = bind_map(store, doc)  # the copy's columns and condition codes read once
        for workers in (1, 2, 4):
            wall, cpu, bm = timed(lambda w=workers: bind_map(store, doc, workers=w), args.repeat)
            rows.append((f"bind, copy fresh, {workers} worker(s)", wall, cpu))
        wall, cpu, _ = timed(one_by_one(lambda: bind_map(store, doc)), args.repeat)
        rows.append(("bind, one funnel at a time (peer)", wall, cpu))
        window = doc.window
        jobs = _funnel_jobs(doc)
        specs = [FunnelSpec(steps=tuple(steps), window=window) for steps in jobs.values()]
        with store.reading() as cur:
            state = planner.copy_state(cur, 0.0)

        def funnels() -> None:  # the binder's funnels (touchpoint, stage reach and time)
            for spec in specs:  # as the binder asks: names not checked against the catalogue
                registry.run(store, spec, copy=state, names=False)

        dfg = DfgSpec(
            stages=tuple(
                Stage(name=t.name, events=(EventMatch(**t.match.model_dump()),))
                for _, t in doc.touchpoints()
            ),
            collapse_repeats=True,
        )

        on_copy = DFG.copy(dfg)  # the tagged pass reads the copy when the DFG can

        def tagged() -> None:
            with store.reading() as cur:
                touches(cur, doc, TimeRange(), on_copy, None, 7, store.memo)

        n_funnels = len(jobs)
        pieces = [
            (f"  {n_funnels} funnels, batched (funnels.many)",
             lambda: many.run_many(store, specs, state)),
            (f"  {n_funnels} funnels, one after another", funnels),
            ("  DFG over the touchpoints",
             lambda: registry.run(store, dfg, copy=state, names=False)),
            ("  feedback (map_feedback)", lambda: map_feedback(store, doc, TimeRange())),
            ("  tagged pass (mix, contacts, errors)", tagged),
        ]  # fmt: skip
        for name, fn in pieces:
            rows.append((name, *timed(fn, args.repeat)[:2]))
        # One new event: the copy is stale, funnels and the DFG read resolved_events again.
        msg = {
            "type": "track",
            "userId": "bench",
            "event": "Bench Ping",
            "timestamp": "2026-11-01T00:00:00Z",
        }
        store.ingest(
            stage_messages([orjson.dumps(msg)], source="bench", received_at=utcnow())
        ).result()
        rows.append(
            ("bind, copy stale, 4 workers", *timed(lambda: bind_map(store, doc), args.repeat)[:2])
        )
        rows.append(("optimize (rebuild the copy)", *timed(lambda: journey.optimize(store), 1)[:2]))
        rows.append(("bind, copy fresh again (first)", *timed(lambda: bind_map(store, doc), 1)[:2]))
        rows.append(
            ("bind, copy fresh again", *timed(lambda: bind_map(store, doc), args.repeat)[:2])
        )
        rows.append(("render svg", *timed(lambda: render_svg(bm), args.repeat)[:2]))
        rows.append(("render html", *timed(lambda: render_html(bm), args.repeat)[:2]))
    print(f"cpus: {os.cpu_count()}, load average at the end: {os.getloadavg()}")
    print(f"demo business: {events:,} events; map {doc.name}: {len(doc.stages)} stages, "
          f"{len(doc.touchpoints())} touchpoints; best of {args.repeat}")  # fmt: skip
    print(f"{'step':<42}{'wall s':>10}{'CPU s':>10}")
    for name, secs, cpu in rows:
        print(f"{name:<42}{secs:>10.3f}{cpu:>10.3f}")


if __name__ == "__main__":
    main()
