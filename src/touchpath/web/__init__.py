"""The web layer: REST API and UI over the packages below it."""

from __future__ import annotations

from touchpath.web.app import create_app

__all__ = ["create_app"]
