"""The living demo: after the history is loaded, the simulated business goes on. People keep
arriving and acting through the real /v1 path, and answer the messages Touchpath sends them
(the demo's receivers hand each one over) with planted effect sizes (`touchpath.demo.facts`:
`LIVE_ARRIVALS`, `LIVE_REACTIONS`), all on one accelerated clock. docs/demo.md, "The living
demo".
"""

from __future__ import annotations

from touchpath.demo.live.business import LiveBusiness
from touchpath.demo.live.runner import LiveRunner, live_clock, live_write_key
from touchpath.demo.live.status import live_status, live_truth, set_paused

__all__ = [
    "LiveBusiness",
    "LiveRunner",
    "live_clock",
    "live_status",
    "live_truth",
    "live_write_key",
    "set_paused",
]
