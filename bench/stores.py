"""Demo stores of about 1M and 10M events for the benchmarks, built once and cached in bench/out/.

    python bench/stores.py               # build (or find) the 1M and 10M stores
    python bench/stores.py --sizes 1M

`demo_store(label)` is the demo business (seed 7) loaded through `stage_messages` + `Store.ingest`
in groups of 50,000 messages with a few futures in flight, no commit listeners attached (no
identity, no sentiment), so events resolve to 'u:<userId>' / 'a:<anonymousId>' profiles.
bench/analytics_insights.py builds the same demo (same seed and sizes, plus sentiment) as
insights_<label>.duckdb; when that file exists it is copied instead of building again.
`working_copy(label, name)` gives a benchmark its own copy, so runs never fight over a file lock.
Each store built here gets a stamp beside it (`<store>.json`: customers, seed, events); a 10M
store without one is refused, never used under a size it may not have (a `demo_10M` made of ten
copies of the 1M store gave "10M" figures in the past), a smaller one is used with a warning.
`measure(fn, repeat)` is the best time of `repeat` runs and the peak RSS growth during them.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil

from touchpath.events.message import stage_messages
from touchpath.settings import Settings
from touchpath.store import Store

__all__ = [
    "OUT",
    "SIZES",
    "PeakRss",
    "catalogue_caught_up",
    "demo_store",
    "measure",
    "working_copy",
    "write_alone",
]

OUT = Path(__file__).resolve().parent / "out"
SIZES = {"100k": 1_850, "1M": 18_500, "10M": 185_000}
"""Customers per size: the demo makes about 54 events per customer (100k: for development)."""
SEED = 7


def demo_store(label: str) -> Path:
    """The cached demo store of size `label` (1M or 10M), built on first use."""
    path = OUT / f"demo_{label}.duckdb"
    if path.exists():
        check_stamp(path, SIZES[label])
        return path
    OUT.mkdir(exist_ok=True)
    same = OUT / f"insights_{label}.duckdb"  # the same demo, built by analytics_insights.py
    if same.exists() and stamp_of(same) is not None:
        check_stamp(same, SIZES[label])
        tmp = path.with_suffix(".building")
        shutil.copyfile(same, tmp)
        tmp.rename(path)
        _stamp_path(path).write_bytes(_stamp_path(same).read_bytes())
        return path
    return load_demo(path, SIZES[label])


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def stamp_of(path: Path) -> dict[str, Any] | None:
    """What the store at `path` was built from (None: not stamped by `load_demo`)."""
    stamp = _stamp_path(path)
    return orjson.loads(stamp.read_bytes()) if stamp.exists() else None  # type: ignore[no-any-return]


def check_stamp(path: Path, customers: int, seed: int = SEED) -> None:
    """Refuse a store that is not the demo of `customers` people and `seed`."""
    stamp = stamp_of(path)
    if stamp is None and customers < SIZES["10M"]:  # built before stamps: said, not silent
        print(f"warning: {path} has no stamp; assumed the demo of {customers:,} customers",
              file=sys.stderr)  # fmt: skip
        return
    if stamp is None or stamp.get("customers") != customers or stamp.get("seed") != seed:
        raise SystemExit(
            f"{path}: not the demo of {customers:,} customers, seed {seed} (stamp: {stamp}); "
            "delete it and run bench/stores.py to build the real one"
        )


def load_demo(
    path: Path,
    customers: int,
    seed: int = SEED,
    attach: Callable[[Store], Any] | None = None,
) -> Path:
    """The demo business with `customers` people loaded into a new store at `path` through
    stage_messages + Store.ingest (written to a temporary name, then renamed). `attach(store)`
    adds commit listeners first (none by default); they have caught up when it returns."""
    from touchpath.demo import DemoBusiness, DemoConfig

    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    settings = Settings(db=tmp, writer_queue_max=200_000, writer_max_batch=100_000)
    with Store(tmp, settings) as store:
        if attach is not None:
            attach(store)
        store.create_source("demo")
        pending = []
        group: list[bytes] = []
        for batch in DemoBusiness(DemoConfig(customers=customers, seed=seed)).batches(500):
            group.extend(orjson.dumps(m) for m in batch)
            if len(group) >= 50_000:
                now = datetime.now(UTC).replace(tzinfo=None)
                pending.append(store.ingest(stage_messages(group, source="demo", received_at=now)))
                group = []
                while len(pending) > 2:
                    pending.pop(0).result()
        if group:
            now = datetime.now(UTC).replace(tzinfo=None)
            pending.append(store.ingest(stage_messages(group, source="demo", received_at=now)))
        for f in pending:
            f.result()
        store.wait_idle(600)
        (events,) = store.query("SELECT count(*) FROM events")[0]
    tmp.rename(path)
    Path(str(tmp) + ".wal").unlink(missing_ok=True)
    seconds = time.perf_counter() - t0
    stamp = {"customers": customers, "seed": seed, "events": events, "seconds": round(seconds)}
    _stamp_path(path).write_bytes(orjson.dumps(stamp))
    print(f"built {path.name}: {events:,} events in {seconds:.0f} s", flush=True)
    return path


def catalogue_caught_up(store: Store) -> float:
    """Fold the log into the event catalogue, as a server's commit listener does while events
    arrive (these stores are loaded without listeners, so the catalogue is empty and every
    analysis's check of the names it reads would scan the whole log); seconds taken."""
    from touchpath.catalogue import catalogue

    t0 = time.perf_counter()
    store.write_sync(catalogue.catch_up)
    return time.perf_counter() - t0


def write_alone(stored: Path, out: Path, per_commit: int) -> tuple[int, float, float]:
    """INSERT + COMMIT of the event rows in `stored` (already normalised) into a new store at
    `out`, in commits of `per_commit` rows: DuckDB's own cost of writing the event log, the floor
    under any collector or import that stores them. (rows, seconds, CPU seconds)."""
    import duckdb

    from touchpath.store.ingest import _as_json

    with Store(stored) as store, store.reading() as cur:
        rows = cur.sql("SELECT * FROM events ORDER BY seq").to_arrow_table()
    # JSON columns typed as the writer hands them over (no VARCHAR -> JSON parse on INSERT)
    rows = _as_json(rows, ("context", "properties", "traits"))
    Store(out).close()  # migrated
    con = duckdb.connect(str(out))
    try:
        cpu, t = time.process_time(), time.perf_counter()
        for i in range(0, rows.num_rows, per_commit):
            con.register("part", rows.slice(i, per_commit))
            con.execute("BEGIN")
            con.execute("INSERT INTO events SELECT * FROM part")
            con.execute("COMMIT")
            con.unregister("part")
        return rows.num_rows, time.perf_counter() - t, time.process_time() - cpu
    finally:
        con.close()


def working_copy(label: str, name: str) -> Path:
    """A benchmark's own copy of the demo store, made once."""
    mine = OUT / f"{name}_{label}.duckdb"
    if not mine.exists():
        shutil.copyfile(demo_store(label), mine)
    return mine


class PeakRss:
    """Peak resident memory of this process while a block runs (sampled every 5 ms)."""

    def __enter__(self) -> PeakRss:
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best seconds of `repeat` runs, peak RSS growth in MB, the last result)."""
    best = float("inf")
    peak = 0.0
    result = None
    for _ in range(repeat):
        gc.collect()
        with PeakRss() as mem:
            t0 = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t0)
        peak = max(peak, (mem.peak - mem.base) / 2**20)
    return best, peak, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    for label in args.sizes:
        print(demo_store(label))


if __name__ == "__main__":
    main()
