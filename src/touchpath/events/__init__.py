"""The event model: Segment-spec messages, their validation, and the channel rule table."""

from __future__ import annotations

from touchpath.events.channels import CHANNELS, RULES, channel_case
from touchpath.events.message import MESSAGE_TYPES, Head, Staged, check_message, stage_messages

__all__ = [
    "CHANNELS",
    "MESSAGE_TYPES",
    "RULES",
    "Head",
    "Staged",
    "channel_case",
    "check_message",
    "stage_messages",
]
