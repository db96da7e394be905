"""Interleaved A/B runs: a baseline and its variants alternated in one run, with a budget.

For benchmarks that ask what a feature costs another path (a tracking plan, event forwarding:
ingestion's events/s with it against without it, in the same run). `alternate` runs each pair
as baseline then variant, or variant then baseline in every other pair, so a drift in the
shared machine's load hits both alike, and keeps each variant's run with the baseline run beside
it. `report` prints per arm the median (min-max) of events/s and of the measured process's CPU
microseconds per event (CPU is what the variant adds where the cores are the limit; wall-clock
rate is what a client sees), and per variant the ratio of its events/s and of its CPU per event
to its paired baseline's (median, min-max), the 1-minute load average of the runs, and the
verdict against the budget: "met" or "not met" only when every run's load was at most
`QUIET_LOAD`, else "not measured quiet".

    from _alternate import Sample, alternate, report  # bench/_alternate.py, beside the script
    pairs = alternate("no plan", run_none, {"flag": run_flag}, pairs=3)
    report(pairs, "no plan", budget=0.10)
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

QUIET_LOAD = 3.0
"""The highest 1-minute load average at which a run counts as quiet (RULES.md, 2 cores)."""


@dataclass
class Sample:
    """One measured run: `events` in `seconds` of wall time, `cpu` seconds of the measured
    process (every thread), the 1-minute load average at its end, and any other figures."""

    events: int
    seconds: float
    cpu: float
    load: float = field(default_factory=lambda: os.getloadavg()[0])
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_us(self) -> float:
        """CPU microseconds per event."""
        return self.cpu / self.events * 1e6


Pairs = dict[str, list[tuple[Sample, Sample]]]
"""Per variant, its runs each with the baseline run beside it: (baseline, variant)."""


def alternate(
    base: str,
    run_base: Callable[[], Sample],
    variants: dict[str, Callable[[], Sample]],
    pairs: int,
) -> Pairs:
    """`pairs` rounds; in each, every variant runs beside a baseline run of its own, the
    baseline first in even rounds and second in odd ones. Each run is printed as it ends."""
    out: Pairs = {name: [] for name in variants}
    for i in range(pairs):
        for name, run in variants.items():
            order = [(base, run_base), (name, run)]
            got: dict[str, Sample] = {}
            for label, fn in order if i % 2 == 0 else order[::-1]:
                s = fn()
                got[label] = s
                more = "".join(f", {k} {v:,.3g}" for k, v in s.extra.items())
                print(f"  round {i + 1} {label}: {s.events:,} events in {s.seconds:.1f} s, "
                      f"{s.rate:,.0f}/s, {s.cpu:.1f} CPU-s ({s.cpu_us:.1f} us an event), "
                      f"load {s.load:.1f}{more}", flush=True)  # fmt: skip
            out[name].append((got[base], got[name]))
    return out


def _spread(xs: list[float], fmt: str) -> str:
    return f"{statistics.median(xs):{fmt}} ({min(xs):{fmt}}-{max(xs):{fmt}})"


def report(pairs: Pairs, base: str, budget: float) -> dict[str, str]:
    """Print the table and each variant's verdict against `budget` (the largest share of the
    baseline's events/s a variant may cost); returns the verdicts by variant."""
    bases = [b for runs in pairs.values() for b, _ in runs]
    arms = {base: bases, **{name: [v for _, v in runs] for name, runs in pairs.items()}}
    extras = sorted({k for runs in arms.values() for s in runs for k in s.extra})
    print(f"\n{len(next(iter(pairs.values())))} alternated pairs per variant; median (min-max)")
    print("| run | runs | events/s | CPU us/event | load | "
          + "".join(f"{k} | " for k in extras)
          + "events/s vs paired baseline | CPU/event vs paired baseline |")  # fmt: skip
    print("|---" * (7 + len(extras)) + "|")
    verdicts: dict[str, str] = {}
    for name, runs in arms.items():
        loads = [s.load for s in runs]
        row = (f"| {name} | {len(runs)} | {_spread([s.rate for s in runs], ',.0f')} | "
               f"{_spread([s.cpu_us for s in runs], '.1f')} | {min(loads):.1f}-{max(loads):.1f} | "
               + "".join(f"{_spread([s.extra[k] for s in runs if k in s.extra], ',.3g')} | "
                         if any(k in s.extra for s in runs) else " | " for k in extras))  # fmt: skip
        if name == base:
            print(row + " | |")
            continue
        ratio = [v.rate / b.rate for b, v in pairs[name]]
        cpu = [v.cpu_us / b.cpu_us for b, v in pairs[name]]
        print(row + f"{_spread(ratio, '.2f')} | {_spread(cpu, '.2f')} |")
        every = [s.load for pair in pairs[name] for s in pair]
        met = statistics.median(ratio) >= 1 - budget
        verdicts[name] = (
            "not measured quiet" if max(every) > QUIET_LOAD else "met" if met else "not met"
        )
    for name, verdict in verdicts.items():
        cost = 1 - statistics.median([v.rate / b.rate for b, v in pairs[name]])
        print(f"{name}: costs {cost:.1%} of the paired {base} events/s (budget {budget:.0%}): "
              f"{verdict}")  # fmt: skip
    return verdicts
