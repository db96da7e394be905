"""Benchmark: discovery, attribution and feedback on the 1M and 10M demo event logs.

    python bench/analytics_insights.py            # 1M and 10M (builds missing stores first)
    python bench/analytics_insights.py --sizes 1M  # only 1M
    python bench/analytics_insights.py --build-only

Stores are cached under bench/out/; the runs use their own copy (insights_work_<size>.duckdb,
made once), since they drop and rebuild its sorted journey copy. Each analysis runs in a fresh process-local cursor; the table
gives the best of `--repeat` runs and the peak RSS growth of the process during the run. The DFG
is also computed by a plain pandas implementation on the same events in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from stores import load_demo, measure  # bench/stores.py, beside this file

from touchpath.analytics import sentiment
from touchpath.store import Store

OUT = Path(__file__).resolve().parent / "out"
CUSTOMERS = 18_500  # the demo makes ~54 events per customer: ~1M events
COPIES = {"1M": 1, "10M": 10}


def build(label: str) -> Path:
    """The demo business with ~1M events, loaded through stage_messages + ingest.

    10M is ten copies of the 1M business with distinct ids (new seq, message, user and
    anonymous ids, same times): generating and ingesting 185k customers on this shared 2-core
    machine takes over an hour, copying takes seconds, and the analyses see 10x the profiles.
    """
    path = OUT / f"insights_{label}.duckdb"
    if path.exists():
        return path
    if COPIES[label] > 1:
        return replicate(build("1M"), path, COPIES[label])
    OUT.mkdir(exist_ok=True)
    built: Path = load_demo(path, CUSTOMERS, attach=sentiment.listen)
    return built


def replicate(src: Path, path: Path, copies: int) -> Path:
    """`copies` copies of the events (and their sentiment) of `src`, each with its own ids."""
    import shutil

    t0 = time.perf_counter()
    tmp = path.with_suffix(".building")
    shutil.copyfile(src, tmp)
    with Store(tmp) as store:

        def copy(con: Any) -> None:
            (top,) = con.execute("SELECT max(seq) FROM events").fetchone()
            for k in range(1, copies):
                con.execute(
                    "INSERT INTO events SELECT seq + ? * ?, message_id || '~' || ?, source, type, "
                    "event, anonymous_id || '~' || ?, user_id || '~' || ?, group_id, previous_id, "
                    "timestamp, original_timestamp, sent_at, received_at, channel, context, "
                    "properties, traits FROM events WHERE seq <= ?",
                    [k, top, k, k, k, top],
                )
                con.execute(
                    "INSERT INTO sentiment SELECT seq + ? * ?, property, score, label "
                    "FROM sentiment WHERE seq <= ?",
                    [k, top, top],
                )

        store.write_sync(copy)
        (events,) = store.query("SELECT count(*) FROM events")[0]
    tmp.rename(path)
    print(f"built {path.name}: {events:,} events in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def pandas_dfg(store: Store) -> Any:
    """The DFG as a plain pandas user would write it: sort, shift within profile, group."""
    import pandas as pd

    with store.reading() as cur:
        df = cur.execute(
            "SELECT profile_id, coalesce(event, type) AS activity, timestamp, seq "
            "FROM resolved_events WHERE type IN ('track', 'page', 'screen')"
        ).df()
    df = df.sort_values(["profile_id", "timestamp", "seq"], kind="stable")
    same = df["profile_id"].shift(-1) == df["profile_id"]
    edges = pd.DataFrame(
        {
            "source": df["activity"][same],
            "target": df["activity"].shift(-1)[same],
            "secs": (df["timestamp"].shift(-1) - df["timestamp"])[same].dt.total_seconds(),
        }
    )
    return edges.groupby(["source", "target"])["secs"].agg(
        frequency="size", median="median", p90=lambda s: s.quantile(0.9)
    )


def stages() -> Any:
    from touchpath.analytics.discovery import Stage

    return (
        Stage(name="awareness", events=("Home", "Category", "Product Viewed")),
        Stage(name="consideration", events=("Product Added", "Cart")),
        Stage(name="decision", events=("Checkout Started", "Payment Info Entered")),
        Stage(name="purchase", events=("Order Completed",)),
        Stage(name="support", events=("Ticket Created", "Ticket Resolved")),
    )


def cases(store: Store) -> list[tuple[str, Callable[[], Any]]]:
    from touchpath.analytics import api, journey
    from touchpath.analytics.attribution import AttributionSpec
    from touchpath.analytics.discovery import ConformanceSpec, DfgSpec, VariantsSpec
    from touchpath.analytics.feedback import FeedbackSpec
    from touchpath.events.match import EventMatch

    STAGES = stages()
    TOUCHES = (EventMatch(type="page"), "Application Opened")
    return [
        ("dfg (events)", lambda: api.discover_dfg(store, DfgSpec())),
        ("dfg (pandas peer)", lambda: pandas_dfg(store)),
        ("dfg (stages)", lambda: api.discover_dfg(store, DfgSpec(stages=STAGES))),
        (
            "variants (stages)",
            lambda: api.discover_variants(store, VariantsSpec(stages=STAGES)),
        ),
        ("conformance", lambda: api.conformance(store, ConformanceSpec(stages=STAGES))),
        (
            "attribution (channel, 6 models)",
            lambda: api.attribution(store, AttributionSpec(by="channel", touches=TOUCHES)),
        ),
        (
            "attribution (touchpoint)",
            lambda: api.attribution(
                store,
                AttributionSpec(by="touchpoint", models=("first_touch", "last_touch", "linear")),
            ),
        ),
        ("feedback", lambda: api.feedback(store, FeedbackSpec(stages=STAGES))),
        # `touchpath optimize` writes the sorted journey copy; a fresh copy lets the DFG skip
        # its sort (same result, checked in tests).
        ("optimize (sorted journey copy)", lambda: journey.optimize(store)),
        ("dfg (events, sorted copy)", lambda: api.discover_dfg(store, DfgSpec())),
        ("dfg (stages, sorted copy)", lambda: api.discover_dfg(store, DfgSpec(stages=STAGES))),
        (
            "conformance (sorted copy)",
            lambda: api.conformance(store, ConformanceSpec(stages=STAGES)),
        ),
        (
            "variants (stages, sorted copy)",
            lambda: api.discover_variants(store, VariantsSpec(stages=STAGES)),
        ),
        (
            "attribution (channel, sorted copy)",
            lambda: api.attribution(store, AttributionSpec(by="channel", touches=TOUCHES)),
        ),
        (
            "attribution (touchpoint, sorted copy)",
            lambda: api.attribution(
                store,
                AttributionSpec(by="touchpoint", models=("first_touch", "last_touch", "linear")),
            ),
        ),
    ]


def _same(a: Any, b: Any) -> bool:
    """Equal results, credits within the rounding of float sums (attribution)."""
    if a.kind != "attribution":
        return bool(a == b)
    ca = {(r.key, m): c.conversions for r in a.rows for m, c in r.credit.items()}
    cb = {(r.key, m): c.conversions for r in b.rows for m, c in r.credit.items()}
    return ca.keys() == cb.keys() and all(abs(ca[k] - cb[k]) < 1e-3 for k in ca)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--only", default="", help="Run only analyses whose name contains this.")
    args = ap.parse_args(argv)
    labels = [s.strip() for s in args.sizes.split(",") if s.strip()]
    paths = {label: build(label) for label in labels}
    if args.build_only:
        return
    print(f"cpus: {psutil.cpu_count()}, load average: {psutil.getloadavg()}")
    print(f"{'events':>7} | {'analysis':<32} | {'seconds':>8} | {'CPU s':>6} | {'peak MB':>8}")
    print(f"{'-' * 7}-+-{'-' * 32}-+-{'-' * 8}-+-{'-' * 6}-+-{'-' * 8}")
    for label, cached in paths.items():
        path = OUT / f"insights_work_{label}.duckdb"
        if not path.exists():
            shutil.copyfile(cached, path)
        with Store(path) as store:
            # Start without the sorted journey copy; the `optimize` case builds it later.
            store.write_sync(lambda con: con.execute("DELETE FROM journey_build"))
            results: dict[str, Any] = {}
            for name, fn in cases(store):
                if args.only not in name and not (args.only and name.startswith("optimize")):
                    continue
                c0 = time.process_time()  # mean CPU seconds per run, DuckDB's threads included
                secs, peak, results[name] = measure(fn, args.repeat)
                cpu = (time.process_time() - c0) / args.repeat
                print(
                    f"{label:>7} | {name:<32} | {secs:8.3f} | {cpu:6.2f} | {peak:8.0f}", flush=True
                )
            for log, copy in (
                ("dfg (events)", "dfg (events, sorted copy)"),
                ("dfg (stages)", "dfg (stages, sorted copy)"),
                ("variants (stages)", "variants (stages, sorted copy)"),
                ("attribution (channel, 6 models)", "attribution (channel, sorted copy)"),
                ("attribution (touchpoint)", "attribution (touchpoint, sorted copy)"),
            ):
                if log in results and copy in results:
                    same = _same(results[log], results[copy])
                    print(f"{label:>7} | {copy}: same result as the log: {same}", flush=True)
            if "dfg (events)" in results and "dfg (pandas peer)" in results:
                ours = {(e.source, e.target): e.frequency for e in results["dfg (events)"].edges}
                peer = results["dfg (pandas peer)"]["frequency"].to_dict()
                print(f"{label:>7} | DFG edges identical to pandas: {ours == peer}", flush=True)


if __name__ == "__main__":
    main()
