"""Benchmark and studies of experiments (figures in docs/experiments.md, docs/benchmarks.md).

    python bench/experiments.py speed   # 1M exposures, three metrics: time to a result
    python bench/experiments.py aa      # A/A experiments read daily: false-positive rates
    python bench/experiments.py asos    # the ASOS streams: when each test would have stopped
    python bench/experiments.py         # all three

`speed` builds bench/out/experiments_1M.duckdb once (1M people, each with an `Experiment
Viewed`, plus orders with revenue, later visits and pre-period orders: ~1.7M events, and an
identifier per person so `resolved_events` joins as in production), or reads main's through a
symlink; it works on its own copy (bench/out/experiments_1M_work.duckdb, with the sorted journey
copy built, as a server keeps it) and times the whole experiment (SQL + statistics) read from
the log and from the journey copy against the floor: one scan of the same events counting them
per event name, the least any per-arm read must do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from touchpath import catalogue
from touchpath.analytics import journey, registry
from touchpath.analytics.experiments import ExperimentResult, ExperimentSpec, Metric, experiment
from touchpath.analytics.experiments.stats import ArmStats, compare
from touchpath.analytics.experiments.streams import load_asos, read_streams, srm_table
from touchpath.analytics.planner import CopyState
from touchpath.events.match import EventMatch
from touchpath.store import Store

OUT = Path(__file__).resolve().parent / "out"
ASOS = Path(__file__).resolve().parents[2] / "shared/data/asos-digital-experiments"

SPEC = ExperimentSpec(
    experiment_id="bench-1",
    control="control",
    primary=Metric(name="orders", event=EventMatch(event="Order Completed"), window="14d"),
    guardrails=(
        Metric(
            name="revenue",
            kind="sum",
            property="revenue",
            event=EventMatch(event="Order Completed"),
            window="14d",
            pre_window="28d",
        ),
        Metric(
            name="came back",
            kind="retention",
            event=EventMatch(event="Session Started"),
            window_start="7d",
            window="14d",
        ),
    ),
)


def build(path: Path, people: int = 1_000_000) -> Path:
    """The benchmark store, written set-wise in SQL (the ingest path has its own bench)."""
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    with Store(tmp) as store:

        def fill(con: object) -> None:
            sql = f"""
            CREATE TEMP TABLE p AS SELECT i, 'u' || i AS uid,
                TIMESTAMP '2026-01-01' + to_seconds(hash(i) % (30 * 86400)) AS seen,
                CASE WHEN hash(i * 7) % 2 = 0 THEN 'control' ELSE 'test' END AS arm,
                (hash(i * 13) % 1000) / 1000.0 AS u
            FROM range({people}) t(i);
            CREATE TEMP TABLE e AS
                SELECT uid, seen AS ts, 'Experiment Viewed' AS event,
                    json_object('experiment_id', 'bench-1', 'variation_id', arm) AS props FROM p
                UNION ALL
                SELECT uid, seen + to_seconds(3600 + hash(i * 3) % (10 * 86400)), 'Order Completed',
                    json_object('revenue', 10 + hash(i * 5) % 90) FROM p
                WHERE u < CASE WHEN arm = 'test' THEN 0.21 ELSE 0.20 END
                UNION ALL
                SELECT uid, seen - to_seconds(86400 + hash(i * 11) % (20 * 86400)), 'Order Completed',
                    json_object('revenue', 10 + hash(i * 17) % 90) FROM p WHERE u > 0.7
                UNION ALL
                SELECT uid, seen + to_seconds(8 * 86400 + hash(i * 19) % (5 * 86400)),
                    'Session Started', '{{}}'::JSON FROM p WHERE u BETWEEN 0.3 AND 0.5;
            INSERT INTO events
            SELECT row_number() OVER () AS seq, 'm' || seq, 'bench', 'track', event, NULL, uid,
                NULL, NULL, ts, ts, ts, ts, 'direct', '{{}}'::JSON, props, NULL FROM e;
            INSERT INTO identifiers (kind, value, profile_id, first_seen, last_seen)
            SELECT 'user_id', uid, 'p' || i, seen, seen FROM p;
            """
            con.execute(sql)  # type: ignore[attr-defined]

        store.write_sync(fill)
    tmp.rename(path)
    return path


def working_store() -> Path:
    """The bench's own copy of the shared store (built once, or symlinked from main's
    bench/out; never written), its catalogue folded and its journey copy built, as a served
    store keeps them (the commit listener folds the catalogue, the refresher the copy)."""
    shared = build(OUT / "experiments_1M.duckdb")
    mine = OUT / "experiments_1M_work.duckdb"
    if not mine.exists():
        tmp = mine.with_suffix(".copying")
        shutil.copyfile(shared, tmp)
        with Store(tmp) as store:
            store.write_sync(catalogue.catch_up)
            journey.optimize(store)
        tmp.rename(mine)
    return mine


def speed(repeat: int) -> None:
    """`experiment()` on the log (the planner told the copy is stale) and on the fresh journey
    copy, against the floor, interleaved; the two results must be equal."""
    floor_sql = (
        "SELECT event, count(*), count(DISTINCT profile_id) FROM resolved_events "
        "WHERE event IN ('Experiment Viewed', 'Order Completed', 'Session Started') GROUP BY 1"
    )
    with Store(working_store()) as store:
        (events,) = store.query("SELECT count(*) FROM events")[0]
        reads: dict[str, Callable[[], object]] = {
            "experiment, log": lambda: registry.run(store, SPEC, copy=CopyState(False)),
            "experiment, copy": lambda: experiment(store, SPEC),
            "floor": lambda: store.query(floor_sql),
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in reads}
        results: dict[str, object] = {}
        for _ in range(repeat):  # interleaved, so all see the same machine
            for name, read in reads.items():
                t, c = time.perf_counter(), time.process_time()
                results[name] = read()
                runs[name].append((time.perf_counter() - t, time.process_time() - c))
    log, copy = results["experiment, log"], results["experiment, copy"]
    assert isinstance(log, ExperimentResult) and isinstance(copy, ExperimentResult)
    assert (log.source, copy.source) == ("log", "copy")
    same = {"exclude": {"source", "as_of"}}
    assert log.model_dump(**same) == copy.model_dump(**same), "copy and log differ"
    load = os.getloadavg()
    print(
        f"\n{events:,} events, {sum(copy.exposures.values()):,} exposures, 3 metrics; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; log and copy results equal"
    )
    # CPU seconds are all threads of the process: on a busy shared machine they say more
    # than the wall time, which waits for cores other processes hold.
    print(f"{'run':<18}{'best s':>9}{'median s':>10}{'best CPU s':>12}{'median CPU s':>14}")
    for name, xs in runs.items():
        wall, cpu = [x[0] for x in xs], [x[1] for x in xs]
        print(
            f"{name:<18}{min(wall):>9.3f}{statistics.median(wall):>10.3f}"
            f"{min(cpu):>12.3f}{statistics.median(cpu):>14.3f}"
        )
    print(f"verdict: {copy.verdict}: {copy.summary}")


def aa(sims: int, days: int, per_day: int, seed: int) -> None:
    """Many A/A experiments (10% conversion in both arms) read at the end of every day."""
    rng = np.random.default_rng(seed)
    conv = rng.binomial(per_day, 0.1, size=(2, sims, days)).cumsum(axis=2)
    n = per_day * np.arange(1, days + 1)
    e = compare(
        ArmStats.binary(n, conv[0]),
        ArmStats.binary(n, conv[1]),
        proportion=True,
        tuning=2 * per_day * days,
    )
    print(f"\n{sims:,} A/A experiments, {per_day} people per arm a day, read daily for {days} days")
    print(f"{'read':<34}{'fixed-horizon':>14}{'sequential':>12}")
    once_f = (e.p_value[:, -1] < 0.05).mean()
    once_s = (e.seq_p_value[:, -1] < 0.05).mean()
    print(f"{'once, at the end':<34}{once_f:>14.3f}{once_s:>12.3f}")
    for d in (7, 14, days):
        f = (e.p_value[:, :d] < 0.05).any(axis=1).mean()
        s = (e.seq_p_value[:, :d] < 0.05).any(axis=1).mean()
        print(f"{f'daily, stop when significant ({d} d)':<34}{f:>14.3f}{s:>12.3f}")


def asos() -> None:
    streams = load_asos(ASOS / "asos_digital_experiments.csv.gz")
    print(
        f"\nASOS: {len(streams)} streams, "
        f"{len({s.experiment for s in streams})} experiments; alpha 0.05, two-sided"
    )
    print(
        f"{'test, read at every checkpoint':<42}{'stopped':>8}{'share':>7}{'median day':>11}"
        f"{'median % of run':>16}{'+':>5}{'-':>5}{'final read disagrees':>21}"
    )
    final = read_streams(streams)
    rows = [("fixed-horizon (Welch)", "fixed", final)]
    rows.append(("sequential, N* = the run's final count", "seq", final))
    rows.append(("sequential, N* = 5000 (GrowthBook)", "seq", read_streams(streams, tuning=5000)))
    for label, which, reads in rows:
        stops = [
            (r, getattr(r, f"{which}_day"), getattr(r, f"{which}_sign"))
            for r in reads
            if getattr(r, f"{which}_day") is not None
        ]
        share = len(stops) / len(reads)
        day = statistics.median(d for _, d, _ in stops)
        frac = statistics.median(d / r.horizon for r, d, _ in stops)
        pos = sum(1 for _, _, s in stops if s > 0)
        # Stopped, but the single read at the last checkpoint is not significant or opposite.
        off = sum(1 for r, _, s in stops if r.final_sign != s)
        print(
            f"{label:<42}{len(stops):>8}{share:>7.1%}{day:>11.1f}{100 * frac:>15.0f}%"
            f"{pos:>5}{len(stops) - pos:>5}{off:>21}"
        )
    once = sum(1 for r in final if r.final_sign)
    print(
        f"{'fixed-horizon, read once at the last checkpoint':<42}{once:>8}{once / len(final):>7.1%}"
    )
    flagged = [x for x in srm_table(streams) if x[4] < 0.001]
    print(
        f"\nSample-ratio check (50/50, p < 0.001) at each experiment-variant's last checkpoint: "
        f"{len(flagged)} of {len(srm_table(streams))} flagged"
    )
    for e, v, c, t, p in flagged:
        print(
            f"  {e} variant {v}: control {c:,}, treatment {t:,} "
            f"(treatment share {t / (c + t):.4f}), p = {p:.2g}"
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", nargs="?", choices=["speed", "aa", "asos"], default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sims", type=int, default=20_000)
    args = ap.parse_args(argv)
    if args.what in (None, "aa"):
        aa(args.sims, days=30, per_day=500, seed=1)
    if args.what in (None, "asos"):
        asos()
    if args.what in (None, "speed"):
        speed(args.repeat)


if __name__ == "__main__":
    sys.exit(main())
