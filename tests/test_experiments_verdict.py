"""The verdict from per-arm statistics: each outcome a marketer can read, the correction over
several arms, guardrails, and whether to wait."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from touchpath.analytics.experiments import (
    ArmDay,
    ArmStats,
    ExperimentSpec,
    Exposures,
    Metric,
    analyse,
    compare,
    holm,
)
from touchpath.events.match import EventMatch

DAY = datetime(2026, 5, 1)


def _spec(**kw: object) -> ExperimentSpec:
    data: dict[str, object] = {
        "experiment_id": "exp",
        "control": "control",
        "primary": Metric(name="orders", event=EventMatch(event="Order Completed")),
        "guardrails": (
            Metric(
                name="unsubscribed", event=EventMatch(event="Unsubscribed"), higher_is_better=False
            ),
        ),
    }
    data.update(kw)
    return ExperimentSpec.model_validate(data)


def _exposures(arms: dict[str, tuple[int, int, int]], days: int = 1) -> Exposures:
    """Per arm: people, orders, unsubscribes, spread evenly over `days` days."""
    out = []
    for d in range(days):
        for arm, (n, orders, unsubs) in arms.items():
            out.append(
                ArmDay(
                    arm=arm,
                    day=DAY + timedelta(days=d),
                    stats=(
                        ArmStats.binary(n // days, orders // days),
                        ArmStats.binary(n // days, unsubs // days),
                    ),
                )
            )
    return Exposures(days=out, multiple=0, as_of=None)


def test_winner_and_a_guardrail_that_blocks_it() -> None:
    r = analyse(_spec(), _exposures({"control": (5000, 500, 50), "b": (5000, 650, 52)}))
    assert r.verdict == "winner" and r.winner == "b"
    assert r.summary.startswith("b beats control on orders: +30.0% (95% interval +")
    harmed = analyse(_spec(), _exposures({"control": (5000, 500, 50), "b": (5000, 650, 120)}))
    assert harmed.verdict == "guardrail_harmed" and harmed.winner is None
    assert "but it hurts guardrail unsubscribed: +140.0%" in harmed.summary
    (g,) = harmed.metrics[1].comparisons
    assert g.direction == "worse" and g.chance_to_win is not None and g.chance_to_win < 0.01


def test_loser_no_difference_and_keep_running() -> None:
    r = analyse(_spec(), _exposures({"control": (5000, 650, 50), "b": (5000, 500, 50)}))
    assert r.verdict == "loser" and "Keep the control" in r.summary
    flat = {"control": (5000, 500, 50), "b": (5000, 505, 50)}
    wait = analyse(_spec(), _exposures(flat, days=5))
    assert wait.verdict == "keep_running"
    assert wait.needed_per_arm is not None and wait.needed_per_arm > 5000
    rest = wait.needed_per_arm - 5000
    days = -(-rest * 2 // 2000)  # 10,000 exposures over 5 days
    assert f"about {rest:,} more people per arm (~{days} days" in wait.summary
    ended = analyse(_spec(end=DAY + timedelta(days=3)), _exposures(flat, days=5))
    assert ended.verdict == "no_difference" and "safe to stop" in ended.summary
    early = analyse(_spec(), _exposures({"control": (80, 8, 1), "b": (80, 12, 1)}))
    assert early.verdict == "keep_running" and early.summary.startswith("Too early: ")


def test_several_arms_are_corrected_with_holm() -> None:
    arms = {"control": (4000, 400, 40), "b": (4000, 470, 40), "c": (4000, 455, 40)}
    fixed = _spec(sequential=False)
    r = analyse(fixed, _exposures(arms))
    raw = [
        float(
            compare(
                ArmStats.binary(4000, 400), ArmStats.binary(4000, k), proportion=True, alpha=0.025
            ).p_value
        )
        for k in (470, 455)
    ]
    got = [c.p_value for c in r.metrics[0].comparisons]
    assert got == pytest.approx(holm(raw))
    # Intervals at alpha / 2 (Bonferroni), wider than the uncorrected ones.
    one = analyse(fixed, _exposures({"control": arms["control"], "b": arms["b"]}))
    wide, narrow = r.metrics[0].comparisons[0].lift_ci, one.metrics[0].comparisons[0].lift_ci
    assert wide is not None and narrow is not None and wide[0] < narrow[0]
    none = analyse(_spec(sequential=False, correction="none"), _exposures(arms))
    assert [c.p_value for c in none.metrics[0].comparisons] == pytest.approx(raw, rel=1e-3)


def test_the_series_narrows_day_by_day_and_ends_at_the_total() -> None:
    r = analyse(_spec(), _exposures({"control": (7000, 700, 70), "b": (7000, 840, 70)}, days=7))
    points = [p for p in r.series if p.arm == "b"]
    assert [p.n_arm for p in points] == [1000 * (d + 1) for d in range(7)]
    widths = [p.lift_ci[1] - p.lift_ci[0] for p in points if p.lift_ci]
    assert widths == sorted(widths, reverse=True)
    assert points[-1].lift == pytest.approx(r.metrics[0].comparisons[0].lift)
