"""Profiles: traits, computed traits, audiences and privacy requests over the identity graph."""

from __future__ import annotations

from touchpath.profiles.unify import Unify, attach, rebuild, refresh

__all__ = ["Unify", "attach", "rebuild", "refresh"]
