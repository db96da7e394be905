"""Journey analyses. Each is one module: a frozen spec with a `kind`, a SQL builder, and a
function that runs it on a store and returns a typed, JSON-serialisable result."""

from __future__ import annotations
