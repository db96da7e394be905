"""The base classes every analysis shares: its spec, its result, and reading one from JSON.

A spec is frozen and names its `kind`; a result inherits `kind`, `as_of` and `source` from
`Result`, which the runtime sets from the plan (`touchpath.analytics.planner`), never the
analysis itself.

>>> class Hello(Spec):
...     kind: Literal["hello"] = "hello"
...     name: str
>>> parse(Hello, {"name": 1})
Traceback (most recent call last):
...
touchpath.errors.SpecError: name: Input should be a valid string
>>> try:
...     parse(Hello, {"name": 1}, where="hello")
... except SpecError as exc:
...     exc.problems
(Problem(code='string_type', path='hello.name', problem='Input should be a valid string'),)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from touchpath.errors import SpecError, problems_of
from touchpath.events.match import Frozen

__all__ = ["Result", "Source", "Spec", "parse"]

Source = Literal["log", "copy", "engine"]
"""Where an analysis read its events: the event log (`resolved_events`), the sorted journey
copy (`touchpath optimize`), or an external analytic engine."""


class Spec(Frozen):
    """Base of every analysis spec: immutable, unknown fields rejected, its `kind` named."""

    kind: str
    allow_unknown: bool = False
    """Allow event and property names the store has never seen (events that have not arrived
    yet); otherwise each is an error naming the closest known names (docs/catalogue.md)."""


class Result(Frozen):
    """Base of every analysis result: what it is, as of when, and where it was read from."""

    kind: str
    as_of: datetime | None = None
    """Set when the result was read from a journey copy that lags the log (see
    `TOUCHPATH_JOURNEY_MAX_LAG_SECONDS`): the time the copy holds the log as of; events after
    it are left out. None: the log as it is now."""
    source: Source = "log"
    """What was read: `log`, `copy` or `engine` (set by the planner)."""

    def __eq__(self, other: object) -> bool:
        """Results are equal when they say the same about the journeys: `source` (where they
        were read from) is provenance, not content, so a copy's result equals the log's."""
        if not isinstance(other, Result):
            return NotImplemented
        mine = self.model_dump(exclude={"source"})
        return type(self) is type(other) and mine == other.model_dump(exclude={"source"})

    __hash__ = None  # type: ignore[assignment]


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: M | Mapping[str, Any], where: str = "") -> M:
    """Validate `data` as `model`; every wrong field becomes one problem of a `SpecError`
    (stable code, path, problem). `where` prefixes the paths (a spec inside a bigger one)."""
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise SpecError(f"{where or 'spec'}: expected a mapping, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems=problems_of(exc.errors(), where)) from None
