"""The experiment statistics against scipy and statsmodels on the same counts, and by simulation:
daily peeks at A/A experiments, CUPED on a correlated pre-period, a planted sample-ratio
mismatch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats._delta_method import NonlinearDeltaCov
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, normal_sample_size_one_tail
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    samplesize_proportions_2indep_onetail,
)
from statsmodels.stats.proportion import test_proportions_2indep as sm_test_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from touchpath.analytics.experiments.checks import benjamini_hochberg, holm, srm_p_value
from touchpath.analytics.experiments.power import sample_size
from touchpath.analytics.experiments.stats import (
    ArmStats,
    compare,
    compare_cuped,
    sequential_halfwidth,
    sequential_p_value,
)


def _arm(y: np.ndarray, x: np.ndarray | None = None) -> ArmStats:
    if x is None:
        return ArmStats(n=len(y), total=float(y.sum()), total_sq=float((y * y).sum()))
    return ArmStats(
        n=len(y),
        total=float(y.sum()),
        total_sq=float((y * y).sum()),
        pre=float(x.sum()),
        pre_sq=float((x * x).sum()),
        cross=float((x * y).sum()),
    )


def test_welch_difference_matches_scipy_and_statsmodels() -> None:
    rng = np.random.default_rng(7)
    c = rng.lognormal(3.0, 1.0, 800)
    t = rng.lognormal(3.1, 1.2, 650)
    e = compare(_arm(c), _arm(t), alpha=0.05)
    ref = sps.ttest_ind(t, c, equal_var=False)
    assert e.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert e.dof == pytest.approx(ref.df, rel=1e-9)
    lo, hi = ref.confidence_interval(0.95)
    assert e.diff_ci == pytest.approx((lo, hi), rel=1e-9)
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    assert e.diff_ci == pytest.approx(cm.tconfint_diff(alpha=0.05, usevar="unequal"), rel=1e-9)


def test_proportions_match_statsmodels_wald() -> None:
    c, t = ArmStats.binary(4000, 520), ArmStats.binary(3900, 585)
    e = compare(c, t, proportion=True)
    lo, hi = confint_proportions_2indep(585, 3900, 520, 4000, method="wald", compare="diff")
    assert e.diff_ci == pytest.approx((lo, hi), rel=1e-9)
    ref = sm_test_2indep(585, 3900, 520, 4000, method="wald", compare="diff")
    assert e.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_relative_lift_is_statsmodels_delta_method() -> None:
    c, t = ArmStats.binary(4000, 520), ArmStats.binary(3900, 585)
    e = compare(c, t, proportion=True)
    pc, pt = 520 / 4000, 585 / 3900
    cov = np.diag([pt * (1 - pt) / 3900, pc * (1 - pc) / 4000])
    nl = NonlinearDeltaCov(lambda p: np.array([p[0] / p[1] - 1]), np.array([pt, pc]), cov)
    assert e.lift == pytest.approx(float(nl.predicted()[0]), rel=1e-12)
    assert e.lift_se == pytest.approx(float(nl.se_vectorized()[0]), rel=1e-6)
    lo, hi = nl.conf_int(alpha=0.05)[0]
    assert e.lift_ci == pytest.approx((lo, hi), rel=1e-6)


def test_moments_round_trip_the_sufficient_statistics() -> None:
    y = np.array([1.0, 4.0, 2.5, 0.0, 7.0])
    a = ArmStats.from_moments(len(y), y.mean(), y.var(ddof=1))
    assert a.total == pytest.approx(y.sum())
    assert a.total_sq == pytest.approx((y * y).sum())
    assert a.variance == pytest.approx(y.var(ddof=1))


def test_sequential_interval_contains_fixed_one_and_inverts_its_p_value() -> None:
    c, t = ArmStats.binary(20000, 2000), ArmStats.binary(20000, 2150)
    e = compare(c, t, proportion=True, tuning=40000)
    assert e.seq_diff_ci[0] < e.diff_ci[0] and e.seq_diff_ci[1] > e.diff_ci[1]
    # The always-valid p-value is alpha exactly where the sequence touches 0.
    hw = sequential_halfwidth(e.diff_se, 40000, 0.05, 40000)
    assert sequential_p_value(hw, e.diff_se, 40000, 0.05, 40000) == pytest.approx(0.05, rel=1e-9)
    # GrowthBook's docs formula with the same numbers (N = 40000, N* = 40000).
    rho = math.sqrt((-2 * math.log(0.05) + math.log(-2 * math.log(0.05) + 1)) / 40000)
    n = 40000
    ref = (
        e.diff_se
        * math.sqrt(n)
        * math.sqrt(
            2 * (n * rho**2 + 1) / (n**2 * rho**2) * math.log(math.sqrt(n * rho**2 + 1) / 0.05)
        )
    )
    assert hw == pytest.approx(ref, rel=1e-12)


def _aa_false_positive_rates(sims: int, days: int, per_day: int, seed: int) -> tuple[float, float]:
    """A/A experiments read every day: the share that ever looked significant."""
    rng = np.random.default_rng(seed)
    p = 0.1
    conv = rng.binomial(per_day, p, size=(2, sims, days)).cumsum(axis=2)
    n = per_day * np.arange(1, days + 1)
    c = ArmStats.binary(n, conv[0])
    t = ArmStats.binary(n, conv[1])
    e = compare(c, t, proportion=True, tuning=2 * per_day * days)
    fixed = (e.p_value < 0.05).any(axis=1).mean()
    seq = (e.seq_p_value < 0.05).any(axis=1).mean()
    return float(fixed), float(seq)


def test_daily_peeking_inflates_fixed_horizon_but_not_sequential() -> None:
    fixed, seq = _aa_false_positive_rates(sims=2000, days=30, per_day=200, seed=11)
    assert fixed > 0.12  # about 0.2 to 0.3 when read daily for a month
    assert seq <= 0.05


def test_cuped_narrows_the_interval_and_stays_unbiased() -> None:
    rng = np.random.default_rng(3)
    lifts, plain_w, cuped_w, covered = [], [], [], 0
    for _ in range(200):
        x = rng.gamma(2.0, 10.0, 2000)  # pre-period spend
        y = 0.8 * x + rng.normal(0, 8, 2000)
        arm = rng.random(2000) < 0.5
        y = y + np.where(arm, 2.0, 0.0)  # planted +2 per person
        c, t = _arm(y[~arm], x[~arm]), _arm(y[arm], x[arm])
        plain = compare(c, t)
        adj, info = compare_cuped(c, t)
        assert info.theta == pytest.approx(0.8, abs=0.1)
        lifts.append(adj.diff)
        plain_w.append(plain.diff_ci[1] - plain.diff_ci[0])
        cuped_w.append(adj.diff_ci[1] - adj.diff_ci[0])
        covered += adj.diff_ci[0] <= 2.0 <= adj.diff_ci[1]
    assert np.mean(lifts) == pytest.approx(2.0, abs=0.1)
    assert np.mean(cuped_w) < 0.6 * np.mean(plain_w)
    assert covered >= 180  # ~95% of 200


def test_planted_sample_ratio_mismatch_is_flagged() -> None:
    assert srm_p_value([50_000, 50_300]) > 0.001
    assert srm_p_value([50_000, 48_800]) < 0.001
    assert srm_p_value([9000, 1000], [0.9, 0.1]) > 0.5
    assert srm_p_value([5000, 5000], [0.9, 0.1]) < 1e-6
    ref = sps.chisquare([50_000, 48_800]).pvalue
    assert srm_p_value([50_000, 48_800]) == pytest.approx(ref, rel=1e-9)


def test_corrections_match_statsmodels() -> None:
    p = [0.01, 0.04, 0.03, 0.2, 0.005]
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert benjamini_hochberg(p) == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))


def test_sample_size_matches_statsmodels() -> None:
    s = sample_size(10.0, 0.01, sd=10.0)
    ref = NormalIndPower().solve_power(effect_size=0.01, alpha=0.05, power=0.8)
    assert s.per_arm == math.ceil(ref)
    p = sample_size(0.1, 0.1)
    std = math.sqrt(0.1 * 0.9 + 0.11 * 0.89)
    assert p.per_arm == math.ceil(normal_sample_size_one_tail(0.01, 0.8, 0.025, std, std))
    approx = samplesize_proportions_2indep_onetail(0.01, 0.1, 0.8, alternative="two-sided")
    assert p.per_arm == pytest.approx(approx, rel=1e-3)
    assert p.per_arm < p.per_arm_sequential < 3 * p.per_arm
    assert p.days(exposures_per_day=2000) == math.ceil(2 * p.per_arm / 2000)
