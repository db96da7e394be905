"""The journey document: a versioned YAML (or JSON) definition people write by hand and the
canvas edits.

A journey has an entry (an event, joining an audience, reaching a map touchpoint, a schedule or
an API call), exit rules, a re-entry rule, an optional goal, and nodes keyed by id. Each node
names where people go next; a node with no `next` ends the journey there.

>>> doc = load_journey('''
... name: welcome
... entry: {kind: event, event: {event: Signed Up}}
... nodes:
...   wait_1: {kind: wait, duration: 1d, next: hello}
...   hello: {kind: send, destination: email, template: welcome}
... ''')
>>> doc.first_node(), doc.nodes["wait_1"].duration
('wait_1', 86400)
>>> load_journey("name: x\\nentry: {kind: api}\\nnodes: {w: {kind: wait_for_event, event: {event: A}}}")
Traceback (most recent call last):
...
touchpath.errors.SpecError: nodes.w.timeout: required
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from touchpath.errors import SpecError
from touchpath.events.durations import Duration, OptionalDuration
from touchpath.events.match import EventMatch, Frozen
from touchpath.orchestrate.node_types import NODE_ID, NODE_KINDS, Node, NodeRef, TouchpointRef

__all__ = [
    "FORMAT_VERSION",
    "ApiEntry",
    "AudienceEntry",
    "Entry",
    "EventEntry",
    "ExitRules",
    "Goal",
    "Journey",
    "Problem",
    "ReEntry",
    "ScheduleEntry",
    "TouchpointEntry",
    "dump_journey",
    "journey_schema",
    "load_journey",
    "load_journey_file",
    "parse_journey",
    "problems_in",
    "problems_of",
    "schema_text",
]

FORMAT_VERSION = 1
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


# ------------------------------------------------------------------------------ entry, exit
class EventEntry(Frozen):
    """Enter when the person performs an event (with property conditions)."""

    kind: Literal["event"] = "event"
    event: EventMatch


class AudienceEntry(Frozen):
    """Enter on joining an audience; `existing: true` also enters its members on publish."""

    kind: Literal["audience"] = "audience"
    audience: str = Field(min_length=1)
    existing: bool = False


class TouchpointEntry(TouchpointRef):
    """Enter on reaching a touchpoint of a journey map (its event definition)."""

    kind: Literal["touchpoint"] = "touchpoint"


class ScheduleEntry(Frozen):
    """Enter an audience's members (everyone without one) at `start`, then every `every`."""

    kind: Literal["schedule"] = "schedule"
    start: datetime
    every: OptionalDuration = None
    audience: str | None = None


class ApiEntry(Frozen):
    """Enter only when called (CLI, REST or Python) for a person."""

    kind: Literal["api"] = "api"


Entry = Annotated[
    EventEntry | AudienceEntry | TouchpointEntry | ScheduleEntry | ApiEntry,
    Field(discriminator="kind"),
]


class ReEntry(Frozen):
    """May a person enter again? `never`; after a `cooldown` since they left; `always` (when not
    in it already); or once `per_key` (an entry-event property, e.g. `cart_id`)."""

    mode: Literal["never", "cooldown", "always", "per_key"] = "never"
    cooldown: OptionalDuration = None
    key: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _fields_of_mode(self) -> ReEntry:
        if self.mode == "cooldown" and self.cooldown is None:
            raise ValueError("re_entry.cooldown: required for mode cooldown")
        if self.mode == "per_key" and self.key is None:
            raise ValueError("re_entry.key: required for mode per_key")
        return self


class Goal(Frozen):
    """What the journey is for: an event (or a map touchpoint's) within `within` of entering."""

    event: EventMatch | None = None
    touchpoint: TouchpointRef | None = None
    within: Duration = 7 * 86400

    @model_validator(mode="after")
    def _one(self) -> Goal:
        if (self.event is None) == (self.touchpoint is None):
            raise ValueError("goal: give one of event or touchpoint")
        return self


class ExitRules(Frozen):
    """When people leave before the end: an event, leaving an audience, the goal, a time."""

    events: tuple[EventMatch, ...] = ()
    audience_left: tuple[str, ...] = ()
    on_goal: bool = False
    max_time: OptionalDuration = None


class Journey(Frozen):
    """A journey definition."""

    version: Literal[1] = Field(default=1, description="Format version.")
    name: str = Field(pattern=NAME)
    title: str | None = None
    description: str | None = None
    entry: Entry
    re_entry: ReEntry = ReEntry()
    exit: ExitRules = ExitRules()
    goal: Goal | None = None
    start: NodeRef | None = Field(default=None, description="The first node; the first listed.")
    nodes: dict[Annotated[str, Field(pattern=NODE_ID)], Node] = Field(min_length=1)

    @model_validator(mode="after")
    def _graph(self) -> Journey:
        problems = _graph_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        if self.start is None:  # said explicitly, so no re-ordering of the nodes changes it
            object.__setattr__(self, "start", next(iter(self.nodes)))
        return self

    @property
    def heading(self) -> str:
        return self.title or self.name

    def first_node(self) -> str:
        return self.start or next(iter(self.nodes))

    def edges(self) -> list[tuple[str, str, str]]:
        """(source, label, target) of every link between nodes."""
        return [
            (nid, label, target)
            for nid, node in self.nodes.items()
            for label, target in node.targets().items()
            if target is not None
        ]


def _graph_problems(doc: Journey) -> list[str]:
    """Links to missing nodes, cycles and nodes nothing leads to, each with its path."""
    out: list[str] = []
    if doc.start is not None and doc.start not in doc.nodes:
        out.append(f"start: no node {doc.start!r}")
    for nid, node in doc.nodes.items():
        for label, target in node.targets().items():
            if target is not None and target not in doc.nodes:
                field = label if label in type(node).model_fields else f"targets.{label}"
                out.append(f"nodes.{nid}.{field}: no node {target!r}")
    if out:
        return out
    first = doc.first_node()
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(nid: str, trail: list[str]) -> None:
        state[nid] = 1
        for target in doc.nodes[nid].targets().values():
            if target is None:
                continue
            if state.get(target) == 1:
                loop = " -> ".join([*trail[trail.index(target) :], target])
                out.append(f"nodes.{nid}: leads back to {target!r} ({loop}), journeys are acyclic")
            elif target not in state:
                visit(target, [*trail, target])
        state[nid] = 2

    visit(first, [first])
    for nid in doc.nodes:
        if nid not in state:
            out.append(f"nodes.{nid}: no node leads here (start is {first!r})")
    return out


# ------------------------------------------------------------------------------ parsing
class Problem(BaseModel):
    """One thing wrong with a document: its path, the node it is in (if any), the message."""

    path: str
    node: str | None = None
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_MESSAGES = {"missing": "required", "extra_forbidden": "unknown field"}
_TAGS = {
    *NODE_KINDS,
    "event",
    "audience",
    "touchpoint",
    "schedule",
    "api",
    "trait",
    "computed",
    "property",
    "and",
    "or",
    "not",
}


def _path(loc: tuple[int | str, ...]) -> str:
    """`nodes.wait_2.timeout` from pydantic's location, without the union tags it inserts."""
    out = ""
    parts = list(loc)
    for i, part in enumerate(parts):
        if isinstance(part, bool):
            part = str(part).lower()
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        prev = parts[i - 1] if i else None
        # A discriminated union adds its tag after the field (nodes.<id>.<kind>.field).
        is_tag = (
            part in _TAGS
            and i > 0
            and (
                (i >= 2 and parts[i - 2] == "nodes")
                or prev in ("entry", "when", "cond")
                or isinstance(prev, int)
            )
        )
        if is_tag or "[" in part or "(" in part:
            continue
        out += ("." if out else "") + part
    return out or "(document)"


def _node_of(path: str) -> str | None:
    m = re.match(r"^nodes\.([A-Za-z_][A-Za-z0-9_-]*)", path)
    return m.group(1) if m else None


def _message(e: Any) -> str:
    if e["type"] == "string_type" and isinstance(e.get("input"), bool):
        return "must be text (YAML reads yes, no, on and off as true or false: quote them)"
    if e["type"] == "union_tag_invalid":
        ctx = e.get("ctx", {})
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        return f"unknown kind {ctx.get('tag')!r} (one of {expected})"
    return re.sub(r"^Value error, ", "", _MESSAGES.get(e["type"], e["msg"]))


def _join(loc: tuple[int | str, ...], rel: str) -> str:
    """The path of a validator's message: its own path (`cooldown`, `variants[1].name`) under
    where the validator ran (`re_entry`, `nodes.split_1.variants`)."""
    base = _path(loc) if loc else ""
    if base in ("", "(document)"):
        return rel
    parent, _, last = base.rpartition(".")
    if rel.split(".")[0].split("[")[0] == last.split("[")[0]:
        return f"{parent}.{rel}" if parent else rel
    return f"{base}.{rel}"


def problems_of(exc: ValidationError) -> list[Problem]:
    """Each error of a validation as a Problem with its path and node."""
    out: list[Problem] = []
    errors = exc.errors()
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "too_short" and any(
            len(o["loc"]) > len(loc) and tuple(o["loc"][: len(loc)]) == loc for o in errors
        ):
            continue  # a tuple whose items failed also says it is too short: one is enough
        msg = _message(e)
        if loc and loc[-1] == "[key]":  # a bad key: pydantic puts its position, say the key
            key = e.get("input")
            loc, msg = (*loc[:-2], str(key).lower() if isinstance(key, bool) else str(key)), msg
        if e["type"] == "union_tag_not_found":
            loc, msg = (*loc, "kind"), "required"
        for piece in msg.split("; "):
            m = re.match(r"^([\w\[\].-]+): (.*)$", piece)
            path, text = (_join(loc, m.group(1)), m.group(2)) if m else (_path(loc), piece)
            p = Problem(path=path, node=_node_of(path), message=text)
            if p not in out:
                out.append(p)
    return out


def problems_in(error: SpecError) -> list[Problem]:
    """The problems a SpecError lists (`path: message; path: message`)."""
    out = []
    for piece in str(error).split("; "):
        m = re.match(r"^([\w\[\].-]+): (.*)$", piece)
        path, text = (m.group(1), m.group(2)) if m else ("(document)", piece)
        out.append(Problem(path=path, node=_node_of(path), message=text))
    return out


def parse_journey(data: Any) -> Journey:
    """Validate a decoded document; a SpecError lists every problem as `path: message`."""
    if not isinstance(data, dict):
        raise SpecError("(document): must be a mapping with name, entry and nodes")
    try:
        return Journey.model_validate(data)
    except ValidationError as exc:
        raise SpecError("; ".join(str(p) for p in problems_of(exc))) from None


def _yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        raise SpecError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None


def load_journey(text: str) -> Journey:
    """Parse and validate a YAML (or JSON) journey document."""
    return parse_journey(_yaml(text))


def load_journey_file(path: str | Path) -> Journey:
    """Read a journey document from a file; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{p}: cannot read: {exc.strerror}") from None
    try:
        return load_journey(text)
    except SpecError as exc:
        raise SpecError(f"{p}: {exc}") from None


def _keep_kinds(full: Any, slim: Any) -> Any:
    """`slim` (defaults left out) with every `kind` of `full` put back: it says what a node,
    an entry or a condition is."""
    if isinstance(full, dict) and isinstance(slim, dict):
        out = {"kind": full["kind"]} if "kind" in full else {}
        for k, v in slim.items():
            out[k] = _keep_kinds(full.get(k), v)
        return out
    if isinstance(full, list) and isinstance(slim, list) and len(full) == len(slim):
        return [_keep_kinds(f, s) for f, s in zip(full, slim, strict=True)]
    return slim


def dump_journey(doc: Journey) -> str:
    """The document as YAML, without empty and default fields (but with every `kind`)."""
    full = doc.model_dump(mode="json", exclude_none=True)
    slim = doc.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data = {"version": FORMAT_VERSION, **_keep_kinds(full, slim)}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def journey_schema() -> dict[str, Any]:
    """The published JSON Schema of the document (schemas/journey.schema.json)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://touchpath.dev/schemas/journey.schema.json",
        **Journey.model_json_schema(),
    }


def schema_text() -> str:
    """`journey_schema()` as the text of schemas/journey.schema.json."""
    return json.dumps(journey_schema(), indent=2, sort_keys=True) + "\n"
