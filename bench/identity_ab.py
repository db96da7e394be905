"""Benchmark: the profiles rebuild of an older commit against this checkout, alternately.

    python bench/identity_ab.py --old main --big bench/out/demo_10M.duckdb --runs 5

Each run is a fresh process on a fresh copy of `--big` (the store is never written), with the
unify config of bench/identity.py, that starts only the identity component (as
bench/identity_memory.py does) and times one `profiles.rebuild`: wall seconds, CPU seconds of
the process (every thread, getrusage), the peak RSS while it ran (sampled every 5 ms) and the
RSS before it, with the 1-minute load average at its start and end. The old version imports
`touchpath` from `git archive OLD` (bench/ab.py's `unpack`). The audience events a rebuild
stages are dropped, not ingested, in both. Runs alternate between the
versions, and which goes first alternates too, so load changes hit both alike. Every run also
prints a fingerprint of what the rebuild wrote (the graph, merges, drops, traits, the computed
trait without a time window, and memberships); the script fails if the versions' differ.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ab import unpack
from identity import UNIFY

CHILD = r"""
import json, os, resource, sys, threading, time
from pathlib import Path
import psutil
from touchpath.profiles import rebuild
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import SystemClock, Touchpath, components

db, conf = Path(sys.argv[1]), Path(sys.argv[2])
proc = psutil.Process()
FINGERPRINT = [
    "SELECT count(*), sum(hash(kind, value, profile_id, first_seen, last_seen, linked_seq, "
    "linked_at, linked_by)) FROM identifiers",
    "SELECT count(*), sum(hash(profile_id, created_seq, created_at)) FROM profiles",
    "SELECT count(*), sum(hash(COLUMNS(*))) FROM merges",
    "SELECT count(*), sum(hash(COLUMNS(*))) FROM identity_drops",
    "SELECT count(*), sum(hash(profile_id, name, value, updated_at, seq)) FROM profile_traits",
    # orders_90d counts a 90-day window ending at the run's time: it moves between any two
    # runs (of one version too), so only the computed traits without a window are compared
    "SELECT count(*), sum(hash(name, profile_id, value)) FROM computed_trait_values "
    "WHERE name = 'revenue'",
    "SELECT count(*), sum(hash(audience, profile_id)) FROM audience_members",
]

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

with Store(db, Settings(db=db, unify=conf)) as store:
    store.write_sync(lambda con: con.execute(
        "INSERT OR REPLACE INTO identity_state VALUES ('resolved_through', "
        "(SELECT coalesce(max(seq), 0) FROM events))"))
    tp = Touchpath(settings=store.settings, store=store, clock=SystemClock(), owns_store=False)
    for part in components(False, True):
        if part.name == "identity":
            part.start(tp)
            tp.parts.append(part)
    rules = tp.services["unify"].config.identity
    # the audience changes' events it stages are not ingested: resolving them would stamp
    # last_seen with the time of the run, and their CPU is not the rebuild's
    store.ingest = lambda staged: None
    before = proc.memory_info().rss
    peak = [before]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.005)
    sampler = threading.Thread(target=sample)
    load0 = os.getloadavg()[0]
    sampler.start()
    t, c = time.perf_counter(), cpu()
    result = rebuild(store, rules)
    wall, used = time.perf_counter() - t, cpu() - c
    done.set()
    sampler.join()
    prints = [list(map(str, store.query(q)[0])) for q in FINGERPRINT]
print(json.dumps({"wall": wall, "cpu": used, "peak": peak[0] / 2**20, "before": before / 2**20,
                  "load0": load0, "load1": os.getloadavg()[0], "profiles": result.profiles,
                  "identifiers": result.identifiers, "merges": result.merges,
                  "fingerprint": prints}))
"""


def run(big: Path, tmp: Path, src: Path | None) -> dict[str, object]:
    """One rebuild in a fresh process on a fresh copy (`src`: an older commit's package)."""
    db = tmp / "rebuild.duckdb"
    shutil.copyfile(big, db)
    conf = tmp / "unify.yaml"
    conf.write_text(UNIFY)
    env = {**os.environ, "PYTHONPATH": str(src)} if src is not None else None
    try:
        res = subprocess.run([sys.executable, "-c", CHILD, str(db), str(conf)], check=True,
                             capture_output=True, text=True, env=env)  # fmt: skip
    finally:
        for path in tmp.glob("rebuild.duckdb*"):
            path.unlink()
    got: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return got


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--big", type=Path, required=True)
    parser.add_argument("--old", help="also an older commit's rebuild, alternately")
    parser.add_argument("--runs", type=int, default=5, help="rebuilds per version")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="tp-idab-", dir=args.big.resolve().parent))
    try:
        versions: dict[str, Path | None] = {"this checkout": None}
        if args.old:
            versions = {f"old ({args.old})": unpack(args.old, tmp / "old"), **versions}
        runs: dict[str, list[dict[str, object]]] = {v: [] for v in versions}
        for i in range(args.runs):
            for v in list(versions)[:: 1 if i % 2 == 0 else -1]:
                got = run(args.big, tmp, versions[v])
                runs[v].append(got)
                print(f"{v}: {got['wall']:.1f} s, {got['cpu']:.1f} CPU-s, peak RSS "
                      f"{got['peak']:,.0f} MB (before {got['before']:,.0f}), load "
                      f"{got['load0']:.1f}-{got['load1']:.1f}; {got['profiles']:,} profiles, "
                      f"{got['identifiers']:,} identifiers, {got['merges']:,} merges",
                      flush=True)  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    prints = {json.dumps(r["fingerprint"]) for rs in runs.values() for r in rs}
    same = "the same" if len(prints) == 1 else "DIFFERENT"
    loads = [float(r[k]) for rs in runs.values() for r in rs for k in ("load0", "load1")]  # type: ignore[arg-type]
    print(f"\n{args.big.name}: {args.runs} rebuild(s) per version, alternately; load average "
          f"{min(loads):.1f}-{max(loads):.1f}; results {same} in every run")  # fmt: skip
    print("| version | wall s median (min-max) | CPU-s median (min-max) | peak RSS MB median "
          "(min-max) | RSS before MB |")  # fmt: skip
    print("|---|---|---|---|---|")

    def cell(rs: list[dict[str, object]], key: str, d: int) -> str:
        xs = [float(r[key]) for r in rs]  # type: ignore[arg-type]
        return f"{statistics.median(xs):,.{d}f} ({min(xs):,.{d}f}-{max(xs):,.{d}f})"

    for v, rs in runs.items():
        print(f"| {v} | {cell(rs, 'wall', 1)} | {cell(rs, 'cpu', 1)} | {cell(rs, 'peak', 0)} "
              f"| {cell(rs, 'before', 0)} |")  # fmt: skip
    if len(prints) != 1:
        for v, rs in runs.items():
            for r in rs:
                print(v, r["fingerprint"])
        raise SystemExit("the versions' rebuilds wrote different results")


if __name__ == "__main__":
    main()
