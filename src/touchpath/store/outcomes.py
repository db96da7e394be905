"""What the store's writes report: a request's ingest, an import's appended rows, and what a
rows gate (a tracking plan) made of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Appended", "IngestResult", "RowsChecked"]


@dataclass(frozen=True)
class IngestResult:
    """What became of the messages of one request."""

    accepted: int
    rejected: int
    duplicates: int


@dataclass(frozen=True)
class Appended:
    """What became of the rows of one `Store.append_rows`."""

    inserted: int
    suppressed: int
    """Rows of suppressed users, dropped."""
    present: int
    """Rows already in the log (same source and messageId), dropped."""
    blocked: int = 0
    """Rows a tracking plan in block mode refused (in `rejected` with the violations)."""
    flagged: int = 0
    """Rows kept with violations of a tracking plan (in `plan_violations`)."""


@dataclass
class RowsChecked:
    """What a rows gate (`Store.add_rows_gate`) made of the rows of one `append_rows`: the rows
    to append, the writes that commit with them, and how many it refused or flagged."""

    rows: pa.Table
    side_writes: list[Callable[[duckdb.DuckDBPyConnection], None]] = field(default_factory=list)
    blocked: int = 0
    flagged: int = 0
