"""The statistics of an experiment, as pure functions over each arm's sufficient statistics.

An arm is summed up by a few numbers that SQL computes per arm (`ArmStats`): the count of
people, the sum and sum of squares of their metric, and, for CUPED, the sum and sum of squares
of their pre-exposure value and the sum of products of the two. Everything here works on those
numbers alone, so the same code reads an experiment in the event log, a journey's holdout, or
published cumulative counts (the ASOS streams), and it is vectorised with numpy so a simulation
of thousands of experiments read daily runs in a second.

Formulas and sources are in docs/experiments.md:
- difference of means with Welch's interval (Welch-Satterthwaite degrees of freedom); for
  proportions the Wald (normal) interval with variance p(1-p), as statsmodels and GrowthBook;
- relative lift (treatment / control - 1) with the delta-method variance
  var_t / (m_c^2 n_t) + m_t^2 var_c / (m_c^4 n_c) (GrowthBook `gbstats`, PostHog `stats`);
- the always-valid test: the asymptotic confidence sequence of Waudby-Smith et al. (2023),
  eq. 9 (half-width) and eq. 155 (p-value), with rho from eq. 161 as GrowthBook sets it;
- CUPED (Deng et al. 2013) with theta pooled over the arms, the pre-period centred on the
  pooled mean so the adjusted control mean stays the control mean.

>>> c, t = ArmStats.binary(1000, 100), ArmStats.binary(1000, 130)
>>> e = compare(c, t, proportion=True)
>>> round(e.diff, 3), round(e.lift, 2), e.diff_ci[0] > 0
(0.03, 0.3, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

__all__ = [
    "ArmStats",
    "Effect",
    "chance_to_win",
    "compare",
    "cuped",
    "sequential_halfwidth",
    "sequential_p_value",
    "sequential_rho",
]

Num = Any
"""A float or a numpy array of floats: the functions here work elementwise on either."""


@dataclass(frozen=True)
class ArmStats:
    """Sufficient statistics of one arm for one metric.

    `n` people, `total` = sum of their values y, `total_sq` = sum of y^2; for CUPED `pre` and
    `pre_sq` (sum of the pre-exposure x and x^2) and `cross` (sum of x*y). Fields may be numpy
    arrays (one entry per experiment or per day) as long as they broadcast together.
    """

    n: Num
    total: Num
    total_sq: Num
    pre: Num = 0.0
    pre_sq: Num = 0.0
    cross: Num = 0.0

    @classmethod
    def binary(cls, n: Num, conversions: Num) -> ArmStats:
        """An arm of a 0/1 metric: y^2 = y, so the sum of squares is the count."""
        return cls(n=n, total=conversions, total_sq=conversions)

    @classmethod
    def from_moments(cls, n: Num, mean: Num, variance: Num) -> ArmStats:
        """From a count, mean and sample variance (n - 1 in the denominator), as published
        cumulative statistics such as the ASOS data set give them."""
        n = np.asarray(n, dtype=float) if isinstance(n, np.ndarray) else float(n)
        return cls(n=n, total=n * mean, total_sq=(n - 1) * variance + n * mean * mean)

    def __add__(self, other: ArmStats) -> ArmStats:
        return ArmStats(
            self.n + other.n,
            self.total + other.total,
            self.total_sq + other.total_sq,
            self.pre + other.pre,
            self.pre_sq + other.pre_sq,
            self.cross + other.cross,
        )

    @property
    def mean(self) -> Num:
        return _div(self.total, self.n)

    @property
    def variance(self) -> Num:
        """The sample variance of y (n - 1 in the denominator)."""
        return _div(self.total_sq - _div(self.total * self.total, self.n), self.n - 1)

    @property
    def pre_mean(self) -> Num:
        return _div(self.pre, self.n)


def _div(a: Num, b: Num) -> Num:
    """a / b, NaN where b is 0 (no exception: arrays of experiments may hold empty arms)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.divide(a, b)
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class Effect:
    """Treatment against control for one metric: the difference, the relative lift, their
    standard errors and intervals (fixed-horizon and always-valid), and the p-values."""

    control_mean: Num
    treatment_mean: Num
    diff: Num
    diff_se: Num
    diff_ci: tuple[Num, Num]
    lift: Num
    lift_se: Num
    lift_ci: tuple[Num, Num]
    p_value: Num
    seq_diff_ci: tuple[Num, Num]
    seq_lift_ci: tuple[Num, Num]
    seq_p_value: Num
    dof: Num


def sequential_rho(alpha: float, tuning: Num) -> Num:
    """The mixing parameter rho of the confidence sequence, chosen so that the sequence is
    tightest near `tuning` observations (Waudby-Smith et al. 2023, eq. 161; GrowthBook's
    `sequential_rho`, two-sided)."""
    la = -2.0 * math.log(alpha)
    return np.sqrt((la + math.log(la + 1.0)) / tuning)


def sequential_halfwidth(se: Num, n: Num, alpha: float, tuning: Num) -> Num:
    """Half-width of the two-sided asymptotic confidence sequence (Waudby-Smith et al. 2023,
    eq. 9) for an estimate with standard error `se` from `n` observations in all arms.

    The per-observation variance is s2 = se^2 * n, as GrowthBook passes it.
    """
    rho = sequential_rho(alpha, tuning)
    nr2 = n * rho * rho
    with np.errstate(divide="ignore", invalid="ignore"):
        return (
            se * np.sqrt(n) * np.sqrt(2 * (nr2 + 1) / (nr2 * n) * np.log(np.sqrt(nr2 + 1) / alpha))
        )


def sequential_p_value(estimate: Num, se: Num, n: Num, alpha: float, tuning: Num) -> Num:
    """The always-valid p-value: 1 / the mixture e-value (Waudby-Smith et al. 2023, eq. 155,
    as GrowthBook computes it). It is below alpha exactly when the sequence excludes 0."""
    rho = sequential_rho(alpha, tuning)
    r2 = rho * rho
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        st2 = estimate * estimate * n / (se * se)
        tr2p1 = n * r2 + 1
        log_e = r2 * st2 / (2 * tr2p1) - 0.5 * np.log(tr2p1)
        out = np.minimum(1.0, np.exp(-log_e))
    return np.where(np.isnan(out), 1.0, out) if np.ndim(out) else _nan_to(float(out), 1.0)


def _nan_to(x: float, value: float) -> float:
    return value if math.isnan(x) else x


def compare(
    control: ArmStats,
    treatment: ArmStats,
    *,
    proportion: bool = False,
    alpha: float = 0.05,
    tuning: Num = 5000.0,
) -> Effect:
    """Treatment against control.

    Means: Welch's t interval on the difference (Welch-Satterthwaite degrees of freedom).
    Proportions (`proportion=True`, y in {0, 1}): the Wald interval with variance p(1 - p),
    normal quantiles. The relative lift uses the delta method with the same distribution.
    The sequential intervals use the same standard errors in the confidence sequence.
    """
    mc, mt = control.mean, treatment.mean
    if proportion:
        vc, vt = mc * (1 - mc), mt * (1 - mt)
    else:
        vc, vt = control.variance, treatment.variance
    return _effect(mc, vc, control.n, mt, vt, treatment.n, proportion, alpha, tuning)


def _effect(
    mc: Num, vc: Num, nc: Num, mt: Num, vt: Num, nt: Num, normal: bool, alpha: float, tuning: Num
) -> Effect:
    # As numpy values, a zero or a NaN gives inf/NaN instead of an exception.
    mc, vc, nc, mt, vt, nt = (np.asarray(v, dtype=float) for v in (mc, vc, nc, mt, vt, nt))
    ac, at = _div(vc, nc), _div(vt, nt)  # variances of the two means
    diff = mt - mc
    diff_se = np.sqrt(ac + at)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = (ac + at) ** 2 / (ac * ac / (nc - 1) + at * at / (nt - 1))
        q = sps.norm.ppf(1 - alpha / 2) if normal else sps.t.ppf(1 - alpha / 2, dof)
        lift = mt / mc - 1.0
        lift_se = np.sqrt(at / (mc * mc) + mt * mt * ac / mc**4)
        stat = diff / diff_se
        p = 2 * (sps.norm.sf(np.abs(stat)) if normal else sps.t.sf(np.abs(stat), dof))
    n = nc + nt
    hw_d = sequential_halfwidth(diff_se, n, alpha, tuning)
    hw_l = sequential_halfwidth(lift_se, n, alpha, tuning)
    hd, hl = diff_se * q, lift_se * q
    S = _scalar
    return Effect(
        control_mean=S(mc),
        treatment_mean=S(mt),
        diff=S(diff),
        diff_se=S(diff_se),
        diff_ci=(S(diff - hd), S(diff + hd)),
        lift=S(lift),
        lift_se=S(lift_se),
        lift_ci=(S(lift - hl), S(lift + hl)),
        p_value=S(p),
        seq_diff_ci=(S(diff - hw_d), S(diff + hw_d)),
        seq_lift_ci=(S(lift - hw_l), S(lift + hw_l)),
        seq_p_value=S(sequential_p_value(diff, diff_se, n, alpha, tuning)),
        dof=S(dof),
    )


def _scalar(x: Num) -> Num:
    return float(x) if np.ndim(x) == 0 else x


@dataclass(frozen=True)
class Cuped:
    """CUPED-adjusted arms: `theta`, and each arm's adjusted mean and variance of y."""

    theta: float
    control_mean: Num
    control_var: Num
    treatment_mean: Num
    treatment_var: Num
    variance_reduction: float


def cuped(control: ArmStats, treatment: ArmStats) -> Cuped:
    """Adjust both arms with each person's pre-exposure value x (Deng et al. 2013).

    theta = cov(y, x) / var(x) pooled over both arms; each arm's mean becomes
    mean(y) - theta * (mean(x) - pooled mean(x)) and its variance
    var(y) + theta^2 var(x) - 2 theta cov(y, x). Random assignment makes x independent of the
    arm, so the adjustment removes the part of y that x predicts without biasing the
    difference.
    """
    both = control + treatment
    theta = _div(_cov(both), _var_x(both))
    if not np.isfinite(theta):
        theta = 0.0
    theta = float(theta)
    x_all = both.pre_mean

    def adjust(arm: ArmStats) -> tuple[Num, Num]:
        mean = arm.mean - theta * (arm.pre_mean - x_all)
        var = arm.variance + theta * theta * _var_x(arm) - 2 * theta * _cov(arm)
        return mean, np.maximum(var, 1e-12)

    mc, vc = adjust(control)
    mt, vt = adjust(treatment)
    before = both.variance
    after = (vc * control.n + vt * treatment.n) / both.n
    reduction = float(1 - after / before) if before > 0 else 0.0
    return Cuped(theta, mc, vc, mt, vt, reduction)


def _var_x(arm: ArmStats) -> Num:
    return _div(arm.pre_sq - _div(arm.pre * arm.pre, arm.n), arm.n - 1)


def _cov(arm: ArmStats) -> Num:
    return _div(arm.cross - _div(arm.total * arm.pre, arm.n), arm.n - 1)


def compare_cuped(
    control: ArmStats, treatment: ArmStats, *, alpha: float = 0.05, tuning: Num = 5000.0
) -> tuple[Effect, Cuped]:
    """`compare` on CUPED-adjusted means and variances (Welch intervals)."""
    adj = cuped(control, treatment)
    eff = _effect(
        adj.control_mean,
        adj.control_var,
        control.n,
        adj.treatment_mean,
        adj.treatment_var,
        treatment.n,
        False,
        alpha,
        tuning,
    )
    return eff, adj


def chance_to_win(lift: Num, lift_se: Num) -> Num:
    """The chance that the treatment beats control: P(lift > 0) under a normal posterior with
    a flat prior on the lift (GrowthBook's "chance to win" with an uninformative prior)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return sps.norm.cdf(lift / lift_se)


__all__ += ["Cuped", "compare_cuped"]
