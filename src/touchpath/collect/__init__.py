"""Ingestion: the Segment-spec /v1 HTTP routes and the file importers."""

from __future__ import annotations

__all__: list[str] = []
