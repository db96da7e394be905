"""Experiments published as cumulative statistics per arm at each checkpoint (the ASOS data
set's shape: count, mean and variance of control and treatment at each time since start).

`read_streams` runs the same statistics as any experiment on each stream at every
checkpoint, as someone watching the dashboard would: when a fixed-horizon test read at every
checkpoint would first have stopped, when the always-valid test would have, with which sign,
and what the single planned read at the last checkpoint says. `srm_table` checks each
experiment's arm counts at its last checkpoint.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from touchpath.analytics.experiments.checks import srm_p_value
from touchpath.analytics.experiments.stats import ArmStats, compare

__all__ = ["Stop", "Stream", "load_asos", "read_streams", "srm_table"]


@dataclass
class Stream:
    """One experiment, treatment variant and metric over its checkpoints (sorted by time)."""

    experiment: str
    variant: str
    metric: str
    time: np.ndarray
    control: ArmStats
    treatment: ArmStats


@dataclass(frozen=True)
class Stop:
    """What each test says about one stream. `*_day` is the first checkpoint (days since
    start) at which the test was significant, None if never; `*_sign` its direction there.
    `final_sign` is the fixed-horizon verdict at the last checkpoint (0: not significant)."""

    experiment: str
    variant: str
    metric: str
    checkpoints: int
    horizon: float
    fixed_day: float | None
    fixed_sign: int
    seq_day: float | None
    seq_sign: int
    final_sign: int
    final_n: int


def load_asos(path: Path) -> list[Stream]:
    """The streams of the ASOS CSV (gzip or plain). A blank value (778 checkpoints have no
    variances) is NaN: no test is significant there."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows: dict[tuple[str, str, str], list[list[float]]] = {}
    with opener(path, "rt", newline="") as f:
        for r in csv.DictReader(f):
            key = (r["experiment_id"], r["variant_id"], r["metric_id"])
            rows.setdefault(key, []).append(
                [
                    float(r[c] or "nan")
                    for c in (
                        "time_since_start",
                        "count_c",
                        "mean_c",
                        "variance_c",
                        "count_t",
                        "mean_t",
                        "variance_t",
                    )
                ]
            )
    out = []
    for (e, v, m), values in sorted(rows.items()):
        a = np.array(sorted(values))
        out.append(
            Stream(
                experiment=e,
                variant=v,
                metric=m,
                time=a[:, 0],
                control=ArmStats.from_moments(a[:, 1], a[:, 2], a[:, 3]),
                treatment=ArmStats.from_moments(a[:, 4], a[:, 5], a[:, 6]),
            )
        )
    return out


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def read_streams(
    streams: Iterable[Stream], alpha: float = 0.05, tuning: float | None = None
) -> list[Stop]:
    """Each stream read at every checkpoint with Welch's test and the confidence sequence.

    `tuning` is the sequential test's planned total sample; None uses each stream's count at
    its last checkpoint (the horizon it was run to, as if planned)."""
    out = []
    for s in streams:
        n_last = float(s.control.n[-1] + s.treatment.n[-1])
        e = compare(s.control, s.treatment, alpha=alpha, tuning=tuning or n_last)
        p, seq_p, diff = (np.asarray(x, dtype=float) for x in (e.p_value, e.seq_p_value, e.diff))
        p, seq_p = np.where(np.isnan(p), 1.0, p), np.where(np.isnan(seq_p), 1.0, seq_p)
        fi, si = _first(p < alpha), _first(seq_p < alpha)
        out.append(
            Stop(
                experiment=s.experiment,
                variant=s.variant,
                metric=s.metric,
                checkpoints=len(s.time),
                horizon=float(s.time[-1]),
                fixed_day=None if fi is None else float(s.time[fi]),
                fixed_sign=0 if fi is None else int(np.sign(diff[fi])),
                seq_day=None if si is None else float(s.time[si]),
                seq_sign=0 if si is None else int(np.sign(diff[si])),
                final_sign=int(np.sign(diff[-1])) if p[-1] < alpha else 0,
                final_n=int(n_last),
            )
        )
    return out


def srm_table(streams: Iterable[Stream]) -> list[tuple[str, str, int, int, float]]:
    """(experiment, variant, control count, treatment count, p of a 50/50 split) at each
    experiment-variant's last checkpoint."""
    seen: dict[tuple[str, str], tuple[str, str, int, int, float]] = {}
    for s in streams:
        c, t = int(s.control.n[-1]), int(s.treatment.n[-1])
        seen.setdefault(
            (s.experiment, s.variant), (s.experiment, s.variant, c, t, srm_p_value([c, t]))
        )
    return sorted(seen.values())
