"""Definitions of computed traits and audiences, and the configuration file that holds them.

>>> ComputedTrait(name="orders_30d", op="count", event=EventMatch(event="Order Completed"),
...               within="30d").within
2592000
>>> Audience.model_validate({"name": "buyers", "condition": {"kind": "performed",
...     "event": {"event": "Order Completed"}, "at_least": 2}}).condition.kind
'performed'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import Field, ValidationError, model_validator

from touchpath.errors import SpecError
from touchpath.events.durations import OptionalDuration, renamed_durations
from touchpath.events.match import EventMatch, Frozen, Op
from touchpath.identity.rules import IdentityRules

__all__ = [
    "AllOf",
    "AnyOf",
    "Audience",
    "ComputedCondition",
    "ComputedTrait",
    "Not",
    "Performed",
    "TraitCondition",
    "UnifyConfig",
    "load_config",
    "parse_spec",
]

T = TypeVar("T", bound=Frozen)
NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,99}$"
AggOp = Literal[
    "count", "sum", "avg", "min", "max", "first", "last", "most_frequent", "unique_count",
    "unique_list",
]  # fmt: skip


_WITHIN_DAYS = {"within_days": ("within", 86400)}
"""The deprecated input name of `within`, in days."""


class ComputedTrait(Frozen):
    """A value per profile computed from its events, e.g. revenue summed over 90 days."""

    name: str = Field(pattern=NAME)
    op: AggOp
    event: EventMatch = EventMatch()
    property: str | None = Field(default=None, min_length=1)
    within: OptionalDuration = None
    """Only events this recent, in seconds (input also `30d`); None: all of them."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return renamed_durations(data, _WITHIN_DAYS)

    @model_validator(mode="after")
    def _property_when_needed(self) -> ComputedTrait:
        if self.op != "count" and not self.property:
            raise ValueError(f"property: required for op {self.op}")
        return self


class TraitCondition(Frozen):
    """A test on a profile trait (latest value by event time)."""

    kind: Literal["trait"] = "trait"
    trait: str = Field(min_length=1)
    op: Op = "eq"
    value: Any = None


class ComputedCondition(Frozen):
    """A test on a computed trait's value."""

    kind: Literal["computed"] = "computed"
    trait: str = Field(min_length=1)
    op: Op = "eq"
    value: Any = None


class Performed(Frozen):
    """Performed an event (with property filters) at least / at most N times within a window.
    `at_most: 0` means did not perform."""

    kind: Literal["performed"] = "performed"
    event: EventMatch
    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    within: OptionalDuration = None
    """Only events this recent, in seconds (input also `30d`); None: ever."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return renamed_durations(data, _WITHIN_DAYS)

    @model_validator(mode="after")
    def _bounds(self) -> Performed:
        if self.at_least is None and self.at_most is None:
            return self.model_copy(update={"at_least": 1})
        if self.at_least is not None and self.at_most is not None and self.at_most < self.at_least:
            raise ValueError("at_most: must not be below at_least")
        return self


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
    TraitCondition | ComputedCondition | Performed | AllOf | AnyOf | Not,
    Field(discriminator="kind"),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


class Audience(Frozen):
    """A named set of profiles meeting a condition, kept current as events arrive."""

    name: str = Field(pattern=NAME)
    condition: Condition


class UnifyConfig(Frozen):
    """The `unify` settings file: identity rules, computed traits and audiences."""

    identity: IdentityRules = IdentityRules()
    computed_traits: tuple[ComputedTrait, ...] = ()
    audiences: tuple[Audience, ...] = ()


def parse_spec(cls: type[T], data: Any, where: str) -> T:
    """Validate `data` as `cls`, raising SpecError that says where it is wrong."""
    if isinstance(data, str | bytes):
        try:
            data = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise SpecError(f"{where}: not YAML or JSON: {exc}") from exc
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"{where}{'.' + loc if loc else ''}: {first['msg']}") from exc


def load_config(path: Path | None) -> UnifyConfig:
    """The configuration in `path` (YAML or JSON), or the defaults when there is none."""
    if path is None:
        return UnifyConfig()
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the unify settings: {exc}") from exc
    return parse_spec(UnifyConfig, text or "{}", str(path))


def spec_json(spec: Frozen) -> str:
    """The spec as compact JSON, as stored."""
    return json.dumps(spec.model_dump(mode="json", exclude_none=True), sort_keys=True)
