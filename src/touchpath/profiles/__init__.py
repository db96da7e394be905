"""Profiles: traits, computed traits, audiences and privacy requests over the identity graph."""

from __future__ import annotations

from touchpath.profiles.unify import Refreshed, Unify, rebuild, refresh, start

__all__ = ["Refreshed", "Unify", "rebuild", "refresh", "start"]
