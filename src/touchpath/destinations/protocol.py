"""The `Destination` protocol: what every kind (webhook, SMTP email, SMS, push) implements, and an
in-memory stand-in for unit tests (httpx's `MockTransport` idea: real code paths, no network).

A destination gets one `Outgoing` message, already rendered and past the send policy, and says
what became of it in a `DeliveryResult`. It never raises for a failed delivery: a refused
connection, a timeout or a 5xx are results (`retry`), so one bad message never fails another.

>>> mem = MemoryDestination("test")
>>> msg = Outgoing(id="msg_1", idempotency_key="k1", destination="test", channel="webhook",
...                recipient=None, content={"payload": {"hello": "world"}})
>>> coro = mem.send(msg)  # awaited by the dispatcher's loop
>>> try:
...     coro.send(None)
... except StopIteration as done:
...     print(done.value.outcome, [m.id for m in mem.sent])
delivered ['msg_1']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "CHANNELS",
    "DeliveryResult",
    "Destination",
    "MemoryDestination",
    "Outcome",
    "Outgoing",
]

CHANNELS = ("email", "sms", "push", "webhook")
"""The channels a message goes out on; also the `channel` of the message events it causes."""

Outcome = Literal["delivered", "sent", "retry", "failed", "gone"]
"""What a destination did with a message:

- `delivered`: the receiver confirmed it (a webhook's 2xx);
- `sent`: handed to a provider that reports delivery later (SMTP accepted, SMS queued, push
  accepted);
- `retry`: a failure that may pass (timeout, refused connection, 429, 5xx); `retry_after` may
  say when;
- `failed`: a failure that will not pass by retrying (4xx, a bad address);
- `gone`: the endpoint says it no longer exists (HTTP 410); the destination is disabled.
"""


@dataclass(frozen=True)
class Outgoing:
    """One message as a destination sends it: rendered, addressed, past the send policy."""

    id: str
    """The outbox id (`msg_...`), also what callbacks and tracking links refer to."""
    idempotency_key: str
    destination: str
    channel: str
    recipient: str | None
    content: Mapping[str, Any]
    """Rendered fields by channel: email `subject`, `text`, `html`; sms `body`; push `title`,
    `body`, `data`; webhook `payload` (any JSON value)."""
    profile_id: str | None = None
    journey: str | None = None
    journey_version: int | None = None
    node: str | None = None
    entry_key: str | None = None
    attempt: int = 1
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra headers a channel adds (e.g. email's List-Unsubscribe)."""


@dataclass(frozen=True)
class DeliveryResult:
    """What became of one send."""

    outcome: Outcome
    status: int | None = None
    """The HTTP or SMTP status, when there was one."""
    error: str | None = None
    retry_after: float | None = None
    """Seconds the receiver asked to wait (Retry-After), for `retry`."""
    provider_id: str | None = None
    """The provider's id of the message (Twilio SID, FCM name, SMTP Message-ID)."""
    duration_ms: float | None = None
    bounce: bool = False
    """The recipient's address does not exist (a hard bounce): later email to them stops."""


@runtime_checkable
class Destination(Protocol):
    """Sends messages of one configured destination. `send` never raises for a failed delivery;
    it returns a `DeliveryResult` saying what happened. `aclose` releases connections."""

    name: str

    async def send(self, message: Outgoing) -> DeliveryResult: ...

    async def aclose(self) -> None: ...


class MemoryDestination:
    """A destination that keeps what it is sent (unit tests, dry runs). `respond` decides each
    result; by default every message is delivered."""

    def __init__(
        self,
        name: str,
        respond: Callable[[Outgoing], DeliveryResult] | None = None,
    ) -> None:
        self.name = name
        self.sent: list[Outgoing] = []
        self._respond = respond or (lambda m: DeliveryResult("delivered", status=200))

    async def send(self, message: Outgoing) -> DeliveryResult:
        self.sent.append(message)
        return self._respond(message)

    async def aclose(self) -> None:
        pass
