"""Segment-spec messages: the few fields checked at the door, and the staged form the store takes.

Only the head of each message is decoded in Python (msgspec, unknown fields ignored); the rest
stays as raw JSON and the store extracts it set-wise. A message that parses but breaks the spec
is staged with a reason, so it is recorded as rejected instead of being lost.

>>> check_message(Head(type="track", anonymousId="a1"), None)
'event: required for a track'
>>> check_message(Head(type="identify", userId="u1"), None) is None
True
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

__all__ = ["MESSAGE_TYPES", "Head", "Staged", "check_message", "stage_messages"]

MESSAGE_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})


_NO_RAW = msgspec.Raw()


class Head(msgspec.Struct):
    """The fields of a message that decide whether it is valid and whether it is a duplicate,
    plus its JSON objects as undecoded slices (the store keeps them as they came)."""

    type: Any = None
    event: Any = None
    userId: Any = None
    anonymousId: Any = None
    messageId: Any = None
    groupId: Any = None
    previousId: Any = None
    context: msgspec.Raw = _NO_RAW
    properties: msgspec.Raw = _NO_RAW
    traits: msgspec.Raw = _NO_RAW


_decode_head = msgspec.json.Decoder(Head).decode


def _present(value: Any) -> bool:
    return value is not None and value != ""


def check_message(head: Head, route_type: str | None) -> str | None:
    """The reason a message breaks the Segment spec, or None when it is valid."""
    kind = route_type or head.type
    if not _present(kind):
        return "type: required (one of alias, group, identify, page, screen, track)"
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        return f"type: unknown message type {kind!r}"
    for name in ("userId", "anonymousId", "event", "messageId", "groupId", "previousId"):
        value = getattr(head, name)
        if value is not None and not isinstance(value, str | int):
            return f"{name}: must be a string, got {type(value).__name__}"
    if not _present(head.userId) and not _present(head.anonymousId):
        return "userId or anonymousId: one is required"
    if kind == "track" and not _present(head.event):
        return "event: required for a track"
    if kind == "group" and not _present(head.groupId):
        return "groupId: required for a group"
    if kind == "alias" and not _present(head.previousId):
        return "previousId: required for an alias"
    return None


@dataclass
class Staged:
    """Messages of one request, checked and ready for the writer."""

    source: str
    received_at: datetime
    raws: list[bytes] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    types: list[str | None] = field(default_factory=list)
    reasons: list[str | None] = field(default_factory=list)
    contexts: list[bytes | None] = field(default_factory=list)
    properties: list[bytes | None] = field(default_factory=list)
    traits: list[bytes | None] = field(default_factory=list)
    batch_sent_at: str | None = None

    def __len__(self) -> int:
        return len(self.raws)


def stage_messages(
    raws: list[bytes],
    *,
    source: str,
    received_at: datetime,
    route_type: str | None = None,
    batch_sent_at: str | None = None,
) -> Staged:
    """Check each raw message and assign a messageId where it has none."""
    staged = Staged(source=source, received_at=received_at, batch_sent_at=batch_sent_at)
    # Assigned ids are uuid-shaped: a random prefix per call and a counter (uuid4 per message
    # cost ~3 us, as much as decoding the message).
    prefix = str(uuid.uuid4())[:-8]
    for n, raw in enumerate(raws):
        try:
            head = _decode_head(raw)
        except msgspec.DecodeError:
            head = Head()
            reason: str | None = "message: not a JSON object"
        else:
            reason = check_message(head, route_type)
        mid = head.messageId
        staged.raws.append(raw)
        staged.message_ids.append(str(mid) if _present(mid) else f"{prefix}{n:08x}")
        kind = route_type or head.type
        staged.types.append(kind if isinstance(kind, str) else None)
        staged.reasons.append(reason)
        staged.contexts.append(_part(head.context))
        staged.properties.append(_part(head.properties))
        staged.traits.append(_part(head.traits))
    return staged


def _part(raw: msgspec.Raw) -> bytes | None:
    """An object of the message as raw JSON bytes; None when absent or null."""
    if not raw:
        return None
    data = bytes(raw)
    return None if data == b"null" else data
