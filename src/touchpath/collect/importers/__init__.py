"""File imports: CSV, JSONL, Parquet and XES event logs into the event log, set-wise.

Three steps, one module each: `formats` reads the file into a scratch in-memory DuckDB database
(table `src`, every row with its line number); `mapping` maps its columns onto event-log rows in
one SQL statement built with SQLGlot (the user's column names are quoted identifiers), giving
every bad row its reason; `load` writes the good rows in chunks through the store's append path
(`Store.append_rows`: rows already in the log and rows of suppressed users are dropped there,
with the check ingest makes) and the bad ones to `rejected`, and reports.

Every row has a deterministic messageId `imp:<file digest>:<line>`, so importing the same file
again adds nothing.
"""

from __future__ import annotations

from touchpath.collect.importers.formats import (
    FORMATS,
    detect_format,
    file_digest,
    source_name_for,
)
from touchpath.collect.importers.load import BadRow, ImportReport, Progress, import_file
from touchpath.collect.importers.mapping import DEFAULTS, ImportMapping

__all__ = [
    "DEFAULTS",
    "FORMATS",
    "BadRow",
    "ImportMapping",
    "ImportReport",
    "Progress",
    "detect_format",
    "file_digest",
    "import_file",
    "source_name_for",
]
