"""The node kinds of a journey document, and the conditions a branch tests.

Each node names where people go next (`next`, or one target per branch, variant or outcome);
a node with nowhere to go ends the journey there.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from touchpath.events.durations import Duration
from touchpath.events.match import EventMatch, Frozen
from touchpath.profiles.specs import ComputedCondition, TraitCondition

__all__ = [
    "NODE_ID",
    "NODE_KINDS",
    "WEEKDAYS",
    "AllOf",
    "AnyOf",
    "Branch",
    "BranchNode",
    "Condition",
    "EntryProperty",
    "ExitNode",
    "InAudience",
    "Node",
    "NodeRef",
    "Not",
    "Position",
    "SendNode",
    "SplitNode",
    "TouchpointRef",
    "UpdateTraitNode",
    "Variant",
    "WaitForEventNode",
    "WaitNode",
    "WaitUntilNode",
    "WebhookNode",
]

NODE_ID = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NodeRef = Annotated[str, Field(pattern=NODE_ID, description="The id of the node to go to.")]


class Position(Frozen):
    """Where the canvas draws a node (ignored by the engine)."""

    x: float = 0.0
    y: float = 0.0


class TouchpointRef(Frozen):
    """A touchpoint of a saved or shipped journey map; stands for its event definition."""

    map: str = Field(min_length=1)
    touchpoint: str = Field(min_length=1)


# ------------------------------------------------------------------------------ conditions
class InAudience(Frozen):
    """Is (or is not, with `member: false`) in an audience."""

    kind: Literal["audience"] = "audience"
    audience: str = Field(min_length=1)
    member: bool = True


class EntryProperty(Frozen):
    """A test on a property of the event that made the person enter."""

    kind: Literal["property"] = "property"
    property: str = Field(min_length=1)
    op: Literal[
        "eq",
        "neq",
        "gt",
        "gte",
        "lt",
        "lte",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "regex",
        "is_set",
        "is_not_set",
    ] = "eq"
    value: Any = None


class AllOf(Frozen):
    kind: Literal["and"] = "and"
    all: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(Frozen):
    kind: Literal["or"] = "or"
    any: tuple[Condition, ...] = Field(min_length=1)


class Not(Frozen):
    kind: Literal["not"] = "not"
    cond: Condition


Condition = Annotated[
    TraitCondition | ComputedCondition | InAudience | EntryProperty | AllOf | AnyOf | Not,
    Field(discriminator="kind"),
]
"""A branch condition: traits, computed traits, audience membership, entry-event properties."""

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


# ------------------------------------------------------------------------------ nodes
class _Node(Frozen):
    label: str | None = Field(default=None, description="Shown on the canvas; the id when empty.")
    position: Position | None = None
    touchpoint: TouchpointRef | None = Field(
        default=None,
        description="The touchpoint of a (future-state) map this node stands for: binding the "
        "map shows the node's numbers beside the touchpoint's.",
    )

    def targets(self) -> dict[str, str | None]:
        """Where this node may lead, by the field that says so (None: the journey ends)."""
        return {"next": getattr(self, "next", None)}


class WaitNode(_Node):
    """Wait a duration, then go on."""

    kind: Literal["wait"] = "wait"
    duration: Duration
    next: NodeRef | None = None


class WaitUntilNode(_Node):
    """Wait until a time of day on one of the weekdays, in the person's time zone (the trait
    `timezone_trait`, else `fallback_timezone`). Daylight-saving changes are followed: a time
    that does not exist that day (spring forward) is taken an hour later, a time that happens
    twice (fall back) the first time."""

    kind: Literal["wait_until"] = "wait_until"
    at: str = Field(description="Local time, HH:MM (24 h).", examples=["09:00"])
    weekdays: tuple[Weekday, ...] = Field(default=WEEKDAYS, min_length=1)
    timezone_trait: str = Field(default="timezone", min_length=1)
    fallback_timezone: str = "UTC"
    next: NodeRef | None = None

    @field_validator("at")
    @classmethod
    def _hh_mm(cls, v: str) -> str:
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", v):
            raise ValueError(f"not a time of day: {v!r} (use HH:MM, e.g. 09:00)")
        return v

    @field_validator("fallback_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return v

    def local_time(self) -> time:
        hh, mm = self.at.split(":")
        return time(int(hh), int(mm))


class WaitForEventNode(_Node):
    """Wait for an event up to `timeout`: people who perform it go to `on_event`, the others to
    `on_timeout` when the time is up."""

    kind: Literal["wait_for_event"] = "wait_for_event"
    event: EventMatch
    timeout: Duration
    on_event: NodeRef | None = None
    on_timeout: NodeRef | None = None

    def targets(self) -> dict[str, str | None]:
        return {"on_event": self.on_event, "on_timeout": self.on_timeout}


class Branch(Frozen):
    name: str = Field(min_length=1, pattern=NODE_ID)
    when: Condition
    next: NodeRef | None = None


class BranchNode(_Node):
    """The first branch whose condition holds takes the person; else `otherwise`."""

    kind: Literal["branch"] = "branch"
    branches: tuple[Branch, ...] = Field(min_length=1)
    otherwise: NodeRef | None = None

    def targets(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {b.name: b.next for b in self.branches}
        out["otherwise"] = self.otherwise
        return out


class Variant(Frozen):
    name: str = Field(min_length=1, pattern=NODE_ID)
    weight: float = Field(gt=0)
    next: NodeRef | None = None


class SplitNode(_Node):
    """A random split by weight, the same for a person every time (a hash of the journey, the
    node and the person). `holdout` (a weight like the variants') sends people to
    `holdout_next`, by default out of the journey. Assignment is logged as Experiment Viewed
    with experiment_id `journey:<journey>:<node>`."""

    kind: Literal["split"] = "split"
    variants: tuple[Variant, ...] = Field(min_length=1)
    holdout: float = Field(default=0.0, ge=0)
    holdout_next: NodeRef | None = None

    @field_validator("variants")
    @classmethod
    def _unique(cls, v: tuple[Variant, ...]) -> tuple[Variant, ...]:
        names = [x.name for x in v]
        for i, n in enumerate(names):
            if n in names[:i] or n == "holdout":
                raise ValueError(f"variants[{i}].name: {n!r} is used twice or reserved")
        return v

    def targets(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {v.name: v.next for v in self.variants}
        if self.holdout:
            out["holdout"] = self.holdout_next
        return out

    def arms(self) -> list[tuple[str, float, str | None]]:
        """(name, share of people, next node), holdout last, shares summing to 1."""
        total = sum(v.weight for v in self.variants) + self.holdout
        out = [(v.name, v.weight / total, v.next) for v in self.variants]
        if self.holdout:
            out.append(("holdout", self.holdout / total, self.holdout_next))
        return out


class SendNode(_Node):
    """Send a message through a destination: a saved template, inline content, or both (the
    content's fields override the template's). It goes through the outbox, where the send
    policy (consent for `topic`, suppression, caps, quiet hours) is checked when it leaves."""

    kind: Literal["send"] = "send"
    destination: str = Field(min_length=1)
    template: str | None = Field(default=None, min_length=1)
    content: dict[str, Any] = Field(
        default_factory=dict,
        description="Inline fields: email subject, text, html; sms body; push title, body.",
    )
    channel: Literal["email", "sms", "push"] | None = Field(
        default=None, description="The destination's channel when not given."
    )
    topic: str | None = Field(default=None, description="Subscription topic, e.g. marketing.")
    data: dict[str, Any] = Field(default_factory=dict, description="Extra template variables.")
    next: NodeRef | None = None

    @model_validator(mode="after")
    def _something_to_send(self) -> SendNode:
        if self.template is None and not self.content:
            raise ValueError("template: required (or inline content)")
        return self


class WebhookNode(_Node):
    """Call a webhook destination with a JSON body (through the outbox)."""

    kind: Literal["webhook"] = "webhook"
    destination: str = Field(min_length=1)
    body: dict[str, Any] = Field(default_factory=dict)
    next: NodeRef | None = None


class UpdateTraitNode(_Node):
    """Set a trait on the person: `value`, or the entry event's property `from_property`."""

    kind: Literal["update_trait"] = "update_trait"
    trait: str = Field(min_length=1)
    value: Any = None
    from_property: str | None = None
    next: NodeRef | None = None


class ExitNode(_Node):
    """Leave the journey, with a reason."""

    kind: Literal["exit"] = "exit"
    reason: str = Field(default="exit_node", min_length=1)

    def targets(self) -> dict[str, str | None]:
        return {}


Node = Annotated[
    WaitNode
    | WaitUntilNode
    | WaitForEventNode
    | BranchNode
    | SplitNode
    | SendNode
    | WebhookNode
    | UpdateTraitNode
    | ExitNode,
    Field(discriminator="kind"),
]
NODE_KINDS = (
    "wait",
    "wait_until",
    "wait_for_event",
    "branch",
    "split",
    "send",
    "webhook",
    "update_trait",
    "exit",
)
