"""`touchpath destinations ...`: destinations, the outbox and its dead letters, the send policy,
templates, subscription groups and people's subscriptions (docs/destinations.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
import yaml

from touchpath.cli.base import DbOpt, JsonOpt, app, console, opened, print_rows, settings_for
from touchpath.cli.destinations_remote import Local, Remotely
from touchpath.cli.remote import Remote, jsonable, remote_for, session
from touchpath.destinations import api as dapi
from touchpath.errors import BadRequest
from touchpath.system import Touchpath

dest_app = typer.Typer(
    help="Destinations: webhooks, email, SMS, push; the outbox, policy and templates.",
    no_args_is_help=True,
)
templates_app = typer.Typer(help="Message templates (Jinja2, sandboxed).", no_args_is_help=True)
groups_app = typer.Typer(help="Subscription groups.", no_args_is_help=True)
policy_app = typer.Typer(help="The send policy: caps, quiet hours.", no_args_is_help=True)
forwarding_app = typer.Typer(help="Event forwarding and audience sync.", no_args_is_help=True)
app.add_typer(dest_app, name="destinations")
dest_app.add_typer(templates_app, name="templates")
dest_app.add_typer(groups_app, name="groups")
dest_app.add_typer(policy_app, name="policy")
dest_app.add_typer(forwarding_app, name="forwarding")

FileArg = Annotated[Path, typer.Option("--file", "-f", help="A YAML or JSON file.")]


@contextmanager
def _api(db: Path | None) -> Iterator[Local | Remotely]:
    """The destinations' calls on the store, or through the server that holds it."""
    with session(db) as tp:
        yield Remotely(tp) if isinstance(tp, Remote) else Local(tp.store)


@contextmanager
def _open(db: Path | None, background: bool = False) -> Iterator[Touchpath]:
    """The store through the composition root: configuration commands start nothing beside it;
    `test` (background) runs the dispatcher for as long as it waits."""
    if not background:
        with opened(db) as tp:
            yield tp
        return
    with Touchpath.open(settings_for(db), background=True) as tp:
        yield tp


def _read(path: Path) -> Any:
    if not path.exists():
        raise BadRequest(f"{path}: no such file")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise BadRequest(f"{path}: not YAML or JSON: {exc}") from None


def _dump(data: Any) -> None:
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    console.print_json(json.dumps(jsonable(data)))


def _brief(d: Any) -> dict[str, Any]:
    target = d.config.get("url") or d.config.get("host") or d.config.get("project_id") or ""
    return {
        "name": d.name,
        "kind": d.kind,
        "channel": d.channel,
        "target": target,
        "enabled": d.enabled if d.enabled else f"no ({d.disabled_reason})",
        "secrets": ", ".join(d.secrets_set) or "-",
    }


def _show_new_secret(out: Any) -> None:
    if out.new_secret:
        console.print(
            f"signing secret (shown once, give it to the receiver): [bold]{out.new_secret}[/]"
        )


@dest_app.command("list")
def list_(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every destination (secrets are never shown)."""
    with _api(db) as d:
        rows = d.destinations()
    if as_json:
        _dump([r.model_dump(mode="json") for r in rows])
    else:
        print_rows([_brief(r) for r in rows], "Destinations", False)


@dest_app.command("show")
def show(name: str, db: DbOpt = None) -> None:
    """One destination's configuration (without its secrets)."""
    with _api(db) as d:
        _dump(d.destination(name))


@dest_app.command("put")
def put(name: str, file: FileArg, db: DbOpt = None) -> None:
    """Create or replace a destination from a file: {config: {kind: ..., ...}, secrets: {...}}."""
    with _api(db) as d:
        out = d.put_destination(name, _read(file))
    print_rows([_brief(out)], "Saved", False)
    _show_new_secret(out)


@dest_app.command("webhook")
def webhook(
    name: str,
    url: str,
    secret: Annotated[
        str | None, typer.Option(help="A whsec_ signing secret; one is generated if unset.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Create or replace a webhook destination signed per Standard Webhooks."""
    spec: dict[str, Any] = {"config": {"kind": "webhook", "url": url}}
    if secret:
        spec["secrets"] = {"signing_secret": secret}
    with _api(db) as d:
        out = d.put_destination(name, spec)
    print_rows([_brief(out)], "Saved", False)
    _show_new_secret(out)


@dest_app.command("remove")
def remove(name: str, db: DbOpt = None) -> None:
    """Delete a destination (its messages stay in the outbox)."""
    with _api(db) as d:
        d.remove_destination(name)
    console.print(f"removed {name}")


@dest_app.command("enable")
def enable(name: str, db: DbOpt = None) -> None:
    """Turn a destination on again (e.g. after a 410 turned it off)."""
    with _api(db) as d:
        print_rows([_brief(d.set_enabled(name, True))], "Enabled", False)


@dest_app.command("disable")
def disable(name: str, db: DbOpt = None) -> None:
    """Turn a destination off; its messages wait in the outbox."""
    with _api(db) as d:
        print_rows([_brief(d.set_enabled(name, False))], "Disabled", False)


@dest_app.command("rotate-secret")
def rotate_secret(
    name: str,
    overlap_hours: Annotated[float, typer.Option(help="How long the old secret signs too.")] = 24.0,
    db: DbOpt = None,
) -> None:
    """Give a webhook a new signing secret; both sign during the overlap."""
    with _api(db) as d:
        out = d.rotate_secret(name, overlap_hours)
    _show_new_secret(out)


@dest_app.command("test")
def test(
    name: str,
    profile: Annotated[str | None, typer.Option(help="A person (id or identifier).")] = None,
    recipient: Annotated[str | None, typer.Option(help="Address, phone or token.")] = None,
    template: Annotated[str | None, typer.Option(help="A saved template.")] = None,
    db: DbOpt = None,
) -> None:
    """Send a test message now and show what became of it."""
    remote = remote_for(settings_for(db).db)
    if remote is not None:
        body = {"profile": profile, "recipient": recipient, "template": template}
        _dump(remote.call("POST", f"/api/destinations/{quote(name, safe='')}/test", json=body))
        return
    with _open(db, background=True) as tp:
        row = dapi.test_send(
            tp.store, name, profile=profile, recipient=recipient, template_name=template
        )
    _dump(row)


@dest_app.command("messages")
def messages(
    state: Annotated[str | None, typer.Option(help="pending, sending, delivered, ...")] = None,
    destination: Annotated[str | None, typer.Option(help="Only this destination.")] = None,
    profile: Annotated[str | None, typer.Option(help="Only this profile id.")] = None,
    journey: Annotated[str | None, typer.Option(help="Only this journey.")] = None,
    limit: Annotated[int, typer.Option(help="Most messages to show.")] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The outbox, newest first, with each message's delivery state."""
    with _api(db) as d:
        rows = d.messages(
            state=state, destination=destination, profile_id=profile, journey=journey, limit=limit
        )
    keep = ("id", "destination", "channel", "profile_id", "state", "attempts", "last_status",
            "last_error", "created_at")  # fmt: skip
    print_rows(rows if as_json else [{k: r[k] for k in keep} for r in rows], "Messages", as_json)


@dest_app.command("message")
def message(ref: str, db: DbOpt = None) -> None:
    """One message (id or idempotency key) with its content and delivery log."""
    with _api(db) as d:
        _dump(d.message(ref))


@dest_app.command("dead-letters")
def dead_letters(
    destination: Annotated[str | None, typer.Option(help="Only this destination.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Messages that failed for good; `replay` sends them again."""
    with _api(db) as d:
        rows = d.dead_letters(destination)
    keep = ("id", "destination", "attempts", "last_status", "last_error", "done_at")
    print_rows(
        rows if as_json else [{k: r[k] for k in keep} for r in rows], "Dead letters", as_json
    )


@dest_app.command("replay")
def replay(
    ids: Annotated[list[str] | None, typer.Argument(help="Message ids or keys.")] = None,
    destination: Annotated[str | None, typer.Option(help="Every dead letter of it.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter.")] = False,
    db: DbOpt = None,
) -> None:
    """Send dead letters again (by id, by destination, or --all)."""
    if not ids and destination is None and not all_:
        raise BadRequest("replay: name message ids, --destination NAME or --all")
    with _api(db) as d:
        n = d.replay(ids or None, destination)
    console.print(f"{n} message(s) queued again")


@dest_app.command("bounce")
def bounce(
    path: Annotated[Path, typer.Argument(help="A bounce message (RFC 3464 DSN), as mailed.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a bounce from the bounce mailbox: hard bounces suppress the address."""
    if not path.exists():
        raise BadRequest(f"{path}: no such file")
    with _api(db) as d:
        rows = d.record_bounces(path.read_bytes())
    print_rows(rows, "Bounces", as_json)


@dest_app.command("summary")
def summary(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Messages by destination and state."""
    with _api(db) as d:
        print_rows(d.summary(), "Outbox", as_json)


@dest_app.command("subscriptions")
def subscriptions(profile: str, db: DbOpt = None) -> None:
    """A person's subscriptions per channel and topic."""
    with _api(db) as d:
        _dump(d.subscriptions_of(profile))


def _choose(profile: str, channel: str, topic: str, on: bool, db: Path | None) -> None:
    with _api(db) as d:
        _dump(d.set_subscription(profile, channel, topic, on))


ChannelOpt = Annotated[str, typer.Option(help="email, sms, push or webhook.")]
TopicOpt = Annotated[str, typer.Option(help="A topic, or '*' for every topic.")]


@dest_app.command("subscribe")
def subscribe(profile: str, channel: ChannelOpt, topic: TopicOpt = "*", db: DbOpt = None) -> None:
    """Subscribe a person to a channel's topic."""
    _choose(profile, channel, topic, True, db)


@dest_app.command("unsubscribe")
def unsubscribe(profile: str, channel: ChannelOpt, topic: TopicOpt = "*", db: DbOpt = None) -> None:
    """Unsubscribe a person from a channel's topic."""
    _choose(profile, channel, topic, False, db)


# ----------------------------------------------------------------------------- policy
@policy_app.command("show")
def policy_show(db: DbOpt = None) -> None:
    """The send policy."""
    with _api(db) as d:
        _dump(d.get_policy())


@policy_app.command("set")
def policy_set(file: FileArg, db: DbOpt = None) -> None:
    """Replace the send policy from a file: {caps: {sms: 2}, quiet_hours: {...}, ...}."""
    with _api(db) as d:
        _dump(d.put_policy(_read(file)))


# ----------------------------------------------------------------------------- templates
@templates_app.command("list")
def templates_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Saved templates."""
    with _api(db) as d:
        rows = d.template_list()
    print_rows(
        rows if as_json else [{"name": r["name"], "channel": r["channel"],
                               "fields": ", ".join(r["fields"])} for r in rows],
        "Templates", as_json,
    )  # fmt: skip


@templates_app.command("show")
def templates_show(name: str, db: DbOpt = None) -> None:
    with _api(db) as d:
        _dump(d.template(name))


@templates_app.command("put")
def templates_put(name: str, file: FileArg, db: DbOpt = None) -> None:
    """Save a template from a file: {channel, fields: {...}, defaults: {...}}."""
    with _api(db) as d:
        _dump(d.put_template(name, _read(file)))


@templates_app.command("remove")
def templates_remove(name: str, db: DbOpt = None) -> None:
    with _api(db) as d:
        d.remove_template(name)
    console.print(f"removed {name}")


@templates_app.command("preview")
def templates_preview(
    name: str,
    profile: Annotated[str | None, typer.Option(help="A person (id or identifier).")] = None,
    db: DbOpt = None,
) -> None:
    """Render a saved template for a real person."""
    with _api(db) as d:
        _dump(d.preview(name, profile))


# ----------------------------------------------------------------------------- groups
@groups_app.command("list")
def groups_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    with _api(db) as d:
        rows = [g.model_dump(mode="json") for g in d.groups()]
    print_rows(rows, "Subscription groups", as_json)


@groups_app.command("put")
def groups_put(
    topic: str,
    channel: Annotated[
        list[str] | None, typer.Option(help="A channel (repeat); none: all.")
    ] = None,
    opt_in: Annotated[bool, typer.Option(help="Only people who subscribed.")] = False,
    consent_category: Annotated[str | None, typer.Option(help="Required consent.")] = None,
    description: Annotated[str | None, typer.Option(help="What the topic is.")] = None,
    db: DbOpt = None,
) -> None:
    """Create or replace a subscription group."""
    group = {"topic": topic, "channels": channel or [], "opt_in": opt_in,
             "consent_category": consent_category, "description": description}  # fmt: skip
    with _api(db) as d:
        _dump(d.put_group(group))


@groups_app.command("remove")
def groups_remove(topic: str, db: DbOpt = None) -> None:
    with _api(db) as d:
        d.remove_group(topic)
    console.print(f"removed {topic}")


# ----------------------------------------------------------------------------- forwarding
@forwarding_app.command("list")
def forwarding_list(db: DbOpt = None) -> None:
    """Forwarding rules, by name."""
    with _api(db) as d:
        _dump({n: r.model_dump(mode="json") for n, r in d.forwarding_rules().items()})


@forwarding_app.command("put")
def forwarding_put(name: str, file: FileArg, db: DbOpt = None) -> None:
    """Create or replace a rule from a file: {destination, sources, match, mapping, format}."""
    with _api(db) as d:
        _dump(d.put_forwarding(name, _read(file)))


@forwarding_app.command("remove")
def forwarding_remove(name: str, db: DbOpt = None) -> None:
    with _api(db) as d:
        d.remove_forwarding(name)
    console.print(f"removed {name}")
