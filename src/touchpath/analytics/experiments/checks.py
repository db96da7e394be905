"""Checks that guard a verdict: the sample-ratio-mismatch test and the correction for reading
several arms or metrics at once.

A sample-ratio mismatch (the arms' sizes differ from the planned split by more than chance
allows) means assignment or exposure logging is broken, and then no metric can be trusted:
the verdict is withheld. The test is Pearson's chi-square goodness of fit on the arm counts, flagged below
p = 0.001 as GrowthBook does, so a healthy experiment read daily for months is rarely
flagged by chance.

The correction is Holm's step-down (family-wise error): the verdict ships a change, and a
false "winner" costs more than a missed one, so every comparison in the family (each treatment
arm on the primary metric) keeps the chance of any false winner at alpha. Holm is uniformly
more powerful than Bonferroni and needs no assumption on how the tests depend on each other.
Benjamini-Hochberg (false discovery rate) is offered for exploratory reads of many metrics.

>>> round(srm_p_value([5000, 5000]), 3)
1.0
>>> srm_p_value([5000, 4600]) < 0.001
True
>>> holm([0.01, 0.04, 0.03])
[0.03, 0.06, 0.06]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from scipy import stats as sps

__all__ = ["SRM_THRESHOLD", "Correction", "adjust", "benjamini_hochberg", "holm", "srm_p_value"]

SRM_THRESHOLD = 0.001
"""p-values below this flag a sample-ratio mismatch (GrowthBook's default)."""

Correction = Literal["holm", "bh", "none"]


def srm_p_value(counts: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Chi-square goodness-of-fit p-value of the arm counts against the planned split
    (`weights`, equal when None). 1.0 when there is nothing to test."""
    total = float(sum(counts))
    if total <= 0 or len(counts) < 2:
        return 1.0
    w = list(weights) if weights is not None else [1.0] * len(counts)
    if len(w) != len(counts) or any(x <= 0 for x in w):
        raise ValueError("weights: one positive weight per arm")
    expected = [total * x / sum(w) for x in w]
    stat = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True))
    return float(sps.chi2.sf(stat, len(counts) - 1))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error rate)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = round(running, 12)
    return out


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    out = [0.0] * m
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, p_values[i] * m / rank)
        out[i] = round(min(1.0, running), 12)
    return out


def adjust(p_values: Sequence[float], method: Correction) -> list[float]:
    """Adjusted p-values by `method` (holm, bh, or none)."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    return [float(p) for p in p_values]
