"""Typed FastAPI dependencies shared by the routers (the collector defines the store's)."""

from __future__ import annotations

from touchpath.collect.http import StoreDep, get_store

__all__ = ["StoreDep", "get_store"]
