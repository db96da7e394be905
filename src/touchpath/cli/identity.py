"""Identity and profile commands: identity, profiles, traits, audiences, privacy."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from touchpath.cli.base import (
    DbOpt,
    JsonOpt,
    app,
    console,
    print_json,
    print_rows,
    settings_for,
)
from touchpath.cli.remote import Remote, jsonable, refuse_held, session, store_or_server
from touchpath.errors import SpecError
from touchpath.events.match import Condition, EventMatch
from touchpath.profiles import audiences as aud
from touchpath.profiles import lookup, privacy, rebuild, refresh
from touchpath.profiles import traits as tr
from touchpath.profiles.export import write_csv
from touchpath.profiles.specs import Audience, ComputedTrait, parse_spec
from touchpath.store import Store
from touchpath.store.store import utcnow

identity_app = typer.Typer(help="The identity graph.", no_args_is_help=True)
profiles_app = typer.Typer(help="Profiles: show, explain, timeline.", no_args_is_help=True)
traits_app = typer.Typer(help="Computed traits.", no_args_is_help=True)
audiences_app = typer.Typer(help="Audiences.", no_args_is_help=True)
privacy_app = typer.Typer(help="Privacy requests: delete, suppress.", no_args_is_help=True)
app.add_typer(identity_app, name="identity")
app.add_typer(profiles_app, name="profiles")
app.add_typer(traits_app, name="traits")
app.add_typer(audiences_app, name="audiences")
app.add_typer(privacy_app, name="privacy")

KindOpt = Annotated[
    str | None, typer.Option("--kind", help="Identifier kind of REF (user_id, email, ...).")
]


@contextlib.contextmanager
def _served(db: Path | None) -> Iterator[Store | Remote]:
    """The store opened here (identity and profiles listening), or the server holding it."""
    with session(db, listen=True) as tp:
        yield tp if isinstance(tp, Remote) else tp.store


def _at(*parts: str) -> str:
    return "/api/" + "/".join(quote(p, safe="") for p in parts)


def _dump(data: Any) -> None:
    console.print_json(json.dumps(jsonable(data)))


@identity_app.command("rebuild")
def identity_rebuild(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute the identity graph and profiles from the event log."""
    with session(db, listen=True) as tp:
        if isinstance(tp, Remote):
            found = tp.call("POST", "/api/profiles/rebuild")
        else:
            found = rebuild(tp.store, tp.services["unify"].config.identity).__dict__
    print_rows([found], "Rebuilt", as_json)


@profiles_app.command("show")
def profiles_show(ref: str, kind: KindOpt = None, db: DbOpt = None) -> None:
    """A profile by id or any identifier: identifiers, traits, audiences, consent."""
    with _served(db) as store:
        if isinstance(store, Remote):
            params = {"kind": kind} if kind else {}
            _dump(store.call("GET", _at("profiles", ref), params=params))
        else:
            _dump(lookup.show(store, ref, kind))


@profiles_app.command("explain")
def profiles_explain(ref: str, kind: KindOpt = None, db: DbOpt = None) -> None:
    """Why the identifiers of a profile belong together."""
    with _served(db) as store:
        if isinstance(store, Remote):
            params = {"kind": kind} if kind else {}
            _dump(store.call("GET", _at("profiles", ref) + "/explain", params=params))
        else:
            _dump(lookup.explain(store, ref, kind))


@profiles_app.command("timeline")
def profiles_timeline(
    ref: str,
    kind: KindOpt = None,
    limit: Annotated[int, typer.Option(help="Most events to show.")] = 200,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The profile's events across devices and channels, oldest first."""
    with _served(db) as store:
        if isinstance(store, Remote):
            params: dict[str, Any] = {"limit": limit} | ({"kind": kind} if kind else {})
            result = store.call("GET", _at("profiles", ref) + "/timeline", params=params)
        else:
            result = jsonable(lookup.timeline(store, ref, kind, limit=limit))
    if as_json:
        print_json(result)
        return
    console.print(_timeline_table(result))


SESSION_GAP = timedelta(minutes=30)


def _timeline_table(result: dict[str, Any]) -> Table:
    """One line per event: when (to the second), channel, what happened, and through which
    identifier; a rule between sessions (30 minutes apart), so a reader sees the visits."""
    events = result["events"]
    title = f"{result['profile_id']}: {result['total']:,} events"
    caption = (
        f"the first {len(events):,}; --limit shows more" if len(events) < result["total"] else None
    )
    table = Table(title=title, caption=caption)
    for name in ("time", "channel", "what", "via"):
        table.add_column(name, no_wrap=name != "what")
    last: datetime | None = None
    for e in events:
        at = e["timestamp"]
        at = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        if last is not None and at - last > SESSION_GAP:
            table.add_section()
        last = at
        what = e["event"] or ""
        if e["type"] != "track":
            what = f"{e['type']} {what}".strip()
        via = e["user_id"] or (f"anonymous {e['anonymous_id'][:8]}" if e["anonymous_id"] else "")
        table.add_row(at.strftime("%Y-%m-%d %H:%M:%S"), e["channel"] or "", what, via)
    return table


AllowUnknown = Annotated[
    bool,
    typer.Option(
        "--allow-unknown",
        help="Allow event and property names the store has never seen (events still to come).",
    ),
]


def _known(store: Any, spec: Any, allow: bool) -> None:
    """A misspelt event or property is an error naming the closest known ones."""
    if not allow:
        from touchpath.catalogue import check_names

        with store.reading() as cur:
            check_names(cur, spec)


@traits_app.command("add")
def traits_add(
    name: str,
    op: Annotated[str, typer.Argument(help="count, sum, avg, min, max, first, last, ...")],
    event: Annotated[str | None, typer.Option(help="Event name to count over.")] = None,
    prop: Annotated[str | None, typer.Option("--property", help="Property aggregated.")] = None,
    within_days: Annotated[float | None, typer.Option(help="Window in days.")] = None,
    where: Annotated[
        list[str] | None, typer.Option(help="Property filter 'prop op value', repeatable.")
    ] = None,
    allow_unknown: AllowUnknown = False,
    db: DbOpt = None,
) -> None:
    """Define (or replace) a computed trait and compute it."""
    conds = [_condition(w) for w in where or []]
    spec = parse_spec(
        ComputedTrait,
        {
            "name": name,
            "op": op,
            "event": EventMatch(event=event, where=tuple(conds)).model_dump(),
            "property": prop,
            "within_days": within_days,
        },
        "computed trait",
    )
    with _served(db) as store:
        if isinstance(store, Remote):
            body = {**spec.model_dump(mode="json"), "allow_unknown": allow_unknown}
            store.call("PUT", _at("traits", name), json=body)
        else:
            _known(store, spec, allow_unknown)
            store.write_sync(lambda con: tr.define_computed(con, spec, utcnow()))
    console.print(f"computed trait [bold]{name}[/] defined")


def _condition(text: str) -> Condition:
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise typer.BadParameter(f"--where {text!r}: expected 'property op value'")
    value: Any = parts[2] if len(parts) > 2 else None
    if value is not None:
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    return parse_spec(Condition, {"property": parts[0], "op": parts[1], "value": value}, "--where")


@traits_app.command("list")
def traits_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Computed traits and their definitions."""
    with _served(db) as store:
        if isinstance(store, Remote):
            found = store.call("GET", "/api/traits")
        else:
            with store.reading() as con:
                found = [t.model_dump(mode="json") for t in tr.list_computed(con)]
    print_rows([_spec_row(t) for t in found], "Computed traits", as_json)


def _spec_row(item: dict[str, Any], *columns: str) -> dict[str, Any]:
    """A listed trait or audience as a row: its name, `columns`, and the rest as its spec."""
    rest = {k: v for k, v in item.items() if k != "name" and k not in columns}
    return {"name": item["name"], **{c: item[c] for c in columns}, "spec": json.dumps(rest)}


@traits_app.command("remove")
def traits_remove(name: str, db: DbOpt = None) -> None:
    """Delete a computed trait and its values."""
    with _served(db) as store:
        if isinstance(store, Remote):
            store.call("DELETE", _at("traits", name))
        else:
            store.write_sync(lambda con: tr.remove_computed(con, name))
    console.print(f"computed trait [bold]{name}[/] removed")


@traits_app.command("refresh")
def traits_refresh(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute computed traits for every profile (windows move with time)."""
    with _served(db) as store:
        if isinstance(store, Remote):
            result = store.call("POST", "/api/traits/refresh")
        else:
            result = refresh(store, "traits").__dict__
    print_rows([result], "Refreshed", as_json)


@audiences_app.command("add")
def audiences_add(
    name: str,
    condition: Annotated[str, typer.Argument(help="The condition as YAML/JSON, or @file.")],
    allow_unknown: AllowUnknown = False,
    db: DbOpt = None,
) -> None:
    """Define (or replace) an audience and compute its members."""
    text = Path(condition[1:]).read_text() if condition.startswith("@") else condition
    spec = parse_spec(Audience, {"name": name, "condition": _yaml(text)}, "audience")
    with _served(db) as store:
        if isinstance(store, Remote):
            body = {**spec.model_dump(mode="json"), "allow_unknown": allow_unknown}
            size = store.call("PUT", _at("audiences", name), json=body)["size"]
        else:
            _known(store, spec, allow_unknown)
            store.write_sync(lambda con: aud.define_audience(con, spec, utcnow()))
            refresh(store, "audiences")
            size = len(lookup.members(store, name))
    console.print(f"audience [bold]{name}[/]: {size} members")


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise typer.BadParameter(f"condition: not YAML or JSON: {exc}") from exc


@audiences_app.command("list")
def audiences_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Audiences with their kind (rule or static) and size."""
    with _served(db) as store:
        if isinstance(store, Remote):
            found = store.call("GET", "/api/audiences")
        else:
            with store.reading() as con:
                found = aud.listed(con)
    print_rows([_spec_row(a, "kind", "size") for a in found], "Audiences", as_json)


@audiences_app.command("remove")
def audiences_remove(name: str, db: DbOpt = None) -> None:
    """Delete an audience."""
    with _served(db) as store:
        if isinstance(store, Remote):
            store.call("DELETE", _at("audiences", name))
        else:
            store.write_sync(lambda con: aud.remove_audience(con, name))
    console.print(f"audience [bold]{name}[/] removed")


@audiences_app.command("refresh")
def audiences_refresh(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute every audience for every profile."""
    with _served(db) as store:
        if isinstance(store, Remote):
            result = store.call("POST", "/api/audiences/refresh", params={"traits": False})
        else:
            result = refresh(store, "audiences").__dict__
    print_rows([result], "Refreshed", as_json)


@audiences_app.command("members")
def audiences_members(
    name: str,
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV on stdout (export).")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Members of an audience with their user id and email; --csv exports them."""
    with _served(db) as store:
        if isinstance(store, Remote):
            rows = store.call("GET", _at("audiences", name, "members"))["members"]
        else:
            rows = jsonable(lookup.members(store, name))
    if csv_out:
        write_csv(sys.stdout, ["profile_id", "user_id", "email", "entered_at"], rows)
        return
    print_rows(rows, f"{name}: {len(rows)} members", as_json)


@privacy_app.command("delete")
def privacy_delete(
    value: Annotated[str, typer.Argument(help="Any identifier: user id, email, anonymous id, ...")],
    kind: Annotated[
        str | None, typer.Option(help="Only as this kind of identifier (user_id, email, ...).")
    ] = None,
    and_suppress: Annotated[bool, typer.Option("--suppress", help="Also suppress.")] = False,
    compact: Annotated[
        bool, typer.Option(help="Then rewrite the store file so no byte of them is left.")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete everything stored about a person, by any identifier, in one transaction."""
    path = settings_for(db).db
    with store_or_server(path, listen=True) as tp:
        if isinstance(tp, Remote):
            body = {"identifier": value, "kind": kind, "suppress": and_suppress}
            counts = tp.call("POST", "/api/privacy/delete", json=body)["deleted"]
            if compact:
                raise SpecError("--compact: stop the server first (it holds the file)")
        else:
            counts = privacy.delete_person(
                tp.store, value, kind, and_suppress=and_suppress,
                deleters=privacy.person_deleters(tp.services),
            )  # fmt: skip
    print_rows([{"table": k, "rows": v} for k, v in counts.items()], "Deleted", as_json)
    if compact:
        privacy_compact(path)
    elif not as_json:
        console.print("Their bytes stay in the file until [bold]touchpath privacy compact[/].")


@privacy_app.command("compact")
def privacy_compact(db: DbOpt = None) -> None:
    """Rewrite the store file with only its live rows (after a deletion; the server stopped)."""
    path = settings_for(db).db
    refuse_held(path)  # the server's URL, not DuckDB's lock error
    before, after = privacy.compact(path)
    console.print(f"{path} rewritten: {before:,} -> {after:,} bytes")


@privacy_app.command("suppress")
def privacy_suppress(
    value: str,
    kind: Annotated[str, typer.Option(help="user_id or anonymous_id")] = "user_id",
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    db: DbOpt = None,
) -> None:
    """Acknowledge and drop future messages of a user."""
    with _served(db) as store:
        if isinstance(store, Remote):
            params = {"reason": reason} if reason else {}
            store.call("PUT", _at("privacy", "suppressions", kind, value), params=params)
        else:
            privacy.suppress(store, value, kind, reason)  # type: ignore[arg-type]
    console.print(f"{kind} [bold]{value}[/] suppressed")


@privacy_app.command("unsuppress")
def privacy_unsuppress(
    value: str,
    kind: Annotated[str, typer.Option(help="user_id or anonymous_id")] = "user_id",
    db: DbOpt = None,
) -> None:
    """Lift a suppression."""
    with _served(db) as store:
        if isinstance(store, Remote):
            store.call("DELETE", _at("privacy", "suppressions", kind, value))
        else:
            privacy.unsuppress(store, value, kind)  # type: ignore[arg-type]
    console.print(f"{kind} [bold]{value}[/] no longer suppressed")
