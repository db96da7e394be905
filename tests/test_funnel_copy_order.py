"""The funnel's SQL over the sorted journey copy sees the copy's rows in (profile, time, seq)
order, whatever order its step filter hands them over in.

DuckDB does not keep a table's stored order through every filter: it rewrites a long `IN (...)`
list into a join, and on the 1M demo store an empty window clause over such a filter saw one
profile's rows split around another's (the map binder's "retention" funnel counted 10,694
people at its first step where 10,652 had done it; 47 of the demo maps' 59 funnels differed
from the log on 2026-12-07). So each ordered pass sorts once, in its first window, and every
later window of the pass reads the one before it with an empty window clause, which keeps its
input's order (DuckDB's documented order preservation). A small store reads in one piece and
cannot show the misorder, so this test checks the statement itself."""

from __future__ import annotations

import re

import pytest

from touchpath.analytics.dialects import render
from touchpath.analytics.funnels import query
from touchpath.analytics.funnels.spec import FunnelSpec

STORED = "ORDER BY pno, ts, seq"


def _windows(order: str, steps: int = 3) -> tuple[str, list[str]]:
    spec = FunnelSpec.model_validate(
        {"steps": [{"event": e} for e in "ABCDE"[:steps]], "order": order}
    )
    sql = render(query.reached(spec, sorted_copy=True), "duckdb")
    return sql, re.findall(r"OVER \(([^()]*)\)", sql)


@pytest.mark.parametrize("steps", [2, 3, 5])
def test_the_ordered_pass_sorts_once_and_keeps_that_order(steps: int) -> None:
    sql, windows = _windows("ordered", steps)
    # The pass's first window sorts its rows in the copy's order.
    assert "LAG(pno) OVER (ORDER BY pno, ts, seq) IS DISTINCT FROM pno AS newp" in sql, sql
    assert [w for w in windows if "ORDER BY" in w] == [STORED], windows
    # Every other window keeps the order of the window it reads: no partition, no order of
    # its own (a partition or a new order would hand it rows in another order).
    kept = [w for w in windows if w != STORED]
    assert kept and all("PARTITION" not in w and "ORDER" not in w for w in kept), kept
    # The later windows read the first one's output through SELECT and WHERE only: the base
    # filter (where a long IN list may become a join) is read only by the sorting window.
    first = sql.index("IS DISTINCT FROM pno AS newp FROM base")
    assert sql.count("FROM base") == 1 and first > 0, sql


def test_the_strict_pass_orders_every_window() -> None:
    _, windows = _windows("strict")
    assert windows, windows
    assert all(w == "ORDER BY pid, ts, seq" for w in windows), windows
