"""The one planner: which source an analysis reads, decided once, never by the analysis.

Sources, cheapest first:

- `copy`: the journey events sorted by (profile, time, seq) (`touchpath.analytics.journey`),
  when the analysis reads only what the copy holds (its `copy` test), the copy matches the log
  or lags it by at most `TOUCHPATH_JOURNEY_MAX_LAG_SECONDS`, and the analysis's own check of the
  data passes (a funnel's steps must not tie across steps in the copy's order);
  Over the copy, a journey analysis whose spec a compiled pass computes exactly runs as a numba
  kernel over the copy's columns (`Plan.kernel`, `touchpath.analytics.kernels`) when numba is
  installed and `TOUCHPATH_ANALYTICS_KERNELS` is on; else as SQL over the copy;
- `log`: `resolved_events`, always right;
- `engine`: an external analytic engine (ClickHouse) for stores that outgrow one machine; the
  same runners render their query trees for its dialect (`touchpath.analytics.dialects`).

The map binder plans once for a whole map (`copy_state`) and hands that state to every
analysis it runs, so all of one map's numbers come from one source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import duckdb

from touchpath.analytics import journey
from touchpath.analytics.spec import Source, Spec

__all__ = ["CopyState", "Plan", "copy_state", "plan"]

S = TypeVar("S", bound=Spec)


@dataclass(frozen=True)
class CopyState:
    """Whether the sorted journey copy may be read now, and as of when (None: it matches the
    log exactly)."""

    usable: bool
    as_of: datetime | None = None


@dataclass(frozen=True)
class Plan:
    """Where one analysis reads and in which SQL dialect its query is rendered."""

    source: Source
    as_of: datetime | None = None
    dialect: str = "duckdb"
    kernel: bool = False
    """Whether a compiled pass over the copy's columns runs it (else its SQL)."""

    @property
    def sorted_copy(self) -> bool:
        """Whether the query reads the sorted journey copy."""
        return self.source == "copy"


def copy_state(cur: duckdb.DuckDBPyConnection, max_lag: float) -> CopyState:
    """The copy's state now: usable when it matches the log, or lags by at most `max_lag`
    seconds (then `as_of` is when it was built)."""
    use = journey.usable(cur, max_lag)
    return CopyState(use.ok, use.as_of)


def plan(
    cur: duckdb.DuckDBPyConnection,
    spec: S,
    state: CopyState,
    copy: Callable[[S], bool],
    fits: Callable[[duckdb.DuckDBPyConnection, S], bool] | None = None,
    dialect: str = "duckdb",
    kernel: Callable[[duckdb.DuckDBPyConnection, S], bool] | None = None,
) -> Plan:
    """The source `spec` is read from, given the copy's `state`: the copy when `copy(spec)`
    says it holds what the spec reads and `fits(cur, spec)` accepts its data, else the log.
    Another `dialect` than DuckDB's reads the external engine. On the copy, `kernel(cur, spec)`
    says whether a compiled pass runs it (given only when kernels are available and on)."""
    if dialect != "duckdb":
        return Plan("engine", None, dialect)
    if not state.usable or not copy(spec):
        return Plan("log")
    if fits is not None and not fits(cur, spec):
        return Plan("log")
    return Plan("copy", state.as_of, kernel=kernel is not None and kernel(cur, spec))
