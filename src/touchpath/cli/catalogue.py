"""`touchpath catalogue events|props|rebuild`: the event catalogue (docs/catalogue.md). Beside
a running server they go through its REST API, with the same output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import typer

from touchpath import catalogue
from touchpath.cli.base import DbOpt, JsonOpt, app, console, print_rows
from touchpath.cli.remote import Remote, session
from touchpath.errors import NotFound

catalogue_app = typer.Typer(
    help="The event catalogue: every event, its properties and their types (docs/catalogue.md).",
    no_args_is_help=True,
)
app.add_typer(catalogue_app, name="catalogue")

TypeOpt = Annotated[
    str | None, typer.Option("--type", help="Only messages of this type (track, page, identify).")
]


def _when(value: Any) -> str:
    return str(value)[:19].replace("T", " ")


def _events(db: Path | None, type: str | None) -> list[dict[str, Any]]:
    with session(db) as tp:
        if isinstance(tp, Remote):
            query = f"?{urlencode({'type': type})}" if type else ""
            found: list[dict[str, Any]] = tp.call("GET", f"/api/catalogue/events{query}")["events"]
            return found
        with tp.store.reading() as cur:
            return [e.model_dump(mode="json") for e in catalogue.events(cur, type)]


def _props(db: Path | None, event: str, type: str | None) -> list[dict[str, Any]]:
    with session(db) as tp:
        if isinstance(tp, Remote):
            query = urlencode({"event": event, **({"type": type} if type else {})})
            found: list[dict[str, Any]] = tp.call("GET", f"/api/catalogue/properties?{query}")[
                "properties"
            ]
            return found
        with tp.store.reading() as cur:
            rows = catalogue.properties(cur, event, type)
            names = catalogue.event_names(cur)
        if not rows and event not in names | {""}:
            near = catalogue.closest(event, names)
            hint = f"; did you mean {' or '.join(map(repr, near))}?" if near else ""
            raise NotFound(f"event: unknown event {event!r}{hint}")
        return [p.model_dump(mode="json") for p in rows]


@catalogue_app.command("events")
def events(type: TypeOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every event, page and screen name, with its count, first and last seen."""
    rows = _events(db, type)
    if as_json:
        print_rows(rows, "", True)
        return
    table = [
        {
            "type": r["type"],
            "event": r["event"] or "(traits)",
            "count": f"{r['count']:,}",
            "properties": r["properties"],
            "first seen": _when(r["first_seen"]),
            "last seen": _when(r["last_seen"]),
        }
        for r in rows
    ]
    print_rows(table, "Event catalogue", False)


@catalogue_app.command("props")
def props(
    event: Annotated[str, typer.Argument(help="The event name ('' with --type identify).")],
    type: TypeOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The property keys of EVENT, each with the types its values were seen with."""
    rows = _props(db, event, type)
    if as_json:
        print_rows(rows, "", True)
        return
    table = [
        {
            "key": r["key"],
            "type": r["value_type"],
            "count": f"{r['count']:,}",
            "first seen": _when(r["first_seen"]),
            "last seen": _when(r["last_seen"]),
        }
        for r in rows
    ]
    print_rows(table, f"Properties of {event!r}", False)


@catalogue_app.command("rebuild")
def rebuild(db: DbOpt = None) -> None:
    """Read the catalogue again from the whole event log (after a privacy deletion)."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            n = tp.call("POST", "/api/catalogue/rebuild")["events"]
        else:
            n = tp.store.write_sync(catalogue.rebuild)
    console.print(f"catalogue rebuilt from {n:,} events")
