"""Benchmark: the journey analyses beside their strongest peers, interleaved, results compared.

    python bench/journey_analytics.py --size 10M --rounds 5
    python bench/journey_analytics.py --size 1M --rounds 3
    python bench/journey_analytics.py --size 10M --rounds 7 --analysis paths
    python bench/journey_analytics.py --size 10M --rounds 7 --analysis attribution-channel attribution-touchpoint

On the demo store of `--size` (bench/stores.py: the real demo, seed 7, never copies of a smaller
one), copied to bench/out/journey_analytics_<size>.duckdb. Touchpath runs each analysis as the planner
picks it (the compiled kernels over the sorted journey copy, once loaded) and as SQL over the
same copy. The peers read the same events (the copy's journey events: integer profile number,
time in microseconds, activity name, in (profile, time, seq) order), each set up once, the set-up
timed and printed beside the copy's build time:

- ClickHouse (chdb) on a MergeTree table ordered by (profile number, time, seq): its strongest
  setup (windowFunnel, and the DFG by window functions over the stored order);
- ClickHouse (chdb) reading the same rows from Parquet (the setup docs/benchmarks.md used);
- Polars with one packed sort key (profile number << bits | microseconds since the first
  event), sorted once at set-up.

Attribution (the cases of bench/analytics_insights.py: by channel with six models, by touchpoint
with three) has no peer here: Touchpath's compiled pass runs beside its SQL over the copy, the
reference (and what the planner ran before the pass), results checked equal.

Each round runs every case once in a shuffled order (interleaved: load changes hit all cases
alike); the table gives the median, min and max over the rounds and the 1-minute load average
seen during the case's runs, and CPU seconds of the process (every thread) beside the wall
figures. Every peer's result is checked equal to Touchpath's (funnel level
counts; DFG edges with frequency and cases, gap quantiles to 1e-9 s; paths' edges; retention's
cohort table) and a difference fails the run.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import psutil
from chdb import session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stores import OUT, catalogue_caught_up, demo_store

from touchpath.analytics import journey, registry
from touchpath.analytics.kernels.warm import WARMUP
from touchpath.analytics.planner import Plan
from touchpath.analytics.registry import Read
from touchpath.store import Store

FUNNEL_STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
WEEK_US = 7 * 86_400 * 1_000_000
SPECS: dict[str, dict[str, Any]] = {
    "ordered funnel, 4 steps, 7 d": {
        "kind": "funnel",
        "steps": [{"event": e} for e in FUNNEL_STEPS],
        "window": "7d",
    },
    "event DFG, full output": {"kind": "dfg"},
    "paths from Home, 5 steps": {"kind": "paths", "start": {"event": "Home"}},
    "retention weekly, Order Completed": {
        "kind": "retention",
        "cohort_event": {"event": "Order Completed"},
    },
}
ATTRIBUTION: dict[str, dict[str, Any]] = {
    "attribution by channel, 6 models": {
        "kind": "attribution",
        "by": "channel",
        "touches": [{"type": "page"}, "Application Opened"],
    },
    "attribution by touchpoint, 3 models": {
        "kind": "attribution",
        "by": "touchpoint",
        "models": ["first_touch", "last_touch", "linear"],
    },
}
SPECS.update(ATTRIBUTION)
SHORT = dict(
    zip(
        ["funnel", "dfg", "paths", "retention", "attribution-channel", "attribution-touchpoint"],
        SPECS,
        strict=True,
    )
)
"""`--analysis` names of the cases."""


def export(store: Store, parquet: Path) -> pl.DataFrame:
    """The copy's journey events (pno, us, seq, name) in stored order, also as Parquet."""
    with store.reading() as cur:
        table = cur.sql(
            "SELECT e.pno, epoch_us(e.ts) AS us, e.seq, n.name FROM journey_events AS e "
            "JOIN journey_names AS n USING (code) ORDER BY e.pno, e.ts, e.seq"
        ).to_arrow_table()
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    df.write_parquet(parquet)
    return df


# ------------------------------------------------------------------------------- ClickHouse
def merge_tree(parquet: Path, where: str) -> session.Session:
    """A chdb session with the events in a MergeTree table ordered by (pno, us, seq)."""
    sess = session.Session(where)
    sess.query("CREATE DATABASE IF NOT EXISTS b")
    sess.query("DROP TABLE IF EXISTS b.ev")
    sess.query(
        "CREATE TABLE b.ev (pno UInt32, us UInt64, seq Int64, name LowCardinality(String)) "
        "ENGINE = MergeTree ORDER BY (pno, us, seq)"
    )
    sess.query(f"INSERT INTO b.ev SELECT pno, us, seq, name FROM file('{parquet}', Parquet)")
    sess.query("OPTIMIZE TABLE b.ev FINAL")
    return sess


def _csv(out: Any) -> list[list[str]]:
    return [line.split(",") for line in str(out).strip().splitlines() if line]


def ch_funnel(run: Callable[[str], Any], table: str) -> list[int]:
    conds = ", ".join(f"name = '{e}'" for e in FUNNEL_STEPS)
    names = ", ".join(f"'{e}'" for e in FUNNEL_STEPS)
    rows = _csv(
        run(
            f"SELECT level, count() FROM (SELECT pno, windowFunnel({WEEK_US})(toUInt64(us), {conds}) "
            f"AS level FROM {table} WHERE name IN ({names}) GROUP BY pno) GROUP BY level"
        )
    )
    by = {int(a): int(b) for a, b in rows}
    return [sum(n for lv, n in by.items() if lv >= k) for k in range(1, len(FUNNEL_STEPS) + 1)]


def ch_dfg(run: Callable[[str], Any], table: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Edges (with the journey's end as target '') with frequency, cases, median and p90 of
    the gap in seconds, over the stored order."""
    rows = _csv(
        run(
            "SELECT a, b, count(), uniqExact(pno), quantileExactInclusive(0.5)(gap), "
            "quantileExactInclusive(0.9)(gap) FROM (SELECT pno, name AS a, "
            "if(np = pno, nb, '') AS b, if(np = pno, (toInt64(nu) - toInt64(us)) / 1e6, nan) AS gap FROM "
            "(SELECT pno, us, name, leadInFrame(pno) OVER w AS np, leadInFrame(name) OVER w AS nb, "
            f"leadInFrame(us) OVER w AS nu FROM {table} WINDOW w AS (ORDER BY pno, us, seq ROWS "
            "BETWEEN CURRENT ROW AND 1 FOLLOWING))) GROUP BY a, b"
        )
    )
    return {
        (a.strip('"'), b.strip('"')): (int(f), int(c), float(m), float(p))
        for a, b, f, c, m, p in rows
    }


# ------------------------------------------------------------------------------- Polars
def packed(df: pl.DataFrame) -> pl.DataFrame:
    """The events sorted by one packed key: pno in the high bits, microseconds since the first
    event in the low (stable: ties keep the copy's seq order)."""
    low = df["us"].min()
    span = int(df["us"].max() - low) + 1  # type: ignore[operator]
    bits = span.bit_length()
    assert bits + int(df["pno"].max()).bit_length() <= 63  # type: ignore[arg-type]
    key = pl.col("pno").cast(pl.Int64) * (1 << bits) + (pl.col("us") - low)
    out = df.with_columns(key=key, name=pl.col("name").cast(pl.Categorical))
    return out.sort("key", maintain_order=True).set_sorted("key")


def pl_dfg(df: pl.DataFrame) -> dict[tuple[str, str], tuple[Any, ...]]:
    nxt = df.select(
        "pno",
        a=pl.col("name").cast(pl.String),
        b=pl.when(pl.col("pno").shift(-1) == pl.col("pno"))
        .then(pl.col("name").shift(-1).cast(pl.String))
        .otherwise(pl.lit("")),
        gap=pl.when(pl.col("pno").shift(-1) == pl.col("pno")).then(
            (pl.col("us").shift(-1) - pl.col("us")) / 1e6
        ),
    )
    edges = nxt.group_by("a", "b").agg(
        f=pl.len(),
        c=pl.col("pno").n_unique(),
        m=pl.col("gap").quantile(0.5, "linear"),
        p=pl.col("gap").quantile(0.9, "linear"),
    )
    return {(a, b): (f, c, m, p) for a, b, f, c, m, p in edges.iter_rows()}


def pl_paths(df: pl.DataFrame, steps: int = 5, gap_s: int = 1800) -> dict[Any, int]:
    """Edge weights (step, name, target) of the paths from each session's first Home."""
    ev = df.select(
        "pno",
        "name",
        sess=(
            (pl.col("pno") != pl.col("pno").shift(1))
            | (pl.col("us") - pl.col("us").shift(1) > gap_s * 1_000_000)
        )
        .fill_null(True)
        .cum_sum(),
    ).with_row_index("i")
    firsts = ev.filter(pl.col("name") == "Home").group_by("sess").agg(pl.col("i").min())
    n = ev.height
    hops = []
    for off in range(steps):
        at = (firsts["i"] + off).clip(upper_bound=n - 1)
        hop = ev[at].with_columns(start=firsts["i"], ok=ev[at]["sess"] == firsts["sess"])
        hops.append(hop.select("start", "name", "ok", off=pl.lit(off)))
    both = pl.concat(hops).filter("ok").sort("start", "off")
    pairs = both.with_columns(target=pl.col("name").shift(-1), same=pl.col("start").shift(-1))
    pairs = pairs.filter(pl.col("same") == pl.col("start"))
    got = pairs.group_by("off", "name", "target").agg(w=pl.len())
    return {(o + 1, str(a), str(b)): w for o, a, b, w in got.iter_rows()}


def pl_retention(df: pl.DataFrame, periods: int = 8) -> dict[Any, tuple[int, list[int]]]:
    """Weekly first-time cohorts of Order Completed, returns on Order Completed, `on` mode."""
    oc = df.filter(pl.col("name") == "Order Completed").select(
        "pno", t=pl.from_epoch("us", time_unit="us")
    )
    entries = (
        oc.group_by("pno")
        .agg(e=pl.col("t").min())
        .with_columns(cohort=pl.col("e").dt.truncate("1w"))
    )
    hits = (
        oc.join(entries, on="pno")
        .filter(pl.col("t") >= pl.col("e"))
        .with_columns(k=((pl.col("t").dt.truncate("1w") - pl.col("cohort")).dt.total_days() // 7))
        .filter(pl.col("k") < periods)
        .unique(["pno", "k"])
        .group_by("cohort", "k")
        .agg(n=pl.len())
    )
    sizes = entries.group_by("cohort").agg(n=pl.len())
    out: dict[Any, tuple[int, list[int]]] = {
        c.date(): (n, [0] * periods) for c, n in sizes.iter_rows()
    }
    for c, k, n in hits.iter_rows():
        out[c.date()][1][k] = n
    return out


# ------------------------------------------------------------------------------- Touchpath
def sql_over_copy(store: Store, spec: dict[str, Any]) -> Any:
    """The analysis as SQL over the sorted copy (the kernels' reference)."""
    parsed = registry.parse(spec)
    with store.reading() as cur:
        read = Read(cur, Plan("copy"), store.settings, store.memo)
        return registry.get(parsed.kind).run(read, parsed)


def same_credit(ours: Any, sql: Any) -> bool:
    """Attribution results equal, but for a credit's last rounded digit (float sums added in
    another order: the SQL's own runs differ there too; tests/test_attribution_kernel.py)."""
    units = {"conversions": 1.01e-6, "share": 1.01e-6, "revenue": 0.0101}
    head = {"rows", "revenue", "attributed_revenue", "source", "as_of"}  # and provenance
    if ours.model_dump(exclude=head) != sql.model_dump(exclude=head):
        return False
    if [r.key for r in ours.rows] != [r.key for r in sql.rows]:
        return False
    pairs = [(ours.revenue, sql.revenue, "revenue")]
    pairs.append((ours.attributed_revenue, sql.attributed_revenue, "revenue"))
    for mine, theirs in zip(ours.rows, sql.rows, strict=True):
        if mine.credit.keys() != theirs.credit.keys():
            return False
        for m, c in mine.credit.items():
            other = theirs.credit[m].model_dump()
            pairs += [(v, other[f], f) for f, v in c.model_dump().items()]
    return all(abs(a - b) <= units[f] for a, b, f in pairs)


def same(ours: Any, theirs: Any) -> bool:
    """Equal, with floats equal to 1e-6 (gap quantiles: seconds from different arithmetic)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, (tuple, list)) and isinstance(theirs, (tuple, list)):
        return len(ours) == len(theirs) and all(
            same(x, y) for x, y in zip(ours, theirs, strict=True)
        )
    if isinstance(ours, float) or isinstance(theirs, float):
        return abs(float(ours) - float(theirs)) < 1e-6
    return bool(ours == theirs)


def comparable(name: str, result: Any) -> Any:
    """Touchpath's result in the shape the peers give."""
    if name.startswith("ordered funnel"):
        return result.counts()
    if name.startswith("event DFG"):
        return {(e.source, e.target): (e.frequency, e.cases, e.median_seconds, e.p90_seconds)
                for e in result.edges}  # fmt: skip
    if name.startswith("paths"):
        return {(x.step, x.source.split(":", 1)[1], x.target.split(":", 1)[1]): x.weight
                for x in result.edges}  # fmt: skip
    return {c.cohort: (c.size, [x or 0 for x in c.retained]) for c in result.cohorts}


def peer_shape(name: str, ours: Any, theirs: Any) -> Any:
    """A peer's result cut to what Touchpath reports (the DFG's edges between activities; the
    paths' top edges, which Touchpath keeps)."""
    if name.startswith("event DFG"):
        return {k: v for k, v in theirs.items() if k[1]}
    if name.startswith("paths"):
        return {k: theirs.get(k) for k in ours}
    return theirs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="10M")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--analysis", nargs="+", default=list(SHORT), choices=list(SHORT))
    args = parser.parse_args(argv)
    print(f"cpus: {psutil.cpu_count()}, load average: {os.getloadavg()}", flush=True)
    path = OUT / f"journey_analytics_{args.size}.duckdb"
    if not path.exists():
        shutil.copyfile(demo_store(args.size), path)
    with Store(path) as store:
        (events,) = store.query("SELECT count(*) FROM events")[0]
        t0 = time.perf_counter()
        built = journey.optimize(store)
        build_s = time.perf_counter() - t0
        print(f"store {path.name}: {events:,} events, {built.profiles:,} profiles; sorted copy "
              f"built in {build_s:.1f} s ({built.events:,} journey events)", flush=True)  # fmt: skip
        folded = catalogue_caught_up(store)
        print(f"event catalogue caught up with the log in {folded:.1f} s (a server's listener "
              "does this as events arrive)", flush=True)  # fmt: skip
        t0 = time.perf_counter()
        WARMUP.start()
        assert WARMUP.wait(900), WARMUP.error
        print(f"kernels loaded in {time.perf_counter() - t0:.1f} s", flush=True)
        tmp = Path(tempfile.mkdtemp(prefix="tp-bench-", dir=OUT))
        try:
            run_all(store, tmp, args.rounds, [SHORT[a] for a in args.analysis])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def run_all(store: Store, tmp: Path, rounds: int, analyses: list[str]) -> None:
    parquet = tmp / "events.parquet"
    f, d, p, r, *_ = SPECS
    pk = pl.DataFrame()
    if any(a in analyses for a in (f, d, p, r)):  # the peers' set-up (none for attribution)
        t0 = time.perf_counter()
        df = export(store, parquet)
        print(f"export to Parquet/Polars {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        pk = packed(df)
        print(f"Polars packed-key sort {time.perf_counter() - t0:.1f} s", flush=True)
    sess = None
    if f in analyses or d in analyses:  # ClickHouse runs only the funnel and the DFG
        t0 = time.perf_counter()
        sess = merge_tree(parquet, str(tmp / "chdb"))
        print(f"ClickHouse MergeTree set-up {time.perf_counter() - t0:.1f} s", flush=True)

    def ch(sql: str) -> Any:
        assert sess is not None
        return sess.query(sql, "CSV")

    src = f"file('{parquet}', Parquet)"
    cases: dict[str, dict[str, Callable[[], Any]]] = {}
    for name, spec in SPECS.items():
        cases[name] = {
            "touchpath": lambda s=spec: registry.run(store, s),
            "touchpath SQL over the copy": lambda s=spec: sql_over_copy(store, s),
        }
    cases[f]["ClickHouse MergeTree"] = lambda: ch_funnel(ch, "b.ev")
    cases[f]["ClickHouse Parquet"] = lambda: ch_funnel(ch, src)
    cases[d]["ClickHouse MergeTree"] = lambda: ch_dfg(ch, "b.ev")
    cases[d]["Polars packed key"] = lambda: pl_dfg(pk)
    cases[p]["Polars packed key"] = lambda: pl_paths(pk)
    cases[r]["Polars packed key"] = lambda: pl_retention(pk)
    cases = {a: cases[a] for a in analyses}
    verify(cases)
    times: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    loads: dict[tuple[str, str], list[float]] = {}
    order = [(a, e) for a in cases for e in cases[a]]
    for _ in range(rounds):
        random.shuffle(order)
        for a, e in order:
            c0, t0 = cpu_seconds(), time.perf_counter()
            cases[a][e]()
            times.setdefault((a, e), []).append(time.perf_counter() - t0)
            cpus.setdefault((a, e), []).append(cpu_seconds() - c0)
            loads.setdefault((a, e), []).append(os.getloadavg()[0])
    report(cases, times, loads, rounds, cpus)


def cpu_seconds() -> float:
    """CPU seconds of this process, every thread (Touchpath, DuckDB, chdb and Polars all run
    in it)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def verify(cases: dict[str, dict[str, Callable[[], Any]]]) -> None:
    """Run each case once (a warm-up) and check every result against Touchpath's. Touchpath's
    first call after the copy's build is timed (it reads what the pass keeps per build: the
    copy's columns, and for attribution its per-row type and channel and the revenue)."""
    for name, engines in cases.items():
        c0, t0 = cpu_seconds(), time.perf_counter()
        first = engines["touchpath"]()
        print(f"  {name}: Touchpath's first call {time.perf_counter() - t0:.3f} s, "
              f"{cpu_seconds() - c0:.3f} CPU-s", flush=True)  # fmt: skip
        out = {e: first if e == "touchpath" else fn() for e, fn in engines.items()}
        ours = out.pop("touchpath")
        sql = out.pop("touchpath SQL over the copy")
        if name in ATTRIBUTION:
            assert ours.source == "copy" and same_credit(ours, sql), name
            print(f"  {name}: the compiled pass equal to the SQL over the copy", flush=True)
            continue
        assert ours == sql, name
        mine = comparable(name, ours)
        for e, theirs in out.items():
            assert same(mine, peer_shape(name, mine, theirs)), (name, e)
        print(f"  {name}: kernels equal to the SQL and to {', '.join(out)}", flush=True)


def report(
    cases: dict[str, dict[str, Callable[[], Any]]],
    times: dict[tuple[str, str], list[float]],
    loads: dict[tuple[str, str], list[float]],
    rounds: int,
    cpus: dict[tuple[str, str], list[float]],
) -> None:
    print(f"\n{rounds} interleaved rounds; seconds: median (min-max); load: 1-min average")
    print("| analysis | engine | median s | min-max s | CPU s median (min-max) | load "
          "| Touchpath / this (wall, CPU) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for a, engines in cases.items():
        ours = statistics.median(times[(a, "touchpath")])
        ours_cpu = statistics.median(cpus[(a, "touchpath")])
        for e in engines:
            t, c = times[(a, e)], cpus[(a, e)]
            med, med_cpu = statistics.median(t), statistics.median(c)
            load = f"{min(loads[(a, e)]):.1f}-{max(loads[(a, e)]):.1f}"
            ratio = "" if e == "touchpath" else f"{ours / med:.2f}x, {ours_cpu / med_cpu:.2f}x"
            print(f"| {a} | {e} | {med:.3f} | {min(t):.3f}-{max(t):.3f} "
                  f"| {med_cpu:.3f} ({min(c):.3f}-{max(c):.3f}) | {load} | {ratio} |")  # fmt: skip
    print("\nsummary: Touchpath against its strongest peer (the fastest median)")
    for a, engines in cases.items():
        ours = statistics.median(times[(a, "touchpath")])
        peers = {e: statistics.median(times[(a, e)]) for e in engines if not e.startswith("touch")}
        if not peers:  # attribution: against its SQL over the copy
            peers = {e: statistics.median(times[(a, e)]) for e in engines if e != "touchpath"}
        best = min(peers, key=peers.__getitem__)
        ours_cpu = statistics.median(cpus[(a, "touchpath")])
        best_cpu = statistics.median(cpus[(a, best)])
        print(f"  {a}: {ours:.3f} s, {ours / peers[best]:.2f}x {best} ({peers[best]:.3f} s); "
              f"CPU {ours_cpu:.3f} s, {ours_cpu / best_cpu:.2f}x ({best_cpu:.3f} s)")  # fmt: skip


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.0f} s")
