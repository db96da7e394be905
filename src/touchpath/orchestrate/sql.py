"""Small SQL helpers of the engine: user values as literals, one row, a count, a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from touchpath.events.match import literal

__all__ = ["count", "lit", "one", "ts"]


def lit(value: object) -> str:
    """A user value as a DuckDB literal (never pasted as text)."""
    return literal(value).sql("duckdb")


def one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, or None. (Fetches all of it: DuckDB wants a result finished
    before the connection runs anything else.)"""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The single number a `SELECT count(*) ...` gives."""
    row = one(con, sql)
    return int(row[0]) if row and row[0] is not None else 0


def ts(value: datetime) -> str:
    """A naive UTC time as a TIMESTAMP literal."""
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
