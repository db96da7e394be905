"""Benchmark: `touchpath --help`, and a DFG and a funnel on BPIC 2012 through the CLI, beside
pm4py's read-and-discover of the same log, in the same run.

    python bench/cli_bpic.py               # 5 runs each (best and median)
    python bench/cli_bpic.py --repeat 9
    python bench/cli_bpic.py --before /tmp/main/src   # an older checkout's CLI, alternately

The store is the BPIC 2012 CSV imported once with `touchpath import` into bench/out/
bpic2012.duckdb and its sorted journey copy built (`touchpath optimize`): what a user has after
importing. Each CLI row is a whole process, end to end (Python start, imports, opening the
store, the query, printing JSON). pm4py (AGPL-3.0: `pip install -e '.[peers]'`, never in the
runtime or the test extras) reads the CSV with pandas and discovers the DFG; its rows give the
read-and-discover in a warm process (imports not counted, the figure the issue quotes) and the
same as a whole process, one run after each round of the CLI's dfg and funnel rows (so it
sees the same minutes). The DFG's edge counts must equal pm4py's. Every row gives wall seconds
(best, median, max) and CPU seconds (median, min-max: the process's user + system): on the
shared cores the wall time follows the other engineers' load, the CPU time far less.

`--before DIR` (the `src/` of an older checkout, e.g. `git archive main src | tar -x -C DIR`)
adds its CLI rows, run alternately with this checkout's in the same minutes, and checks that
both print the same JSON. The CLI processes keep their bytecode in bench/out/pycache (an
untimed first run of each command writes it), as an installed package has it from pip: with
PYTHONDONTWRITEBYTECODE set (as in this project's shells) every run would otherwise compile
Touchpath's modules again (about 0.1 CPU-s of a dfg).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "bpic2012-loan-applications" / "bpic2012_events.csv.gz"
CLI = [sys.executable, "-c", "from touchpath.cli import main; main()"]
STEPS = ["A_SUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "O_SENT", "A_APPROVED"]

PM4PY = f"""
import time, pandas as pd, pm4py
t, c = time.perf_counter(), time.process_time()
df = pd.read_csv({str(DATA)!r}, dtype={{"case:concept:name": str}})
df["time:timestamp"] = pd.to_datetime(df["time:timestamp"], utc=True, format="ISO8601")
df = pm4py.format_dataframe(df, case_id="case:concept:name", activity_key="concept:name",
                            timestamp_key="time:timestamp")
dfg, starts, ends = pm4py.discover_dfg(df)
print(time.perf_counter() - t, time.process_time() - c)
print(sum(dfg.values()))
"""


def store() -> Path:
    """The imported and optimized BPIC store (built once)."""
    path = OUT / "bpic2012.duckdb"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        tmp = path.with_suffix(".building")
        run([*CLI, "import", str(DATA), "--db", str(tmp), "--json"])
        run([*CLI, "optimize", "--db", str(tmp)])
        tmp.rename(path)
    return path


def _env(src: Path | None) -> dict[str, str]:
    """The CLI's environment: bytecode kept in bench/out/pycache; `src` first on the path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(OUT / "pycache")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str, float]:
    """Wall seconds of a whole process, what it printed, and its CPU seconds (user + system):
    on the shared 2 cores the wall time follows the load, the CPU time much less."""
    t, c = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env or os.environ)
    return time.perf_counter() - t, done.stdout, _children_cpu() - c


def timed(cmd: list[str], repeat: int) -> tuple[list[float], list[float], str]:
    """Wall and CPU seconds of each run, and the last output."""
    return alternately(cmd, [None], repeat)[0]


def alternately(
    cmd: list[str],
    srcs: list[Path | None],
    repeat: int,
    between: Callable[[], None] | None = None,
) -> list[tuple[list[float], list[float], str]]:
    """`timed` for the CLI of each of `srcs` (None: this checkout), their runs taken in turn
    so that each sees the same load; one untimed run each first leaves the bytecode. `between`
    (the peer's run) goes after each round, so the peer sees the same minutes too."""
    envs = [_env(src) for src in srcs]
    for env in envs:
        run(cmd, env)
    got: list[list[tuple[float, str, float]]] = [[] for _ in srcs]
    for _ in range(repeat):
        for runs, env in zip(got, envs, strict=True):
            runs.append(run(cmd, env))
        if between is not None:
            between()
    return [([r[0] for r in runs], [r[2] for r in runs], runs[-1][1]) for runs in got]


def _cli_rows(
    db: str,
    before: Path | None,
    repeat: int,
    row: Callable[..., None],
    between: Callable[[], None] | None = None,
) -> str:
    """The CLI's rows (with `before`: an older checkout's, run alternately; `between` after
    each round of each command); the DFG's JSON."""
    srcs: list[Path | None] = [None] if before is None else [before, None]
    labels = [""] if before is None else [" [before]", ""]
    funnel = [*CLI, "funnel", *(a for s in STEPS for a in ("--step", s)), "--window", "30d"]
    commands = {
        "touchpath --help": [*CLI, "--help"],
        "touchpath dfg --json (BPIC 2012, whole process)": [*CLI, "dfg", "--db", db, "--json"],
        "touchpath funnel 5 steps --json (whole process)": [*funnel, "--db", db, "--json"],
    }
    dfg_out, same = "", True
    for name, cmd in commands.items():
        got = alternately(cmd, srcs, repeat, None if "help" in name else between)
        for label, figures in zip(labels, got, strict=True):
            row(name + label, *figures[:2])
        same = same and len({out for *_, out in got}) == 1
        if "dfg" in name:
            dfg_out = got[-1][2]
    if before is not None:
        print(f"before and after printed the same: {same}")
    return dfg_out


class Peer:
    """pm4py's read-and-discover, one whole process a run; its runs are taken between the
    CLI's rounds (`alternately`), so both see the same load."""

    def __init__(self) -> None:
        self.warm: list[float] = []
        self.warm_cpu: list[float] = []
        self.whole: list[float] = []
        self.whole_cpu: list[float] = []
        self.total = 0

    def __call__(self) -> None:
        secs, out, cpu = run([sys.executable, "-c", PM4PY])
        inner, inner_cpu, total_text = out.split()[-3:]  # after the banner pm4py prints
        self.warm.append(float(inner))
        self.warm_cpu.append(float(inner_cpu))
        self.whole.append(secs)
        self.whole_cpu.append(cpu)
        self.total = int(total_text)


def _installed() -> bool:
    try:
        import pm4py  # noqa: F401
    except ImportError:
        print("pm4py is not installed (pip install -e '.[peers]'): no peer rows")
        return False
    return True


def _pm4py_rows(peer: Peer, row: Callable[..., None]) -> int:
    """pm4py's rows from its runs; its directly-follows pair count."""
    warm, warm_cpu, whole, whole_cpu = peer.warm, peer.warm_cpu, peer.whole, peer.whole_cpu
    row("pm4py read CSV + discover_dfg (in process)", warm, warm_cpu)
    row("pm4py read CSV + discover_dfg (whole process)", whole, whole_cpu)
    return peer.total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--before", type=Path, help="an older checkout's src/: its CLI rows, run alternately"
    )
    args = parser.parse_args(argv)
    db = str(store())
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()}")
    print(f"{'what':<61} | {'best s':>7} | {'median s':>8} | {'max s':>7} | "
          f"{'median CPU s (min-max)':>24}")  # fmt: skip
    print(f"{'-' * 61}-+-{'-' * 7}-+-{'-' * 8}-+-{'-' * 7}-+-{'-' * 24}")

    def row(name: str, wall: list[float], cpu: list[float]) -> None:
        """Wall seconds best, median and worst; CPU seconds median (min-max)."""
        spread = f"{statistics.median(cpu):.3f} ({min(cpu):.3f}-{max(cpu):.3f})"
        print(f"{name:<61} | {min(wall):7.3f} | {statistics.median(wall):8.3f} | "
              f"{max(wall):7.3f} | {spread:>24}", flush=True)  # fmt: skip

    row("python -c pass (the floor of any process)",
        *timed([sys.executable, "-c", "pass"], args.repeat)[:2])  # fmt: skip
    peer = Peer() if _installed() else None
    dfg_out = _cli_rows(db, args.before, args.repeat, row, peer)
    print(f"load average after: {os.getloadavg()}")
    if peer is None:
        return
    pm4py_total = _pm4py_rows(peer, row)
    total = sum(e["frequency"] for e in json.loads(dfg_out)["edges"])
    print(f"DFG edges: touchpath {total:,} directly-follows pairs, pm4py {pm4py_total:,}; "
          f"equal={total == pm4py_total}")  # fmt: skip


if __name__ == "__main__":
    main()
