"""The one exception hierarchy of Touchpath. Messages say what was wrong and where.

Every error carries its `problems`: a stable code, the path of what is wrong (`steps[2].event`,
empty for the whole input) and the problem. The REST API answers them as one JSON format, the
CLI prints them, Python code reads them:

>>> err = SpecError(problems=[Problem("too_short", "steps", "needs at least 2 steps")])
>>> str(err), err.problems[0].path
('steps: needs at least 2 steps', 'steps')
>>> NotFound("source 'web': no such source").problems[0]
Problem(code='not_found', path='', problem="source 'web': no such source")
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BadRequest",
    "Forbidden",
    "ImportFailed",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "Problem",
    "SpecError",
    "StoreUnavailable",
    "TooManyAttempts",
    "TouchpathError",
    "Unauthorized",
    "problems_of",
]

_PATH = re.compile(r"^([A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_][\w]*)*): (.+)$", re.DOTALL)
"""A message that starts with a path (`steps[2].event: ...`)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong: a stable `code`, the `path` of what is wrong (`steps[2].event`; empty:
    the whole input) and the `problem` in words."""

    code: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}" if self.path else self.problem


class TouchpathError(Exception):
    """Base class of every error Touchpath raises on purpose."""

    code = "touchpath_error"

    def __init__(self, message: str = "", *, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message or "; ".join(map(str, problems)))
        self._problems = tuple(problems)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What is wrong, one problem per path; without explicit problems, the message (whose
        leading `path: ` is taken as the path, by the convention of every message here)."""
        if self._problems:
            return self._problems
        text = str(self)
        m = _PATH.match(text)
        if m is None:
            return (Problem(self.code, "", text),)
        return (Problem(self.code, m.group(1), m.group(2)),)


class BadRequest(TouchpathError):
    """The input is malformed or over a limit; the message says what and where."""

    code = "bad_request"


class Unauthorized(TouchpathError):
    """No credential, or one that is not valid: a write key on /v1, a session or token elsewhere."""

    code = "unauthorized"


class Forbidden(TouchpathError):
    """A valid credential whose role is too low for the route, or a missing CSRF token."""

    code = "forbidden"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class PayloadTooLarge(TouchpathError):
    """A request body over its route's limit (413)."""

    code = "too_large"


class Overloaded(TouchpathError):
    """The writer queue is full; retry after `retry_after` seconds."""

    code = "overloaded"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyAttempts(Overloaded):
    """Too many failed sign-ins for an account or from an address; retry after `retry_after`."""

    code = "rate_limited"


class StoreUnavailable(TouchpathError):
    """The store cannot take writes (closed, failed, or the disk refused)."""

    code = "store_unavailable"


class NotFound(TouchpathError):
    """A named thing (source, profile, map, journey) does not exist."""

    code = "not_found"


class SpecError(TouchpathError):
    """An analysis spec, map document or journey definition is invalid."""

    code = "invalid_spec"


class ImportFailed(TouchpathError):
    """A file could not be imported at all (unreadable, unknown format, bad mapping)."""

    code = "import_failed"


def _where(loc: Sequence[int | str]) -> str:
    """`("steps", 2, "event")` -> `steps[2].event`; pydantic's union tags are left out."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union", "json-or-python")) or "[" in part:
            continue
        else:
            out += ("." if out else "") + part
    return out


def problems_of(errors: Sequence[Mapping[str, Any]], prefix: str = "") -> list[Problem]:
    """Problems from pydantic's error dicts (`ValidationError.errors()`, FastAPI's request
    errors): the error type is the code, the location the path. A model-level rule whose
    message starts with its own path (`dropped_at: 3 is past the last step`) keeps that path.

    >>> problems_of([{"type": "too_short", "loc": ("steps",), "msg": "List should have at least 2 items"}])
    [Problem(code='too_short', path='steps', problem='List should have at least 2 items')]
    >>> problems_of([{"type": "value_error", "loc": (), "msg": "Value error, order: exclusions need an ordered funnel"}])
    [Problem(code='value_error', path='order', problem='exclusions need an ordered funnel')]
    """
    out: list[Problem] = []
    for e in errors:
        text = str(e.get("msg", "")).removeprefix("Value error, ")
        where = _where(tuple(e.get("loc", ())))
        code = str(e.get("type", "invalid"))
        m = _PATH.match(text)
        # A model's own rule names its path: taken when it starts at the model's location.
        if m is not None and (not where or m.group(1).startswith((where + ".", where + "["))):
            where, text = m.group(1), m.group(2)
        if prefix:
            where = f"{prefix}.{where}" if where and not where.startswith("[") else prefix + where
        out.append(Problem(code, where, text))
    # A sequence is too short only because some of its items were wrong: say just those.
    items = {p.path.rsplit("[", 1)[0] for p in out if p.path.endswith("]") or "[" in p.path}
    return [p for p in out if not (p.code == "too_short" and p.path in items)]
