"""Compiled passes over the sorted journey copy: the planner's `kernel` choice.

The sorted copy (`touchpath.analytics.journey`) holds the journey events in (profile, time,
seq) order with integer profile numbers and activity codes. A journey analysis over it is one
streaming pass, which SQL window pipelines run at a few tens of nanoseconds a row; a compiled
loop over the same columns runs it in a few. This package reads the copy's three columns once
per build into NumPy (`columns`), and runs one numba kernel per analysis over them, split into
ranges of whole profiles run side by side on every core (`funnel`, `dfg`).

It is a choice of the planner, not a second implementation beside the SQL: the planner picks
it (`Plan.kernel`) only where the copy is read and the spec is one a kernel computes exactly
(`Analysis.kernel`); the SQL over the copy stays the reference every kernel is tested against
(tests/test_kernels.py), and the fallback when numba is not installed (the `kernels` extra)
or `TOUCHPATH_ANALYTICS_KERNELS=false`. A kernel's rows are handed back to the same SQL that
aggregates the SQL path's rows, so counts, medians and histograms are computed once.
"""

from __future__ import annotations

import importlib.util

__all__ = ["available"]


def available() -> bool:
    """Whether numba is installed (the `kernels` extra)."""
    return importlib.util.find_spec("numba") is not None
