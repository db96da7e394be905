"""The `touchpath` command: one group; `serve` and `demo` are the main entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from touchpath.errors import TouchpathError
from touchpath.settings import Settings
from touchpath.store import Store, explore

__all__ = ["app", "main"]

app = typer.Typer(
    name="touchpath",
    help="Touchpath: collect, unify, analyse, map and act on customer journeys.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
sources_app = typer.Typer(help="Sources and their write keys.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
console = Console()
err = Console(stderr=True)

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="DuckDB file of the store (env TOUCHPATH_DB).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def settings_for(db: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment with the command's options on top."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if db is not None:
        values["db"] = db
    return Settings(**values)


def print_rows(rows: list[dict[str, Any]], title: str, as_json: bool) -> None:
    """Rows as a rich table, or as JSON with --json."""
    if as_json:
        console.print_json(json.dumps(rows, default=str))
        return
    table = Table(title=title)
    for name in rows[0].keys() if rows else ["(none)"]:
        table.add_column(name)
    for row in rows:
        table.add_row(*[str(v) for v in row.values()])
    console.print(table)


@app.command()
def serve(
    db: DbOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
) -> None:
    """Serve an existing store: the /v1 tracking API, the REST API and the UI."""
    from touchpath.web.server import serve as run

    settings = settings_for(db, host=host, port=port)
    console.print(f"Touchpath on http://{settings.host}:{settings.port}  (store {settings.db})")
    run(settings)


@sources_app.command("add")
def sources_add(name: str, db: DbOpt = None) -> None:
    """Create a source and print its write key."""
    with Store(settings_for(db).db, settings_for(db)) as store:
        src = store.create_source(name)
    console.print(f"source [bold]{src.name}[/] ({src.id})")
    console.print(f"write key: [bold]{src.write_key}[/]")


@sources_app.command("list")
def sources_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List sources with their write keys."""
    with Store(settings_for(db).db, settings_for(db)) as store:
        rows = [s.__dict__ for s in store.sources()]
    print_rows(rows, "Sources", as_json)


@app.command()
def rejected(
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Show messages that were rejected, with the reason."""
    with Store(settings_for(db).db, settings_for(db)) as store:
        rows = explore.rejected(store, limit=limit)
    print_rows(rows, "Rejected messages", as_json)


@app.command()
def stats(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Event counts by channel and type."""
    with Store(settings_for(db).db, settings_for(db)) as store:
        result = explore.counts(store)
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


def main() -> None:
    """Entry point: turn Touchpath's own errors into a clear message and exit code 2."""
    try:
        app()
    except TouchpathError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
