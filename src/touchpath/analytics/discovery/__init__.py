"""Journey discovery: the directly-follows graph, variants, stage flow and conformance.

- `journeys`: what a journey is (a profile's or a session's events, activities by event name
  or by stage) and its rows, on the log or the sorted copy;
- `dfg`: every pair of directly following activities with its frequency, the cases that take
  it and the time between the two (median, p90), plus node counts and start/end counts; with
  `stages`, the stage flow; `coverage` keeps the most common variants covering a share;
- `variants`: the most common whole sequences with their share of cases;
- `conformance`: the share of journeys that follow the designed stage order (the order of
  `stages`) and the most common deviations (going back a stage, skipping one, starting late).

Each is registered with the runtime (`DFG`, `VARIANTS`, `CONFORMANCE`); the query builders
(`dfg`, `variants`, `conformance`, `journey`, and their `*_sql` text) are public for reuse.
"""

from __future__ import annotations

from touchpath.analytics.discovery.conformance import (
    CONFORMANCE,
    ConformanceResult,
    ConformanceSpec,
    Deviation,
    StageReach,
    conformance,
    conformance_sql,
)
from touchpath.analytics.discovery.dfg import (
    DFG,
    DfgEdge,
    DfgNode,
    DfgResult,
    DfgSpec,
    dfg,
    dfg_sql,
)
from touchpath.analytics.discovery.journeys import (
    DiscoveryStage,
    JourneyScope,
    Stage,
    activity_expr,
    can_use_sorted,
    journey,
    journey_sql,
    match_of,
    sorted_journey,
    sorted_journey_sql,
    stage_case,
)
from touchpath.analytics.discovery.variants import (
    VARIANTS,
    Variant,
    VariantsResult,
    VariantsSpec,
    variants,
    variants_sql,
)

__all__ = [
    "CONFORMANCE",
    "DFG",
    "VARIANTS",
    "ConformanceResult",
    "ConformanceSpec",
    "Deviation",
    "DfgEdge",
    "DfgNode",
    "DfgResult",
    "DfgSpec",
    "DiscoveryStage",
    "JourneyScope",
    "Stage",
    "StageReach",
    "Variant",
    "VariantsResult",
    "VariantsSpec",
    "activity_expr",
    "can_use_sorted",
    "conformance",
    "conformance_sql",
    "dfg",
    "dfg_sql",
    "journey",
    "journey_sql",
    "match_of",
    "sorted_journey",
    "sorted_journey_sql",
    "stage_case",
    "variants",
    "variants_sql",
]
