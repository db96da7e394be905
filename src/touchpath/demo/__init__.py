"""The seeded demo business, Northwind Outfitters: Segment messages with a known ground truth.

>>> from touchpath.demo import DemoBusiness, DemoConfig
>>> business = DemoBusiness(DemoConfig(customers=200, days=30, seed=1))
>>> sum(len(batch) for batch in business.batches()) == business.truth().events
True
"""

from __future__ import annotations

from touchpath.demo.generator import DemoBusiness, DemoConfig
from touchpath.demo.truth import GroundTruth

__all__ = ["DemoBusiness", "DemoConfig", "GroundTruth"]
