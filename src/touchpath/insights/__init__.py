"""Saved insights and dashboards: an analysis spec of any kind kept under a name, and
dashboards of them (docs/insights.md). Results are read when asked for, never stored.

>>> from touchpath.insights import save_insight, add_to_dashboard, run_insight
"""

from __future__ import annotations

from touchpath.insights.dashboards import (
    Dashboard,
    add_to_dashboard,
    delete_dashboard,
    get_dashboard,
    list_dashboards,
    remove_from_dashboard,
    save_dashboard,
)
from touchpath.insights.insights import (
    Insight,
    delete_insight,
    get_insight,
    list_insights,
    name_problem,
    run_insight,
    save_insight,
    spec_of,
)

__all__ = [
    "Dashboard",
    "Insight",
    "add_to_dashboard",
    "delete_dashboard",
    "delete_insight",
    "get_dashboard",
    "get_insight",
    "list_dashboards",
    "list_insights",
    "name_problem",
    "remove_from_dashboard",
    "run_insight",
    "save_dashboard",
    "save_insight",
    "spec_of",
]
