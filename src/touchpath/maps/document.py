"""The journey map document: a versioned YAML file people write by hand and the UI edits.

A map has a type, a persona (optionally tied to an audience), a goal event and ordered stages;
each stage holds touchpoints, and each touchpoint is bound to an event definition and may carry
what people wrote about it: actions, thoughts, an emotion, pain points, opportunities and, in a
blueprint, the lanes behind the front stage.

>>> doc = load_map('''
... name: first-purchase
... stages:
...   - name: decision
...     touchpoints:
...       - name: Checkout
...         match: {event: Checkout Started, channel: web}
... ''')
>>> doc.stages[0].touchpoints[0].match.sql()
"event = 'Checkout Started' AND channel IN ('web')"
>>> load_map("name: x\\nstages: [{name: s, touchpoints: [{name: t, match: {}}]}]")
Traceback (most recent call last):
...
touchpath.errors.SpecError: stages[0].touchpoints[0].match.event: required
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from touchpath.errors import SpecError
from touchpath.events.durations import Duration, renamed_durations
from touchpath.events.match import EventMatch, Frozen

__all__ = [
    "DEFAULT_STAGES",
    "FORMAT_VERSION",
    "EventDef",
    "JourneyMap",
    "Lanes",
    "MapType",
    "Persona",
    "Stage",
    "Touchpoint",
    "dump_map",
    "load_map",
    "load_map_file",
    "map_schema",
    "spec_error",
]

FORMAT_VERSION = 1
DEFAULT_STAGES = ("awareness", "consideration", "decision", "experience", "retention", "advocacy")

MapType = Literal["current_state", "future_state", "day_in_the_life", "blueprint"]


class EventDef(EventMatch):
    """The event a touchpoint or goal stands for: a name, optional channel and conditions."""

    event: str = Field(min_length=1)


class Lanes(Frozen):
    """Service blueprint lanes behind one touchpoint."""

    frontstage: list[str] = Field(default_factory=list)
    backstage: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    process: list[str] = Field(default_factory=list)
    technology: list[str] = Field(default_factory=list)


class Touchpoint(Frozen):
    """One moment of contact, bound to an event definition, with what people wrote about it."""

    name: str = Field(min_length=1)
    match: EventDef
    description: str | None = None
    actions: list[str] = Field(default_factory=list)
    thoughts: list[str] = Field(default_factory=list)
    emotion: int | None = Field(
        default=None, ge=-2, le=2, description="Expected emotion, -2 (very bad) to 2 (very good)."
    )
    pain_points: list[str] = Field(default_factory=list)
    opportunities: list[str] = Field(default_factory=list)
    lanes: Lanes | None = None


class Stage(Frozen):
    """One column of the map."""

    name: str = Field(min_length=1, description="Identifier, e.g. `consideration`.")
    label: str | None = Field(default=None, description="Shown title; the name when empty.")
    description: str | None = None
    touchpoints: list[Touchpoint] = Field(default_factory=list)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class Persona(Frozen):
    """Whom the map is about; `audience` names the audience that defines whom it covers."""

    name: str = Field(min_length=1)
    description: str | None = None
    audience: str | None = Field(
        default=None, description="Audience whose members the persona covers; everyone if empty."
    )
    goals: list[str] = Field(default_factory=list)


def _default_stages() -> list[Stage]:
    return [Stage(name=s) for s in DEFAULT_STAGES]


class JourneyMap(Frozen):
    """A journey map document."""

    version: Literal[1] = Field(default=1, description="Format version.")
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str | None = None
    description: str | None = None
    type: MapType = "current_state"
    persona: Persona = Persona(name="Everyone")
    goal: EventDef | None = None
    window: Duration = Field(
        default=30 * 86400,
        le=3650 * 86400,
        description="How long after a step the next one may follow, in seconds (input also "
        "`30d`; the old `window_days` is read as days).",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return renamed_durations(data, {"window_days": ("window", 86400)})

    stages: list[Stage] = Field(default_factory=_default_stages, min_length=1)

    @field_validator("stages")
    @classmethod
    def _unique_stages(cls, stages: list[Stage]) -> list[Stage]:
        seen: set[str] = set()
        for i, stage in enumerate(stages):
            if stage.name in seen:
                raise ValueError(f"stages[{i}].name: duplicate stage {stage.name!r}")
            seen.add(stage.name)
        return stages

    @model_validator(mode="after")
    def _unique_touchpoints(self) -> JourneyMap:
        seen: dict[str, str] = {}
        for i, stage in enumerate(self.stages):
            for j, tp in enumerate(stage.touchpoints):
                if tp.name in seen:
                    raise ValueError(
                        f"stages[{i}].touchpoints[{j}].name: duplicate touchpoint {tp.name!r} "
                        f"(also in stage {seen[tp.name]!r})"
                    )
                seen[tp.name] = stage.name
        return self

    @property
    def heading(self) -> str:
        return self.title or self.name

    def touchpoints(self) -> list[tuple[Stage, Touchpoint]]:
        """Every touchpoint with its stage, in map order."""
        return [(s, t) for s in self.stages for t in s.touchpoints]


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
}


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "int") or "[" in part or "(" in part:
            continue  # a union member's tag, not a field
        else:
            out += ("." if out else "") + part
    return out or "(document)"


def spec_error(exc: ValidationError) -> SpecError:
    """A SpecError that lists each problem as `path: problem`."""
    problems = []
    for e in exc.errors():
        msg = _MESSAGES.get(e["type"], e["msg"])
        msg = re.sub(r"^Value error, ", "", msg)
        if re.match(r"^[\w\[\].]+: ", msg):  # the validator already named the path
            problems.append(msg)
        else:
            problems.append(f"{_path(tuple(e['loc']))}: {msg}")
    seen: list[str] = []
    for p in problems:
        if p not in seen:
            seen.append(p)
    return SpecError("; ".join(seen))


def parse_map(data: Any) -> JourneyMap:
    """Validate a decoded document."""
    if not isinstance(data, dict):
        raise SpecError("(document): must be a mapping with name, stages, ...")
    try:
        return JourneyMap.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc) from None


def load_map(text: str) -> JourneyMap:
    """Parse and validate a YAML (or JSON) map document."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        raise SpecError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_map(data)


def load_map_file(path: str | Path) -> JourneyMap:
    """Read a map document from a file; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{p}: cannot read: {exc.strerror}") from None
    try:
        return load_map(text)
    except SpecError as exc:
        raise SpecError(f"{p}: {exc}") from None


def dump_map(doc: JourneyMap) -> str:
    """The document as YAML, leaving out empty and default fields so it stays easy to edit."""
    data = doc.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data = {"version": FORMAT_VERSION, **data}
    if "stages" not in data:
        data["stages"] = [{"name": s.name} for s in doc.stages]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def map_schema() -> dict[str, Any]:
    """The published JSON Schema of the document."""
    schema = JourneyMap.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://touchpath.dev/schemas/journey-map.schema.json",
        **schema,
    }


def schema_text() -> str:
    """`map_schema()` as the text of schemas/journey-map.schema.json."""
    return json.dumps(map_schema(), indent=2, sort_keys=True) + "\n"
