"""Benchmark: binding the demo first-purchase map on the 1M-event demo business.

Prints a table: the time to bind the map with the sorted journey copy fresh (1, 2 and 4 worker
threads), after one new event made it stale (funnels and the DFG resolve and sort again), the
`optimize` that makes it fresh, and the pieces of a bind one at a time. The store is a copy of
bench/out/insights_1M.duckdb (the demo, seed 7, with sentiment), or the demo built by
bench/stores.py when that is missing; it is kept as bench/out/maps_1M.duckdb.

Run: `python bench/maps.py` (add `--repeat 5` for more runs). Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import orjson
from stores import OUT, demo_store, measure  # bench/stores.py, beside this file

from touchpath.analytics import api, journey
from touchpath.analytics.discovery import DFG, DfgSpec, Stage
from touchpath.analytics.funnels import FunnelSpec
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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    doc = example("demo-first-purchase")
    rows: list[tuple[str, float]] = []
    with Store(store_path()) as store:
        events = store.query("SELECT count(*) FROM events")[0][0]
        if not store.query(journey.FRESH_SQL)[0][0]:
            journey.optimize(store)
        for workers in (1, 2, 4):
            secs, _, bm = measure(lambda w=workers: bind_map(store, doc, workers=w), args.repeat)
            rows.append((f"bind, copy fresh, {workers} worker(s)", secs))
        window = doc.window

        jobs = _funnel_jobs(doc)

        def funnels() -> None:  # the binder's funnels (touchpoint, stage reach and time)
            for steps in jobs.values():
                api.funnel(store, FunnelSpec(steps=tuple(steps), window=window))

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
                touches(cur, doc, TimeRange(), on_copy, None, 7)

        n_funnels = len(jobs)
        pieces = [
            (f"  {n_funnels} funnels, one after another", funnels),
            ("  DFG over the touchpoints", lambda: api.discover_dfg(store, dfg)),
            ("  feedback (2 x api.feedback)", lambda: map_feedback(store, doc, TimeRange())),
            ("  tagged pass (mix, contacts, errors)", tagged),
        ]
        for name, fn in pieces:
            rows.append((name, measure(fn, args.repeat)[0]))
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
        secs = measure(lambda: bind_map(store, doc), args.repeat)[0]
        rows.append(("bind, copy stale, 4 workers", secs))
        t0 = time.perf_counter()
        journey.optimize(store)
        rows.append(("optimize (rebuild the copy)", time.perf_counter() - t0))
        rows.append(
            ("bind, copy fresh again", measure(lambda: bind_map(store, doc), args.repeat)[0])
        )
        rows.append(("render svg", measure(lambda: render_svg(bm), args.repeat)[0]))
        rows.append(("render html", measure(lambda: render_html(bm), args.repeat)[0]))
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()}")
    print(f"demo business: {events:,} events; map {doc.name}: {len(doc.stages)} stages, "
          f"{len(doc.touchpoints())} touchpoints; best of {args.repeat}")  # fmt: skip
    print(f"{'step':<42}{'seconds':>10}")
    for name, secs in rows:
        print(f"{name:<42}{secs:>10.3f}")


if __name__ == "__main__":
    main()
