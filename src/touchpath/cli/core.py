"""Core commands: serve, sources, stats, rejected."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

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
from touchpath.cli.remote import Remote, session
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


GraceOpt = Annotated[
    float,
    typer.Option(
        "--grace-hours", min=0, max=24 * 90, help="How long the current keys keep working."
    ),
]


def _source_json(src: Any) -> dict[str, Any]:
    """A Source as the REST API answers it (the CLI prints the same from either)."""
    d = dataclasses.asdict(src)
    d["key_prefix"] = src.key_prefix
    out: dict[str, Any] = json.loads(json.dumps(d, default=lambda v: v.isoformat()))
    return out


def _source_call(db: Any, method: str, path: str, local: Any, **kw: Any) -> dict[str, Any]:
    with session(db, **kw.pop("opened", {})) as tp:
        if isinstance(tp, Remote):
            out: dict[str, Any] = tp.call(method, path, **kw)
            return out
        return _source_json(local(tp.store))


def _print_key(src: dict[str, Any], what: str) -> None:
    console.print(f"source [bold]{src['name']}[/] ({src['id']})")
    console.print(f"{what}: [bold]{src['write_key']}[/]")
    console.print("shown this once: only its prefix is kept")


@sources_app.command("add")
def sources_add(name: str, db: DbOpt = None) -> None:
    """Create a source and print its write key (shown this once)."""
    src = _source_call(
        db, "POST", "/api/sources", lambda s: s.create_source(name),
        json={"name": name}, opened={"create": True},
    )  # fmt: skip
    _print_key(src, "write key")


@sources_app.command("rotate")
def sources_rotate(name: str, db: DbOpt = None, grace_hours: GraceOpt = 24) -> None:
    """Give a source a new write key; its current keys keep working for --grace-hours."""
    grace = timedelta(hours=grace_hours)
    src = _source_call(
        db, "POST", f"/api/sources/{quote(name, safe='')}/rotate",
        lambda s: s.rotate_source_key(name, grace, _audit("source.rotate", name, grace_hours)),
        json={"grace_hours": grace_hours},
    )  # fmt: skip
    _print_key(src, "new write key")
    old = [k["prefix"] for k in src["keys"][1:] if k["live"]]
    if old:
        console.print(f"still working for {grace_hours:g} h: {', '.join(old)}")


@sources_app.command("revoke")
def sources_revoke(
    name: str,
    db: DbOpt = None,
    key: Annotated[str | None, typer.Option(help="The key's prefix; default: every key.")] = None,
) -> None:
    """End a source's write key (by its prefix), or all of them, at once."""
    src = _source_call(
        db, "POST", f"/api/sources/{quote(name, safe='')}/revoke",
        lambda s: s.revoke_source_key(name, key, _audit("source.revoke", name, key)),
        json={"prefix": key},
    )  # fmt: skip
    live = [k["prefix"] for k in src["keys"] if k["live"]]
    console.print(f"source [bold]{src['name']}[/]: live keys {', '.join(live) or 'none'}")


def _audit(action: str, name: str, value: Any) -> Any:
    from touchpath.access.audit import record

    detail = {"grace_hours": value} if action == "source.rotate" else {"prefix": value}
    return lambda con: record(con, "cli", action, name, detail)


@sources_app.command("list")
def sources_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List sources with the prefix of their live write keys."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            rows = tp.call("GET", "/api/sources")
        else:
            rows = [_source_json(s) for s in tp.store.sources()]
    if as_json:
        print_rows(rows, "Sources", True)
        return
    table = [
        {
            "name": r["name"],
            "id": r["id"],
            "live keys": ", ".join(k["prefix"] + "…" for k in r["keys"] if k["live"]),
            "created_at": r["created_at"],
        }
        for r in rows
    ]
    print_rows(table, "Sources", False)


@app.command()
def rejected(
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Show messages that were rejected, with the reason."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            rows = tp.call("GET", "/api/rejected", params={"limit": limit})
        else:
            rows = explore.rejected(tp.store, limit=limit)
    print_rows(rows, "Rejected messages", as_json)


@app.command()
def stats(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Event counts by channel and type."""
    with session(db) as tp:
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
