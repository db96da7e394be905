"""Touchpath: an open-source customer journey platform.

Collect every touchpoint through the Segment-spec API, unify people, analyse journeys,
draw journey maps bound to live data, and act on them.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
