"""Turn claimed outbox rows into `Outgoing` messages: render the template and inline content over
the person as they are now, find the recipient in their traits, and add what a channel needs
(email: the tracking pixel, tracked links, List-Unsubscribe with one-click POST).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from touchpath.clock import utcnow
from touchpath.destinations.protocol import Outgoing
from touchpath.destinations.templates import (
    Person,
    Renderer,
    TemplateSpec,
    get_template,
    load_people,
)
from touchpath.destinations.tracking import Tokens, rewrite_links
from touchpath.errors import TouchpathError

__all__ = ["RECIPIENT_TRAITS", "Links", "prepare"]

RECIPIENT_TRAITS = {"email": "email", "sms": "phone", "push": "push_token"}
"""The trait a message's recipient comes from when the outbox row names none."""


@dataclass(frozen=True)
class Links:
    """Makes the public links of a message (`/v1/m/...` on the public URL)."""

    tokens: Tokens
    public_url: str

    def open_pixel(self, msg_id: str) -> str:
        return f"{self.public_url}/v1/m/open/{self.tokens.make('o', msg_id)}"

    def click(self, msg_id: str, url: str) -> str:
        return f"{self.public_url}/v1/m/click/{self.tokens.make('c', msg_id, url)}"

    def unsubscribe(self, msg_id: str) -> str:
        return f"{self.public_url}/v1/m/unsubscribe/{self.tokens.make('u', msg_id)}"


def _recipient(row: dict[str, Any], person: Person) -> str | None:
    if row.get("recipient"):
        return str(row["recipient"])
    trait = RECIPIENT_TRAITS.get(row["channel"])
    if trait is None:
        return None
    value = person.traits.get(trait)
    return str(value) if value else None


def _email_extras(
    msg_id: str, fields: dict[str, Any], links: Links
) -> tuple[dict[str, Any], dict[str, str]]:
    unsubscribe = links.unsubscribe(msg_id)
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    html = fields.get("html")
    if isinstance(html, str) and html:
        html = rewrite_links(html, lambda url: links.click(msg_id, url))
        pixel = f'<img src="{links.open_pixel(msg_id)}" width="1" height="1" alt="">'
        html = html.replace("</body>", pixel + "</body>") if "</body>" in html else html + pixel
        fields = {**fields, "html": html}
    return fields, headers


def prepare(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[dict[str, Any]],
    renderer: Renderer,
    links: Links,
) -> list[Outgoing | str]:
    """For each row its `Outgoing`, or the reason it cannot be sent (a template error, no
    recipient): such a message fails without an attempt."""
    people = load_people(con, [r["profile_id"] for r in rows if r.get("profile_id")])
    templates: dict[str, TemplateSpec | str] = {}
    batches = _forwarded(con, rows)
    out: list[Outgoing | str] = []
    for row in rows:
        try:
            out.append(_one(con, row, people, templates, renderer, links, batches))
        except TouchpathError as exc:
            out.append(str(exc))
    return out


def _forwarded(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The JSON of every forwarded batch among `rows` (by message id), built from the log now,
    off the writer, with one query per rule condition (`forwarding.build_batches`)."""
    specs: dict[str, dict[str, Any]] = {}
    for row in rows:
        content = row.get("content")
        if row.get("template") or not isinstance(content, str) or "forward_range" not in content:
            continue
        spec = json.loads(content).get("forward_range")
        if isinstance(spec, dict):
            specs[row["id"]] = spec
    if not specs:
        return {}
    from touchpath.destinations.forwarding import build_batches

    built = build_batches(con, list(specs.values()), utcnow())
    return dict(zip(specs, built, strict=True))


def _one(
    con: duckdb.DuckDBPyConnection,
    row: dict[str, Any],
    people: dict[str, Person],
    templates: dict[str, TemplateSpec | str],
    renderer: Renderer,
    links: Links,
    batches: dict[str, str] | None = None,
) -> Outgoing | str:
    pid = row.get("profile_id")
    person = people.get(pid or "", Person(profile_id=pid))
    msg_id = row["id"]
    content = row.get("content")
    inline = json.loads(content) if isinstance(content, str) else (content or {})
    fields: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    name = row.get("template")
    if name:
        if name not in templates:
            try:
                templates[name] = get_template(con, name)
            except TouchpathError as exc:
                templates[name] = str(exc)
        spec = templates[name]
        if isinstance(spec, str):
            return spec
        fields, defaults = dict(spec.fields), dict(spec.defaults)
    fields.update(inline)
    forward_range = fields.pop("forward_range", None)
    if isinstance(forward_range, dict):  # a forwarded batch: built from the log now, off the writer
        from touchpath.destinations.forwarding import build_batch

        built = (batches or {}).get(msg_id)
        fields["payload_json"] = (
            built if built is not None else build_batch(con, forward_range, utcnow())
        )
    if row.get("render", True):
        ctx = row.get("context")
        event = json.loads(ctx) if isinstance(ctx, str) else (ctx or {})
        extra = {"message_id": msg_id, "unsubscribe_url": links.unsubscribe(msg_id)}
        try:
            fields = renderer.render(fields, defaults, person, event, extra)
        except TouchpathError as exc:
            where = f"template {name!r}" if name else "content"
            return f"{where}: {exc}"
    recipient = _recipient(row, person)
    channel = row["channel"]
    if recipient is None and channel != "webhook":
        trait = RECIPIENT_TRAITS.get(channel)
        return f"no recipient: the message names none and the person has no {trait!r} trait"
    headers: dict[str, str] = {}
    if channel == "email":
        fields, headers = _email_extras(msg_id, fields, links)
    elif channel == "push":  # the app may post it back to /v1/m/callbacks/push
        headers = {"receipt": links.tokens.make("o", msg_id)}
    return Outgoing(
        id=msg_id,
        idempotency_key=row["idempotency_key"],
        destination=row["destination"],
        channel=channel,
        recipient=recipient,
        content=fields,
        profile_id=pid,
        journey=row.get("journey"),
        journey_version=row.get("journey_version"),
        node=row.get("node"),
        entry_key=row.get("entry_key"),
        attempt=int(row.get("attempts", 0)) + 1,
        headers=headers,
    )
