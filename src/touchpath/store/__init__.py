"""The embedded store: schema and migrations, the single writer, read helpers."""

from __future__ import annotations

from touchpath.store.store import Appended, CommitListener, IngestResult, Source, Store, utcnow

__all__ = ["Appended", "CommitListener", "IngestResult", "Source", "Store", "utcnow"]
