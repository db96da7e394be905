"""The destinations commands' calls, on the store opened here or through the server holding it
(`/api/destinations`): the same names and answers either way, so every command prints the same.

`Local(store)` calls `touchpath.destinations.api` with the store; `Remote` calls the REST API.
Answers that are rows (messages, dead letters, templates, the outbox summary) come back as JSON
values both ways, with times in ISO 8601 as the API writes them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from touchpath.cli.remote import Remote, jsonable
from touchpath.destinations import api as dapi
from touchpath.destinations.config import DestinationOut
from touchpath.destinations.forwarding import Rule
from touchpath.destinations.policy import SendPolicy
from touchpath.destinations.subscriptions import Group
from touchpath.destinations.templates import TemplateSpec
from touchpath.store import Store

__all__ = ["Local", "Remotely"]


class Local:
    """The calls on a store opened here."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def destinations(self) -> list[DestinationOut]:
        return dapi.destinations(self.store)

    def destination(self, name: str) -> DestinationOut:
        return dapi.destination(self.store, name)

    def put_destination(self, name: str, spec: Any) -> DestinationOut:
        return dapi.put_destination(self.store, name, spec)

    def remove_destination(self, name: str) -> None:
        dapi.remove_destination(self.store, name)

    def set_enabled(self, name: str, enabled: bool) -> DestinationOut:
        return dapi.set_enabled(self.store, name, enabled)

    def rotate_secret(self, name: str, overlap_hours: float) -> DestinationOut:
        return dapi.rotate_secret(self.store, name, overlap_hours)

    def messages(self, **filters: Any) -> list[dict[str, Any]]:
        return list(jsonable(dapi.messages(self.store, **filters)))

    def message(self, ref: str) -> dict[str, Any]:
        return dict(jsonable(dapi.message(self.store, ref)))

    def dead_letters(self, destination: str | None) -> list[dict[str, Any]]:
        return list(jsonable(dapi.dead_letters(self.store, destination)))

    def replay(self, ids: list[str] | None, destination: str | None) -> int:
        return dapi.replay(self.store, ids, destination)

    def summary(self) -> list[dict[str, Any]]:
        return list(jsonable(dapi.summary(self.store)))

    def record_bounces(self, raw: bytes) -> list[dict[str, Any]]:
        return list(jsonable(dapi.record_bounces(self.store, raw)))

    def subscriptions_of(self, profile: str) -> dict[str, Any]:
        return dict(jsonable(dapi.subscriptions_of(self.store, profile)))

    def set_subscription(self, profile: str, channel: str, topic: str, on: bool) -> dict[str, Any]:
        return dict(jsonable(dapi.set_subscription(self.store, profile, channel, topic, on)))

    def get_policy(self) -> SendPolicy:
        return dapi.get_policy(self.store)

    def put_policy(self, spec: Any) -> SendPolicy:
        return dapi.put_policy(self.store, spec)

    def template_list(self) -> list[dict[str, Any]]:
        return list(jsonable(dapi.template_list(self.store)))

    def template(self, name: str) -> TemplateSpec:
        return dapi.template(self.store, name)

    def put_template(self, name: str, spec: Any) -> TemplateSpec:
        return dapi.put_template(self.store, name, spec)

    def remove_template(self, name: str) -> None:
        dapi.remove_template(self.store, name)

    def preview(self, name: str, profile: str | None) -> dict[str, Any]:
        return dict(jsonable(dapi.preview(self.store, name, profile)))

    def groups(self) -> list[Group]:
        return dapi.groups(self.store)

    def put_group(self, group: dict[str, Any]) -> Group:
        return dapi.put_group(self.store, group)

    def remove_group(self, topic: str) -> None:
        dapi.remove_group(self.store, topic)

    def forwarding_rules(self) -> dict[str, Rule]:
        return dapi.forwarding_rules(self.store)

    def put_forwarding(self, name: str, spec: Any) -> Rule:
        return dapi.put_forwarding(self.store, name, spec)

    def remove_forwarding(self, name: str) -> None:
        dapi.remove_forwarding(self.store, name)


def _at(*parts: str) -> str:
    return "/api/destinations" + "".join("/" + quote(p, safe="") for p in parts)


class Remotely:
    """The same calls through the server that holds the store."""

    def __init__(self, remote: Remote) -> None:
        self.call = remote.call

    def destinations(self) -> list[DestinationOut]:
        return [DestinationOut.model_validate(d) for d in self.call("GET", _at())]

    def destination(self, name: str) -> DestinationOut:
        return DestinationOut.model_validate(self.call("GET", _at(name)))

    def put_destination(self, name: str, spec: Any) -> DestinationOut:
        return DestinationOut.model_validate(self.call("PUT", _at(name), json=spec))

    def remove_destination(self, name: str) -> None:
        self.call("DELETE", _at(name))

    def set_enabled(self, name: str, enabled: bool) -> DestinationOut:
        verb = "enable" if enabled else "disable"
        return DestinationOut.model_validate(self.call("POST", _at(name, verb)))

    def rotate_secret(self, name: str, overlap_hours: float) -> DestinationOut:
        body = {"overlap_hours": overlap_hours}
        return DestinationOut.model_validate(
            self.call("POST", _at(name, "rotate-secret"), json=body)
        )

    def messages(self, **filters: Any) -> list[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        return list(self.call("GET", _at("messages"), params=params))

    def message(self, ref: str) -> dict[str, Any]:
        return dict(self.call("GET", _at("messages", ref)))

    def dead_letters(self, destination: str | None) -> list[dict[str, Any]]:
        params = {} if destination is None else {"destination": destination}
        return list(self.call("GET", _at("dead-letters"), params=params))

    def replay(self, ids: list[str] | None, destination: str | None) -> int:
        body = {"ids": ids, "destination": destination}
        return int(self.call("POST", _at("dead-letters", "replay"), json=body)["replayed"])

    def summary(self) -> list[dict[str, Any]]:
        return list(self.call("GET", _at("summary")))

    def record_bounces(self, raw: bytes) -> list[dict[str, Any]]:
        return list(self.call("POST", _at("bounces"), content=raw))

    def subscriptions_of(self, profile: str) -> dict[str, Any]:
        return dict(self.call("GET", _at("subscriptions", profile)))

    def set_subscription(self, profile: str, channel: str, topic: str, on: bool) -> dict[str, Any]:
        body = {"channel": channel, "topic": topic, "subscribed": on}
        return dict(self.call("PUT", _at("subscriptions", profile), json=body))

    def get_policy(self) -> SendPolicy:
        return SendPolicy.model_validate(self.call("GET", _at("policy")))

    def put_policy(self, spec: Any) -> SendPolicy:
        return SendPolicy.model_validate(self.call("PUT", _at("policy"), json=spec))

    def template_list(self) -> list[dict[str, Any]]:
        return list(self.call("GET", _at("templates")))

    def template(self, name: str) -> TemplateSpec:
        return TemplateSpec.model_validate(self.call("GET", _at("templates", name)))

    def put_template(self, name: str, spec: Any) -> TemplateSpec:
        return TemplateSpec.model_validate(self.call("PUT", _at("templates", name), json=spec))

    def remove_template(self, name: str) -> None:
        self.call("DELETE", _at("templates", name))

    def preview(self, name: str, profile: str | None) -> dict[str, Any]:
        body = {"profile": profile}
        return dict(self.call("POST", _at("templates", name, "preview"), json=body))

    def groups(self) -> list[Group]:
        return [Group.model_validate(g) for g in self.call("GET", _at("groups"))]

    def put_group(self, group: dict[str, Any]) -> Group:
        return Group.model_validate(self.call("PUT", _at("groups", group["topic"]), json=group))

    def remove_group(self, topic: str) -> None:
        self.call("DELETE", _at("groups", topic))

    def forwarding_rules(self) -> dict[str, Rule]:
        found = self.call("GET", _at("forwarding"))
        return {n: Rule.model_validate(r) for n, r in found.items()}

    def put_forwarding(self, name: str, spec: Any) -> Rule:
        return Rule.model_validate(self.call("PUT", _at("forwarding", name), json=spec))

    def remove_forwarding(self, name: str) -> None:
        self.call("DELETE", _at("forwarding", name))
