"""External analytic engines: where a store that outgrows one machine keeps its events.

An `Engine` runs the same query trees as the store, rendered for its dialect
(`touchpath.analytics.dialects`): `registry.run(store, spec, engine=engine)` plans the
`engine` source and the runner's reads go to it. `Chdb` is ClickHouse's engine in-process
(chdb), loaded with a store's `resolved_events`: the tests prove with it that every analysis of
the runtime gives ClickHouse the numbers it gives DuckDB, and it is the shape a ClickHouse server
takes (`execute` over its HTTP interface instead).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

__all__ = ["COLUMNS", "Chdb", "Engine"]

COLUMNS = (
    "seq", "message_id", "source", "type", "event", "anonymous_id", "user_id", "timestamp",
    "channel", "context", "properties", "traits", "profile_id",
)  # fmt: skip
"""The columns of `resolved_events` an engine holds (those analyses read)."""

SETTINGS = {
    "join_use_nulls": 1,  # an outer join's missing side is NULL, as in SQL (and DuckDB)
    "group_by_use_nulls": 1,  # GROUPING SETS' rolled-up keys are NULL
    "aggregate_functions_null_for_empty": 1,  # avg/max of no rows is NULL, not 0 or nan
    "union_default_mode": "'ALL'",
    "allow_experimental_correlated_subqueries": 1,
}
"""ClickHouse settings that give SQL's NULL semantics the analyses rely on."""


class Engine(Protocol):
    """An analytic engine: its SQL dialect, and a way to run a statement and read its rows."""

    dialect: str

    def execute(self, sql: str) -> list[tuple[Any, ...]]: ...


def _plain(value: Any) -> Any:
    """A value as DuckDB's Python client gives it (naive UTC times, lists for arrays)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Chdb:
    """ClickHouse in-process: a chdb session holding a copy of a store's `resolved_events`,
    ordered by (profile, time, seq) as a MergeTree."""

    dialect = "clickhouse"

    def __init__(self) -> None:
        from chdb import session  # a test and bench dependency, never the runtime's

        self._dir = tempfile.TemporaryDirectory(prefix="touchpath-chdb-")
        self._session: Any = session.Session(self._dir.name)  # type: ignore[no-untyped-call]
        settings = ", ".join(f"{k} = {v}" for k, v in SETTINGS.items())
        self._settings = f" SETTINGS {settings}"

    def load(self, cur: Any) -> int:
        """Copy `resolved_events` from a DuckDB cursor (through Parquet); returns the rows."""
        path = Path(self._dir.name) / "events.parquet"
        cols = ", ".join(COLUMNS)
        cur.execute(f"COPY (SELECT {cols} FROM resolved_events) TO '{path}' (FORMAT parquet)")
        self._session.query("DROP TABLE IF EXISTS resolved_events")
        self._session.query(
            "CREATE TABLE resolved_events (seq Int64, message_id String, source String, "
            "type String, event Nullable(String), anonymous_id Nullable(String), "
            "user_id Nullable(String), timestamp DateTime64(6, 'UTC'), channel String, "
            "context Nullable(String), properties Nullable(String), traits Nullable(String), "
            "profile_id String) ENGINE = MergeTree ORDER BY (profile_id, timestamp, seq)"
        )
        self._session.query(f"INSERT INTO resolved_events SELECT * FROM file('{path}', Parquet)")
        (n,) = self.execute("SELECT count(*) FROM resolved_events")[0]
        return int(n)

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one statement; the rows of a query."""
        statement = sql.strip().rstrip(";")
        if statement.upper().startswith(("SELECT", "WITH")):
            statement += self._settings
        result = self._session.query(statement, "ArrowTable")
        table = result if hasattr(result, "to_pylist") else None
        if table is None or table.num_columns == 0:
            return []
        names = table.column_names
        return [tuple(_plain(row[n]) for n in names) for row in table.to_pylist()]

    def close(self) -> None:
        self._session.close()
        self._dir.cleanup()

    def __enter__(self) -> Chdb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EngineCursor:
    """An engine behind the DuckDB cursor calls a runner's `Read` makes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> EngineCursor:
        if params:
            raise ValueError("engines take no parameters: put values in the tree as literals")
        self._rows = self.engine.execute(sql)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None
