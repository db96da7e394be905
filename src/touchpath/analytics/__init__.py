"""The analyses and the runtime that runs them.

- `registry`: every analysis by `kind` (`run`, `parse`, `kinds`); `api`: the same as verbs
  (`funnel`, `discover_dfg`, ...), the Python API;
- `planner`: where an analysis reads (the sorted journey copy, the log, an engine);
  `dialects` and `sql`: queries as SQLGlot trees, rendered for DuckDB or ClickHouse;
  `engines`: external engines (chdb in tests); `spec`: the specs' and results' base classes;
- one module or package per kind: `funnels`, `paths`, `retention`, `discovery` (dfg, variants,
  conformance), `attribution`, `feedback`, `experiments`; `breakdown` (shared by funnels and
  retention), `journey` (the sorted journey copy), `sentiment` (scored at ingest), `testing`
  (declarative journeys for tests).

Nothing is imported here: `from touchpath.analytics import api` loads the runtime only.
"""

from __future__ import annotations

__all__: list[str] = []
