"""The seeded demo business: Northwind Outfitters, an omnichannel outdoor retailer.

`DemoBusiness(config).batches()` streams Segment-spec messages (plain dicts, exactly what an
SDK would POST to /v1/batch) in time order, deterministically for a seed. The simulation is
event-driven: a heap of future actions (a visit, a store purchase, a campaign send, a delivery,
a ticket resolution, ...) is processed in time order; each action writes the messages of its
next few minutes into a small output heap, which is emitted as simulated time passes. Memory
holds the customers and about an hour of messages, never the whole feed.

Where things are (docs/demo.md): the world in `catalog` and `words`, the people and their
devices in `people`, time, ids and the loop in `simulation`, each channel's behaviour in its
module (`sessions`, `orders`, `support`, `messaging`, `stores`), and the five planted effects
with their sizes in `facts` (app checkout drop-off, a slow support queue that sours feedback
and sales, an SMS cart reminder that lifts conversion, paid social that opens but rarely closes
journeys, an email-to-web switch that fails). `truth.FactMeter` measures them on the emitted messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from touchpath.demo.messaging import Messaging
from touchpath.demo.orders import Orders
from touchpath.demo.people import make_people
from touchpath.demo.reminders import CartJourney
from touchpath.demo.sessions import Sessions
from touchpath.demo.simulation import Message
from touchpath.demo.stores import Stores
from touchpath.demo.support import Support
from touchpath.demo.truth import GroundTruth

__all__ = ["DemoBusiness", "DemoConfig", "Simulation"]

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of the demo business. `end` is the last day of the simulated period."""

    customers: int = 20_000
    days: int = 90
    seed: int = 7
    end: datetime = DEFAULT_END

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError(f"DemoConfig.customers: must be at least 1, got {self.customers}")
        if self.days < 1:
            raise ValueError(f"DemoConfig.days: must be at least 1, got {self.days}")
        if self.end.tzinfo is None:
            raise ValueError("DemoConfig.end: must be timezone-aware (UTC)")


class Simulation(Sessions, Orders, Support, Messaging, Stores, CartJourney):
    """One run of the business: every channel's behaviour on the shared core; `run()` yields
    the messages in time order."""

    def __init__(self, config: DemoConfig) -> None:
        super().__init__(config)
        make_people(self)
        self._schedule_visits()
        self._schedule_campaigns()
        # the behaviour of each action kind, in the order of their numbers (simulation.VISIT...)
        self.handlers = [
            self._visit,
            self._store,
            self._email_send,
            self._email_open,
            self._push_send,
            self._push_open,
            self._sms_send,
            self._sms_open,
            self._cart_check,
            self._cart_journey,
            self._delivery,
            self._ticket,
            self._resolve,
            self._survey,
            self._review,
        ]


class DemoBusiness:
    """Northwind Outfitters, simulated: stream its Segment messages, then read its ground truth.

    >>> business = DemoBusiness(DemoConfig(customers=50, days=14))
    >>> first = next(business.batches(size=10))
    >>> len(first), first[0]["type"] in {"page", "screen", "track", "identify"}
    (10, True)
    """

    def __init__(self, config: DemoConfig = DemoConfig()) -> None:
        self.config = config
        self._truth: GroundTruth | None = None

    def messages(self) -> Iterator[Message]:
        """Yield every message in time order; deterministic for a seed, memory stays flat."""
        sim = Simulation(self.config)
        yield from sim.run()
        self._truth = sim.truth()

    def batches(self, size: int = 500) -> Iterator[list[Message]]:
        """Yield all messages in batches of `size` (the last may be shorter)."""
        if size < 1:
            raise ValueError(f"batches(size): must be at least 1, got {size}")
        batch: list[Message] = []
        for msg in self.messages():
            batch.append(msg)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def truth(self) -> GroundTruth:
        """The ground truth; computed by a silent run if the messages were not fully read."""
        if self._truth is None:
            for _ in self.messages():
                pass
        assert self._truth is not None
        return self._truth
