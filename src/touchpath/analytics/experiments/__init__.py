"""Experiments: did the change work?

Arms are read from `Experiment Viewed` events in the log (journey splits, version splits, the
global holdout, decisions, other tools), metrics are computed per person from exposure in SQL
as per-arm sufficient statistics, and the statistics run on those few numbers
(docs/experiments.md).

>>> from touchpath.analytics.experiments import ExperimentSpec
>>> ExperimentSpec.journey_split("cart", "split_1", goal="Order Completed").primary.window
604800
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from touchpath.analytics import registry
from touchpath.analytics.experiments.analysis import analyse
from touchpath.analytics.experiments.checks import (
    adjust,
    benjamini_hochberg,
    holm,
    srm_p_value,
)
from touchpath.analytics.experiments.metrics import (
    ArmDay,
    Exposures,
    experiment_sql,
    exposures,
    read_arms,
)
from touchpath.analytics.experiments.metrics import on_copy as _on_copy
from touchpath.analytics.experiments.power import SampleSize, sample_size
from touchpath.analytics.experiments.spec import (
    ArmResult,
    ComparisonResult,
    ExperimentResult,
    ExperimentSpec,
    Metric,
    MetricResult,
    SeriesPoint,
)
from touchpath.analytics.experiments.stats import ArmStats, Effect, compare, compare_cuped, cuped
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.spec import parse
from touchpath.store import Store

__all__ = [
    "ANALYSIS",
    "ArmDay",
    "ArmResult",
    "ArmStats",
    "ComparisonResult",
    "Effect",
    "ExperimentResult",
    "ExperimentSpec",
    "Exposures",
    "Metric",
    "MetricResult",
    "SampleSize",
    "SeriesPoint",
    "adjust",
    "analyse",
    "benjamini_hochberg",
    "compare",
    "compare_cuped",
    "cuped",
    "experiment",
    "experiment_spec",
    "experiment_sql",
    "exposures",
    "holm",
    "read_arms",
    "sample_size",
    "srm_p_value",
]


def experiment_spec(data: ExperimentSpec | Mapping[str, Any]) -> ExperimentSpec:
    """Validate a spec; errors name the path (`primary.event.event: must not be blank`)."""
    return parse(ExperimentSpec, data)


def _run(read: Read, spec: ExperimentSpec) -> ExperimentResult:
    return analyse(spec, exposures(read.cur, spec, copy=read.sorted_copy))


ANALYSIS = Analysis(
    "experiment",
    ExperimentSpec,
    ExperimentResult,
    _run,
    "Did the change work: each arm of an experiment against control, with a verdict.",
    copy=_on_copy,
)
"""The `experiment` kind of the analysis runtime (`POST /api/analyses/experiment`)."""


def experiment(store: Store, spec: ExperimentSpec | Mapping[str, Any]) -> ExperimentResult:
    """Read the experiment's arms and metrics from the event log and judge it, through the
    analysis runtime (which stamps `as_of` and `source`), as `POST /api/analyses/experiment`."""
    result = registry.run(store, experiment_spec(spec))
    assert isinstance(result, ExperimentResult)
    return result
