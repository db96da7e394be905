"""Core commands: serve, sources, stats, rejected."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Annotated, Any

import typer
from rich.table import Table

from touchpath.cli.base import (
    DbOpt,
    JsonOpt,
    app,
    console,
    opened,
    print_rows,
    settings_for,
    sources_app,
)
from touchpath.cli.remote import Remote, store_or_server
from touchpath.store import explore


@app.command()
def serve(
    db: DbOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    collect_port: Annotated[
        int | None,
        typer.Option(help="Also serve /v1 alone on this port (the one to expose publicly)."),
    ] = None,
    collect_host: Annotated[
        str | None, typer.Option(help="Address the collector port binds (0.0.0.0 to expose).")
    ] = None,
) -> None:
    """Serve an existing store: the /v1 tracking API, the REST API and the UI."""
    from touchpath.web.server import serve as run

    settings = settings_for(
        db, host=host, port=port, collect_port=collect_port, collect_host=collect_host
    )
    console.print(f"Touchpath on http://{settings.host}:{settings.port}  (store {settings.db})")
    if settings.collect_port is not None:
        console.print(
            f"Collector (/v1 only) on http://{settings.collect_host}:{settings.collect_port}"
        )
    with opened(db) as tp:
        nobody = not tp.store.query("SELECT 1 FROM users LIMIT 1")
    if nobody:
        console.print(
            "No users yet: sign in after [bold]touchpath users add EMAIL --role owner[/] "
            "(docs/access.md); /v1 takes write keys as before."
        )
    run(settings)


@sources_app.command("add")
def sources_add(name: str, db: DbOpt = None) -> None:
    """Create a source and print its write key."""
    with store_or_server(settings_for(db).db, create=True) as tp:
        src: Any = (
            SimpleNamespace(**tp.call("POST", "/api/sources", json={"name": name}))
            if isinstance(tp, Remote)
            else tp.store.create_source(name)
        )
    console.print(f"source [bold]{src.name}[/] ({src.id})")
    console.print(f"write key: [bold]{src.write_key}[/]")


@sources_app.command("list")
def sources_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List sources with their write keys."""
    with store_or_server(settings_for(db).db) as tp:
        if isinstance(tp, Remote):
            rows = tp.call("GET", "/api/sources")
        else:
            rows = [s.__dict__ for s in tp.store.sources()]
    print_rows(rows, "Sources", as_json)


@app.command()
def rejected(
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Show messages that were rejected, with the reason."""
    with store_or_server(settings_for(db).db) as tp:
        if isinstance(tp, Remote):
            rows = tp.call("GET", "/api/rejected", params={"limit": limit})
        else:
            rows = explore.rejected(tp.store, limit=limit)
    print_rows(rows, "Rejected messages", as_json)


@app.command()
def stats(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Event counts by channel and type."""
    with store_or_server(settings_for(db).db) as tp:
        result = (
            tp.call("GET", "/api/stats") if isinstance(tp, Remote) else explore.counts(tp.store)
        )
    if as_json:
        console.print_json(json.dumps(result))
        return
    console.print(f"{result['events']:,} events, {result['rejected']:,} rejected")
    for key in ("by_channel", "by_type"):
        table = Table(title=key.replace("_", " "))
        table.add_column(key[3:])
        table.add_column("events", justify="right")
        for k, v in result[key].items():
            table.add_row(str(k), f"{v:,}")
        console.print(table)
