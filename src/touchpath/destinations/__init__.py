"""Destinations: the way out. The outbox that journeys and event forwarding write to, the
dispatcher that delivers it, the kinds of destination (webhook, SMTP email, SMS, push) behind the
`Destination` protocol, templates, the send policy, and the message events that come back.

The seam other areas use is `touchpath.destinations.outbox.enqueue(con, messages)` with
`OutboxMessage` rows (docs/architecture.md, "Destinations and the outbox").
"""

from __future__ import annotations

from touchpath.destinations.outbox import OutboxMessage, enqueue, journey_key, message_id
from touchpath.destinations.protocol import (
    CHANNELS,
    DeliveryResult,
    Destination,
    MemoryDestination,
    Outgoing,
)

__all__ = [
    "CHANNELS",
    "DeliveryResult",
    "Destination",
    "MemoryDestination",
    "OutboxMessage",
    "Outgoing",
    "enqueue",
    "journey_key",
    "message_id",
]
