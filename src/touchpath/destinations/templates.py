"""Message templates: Jinja2 in its sandbox over the person's traits, computed traits and the
triggering event.

Variables: `traits`, `computed` (computed traits), `event` (the triggering event: `event`,
`properties`, `context`, ...), `profile_id`, `message_id`, and the links `unsubscribe_url`,
`preferences_url`. A variable that is missing is an error (`StrictUndefined`): at save time the
template is rendered for a person who has nothing, so every variable it uses needs a declared
default (`defaults: {"traits.first_name": "there"}`) or a guard (`{% if traits.plan is defined %}`).
A message is rendered when it is about to leave, so it sees the person as they are then.

>>> r = Renderer()
>>> spec = TemplateSpec(channel="email", fields={"subject": "Hi {{ traits.first_name }}"},
...                     defaults={"traits.first_name": "there"})
>>> r.render(spec.fields, spec.defaults, Person(traits={"first_name": "Ada"}))
{'subject': 'Hi Ada'}
>>> r.render(spec.fields, spec.defaults, Person())
{'subject': 'Hi there'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from touchpath.destinations.protocol import CHANNELS
from touchpath.errors import BadRequest, NotFound

__all__ = [
    "FIELDS",
    "Person",
    "Renderer",
    "TemplateError",
    "TemplateSpec",
    "get_template",
    "list_templates",
    "load_people",
    "load_person",
    "put_template",
    "remove_template",
]

FIELDS = {
    "email": ("subject", "text", "html"),
    "sms": ("body",),
    "push": ("title", "body", "data"),
    "webhook": ("payload",),
}
"""The fields of a message by channel."""


class TemplateSpec(BaseModel):
    """A saved template: its channel, Jinja2 fields and the defaults of the variables it uses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str
    fields: dict[str, Any] = Field(description="Jinja2 text per field (nested for data/payload).")
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Values of variables a person may lack, by dotted path."
    )


@dataclass
class Person:
    """What a template sees of one person."""

    profile_id: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    computed: dict[str, Any] = field(default_factory=dict)


class _Node(dict[str, Any]):
    """A dict of the template's variables that knows its path, so a missing key is named in
    full (`traits.first_name is undefined`)."""

    path = ""


def _nodes(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        node = _Node({k: _nodes(v, f"{path}.{k}") for k, v in value.items()})
        node.path = path
        return node
    return value


class _Undefined(StrictUndefined):
    @property
    def _undefined_message(self) -> str:
        obj = self._undefined_obj
        if isinstance(obj, _Node):
            return f"{obj.path}.{self._undefined_name} is undefined"
        return str(super()._undefined_message)


def _set_default(ctx: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node = ctx
    for k in keys[:-1]:
        nxt = node.get(k)
        if not isinstance(nxt, dict):
            nxt = {}
            node[k] = nxt
        node = nxt
    node.setdefault(keys[-1], value)


class Renderer:
    """Renders template fields in Jinja2's sandbox (one environment per process part)."""

    def __init__(self) -> None:
        self.env = SandboxedEnvironment(undefined=_Undefined, autoescape=False)
        self._cache: dict[str, Any] = {}

    def _compile(self, text: str) -> Any:
        tpl = self._cache.get(text)
        if tpl is None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            tpl = self._cache[text] = self.env.from_string(text)
        return tpl

    def _value(self, value: Any, ctx: dict[str, Any], where: str) -> Any:
        if isinstance(value, str):
            if "{" not in value:
                return value
            try:
                return self._compile(value).render(ctx)
            except UndefinedError as exc:
                raise BadRequest(f"{where}: {exc.message}; declare a default or guard it") from None
            except TemplateError as exc:
                raise BadRequest(f"{where}: {exc}") from None
        if isinstance(value, Mapping):
            return {k: self._value(v, ctx, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(v, ctx, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    def context(
        self,
        person: Person,
        defaults: Mapping[str, Any],
        event: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            "traits": dict(person.traits),
            "computed": dict(person.computed),
            "event": dict(event or {}),
            "profile_id": person.profile_id,
            "message_id": "msg_preview",
            "unsubscribe_url": "https://example.invalid/unsubscribe",
            "preferences_url": "https://example.invalid/preferences",
            **(extra or {}),
        }
        for path, value in defaults.items():
            _set_default(ctx, path, value)
        for key in ("traits", "computed", "event"):
            ctx[key] = _nodes(ctx[key], key)
        return ctx

    def render(
        self,
        fields: Mapping[str, Any],
        defaults: Mapping[str, Any],
        person: Person,
        event: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Every field rendered; a missing variable raises BadRequest naming the field."""
        ctx = self.context(person, defaults, event, extra)
        return {k: self._value(v, ctx, f"fields.{k}") for k, v in fields.items()}


def _check(spec: TemplateSpec, renderer: Renderer) -> None:
    if spec.channel not in CHANNELS:
        raise BadRequest(f"channel: one of {', '.join(CHANNELS)}, not {spec.channel!r}")
    allowed = FIELDS[spec.channel]
    for name in spec.fields:
        if name not in allowed:
            raise BadRequest(f"fields.{name}: not a field of {spec.channel} ({', '.join(allowed)})")
    if not spec.fields:
        raise BadRequest("fields: at least one is required")
    for path in spec.defaults:
        if path.split(".")[0] not in ("traits", "computed", "event"):
            raise BadRequest(f"defaults.{path}: must start with traits., computed. or event.")
    # A person who has nothing: every variable used needs a default or a guard.
    renderer.render(spec.fields, spec.defaults, Person(profile_id="p_check"))


def put_template(
    con: duckdb.DuckDBPyConnection, name: str, spec: TemplateSpec, now: datetime
) -> TemplateSpec:
    """Check and save a template (a missing variable without a default fails here)."""
    if not name or len(name) > 100:
        raise BadRequest(f"template name {name!r}: 1-100 characters")
    _check(spec, Renderer())
    created = con.execute(
        "SELECT created_at FROM message_templates WHERE name = ?", [name]
    ).fetchall()
    con.execute(
        "INSERT OR REPLACE INTO message_templates VALUES (?, ?, ?, ?, ?, ?)",
        [
            name,
            spec.channel,
            json.dumps(spec.fields),
            json.dumps(spec.defaults),
            created[0][0] if created else now,
            now,
        ],
    )
    return spec


def get_template(con: duckdb.DuckDBPyConnection, name: str) -> TemplateSpec:
    rows = con.execute(
        "SELECT channel, fields, defaults FROM message_templates WHERE name = ?", [name]
    ).fetchall()
    if not rows:
        raise NotFound(f"template {name!r}: no such template")
    ch, fields, defaults = rows[0]
    return TemplateSpec(channel=ch, fields=json.loads(fields), defaults=json.loads(defaults))


def list_templates(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT name, channel, fields, defaults, created_at, updated_at FROM message_templates "
        "ORDER BY name"
    ).fetchall()
    return [
        {
            "name": n,
            "channel": ch,
            "fields": json.loads(f),
            "defaults": json.loads(d),
            "created_at": c,
            "updated_at": u,
        }
        for n, ch, f, d, c, u in rows
    ]


def remove_template(con: duckdb.DuckDBPyConnection, name: str) -> None:
    if not con.execute(
        "DELETE FROM message_templates WHERE name = ? RETURNING name", [name]
    ).fetchall():
        raise NotFound(f"template {name!r}: no such template")


def load_person(con: duckdb.DuckDBPyConnection, profile_id: str | None) -> Person:
    """A person's traits and computed traits, for rendering."""
    if not profile_id:
        return Person()
    traits = {
        n: json.loads(v) if v is not None else None
        for n, v in con.execute(
            "SELECT name, value FROM profile_traits WHERE profile_id = ?", [profile_id]
        ).fetchall()
    }
    computed = {
        n: json.loads(v) if v is not None else None
        for n, v in con.execute(
            "SELECT name, value FROM computed_trait_values WHERE profile_id = ?", [profile_id]
        ).fetchall()
    }
    return Person(profile_id=profile_id, traits=traits, computed=computed)


def load_people(con: duckdb.DuckDBPyConnection, profile_ids: list[str]) -> dict[str, Person]:
    """`load_person` for many people at once (the dispatcher's batch)."""
    pids = sorted({p for p in profile_ids if p})
    people = {p: Person(profile_id=p) for p in pids}
    if not pids:
        return people
    for table, attr in (("profile_traits", "traits"), ("computed_trait_values", "computed")):
        for p, n, v in con.execute(
            f"SELECT profile_id, name, value FROM {table} "
            "WHERE profile_id IN (SELECT unnest(?::VARCHAR[]))",
            [pids],
        ).fetchall():
            getattr(people[p], attr)[n] = json.loads(v) if v is not None else None
    return people
