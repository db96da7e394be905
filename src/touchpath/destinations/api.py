"""The Python API of destinations: what the CLI and the REST API call, on a `Store`.

>>> from touchpath.store import Store
>>> import tempfile, os
>>> with Store(os.path.join(tempfile.mkdtemp(), "t.duckdb")) as store:
...     out = put_destination(store, "hooks", {"config": {"kind": "webhook",
...                           "url": "https://hooks.example.com/touchpath"}})
...     [d.name for d in destinations(store)], out.new_secret.startswith("whsec_")
(['hooks'], True)
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import duckdb
from pydantic import ValidationError

from touchpath.clock import utcnow
from touchpath.destinations import config as cfg
from touchpath.destinations import forwarding, outbox, policy, subscriptions, templates
from touchpath.destinations.outbox import OutboxMessage, enqueue, message_id
from touchpath.destinations.vault import Vault
from touchpath.errors import BadRequest
from touchpath.profiles.lookup import find_profile
from touchpath.store import Store

__all__ = [
    "dead_letters",
    "destination",
    "destinations",
    "forwarding_rules",
    "get_policy",
    "groups",
    "message",
    "messages",
    "preview",
    "put_destination",
    "put_forwarding",
    "put_group",
    "put_policy",
    "put_template",
    "remove_destination",
    "remove_forwarding",
    "remove_group",
    "remove_template",
    "replay",
    "rotate_secret",
    "set_enabled",
    "set_subscription",
    "subscriptions_of",
    "summary",
    "template",
    "template_list",
    "test_send",
    "vault",
]


def vault(store: Store) -> Vault:
    """The store's vault (its key from settings or the key file)."""
    return Vault.open(store.settings)


def _parse(model: Any, value: Any, what: str) -> Any:
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p not in cfg.KINDS)  # not the tag
        raise BadRequest(
            f"{what}: {where}: {first['msg']}" if where else f"{what}: {first['msg']}"
        ) from None


def put_destination(
    store: Store, name: str, spec: cfg.DestinationIn | dict[str, Any]
) -> cfg.DestinationOut:
    """Create or replace destination `name` (a webhook gets a signing secret, shown once)."""
    parsed = _parse(cfg.DestinationIn, spec, f"destination {name!r}")
    v = vault(store)
    return store.write_sync(lambda con: cfg.put_destination(con, v, name, parsed, utcnow()))


def destinations(store: Store) -> list[cfg.DestinationOut]:
    v = vault(store)
    with store.reading() as con:
        return cfg.list_destinations(con, v)


def destination(store: Store, name: str) -> cfg.DestinationOut:
    v = vault(store)
    with store.reading() as con:
        return cfg.get_destination(con, v, name)


def remove_destination(store: Store, name: str) -> None:
    store.write_sync(lambda con: cfg.remove_destination(con, name))


def set_enabled(store: Store, name: str, enabled: bool) -> cfg.DestinationOut:
    store.write_sync(lambda con: cfg.set_enabled(con, name, enabled, "turned off", utcnow()))
    return destination(store, name)


def rotate_secret(
    store: Store, name: str, overlap_hours: float = 24.0, secret: str | None = None
) -> cfg.DestinationOut:
    """A new signing secret for webhook `name`; the old one signs too for `overlap_hours`."""
    if overlap_hours < 0:
        raise BadRequest("overlap_hours: must be >= 0")
    v = vault(store)
    overlap = timedelta(hours=overlap_hours)
    return store.write_sync(lambda con: cfg.rotate_secret(con, v, name, utcnow(), overlap, secret))


def test_send(
    store: Store,
    name: str,
    *,
    profile: str | None = None,
    recipient: str | None = None,
    content: dict[str, Any] | None = None,
    template_name: str | None = None,
    wait: float = 15.0,
) -> dict[str, Any]:
    """Send one test message through the outbox and wait (up to `wait` s) for its outcome."""
    with store.reading() as con:
        out = cfg.get_destination(con, None, name)
    pid = find_profile(store, profile) if profile else None
    if content is None and template_name is None:
        content = _test_content(out.channel)
    key = f"test:{name}:{uuid.uuid4().hex}"
    msg = OutboxMessage(
        idempotency_key=key,
        destination=name,
        channel=out.channel,
        profile_id=pid,
        recipient=recipient,
        template=template_name,
        content=content,
        purpose="message" if pid else "forward",
    )
    store.write_sync(lambda con: enqueue(con, [msg]))
    deadline = time.monotonic() + wait
    row = message(store, key)
    while row["state"] in ("pending", "sending") and time.monotonic() < deadline:
        time.sleep(0.1)
        row = message(store, key)
    return row


def _test_content(channel: str) -> dict[str, Any]:
    samples: dict[str, dict[str, Any]] = {
        "email": {"subject": "Touchpath test", "text": "A test message from Touchpath."},
        "sms": {"body": "A test message from Touchpath."},
        "push": {"title": "Touchpath", "body": "A test message."},
        "webhook": {"payload": {"type": "touchpath.test", "sent_at": utcnow().isoformat()}},
    }
    return samples[channel]


def messages(store: Store, **filters: Any) -> list[dict[str, Any]]:
    with store.reading() as con:
        return outbox.list_messages(con, **filters)


def message(store: Store, ref: str) -> dict[str, Any]:
    with store.reading() as con:
        return outbox.get_message(con, ref)


def dead_letters(
    store: Store, destination: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    return messages(store, state="dead", destination=destination, limit=limit)


def replay(store: Store, ids: list[str] | None = None, destination: str | None = None) -> int:
    now = utcnow()
    return store.write_sync(lambda con: outbox.replay(con, now, ids, destination))


def record_bounces(store: Store, raw: bytes) -> list[dict[str, Any]]:
    """Record a DSN (`touchpath.destinations.bounces`): one entry per recipient it reports."""
    from touchpath.destinations.bounces import record_bounces as record

    return record(store, raw)


def summary(store: Store) -> list[dict[str, Any]]:
    """Messages by destination and state."""
    return store.query_dicts(
        "SELECT destination, state, count(*) AS messages FROM outbox GROUP BY ALL "
        "ORDER BY destination, state"
    )


def get_policy(store: Store) -> policy.SendPolicy:
    with store.reading() as con:
        return policy.get_policy(con)


def put_policy(store: Store, value: policy.SendPolicy | dict[str, Any]) -> policy.SendPolicy:
    parsed = _parse(policy.SendPolicy, value, "policy")
    return store.write_sync(lambda con: policy.put_policy(con, parsed, utcnow()))


def template_list(store: Store) -> list[dict[str, Any]]:
    with store.reading() as con:
        return templates.list_templates(con)


def template(store: Store, name: str) -> templates.TemplateSpec:
    with store.reading() as con:
        return templates.get_template(con, name)


def put_template(
    store: Store, name: str, spec: templates.TemplateSpec | dict[str, Any]
) -> templates.TemplateSpec:
    parsed = _parse(templates.TemplateSpec, spec, f"template {name!r}")
    return store.write_sync(lambda con: templates.put_template(con, name, parsed, utcnow()))


def remove_template(store: Store, name: str) -> None:
    store.write_sync(lambda con: templates.remove_template(con, name))


def preview(
    store: Store,
    spec: templates.TemplateSpec | dict[str, Any] | str,
    profile: str | None = None,
    event: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A template (saved, by name, or given) rendered for a real person (by id or identifier)."""
    if isinstance(spec, str):
        parsed = template(store, spec)
    else:
        parsed = _parse(templates.TemplateSpec, spec, "template")
    pid = find_profile(store, profile) if profile else None
    with store.reading() as con:
        person = templates.load_person(con, pid)
    fields = templates.Renderer().render(
        parsed.fields, parsed.defaults, person, event, {"message_id": message_id("preview")}
    )
    return {"profile_id": pid, "channel": parsed.channel, "fields": fields}


def forwarding_rules(store: Store) -> dict[str, forwarding.Rule]:
    with store.reading() as con:
        return forwarding.list_rules(con)


def put_forwarding(
    store: Store, name: str, rule: forwarding.Rule | dict[str, Any]
) -> forwarding.Rule:
    """Create or replace a forwarding rule; it forwards events committed from now on."""
    parsed = _parse(forwarding.Rule, rule, f"forwarding rule {name!r}")
    return store.write_sync(lambda con: forwarding.put_rule(con, name, parsed, utcnow()))


def remove_forwarding(store: Store, name: str) -> None:
    store.write_sync(lambda con: forwarding.remove_rule(con, name))


def groups(store: Store) -> list[subscriptions.Group]:
    with store.reading() as con:
        return subscriptions.list_groups(con)


def put_group(store: Store, group: subscriptions.Group | dict[str, Any]) -> subscriptions.Group:
    parsed = _parse(subscriptions.Group, group, "group")
    return store.write_sync(lambda con: subscriptions.put_group(con, parsed, utcnow()))


def remove_group(store: Store, topic: str) -> None:
    store.write_sync(lambda con: subscriptions.remove_group(con, topic))


def subscriptions_of(store: Store, profile: str) -> dict[str, Any]:
    pid = find_profile(store, profile)
    with store.reading() as con:
        return {"profile_id": pid, "subscriptions": subscriptions.person_subscriptions(con, pid)}


def set_subscription(
    store: Store, profile: str, channel: str, topic: str, subscribed: bool
) -> dict[str, Any]:
    pid = find_profile(store, profile)

    def run(con: duckdb.DuckDBPyConnection) -> None:
        subscriptions.set_subscription(con, pid, channel, topic, subscribed, utcnow(), "api")

    store.write_sync(run)
    return subscriptions_of(store, pid)
