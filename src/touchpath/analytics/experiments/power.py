"""How many people, and how many days, an experiment needs.

The fixed-horizon sample size per arm for a two-sided test at level alpha with power
1 - beta to find a relative lift `mde` over a baseline with mean m and standard deviation s:

    n = (z_{1-alpha/2} + z_{1-beta})^2 * (s_c^2 + s_t^2) / (m * mde)^2

with s^2 = p(1 - p) for a conversion rate p (treated arm at p(1 + mde)), and s_t = s_c for a
mean. The sequential test pays for peeking with wider intervals: its sample size is found by
solving for the n at which its half-width at the same power equals the effect (the
confidence sequence is tightest near its tuning parameter, which is set to that n).

>>> s = sample_size(baseline=0.10, mde=0.10)
>>> s.per_arm
14749
>>> s.days(exposures_per_day=2000, arms=2)
15
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize
from scipy import stats as sps

from touchpath.analytics.experiments.stats import sequential_halfwidth

__all__ = ["SampleSize", "sample_size"]


@dataclass(frozen=True)
class SampleSize:
    """People needed per arm: for one read at the end (`per_arm`) and for a daily-watched
    sequential test (`per_arm_sequential`)."""

    per_arm: int
    per_arm_sequential: int
    baseline: float
    mde: float
    alpha: float
    power: float

    def days(self, exposures_per_day: float, arms: int = 2, sequential: bool = False) -> int:
        """Days until every arm has its sample, at `exposures_per_day` over all arms."""
        if exposures_per_day <= 0:
            raise ValueError("exposures_per_day: must be > 0")
        n = self.per_arm_sequential if sequential else self.per_arm
        return math.ceil(n * arms / exposures_per_day)


def sample_size(
    baseline: float,
    mde: float,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    tuning: float | None = None,
) -> SampleSize:
    """People per arm to detect a relative lift `mde` over `baseline` (a conversion rate in
    (0, 1), or a mean with standard deviation `sd`). `tuning` is the sequential test's N*
    (None: tuned to the sample it finds, the best case)."""
    if mde == 0:
        raise ValueError("mde: must not be 0")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power: must be between 0 and 1")
    if sd is None:
        if not 0 < baseline < 1:
            raise ValueError("baseline: a conversion rate must be between 0 and 1 (or give sd)")
        treated = baseline * (1 + mde)
        if not 0 < treated < 1:
            raise ValueError(f"mde: the treated rate {treated:.3g} is not between 0 and 1")
        var_c, var_t = baseline * (1 - baseline), treated * (1 - treated)
    else:
        if sd <= 0:
            raise ValueError("sd: must be > 0")
        var_c = var_t = sd * sd
    delta = abs(baseline * mde)
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    n = math.ceil(z * z * (var_c + var_t) / (delta * delta))
    zb = float(sps.norm.ppf(power))

    def gap(m: float) -> float:
        # At m per arm (2m in all), the effect must clear the half-width by z_b SEs.
        se = math.sqrt((var_c + var_t) / m)
        return float(sequential_halfwidth(se, 2 * m, alpha, tuning or 2 * m)) + zb * se - delta

    seq = math.ceil(optimize.brentq(gap, n / 2, n * 10_000))
    return SampleSize(n, seq, baseline, mde, alpha, power)
