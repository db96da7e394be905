"""The data-driven model: the removal effect of each state of a first-order Markov chain over
all paths, converting and not. The transition counts come from SQL (`query.transitions`); the
small chain (one state per channel or touchpoint) is solved here in numpy.

>>> effects = markov_removal_effects([("(start)", "email", 2), ("email", "(conversion)", 1),
...                                   ("email", "(null)", 1)])
>>> effects["email"]
1.0
"""

from __future__ import annotations

import numpy as np

from touchpath.analytics.attribution.spec import CONVERSION, NULL, START

__all__ = ["markov_removal_effects"]


def markov_removal_effects(transitions: list[tuple[str, str, int]]) -> dict[str, float]:
    """Removal effect of each state: 1 - P(convert without it) / P(convert with it)."""
    keys = sorted({s for s, _, _ in transitions} | {d for _, d, _ in transitions})
    keys = [k for k in keys if k not in (START, CONVERSION, NULL)]
    states = [START, *keys]
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    counts = np.zeros((n, n + 1))  # last column: (conversion)
    totals = np.zeros((n, 1))  # every transition out, (null) included
    for src, dst, k in transitions:
        totals[index[src], 0] += k
        if dst == CONVERSION:
            counts[index[src], n] += k
        elif dst != NULL:
            counts[index[src], index[dst]] += k
    base = _probability(counts, totals, None)
    if base <= 0:
        return {k: 0.0 for k in keys}
    return {k: max(0.0, 1.0 - _probability(counts, totals, index[k]) / base) for k in keys}


def _probability(counts: np.ndarray, totals: np.ndarray, removed: int | None) -> float:
    """P(reach conversion from start); a removed state loses every journey that reaches it."""
    n = counts.shape[0]
    probs = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    conv = probs[:, n].copy()
    q = probs[:, :n].copy()
    if removed is not None:
        q[:, removed] = 0.0
        q[removed, :] = 0.0
        conv[removed] = 0.0
    x = np.linalg.solve(np.eye(n) - q, conv)
    return float(x[0])
