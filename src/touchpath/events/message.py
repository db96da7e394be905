"""Segment-spec messages: the few fields checked at the door, and the staged form the store takes.

Messages reach the store as raw JSON; the writer checks and extracts them set-wise in SQL
(`touchpath.store.ingest`). `check_message` states the same rules in Python: it is the reference
the SQL is tested against. A message that parses but breaks the spec is recorded as rejected
with its reason instead of being lost.

>>> check_message(Head(type="track", anonymousId="a1"), None)
'event: required for a track'
>>> check_message(Head(type="identify", userId="u1"), None) is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import orjson

__all__ = [
    "MESSAGE_TYPES",
    "Head",
    "Staged",
    "check_message",
    "decode_head",
    "stage_internal",
    "stage_messages",
]

MESSAGE_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})


class Head(msgspec.Struct):
    """The fields of a message that decide whether it is valid (its JSON objects skipped)."""

    type: Any = None
    event: Any = None
    userId: Any = None
    anonymousId: Any = None
    messageId: Any = None
    groupId: Any = None
    previousId: Any = None
    timestamp: Any = None
    originalTimestamp: Any = None
    sentAt: Any = None


decode_head = msgspec.json.Decoder(Head).decode
"""The `Head` of a raw message; raises msgspec.DecodeError when it is not a JSON object."""


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
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
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
    """Messages of one request, as raw JSON, ready for the writer.

    Nothing is decoded here: the writer checks and normalises a whole group of requests in one
    SQL statement (`touchpath.store.ingest.NORMALISE_SQL`) with the rules of `check_message`.
    """

    source: str
    received_at: datetime
    raws: list[bytes] = field(default_factory=list)
    route_type: str | None = None
    batch_sent_at: str | None = None
    refused: int = 0
    """Messages a check at the door (a tracking plan in block mode) took out of `raws`; they
    are recorded by `side_writes` and count as rejected."""
    side_writes: list[Callable[[Any], None]] = field(default_factory=list)
    """Writes that commit in the same transaction as the messages (`fn(con)`): the refused
    messages and the violations a tracking plan found (touchpath.catalogue.gate)."""
    rows: Any = None
    """Instead of `raws`, messages Touchpath made itself already as event-log rows (an Arrow
    table, `touchpath.store.ingest.TYPED_COLUMNS`): the writer checks and parses nothing,
    only drops repeats (the journeys' step events, millions at a time)."""

    def __len__(self) -> int:
        return len(self.raws) if self.rows is None else int(self.rows.num_rows)


def stage_messages(
    raws: Sequence[bytes],
    *,
    source: str,
    received_at: datetime,
    route_type: str | None = None,
    batch_sent_at: str | None = None,
) -> Staged:
    """Stage raw messages of one request (a route type overrides each message's `type`)."""
    return Staged(
        source=source,
        received_at=received_at,
        raws=list(raws),
        route_type=route_type,
        batch_sent_at=batch_sent_at,
    )


def stage_internal(
    messages: Iterable[Mapping[str, Any]], *, source: str, received_at: datetime
) -> Staged:
    """Stage messages Touchpath writes itself (source `touchpath.<area>`, see
    `touchpath.events.names`). Give each a deterministic `messageId`: the store drops a repeat
    within the dedupe window, so a step that runs twice writes its event once.
    Queue the result with `store.ingest(staged, internal=True)`."""
    return Staged(
        source=source,
        received_at=received_at,
        raws=[orjson.dumps(dict(m)) for m in messages],
    )
