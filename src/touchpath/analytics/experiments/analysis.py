"""From per-arm statistics to a verdict a marketer can act on.

`analyse(spec, exposures)` is pure: it takes the per-arm, per-day sufficient statistics (from
the event log via `read_arms`, or from anywhere else) and returns the `ExperimentResult`:
the sample-ratio check first (a mismatch withholds the verdict), then each metric per arm,
each treatment against control (CUPED when the metric has a pre-period), the correction over
the treatment arms on the primary metric, the guardrails, and the lift over time.

The verdict, in order:
- `srm`: the arms' sizes do not fit the planned split; nothing else is trusted;
- `keep_running` while an arm has fewer than `min_per_arm` people;
- `winner` / `guardrail_harmed`: a treatment is significantly better on the primary metric
  (the best such arm), unless it is significantly worse on a guardrail;
- `loser`: every treatment is significantly worse;
- `no_difference` once every arm has the people needed to find a lift of `mde` (or the
  experiment has ended), else `keep_running`, with how many more people and days.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from touchpath.analytics.experiments.checks import adjust, srm_p_value
from touchpath.analytics.experiments.metrics import Exposures
from touchpath.analytics.experiments.power import sample_size
from touchpath.analytics.experiments.spec import (
    ArmResult,
    ComparisonResult,
    ExperimentResult,
    ExperimentSpec,
    Metric,
    MetricResult,
    SeriesPoint,
)
from touchpath.analytics.experiments.stats import (
    ArmStats,
    Effect,
    chance_to_win,
    compare,
    compare_cuped,
)
from touchpath.errors import SpecError

__all__ = ["MIN_OUTCOMES", "analyse", "pick_control"]

MIN_OUTCOMES = 5
"""A conversion metric is read once every arm has this many people who converted and who
did not (the normal approximation behind the intervals needs them)."""


def pick_control(spec: ExperimentSpec, arms: list[str]) -> str:
    """The control arm: the spec's, else `control`, `holdout` or `v1` when present, else the
    first arm by name."""
    if spec.control is not None:
        if arms and spec.control not in arms:
            raise SpecError(
                f"control: {spec.control!r} is not an arm of {spec.experiment_id!r} "
                f"(arms seen: {', '.join(arms)})"
            )
        return spec.control
    for name in ("control", "holdout", "v1"):
        if name in arms:
            return name
    return arms[0] if arms else "control"


def _effect(
    spec: ExperimentSpec, m: Metric, c: ArmStats, t: ArmStats, alpha: float
) -> tuple[Effect, float | None]:
    if spec.cuped and m.pre_window is not None:
        eff, adj = compare_cuped(c, t, alpha=alpha, tuning=spec.sequential_tuning)
        return eff, adj.variance_reduction
    return compare(c, t, proportion=m.binary, alpha=alpha, tuning=spec.sequential_tuning), None


def _f(x: Any) -> float:
    """A finite float for the result (NaN and inf, from an empty or constant arm, become 0)."""
    v = float(x)
    return v if math.isfinite(v) else 0.0


def _ci(pair: tuple[Any, Any]) -> tuple[float, float]:
    return (_f(pair[0]), _f(pair[1]))


def _opt(x: Any) -> float | None:
    """A float, or None where it is undefined (a lift over a control mean of 0)."""
    v = float(x)
    return v if math.isfinite(v) else None


def _opt_ci(pair: tuple[Any, Any]) -> tuple[float, float] | None:
    lo, hi = _opt(pair[0]), _opt(pair[1])
    return None if lo is None or hi is None else (lo, hi)


def _comparison(
    spec: ExperimentSpec, m: Metric, arm: str, eff: Effect, p: float, vr: float | None, alpha: float
) -> ComparisonResult:
    seq = spec.sequential
    lift_ci = eff.seq_lift_ci if seq else eff.lift_ci
    significant = p < spec.alpha
    good = (eff.diff > 0) == m.higher_is_better
    win = chance_to_win(eff.lift, eff.lift_se) if eff.lift_se > 0 else math.nan
    return ComparisonResult(
        arm=arm,
        diff=_f(eff.diff),
        diff_ci=_ci(eff.seq_diff_ci if seq else eff.diff_ci),
        lift=_opt(eff.lift),
        lift_ci=_opt_ci(lift_ci),
        p_value=p,
        fixed_lift_ci=_opt_ci(eff.lift_ci),
        fixed_p_value=_f(eff.p_value) if math.isfinite(float(eff.p_value)) else 1.0,
        chance_to_win=_opt(win if m.higher_is_better else 1 - win),
        significant=significant,
        direction=("better" if good else "worse") if significant else "unclear",
        cuped=vr is not None,
        variance_reduction=vr,
    )


def _p(eff: Effect, sequential: bool) -> float:
    p = float(eff.seq_p_value if sequential else eff.p_value)
    return p if math.isfinite(p) else 1.0


def _metric(
    spec: ExperimentSpec,
    k: int,
    totals: dict[str, tuple[ArmStats, ...]],
    control: str,
    treatments: list[str],
    guardrail: bool,
) -> tuple[MetricResult, float]:
    m = spec.metrics[k]
    arms = [
        ArmResult(
            arm=a,
            n=int(s.n),
            mean=_f(s.mean),
            sd=_f(math.sqrt(max(float(s.variance), 0.0))) if s.n > 1 else 0.0,
            total=_f(s.total),
        )
        for a in [control, *treatments]
        for s in [totals[a][k]]
    ]
    # Guardrails are read each at alpha (a false alarm is the safe side); the primary metric
    # is corrected over the treatment arms.
    m_tests = 1 if guardrail or spec.correction == "none" else max(1, len(treatments))
    alpha = spec.alpha / m_tests if spec.correction == "holm" else spec.alpha
    effects = [_effect(spec, m, totals[control][k], totals[t][k], alpha) for t in treatments]
    raw = [_p(e, spec.sequential) for e, _ in effects]
    ps = raw if guardrail else adjust(raw, spec.correction)
    comps = [
        _comparison(spec, m, t, e, p, vr, alpha)
        for t, (e, vr), p in zip(treatments, effects, ps, strict=True)
    ]
    return MetricResult(
        name=m.name, kind=m.kind, guardrail=guardrail, arms=arms, comparisons=comps
    ), alpha


def _series(
    spec: ExperimentSpec, ex: Exposures, control: str, treatments: list[str], alpha: float
) -> list[SeriesPoint]:
    m = spec.primary
    days = sorted({d.day for d in ex.days})
    running: dict[str, ArmStats] = {}
    by_day: dict[datetime, dict[str, ArmStats]] = {}
    for d in ex.days:
        by_day.setdefault(d.day, {})[d.arm] = d.stats[0]
    out: list[SeriesPoint] = []
    for day in days:
        for arm, add in by_day[day].items():
            running[arm] = running[arm] + add if arm in running else add
        c = running.get(control)
        for t in treatments:
            s = running.get(t)
            lift = None
            ci = None
            if c is not None and s is not None and c.n > 1 and s.n > 1 and c.mean:
                eff, _ = _effect(spec, m, c, s, alpha)
                lift = _opt(eff.lift)
                ci = _opt_ci(eff.seq_lift_ci if spec.sequential else eff.lift_ci)
            out.append(
                SeriesPoint(
                    day=day,
                    arm=t,
                    n_control=int(c.n) if c else 0,
                    n_arm=int(s.n) if s else 0,
                    lift=lift,
                    lift_ci=ci,
                )
            )
    return out


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def _interval(ci: tuple[float, float]) -> str:
    return f"{_pct(ci[0])} to {_pct(ci[1])}"


def analyse(spec: ExperimentSpec, ex: Exposures, now: datetime | None = None) -> ExperimentResult:
    """The verdict, the numbers per metric and arm, and the lift over time."""
    seen = ex.arms()
    arms = [a for a in seen if spec.arms is None or a in spec.arms]
    control = pick_control(spec, arms)
    treatments = [a for a in arms if a != control]
    totals = ex.totals()
    counts = {a: int(totals[a][0].n) for a in arms}
    base = dict(
        experiment_id=spec.experiment_id,
        control=control,
        exposures=counts,
        multiple_exposures=ex.multiple,
        sequential=spec.sequential,
        alpha=spec.alpha,
        correction=spec.correction,
        as_of=ex.as_of,
    )
    if control not in counts or not treatments:
        what = "no one has been exposed yet" if not counts else f"only arm(s) {', '.join(arms)}"
        return ExperimentResult(
            **base,
            verdict="keep_running",
            summary=f"Nothing to compare in {spec.experiment_id!r}: {what}.",
            winner=None,
            srm_p_value=1.0,
            srm=False,
            metrics=[],
            series=[],
            needed_per_arm=None,
        )
    split = spec.expected_split
    if split is not None:
        missing = [a for a in arms if a not in split]
        if missing:
            raise SpecError(f"expected_split: no share for arm {missing[0]!r}")
    srm_p = srm_p_value([counts[a] for a in arms], [split[a] for a in arms] if split else None)
    srm = srm_p < spec.srm_threshold
    results = []
    alpha = spec.alpha
    for k in range(len(spec.metrics)):
        mr, a = _metric(spec, k, totals, control, treatments, guardrail=k > 0)
        results.append(mr)
        alpha = a if k == 0 else alpha
    series = _series(spec, ex, control, treatments, alpha)
    needed = _needed(spec, totals[control][0])
    verdict, winner, summary = _verdict(spec, results, counts, srm, srm_p, needed, ex, now)
    return ExperimentResult(
        **base,
        verdict=verdict,
        summary=summary,
        winner=winner,
        srm_p_value=srm_p,
        srm=srm,
        metrics=results,
        series=series,
        needed_per_arm=needed,
    )


def _needed(spec: ExperimentSpec, control: ArmStats) -> int | None:
    """People per arm to find a lift of `mde` on the primary metric at the control's level."""
    m = spec.primary
    mean = float(control.mean)
    if not math.isfinite(mean) or mean <= 0 or control.n < 2:
        return None
    try:
        if m.binary:
            if mean >= 1 or mean * (1 + spec.mde) >= 1:
                return None
            s = sample_size(mean, spec.mde, alpha=spec.alpha, tuning=spec.sequential_tuning)
        else:
            sd = math.sqrt(max(float(control.variance), 1e-12))
            s = sample_size(mean, spec.mde, sd=sd, alpha=spec.alpha, tuning=spec.sequential_tuning)
    except ValueError:
        return None
    return s.per_arm_sequential if spec.sequential else s.per_arm


def _utc(t: datetime) -> datetime:
    """A naive UTC time (the log's), from a naive UTC or an aware time."""
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def _rate(ex: Exposures) -> float:
    """Exposures per day so far (over all arms)."""
    days = sorted({d.day for d in ex.days})
    total = sum(int(d.stats[0].n) for d in ex.days)
    span = max(1.0, (days[-1] - days[0]).total_seconds() / 86400 + 1) if days else 1.0
    return total / span


def _change(c: ComparisonResult, level: str) -> str:
    """`+12.3% (95% interval +4.1% to +20.5%)`, or the absolute difference when the control's
    mean is 0 and a relative change is undefined."""
    if c.lift is None or c.lift_ci is None:
        lo, hi = c.diff_ci
        return f"{c.diff:+.4g} per person ({level} interval {lo:+.4g} to {hi:+.4g})"
    return f"{_pct(c.lift)} ({level} interval {_interval(c.lift_ci)})"


def _too_few(spec: ExperimentSpec, results: list[MetricResult], counts: dict[str, int]) -> str:
    """Why it is too early to read anything, or ''."""
    small = min(counts, key=lambda a: counts[a])
    if counts[small] < spec.min_per_arm:
        return (
            f"{small} has {counts[small]} people; each arm needs at least {spec.min_per_arm} "
            "before the numbers mean anything"
        )
    if spec.primary.binary:
        # The normal approximation needs a few of each outcome per arm (PostHog: np > 5).
        for a in results[0].arms:
            hits = round(a.total)
            if min(hits, a.n - hits) < MIN_OUTCOMES:
                return (
                    f"{a.arm} has {hits} of {a.n} people converted; each arm needs at least "
                    f"{MIN_OUTCOMES} who did and {MIN_OUTCOMES} who did not"
                )
    return ""


def _verdict(
    spec: ExperimentSpec,
    results: list[MetricResult],
    counts: dict[str, int],
    srm: bool,
    srm_p: float,
    needed: int | None,
    ex: Exposures,
    now: datetime | None,
) -> tuple[str, str | None, str]:
    primary, control = results[0], results[0].arms[0].arm
    level = f"{100 * (1 - spec.alpha):.0f}%"
    if srm:
        sizes = ", ".join(f"{a}: {n}" for a, n in counts.items())
        return (
            "srm",
            None,
            (
                f"Withheld: the arms' sizes ({sizes}) do not fit the planned split "
                f"(sample-ratio p = {srm_p:.2g}), so assignment or exposure logging looks broken. "
                "Fix it before reading any result."
            ),
        )
    early = _too_few(spec, results, counts)
    if early:
        return "keep_running", None, f"Too early: {early}."
    comps = primary.comparisons
    sign = 1 if spec.primary.higher_is_better else -1
    winners = [c for c in comps if c.direction == "better"]
    if winners:
        best = max(winners, key=lambda c: sign * c.diff)
        said = f"{best.arm} beats {control} on {primary.name}: {_change(best, level)}"
        if best.chance_to_win is not None:
            said += f", chance to win {100 * best.chance_to_win:.0f}%"
        for g in results[1:]:
            for c in g.comparisons:
                if c.arm == best.arm and c.direction == "worse":
                    return (
                        "guardrail_harmed",
                        None,
                        (
                            f"{said}, but it hurts guardrail {g.name}: {_change(c, level)}. "
                            "Weigh that before shipping it."
                        ),
                    )
        return "winner", best.arm, said + ". Ship it."
    if comps and all(c.direction == "worse" for c in comps):
        return (
            "loser",
            None,
            (
                f"{', '.join(c.arm for c in comps)} did worse than {control} on {primary.name} "
                f"({comps[0].arm}: {_change(comps[0], level)}). Keep the control."
            ),
        )
    top = max(comps, key=lambda c: abs(c.diff))
    where = f"{top.arm} is at {_change(top, level)}"
    ended = spec.end is not None and _utc(now or datetime.now(UTC)) >= _utc(spec.end)
    small = min(counts.values())
    if ended or (needed is not None and small >= needed):
        return (
            "no_difference",
            None,
            (
                f"No arm differs from control on {primary.name} by the {100 * spec.mde:.0f}% this "
                f"experiment can find: {where}. It is safe to stop."
            ),
        )
    more = ""
    if needed is not None:
        rest = needed - small
        days = math.ceil(rest * len(counts) / max(_rate(ex), 1e-9))
        more = f"; about {rest:,} more people per arm (~{days} days at the current rate)"
    return (
        "keep_running",
        None,
        (f"Not sure yet: {where}{more} to find a lift of {100 * spec.mde:.0f}%."),
    )
