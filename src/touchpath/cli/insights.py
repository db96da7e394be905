"""`touchpath insights ...` and `touchpath dashboards ...`: save an analysis spec under a name,
run it, and gather insights on dashboards (docs/insights.md). Beside a running server they go
through its REST API (`touchpath.cli.remote`), with the same output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
import yaml
from rich.table import Table

from touchpath import insights as saved
from touchpath.analytics import registry
from touchpath.cli.analyse import _load  # a spec file (YAML or JSON), one reader for all
from touchpath.cli.base import DbOpt, JsonOpt, app, console
from touchpath.cli.remote import Remote, session
from touchpath.errors import SpecError
from touchpath.insights.headline import headline
from touchpath.system import Touchpath

insights_app = typer.Typer(
    help="Saved insights: analysis specs kept under a name (docs/insights.md).",
    no_args_is_help=True,
)
dashboards_app = typer.Typer(
    help="Dashboards of saved insights (docs/insights.md).", no_args_is_help=True
)
app.add_typer(insights_app, name="insights")
app.add_typer(dashboards_app, name="dashboards")

NameArg = Annotated[str, typer.Argument(help="The insight's name (any text but '/').")]
BoardArg = Annotated[str, typer.Argument(help="The dashboard's name.")]


def _at(name: str) -> str:
    return quote(name, safe="")


def _insight_json(tp: Touchpath | Remote, name: str) -> dict[str, Any]:
    if isinstance(tp, Remote):
        found: dict[str, Any] = tp.call("GET", f"/api/insights/{_at(name)}")
        return found
    return saved.get_insight(tp.store, name).model_dump(mode="json")


def _result_json(tp: Touchpath | Remote, name: str) -> dict[str, Any]:
    if isinstance(tp, Remote):
        found: dict[str, Any] = tp.call("GET", f"/api/insights/{_at(name)}/result")
        return found
    return saved.run_insight(tp.store, name).model_dump(mode="json")


def _board_json(tp: Touchpath | Remote, name: str) -> dict[str, Any]:
    if isinstance(tp, Remote):
        found: dict[str, Any] = tp.call("GET", f"/api/dashboards/{_at(name)}")
        return found
    return saved.get_dashboard(tp.store, name).model_dump(mode="json")


@insights_app.command("save")
def insights_save(
    name: NameArg,
    spec: Annotated[Path, typer.Option("--spec", help="The analysis spec (YAML or JSON).")],
    kind: Annotated[
        str | None, typer.Option(help="The kind, when the spec file does not name it.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What it answers.")] = None,
    db: DbOpt = None,
) -> None:
    """Save (create or replace) an insight from a spec file."""
    data = _load(spec)
    if kind:
        data["kind"] = kind
    elif "kind" not in data:
        raise SpecError(
            f"--kind: required, {spec} names no kind (one of {', '.join(registry.kinds())})"
        )
    checked = saved.spec_of(data)  # the same error here as from the server, before any call
    with session(db) as tp:
        if isinstance(tp, Remote):
            body = {"spec": data, "description": description or ""}
            tp.call("PUT", f"/api/insights/{_at(name)}", json=body)
        else:
            saved.save_insight(tp.store, name, checked, description or "")
    console.print(f"saved insight [bold]{name}[/] ({checked.kind})")


@insights_app.command("list")
def insights_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the saved insights, most recently changed first."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            rows = tp.call("GET", "/api/insights", params={"kind": kind} if kind else {})
        else:
            rows = [i.model_dump(mode="json") for i in saved.list_insights(tp.store, kind)]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print("No saved insight yet: `touchpath insights save NAME --spec FILE`.")
        return
    table = Table(title="Saved insights")
    for col in ("name", "kind", "description", "changed"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["kind"], r["description"], str(r["updated_at"])[:16])
    console.print(table)


@insights_app.command("show")
def insights_show(name: NameArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Print an insight's spec as YAML (to edit and save again with --spec)."""
    with session(db) as tp:
        found = _insight_json(tp, name)
    if as_json:
        console.print_json(json.dumps(found))
        return
    spec = {k: v for k, v in found["spec"].items() if v is not None}
    typer.echo(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), nl=False)


@insights_app.command("run")
def insights_run(name: NameArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Run a saved insight now and print its headline (or the whole result with --json)."""
    with session(db) as tp:
        result = _result_json(tp, name)
    if as_json:
        console.print_json(json.dumps(result))
        return
    console.print(f"[bold]{name}[/] ({result['kind']}): {headline(result)}")
    if result.get("as_of"):
        console.print(f"[dim]as of {result['as_of']} (read from the journey copy)[/]")


@insights_app.command("delete")
def insights_delete(name: NameArg, db: DbOpt = None) -> None:
    """Delete a saved insight (and take it off every dashboard)."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            boards = tp.call("DELETE", f"/api/insights/{_at(name)}")["removed_from"]
        else:
            boards = saved.delete_insight(tp.store, name)
    off = f"; taken off {', '.join(boards)}" if boards else ""
    console.print(f"deleted insight [bold]{name}[/]{off}")


@dashboards_app.command("list")
def dashboards_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List the dashboards and their insights."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            rows = tp.call("GET", "/api/dashboards")
        else:
            rows = [d.model_dump(mode="json") for d in saved.list_dashboards(tp.store)]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print("No dashboard yet: `touchpath dashboards add NAME INSIGHT`.")
        return
    table = Table(title="Dashboards")
    for col in ("name", "insights", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], ", ".join(i["name"] for i in r["insights"]), r["description"])
    console.print(table)


@dashboards_app.command("show")
def dashboards_show(name: BoardArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Run every insight of a dashboard and print each one's headline."""
    with session(db) as tp:
        board = _board_json(tp, name)
        results = [_result_json(tp, i["name"]) for i in board["insights"]]
    if as_json:
        console.print_json(json.dumps({**board, "results": results}))
        return
    console.print(
        f"[bold]{board['name']}[/]" + (f": {board['description']}" if board["description"] else "")
    )
    if not results:
        console.print("  (no insight yet: `touchpath dashboards add NAME INSIGHT`)")
    for insight, result in zip(board["insights"], results, strict=True):
        console.print(f"  [bold]{insight['name']}[/] ({insight['kind']}): {headline(result)}")


@dashboards_app.command("save")
def dashboards_save(
    name: BoardArg,
    insight: Annotated[
        list[str] | None, typer.Option("--insight", help="A saved insight, in order (repeat).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
    db: DbOpt = None,
) -> None:
    """Save (create or replace) a dashboard with these insights in this order."""
    names = insight or []
    with session(db) as tp:
        if isinstance(tp, Remote):
            body = {"insights": names, "description": description or ""}
            tp.call("PUT", f"/api/dashboards/{_at(name)}", json=body)
        else:
            saved.save_dashboard(tp.store, name, names, description or "")
    console.print(f"saved dashboard [bold]{name}[/] with {len(names)} insight(s)")


@dashboards_app.command("add")
def dashboards_add(
    name: BoardArg,
    insight: Annotated[str, typer.Argument(help="A saved insight's name.")],
    db: DbOpt = None,
) -> None:
    """Add a saved insight at the end of a dashboard (made when there is none)."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            board = tp.call(
                "POST", f"/api/dashboards/{_at(name)}/insights", json={"insight": insight}
            )
        else:
            board = saved.add_to_dashboard(tp.store, name, insight).model_dump(mode="json")
    console.print(f"dashboard [bold]{name}[/]: {', '.join(i['name'] for i in board['insights'])}")


@dashboards_app.command("remove")
def dashboards_remove(
    name: BoardArg,
    insight: Annotated[str, typer.Argument(help="The insight to take off.")],
    db: DbOpt = None,
) -> None:
    """Take an insight off a dashboard (the insight stays saved)."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            board = tp.call("DELETE", f"/api/dashboards/{_at(name)}/insights/{_at(insight)}")
        else:
            board = saved.remove_from_dashboard(tp.store, name, insight).model_dump(mode="json")
    left = ", ".join(i["name"] for i in board["insights"]) or "no insight"
    console.print(f"dashboard [bold]{name}[/]: {left}")


@dashboards_app.command("delete")
def dashboards_delete(name: BoardArg, db: DbOpt = None) -> None:
    """Delete a dashboard (its insights stay saved)."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            tp.call("DELETE", f"/api/dashboards/{_at(name)}")
        else:
            saved.delete_dashboard(tp.store, name)
    console.print(f"deleted dashboard [bold]{name}[/]")
