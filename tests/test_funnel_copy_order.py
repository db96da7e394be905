"""The funnel's SQL over the sorted journey copy names the copy's stored order in every window.

DuckDB gathers a window's input from its scan threads in no set order: on the 1M demo store an
empty window clause saw one profile's rows split around another's, and the map binder's
"retention" funnel counted 10,694 people at its first step where 10,652 had done it (the log
and the compiled pass agreed on 10,652). A small store reads in one piece and cannot show it, so
this test checks the statement itself."""

from __future__ import annotations

import re

import pytest

from touchpath.analytics.dialects import render
from touchpath.analytics.funnels import query
from touchpath.analytics.funnels.spec import FunnelSpec


@pytest.mark.parametrize("order", ["ordered", "strict"])
def test_every_window_over_the_copy_is_ordered(order: str) -> None:
    spec = FunnelSpec.model_validate(
        {"steps": [{"event": "A"}, {"event": "B"}, {"event": "C"}], "order": order}
    )
    sql = render(query.reached(spec, sorted_copy=True), "duckdb")
    windows = re.findall(r"OVER \(([^()]*)\)", sql)
    assert windows, sql
    unordered = [w for w in windows if "ORDER BY" not in w]
    assert unordered == [], (order, unordered)
