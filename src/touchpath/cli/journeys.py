"""`touchpath journeys ...`: validate, save, publish, list, show, pause, resume, archive, enter,
dry-run, test-send, run, schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from touchpath.cli.base import DbOpt, JsonOpt, app, console, print_rows
from touchpath.cli.remote import Remote, session
from touchpath.errors import SpecError
from touchpath.orchestrate import library
from touchpath.orchestrate.counts import NodeCounts, node_counts
from touchpath.orchestrate.document import load_journey_file, schema_text
from touchpath.orchestrate.dryrun import DryRun, TestSend, dry_run, send_test
from touchpath.orchestrate.service import JourneyEngine

journeys_app = typer.Typer(
    help="Journeys: event-triggered, multi-step orchestration (docs/journeys.md).",
    no_args_is_help=True,
)
app.add_typer(journeys_app, name="journeys")

UserOpt = Annotated[str | None, typer.Option("--user", help="The person's user id.")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="The person's profile id.")]
VersionOpt = Annotated[
    int | None, typer.Option("--version", help="A version; the live (or latest) one if empty.")
]


@contextmanager
def _engine(db: Path | None, write: bool = True) -> Iterator[JourneyEngine | Remote]:
    """The journey engine of the store, or the server holding it (its /api/journeys); a
    command that only reads starts nothing beside the store."""
    with session(db, listen=write) as tp:
        if isinstance(tp, Remote):
            yield tp
        else:
            yield tp.services.get("journeys") or JourneyEngine(tp.store, tp.clock)


def _at(name: str, tail: str = "") -> str:
    return f"/api/journeys/{quote(name, safe='')}{tail}"


def _who(user: str | None, profile: str | None) -> dict[str, str | None]:
    if not (user or profile):
        raise SpecError("--user or --profile: one is required")
    return {"profile_id": profile, "user_id": None if profile else user}


def _dump(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


def _person(engine: JourneyEngine, user: str | None, profile: str | None) -> str:
    if profile:
        return profile
    if not user:
        raise SpecError("--user or --profile: one is required")
    with engine.store.reading() as cur:
        return library.profile_of(cur, user, None)


@journeys_app.command("validate")
def validate(files: list[Path]) -> None:
    """Check journey documents; errors name the path, e.g. nodes.wait_2.timeout: required."""
    failed = 0
    for f in files:
        try:
            doc = load_journey_file(f)
        except SpecError as exc:
            failed += 1
            console.print(f"[red]invalid[/] {exc}")
        else:
            console.print(
                f"[green]ok[/] {f}: {doc.name}, {len(doc.nodes)} nodes, entry {doc.entry.kind}"
            )
    if failed:
        raise typer.Exit(1)


@journeys_app.command("save")
def save(
    file: Path,
    publish: Annotated[bool, typer.Option(help="Publish the new version too.")] = False,
    db: DbOpt = None,
) -> None:
    """Save a document as a new (draft) version; --publish makes it live."""
    doc = load_journey_file(file)
    text = file.read_text(encoding="utf-8")
    with _engine(db) as engine:
        if isinstance(engine, Remote):
            _save_remote(engine, doc.name, text, publish)
            return
        if publish:
            library.check(engine, doc)  # nothing is saved when it cannot be published
        version = library.save_journey(engine, doc, text)
        console.print(f"saved {doc.name} version {version}")
        if publish:
            _published(library.publish(engine, doc.name, version))


def _save_remote(remote: Remote, name: str, text: str, publish: bool) -> None:
    """`save` through the server: checked first when it is to be published, as here."""
    if publish:
        found = remote.call("POST", "/api/journeys/validate", json={"yaml": text})
        if not found["valid"]:
            raise SpecError("; ".join(f"{p['path']}: {p['problem']}" for p in found["problems"]))
    version = remote.call("POST", "/api/journeys", json={"yaml": text})["version"]
    console.print(f"saved {name} version {version}")
    if publish:
        body = {"version": version}
        _published(
            library.Published.model_validate(remote.call("POST", _at(name, "/publish"), json=body))
        )


def _published(p: library.Published) -> None:
    extra = f"; {p.entered:,} entered" if p.entered else ""
    extra += f"; {p.moved:,} moved from older versions" if p.moved else ""
    console.print(f"[green]{p.name} version {p.version} is live[/]{extra}")


@journeys_app.command("publish")
def publish(
    name: str,
    version: VersionOpt = None,
    move: Annotated[
        list[str] | None,
        typer.Option(help="OLD=NEW: move people in flight at node OLD to node NEW."),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Make a version live; people in flight stay on theirs unless --move maps their node."""
    mapping: dict[str, str] = {}
    for item in move or []:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise SpecError(f"--move {item!r}: use OLD=NEW, e.g. --move wait_1=wait_2")
        mapping[old] = new
    with _engine(db) as engine:
        if isinstance(engine, Remote):
            body = {"version": version, "move": mapping}
            found = engine.call("POST", _at(name, "/publish"), json=body)
            _published(library.Published.model_validate(found))
        else:
            _published(library.publish(engine, name, version, mapping or None))


@journeys_app.command("list")
def list_(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every journey: status, live version, people in it, entered and converted."""
    with _engine(db, write=False) as engine:
        if isinstance(engine, Remote):
            rows = engine.call("GET", "/api/journeys")
            found = [library.JourneySummary.model_validate(j) for j in rows]
        else:
            found = library.list_journeys(engine)
    if as_json:
        print_rows([j.model_dump() for j in found], "Journeys", True)
        return
    print_rows(
        [
            {
                "name": j.name,
                "status": j.status,
                "live": j.live_version,
                "entry": j.entry,
                "in it": j.in_flight,
                "entered": j.entered,
                "converted": j.converted,
            }
            for j in found
        ],
        "Journeys",
        False,
    )


@journeys_app.command("show")
def show(name: str, version: VersionOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A journey's versions and, per node, people entered, waiting, converted and exited."""
    with _engine(db, write=False) as engine:
        if isinstance(engine, Remote):
            params = {} if version is None else {"version": version}
            detail = library.JourneyDetail.model_validate(
                engine.call("GET", _at(name), params=params)
            )
            got = engine.call("GET", _at(name, "/counts"))
            counts = {k: NodeCounts.model_validate(v) for k, v in got["nodes"].items()}
            entered, converted = got["entered"], got["converted"]
        else:
            detail = library.get_journey(engine, name, version)
            with engine.store.reading() as cur:
                counts, _edges, (entered, converted) = node_counts(cur, name)
    if as_json:
        _dump(
            {
                **detail.model_dump(mode="json"),
                "counts": {k: v.model_dump() for k, v in counts.items()},
            }
        )
        return
    console.print(
        f"[bold]{detail.title or detail.name}[/] ({detail.status}, live version "
        f"{detail.live_version}, entry {detail.entry}): {entered:,} entered, "
        f"{converted:,} converted, {detail.in_flight:,} in it now"
    )
    print_rows(
        [
            {
                "version": v.version,
                "created": f"{v.created_at:%Y-%m-%d %H:%M}",
                "published": f"{v.published_at:%Y-%m-%d %H:%M}" if v.published_at else "draft",
                "live": "yes" if v.live else "",
                "in it": v.in_flight,
            }
            for v in detail.versions
        ],
        "Versions",
        False,
    )
    print_rows(
        [
            {"node": nid, "kind": node.kind, **counts.get(nid, NodeCounts()).model_dump()}
            for nid, node in detail.definition.nodes.items()
        ],
        f"Nodes of version {detail.version} (people of every version)",
        False,
    )


@journeys_app.command("pause")
def pause(name: str, db: DbOpt = None) -> None:
    """Stop entries and moves; people stay where they are."""
    with _engine(db) as engine:
        if isinstance(engine, Remote):
            engine.call("POST", _at(name, "/pause"))
        else:
            library.pause(engine, name)
    console.print(f"{name} paused")


@journeys_app.command("resume")
def resume(name: str, db: DbOpt = None) -> None:
    """Go on after a pause."""
    with _engine(db) as engine:
        if isinstance(engine, Remote):
            engine.call("POST", _at(name, "/resume"))
        else:
            library.resume(engine, name)
    console.print(f"{name} is live again")


@journeys_app.command("archive")
def archive(name: str, db: DbOpt = None) -> None:
    """Stop entries; people in the journey go on to its end."""
    with _engine(db) as engine:
        if isinstance(engine, Remote):
            engine.call("POST", _at(name, "/archive"))
        else:
            library.archive(engine, name)
    console.print(f"{name} archived: no one enters; the people in it finish")


@journeys_app.command("enter")
def enter(
    name: str,
    user: UserOpt = None,
    profile: ProfileOpt = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key of this entry.")] = None,
    prop: Annotated[
        list[str] | None, typer.Option(help="KEY=VALUE: a property of the entry.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Enter one person into a live journey now."""
    properties: dict[str, Any] = {}
    for item in prop or []:
        k, sep, v = item.partition("=")
        if not sep:
            raise SpecError(f"--prop {item!r}: use KEY=VALUE")
        properties[k] = v
    if not (user or profile):
        raise SpecError("--user or --profile: one is required")
    with _engine(db) as engine:
        if isinstance(engine, Remote):
            body = {"profile_id": profile, "user_id": user, "key": key, "properties": properties}
            out = library.Entered.model_validate(
                engine.call("POST", _at(name, "/enter"), json=body)
            )
        else:
            out = library.enter_person(
                engine, name, profile_id=profile, user_id=user, key=key, properties=properties
            )
    if out.entered:
        console.print(f"entered {out.profile_id} ({out.entry_key}): at {out.node}, {out.status}")
    else:
        console.print(f"{out.profile_id} did not enter: the re-entry rule keeps them out")


@journeys_app.command("dry-run")
def dry_run_cmd(
    journey: Annotated[str, typer.Argument(help="A journey name, or a YAML file to try.")],
    user: UserOpt = None,
    profile: ProfileOpt = None,
    version: VersionOpt = None,
    start: Annotated[datetime | None, typer.Option(help="Replay events from this time.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Replay up to this time.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay a person's history through a journey: the path and the messages they would get."""
    path = Path(journey)
    is_file = path.suffix in (".yaml", ".yml", ".json") or path.is_file()
    with _engine(db, write=False) as engine:
        if isinstance(engine, Remote):
            body: dict[str, Any] = {**_who(user, profile), "version": version}
            body |= {k: v.isoformat() for k, v in (("start", start), ("until", until)) if v}
            name = journey
            if is_file:
                name = load_journey_file(path).name
                body["document"] = {"yaml": path.read_text(encoding="utf-8")}
            run = DryRun.model_validate(engine.call("POST", _at(name, "/dry-run"), json=body))
        else:
            if is_file:
                plan = library.check(engine, load_journey_file(path))
            else:
                plan = library.plan_of(engine, journey, version)
            run = dry_run(engine, plan, _person(engine, user, profile), start, until)
    if as_json:
        _dump(run.model_dump(mode="json"))
        return
    _print_dry_run(run)


def _print_dry_run(run: DryRun) -> None:
    console.print(
        f"[bold]{run.journey}[/] v{run.version} for {run.profile_id}: "
        f"{run.events} events replayed, {len(run.entries)} entries"
    )
    for e in run.entries:
        end = f"{e.exit_reason} at {e.exited_at:%Y-%m-%d %H:%M}" if e.exited_at else e.status
        conv = f", converted {e.converted_at:%Y-%m-%d %H:%M}" if e.converted_at else ""
        console.print(
            f"\n[bold]entry {e.entry_key}[/] at {e.entered_at:%Y-%m-%d %H:%M}: {end}{conv}"
        )
        for s in e.steps[1:]:
            what = f" -> {s.outcome}" if s.outcome else ""
            console.print(f"  {s.at:%Y-%m-%d %H:%M}  {s.node} ({s.kind}){what}")
        for m in e.messages:
            console.print(
                f"  [cyan]message[/] {m.at:%Y-%m-%d %H:%M} {m.channel} via "
                f"{m.destination}: {m.template or '(inline)'}"
            )


@journeys_app.command("test-send")
def test_send(
    name: str,
    node: str,
    user: UserOpt = None,
    profile: ProfileOpt = None,
    version: VersionOpt = None,
    db: DbOpt = None,
) -> None:
    """Send what a send or webhook node would send, to one person, now."""
    with _engine(db) as engine:
        if isinstance(engine, Remote):
            body = {**_who(user, profile), "node": node, "version": version}
            sent = TestSend.model_validate(engine.call("POST", _at(name, "/test-send"), json=body))
        else:
            plan = library.plan_of(engine, name, version)
            sent = send_test(engine, plan, node, _person(engine, user, profile))
    state = "queued in the outbox" if sent.queued else "not queued (no outbox in this store)"
    console.print(f"test message {sent.idempotency_key}: {state}")


@journeys_app.command("run")
def run(db: DbOpt = None) -> None:
    """Run the timers that are due now (a server runs them by itself)."""
    with _engine(db) as engine:
        if isinstance(engine, Remote):
            console.print(f"the server at {engine.url} holds the store and runs the timers itself")
            return
        moved = engine.drain()
        engine.store.wait_idle()
    console.print(f"{moved:,} people moved")


@journeys_app.command("schema")
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here.")] = None,
) -> None:
    """The JSON Schema of the journey document."""
    if out is None:
        typer.echo(schema_text(), nl=False)
    else:
        out.write_text(schema_text(), encoding="utf-8")
        console.print(f"wrote {out}")
