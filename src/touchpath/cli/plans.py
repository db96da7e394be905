"""`touchpath plan ...`: tracking plans (docs/tracking-plans.md). Beside a running server they
go through its REST API, so its collector starts checking at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import typer

from touchpath import catalogue as cat
from touchpath.cli.base import DbOpt, JsonOpt, app, console, print_json, print_rows
from touchpath.cli.remote import Remote, session
from touchpath.errors import SpecError

plan_app = typer.Typer(
    help="Tracking plans: a JSON Schema per event, assigned per source (docs/tracking-plans.md).",
    no_args_is_help=True,
)
app.add_typer(plan_app, name="plan")

NameArg = Annotated[str, typer.Argument(help="The plan's name.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="yaml or json.")]


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        console.print(f"wrote {out}")


def _fmt(value: str) -> Any:
    if value not in ("yaml", "json"):
        raise SpecError(f"--format: {value!r} is not yaml or json")
    return value


@plan_app.command("infer")
def infer(
    name: NameArg,
    event: Annotated[list[str] | None, typer.Option("--event", help="Only this event.")] = None,
    save: Annotated[bool, typer.Option(help="Save it under NAME.")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write it to a file.")] = None,
    fmt: FormatOpt = "yaml",
    db: DbOpt = None,
) -> None:
    """Write a plan from the data (the event catalogue): each event's properties and types."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            body = {"name": name, "events": event or None, "save": save}
            plan = cat.TrackingPlan.model_validate(tp.call("POST", "/api/plans/infer", json=body))
        else:
            with tp.store.reading() as cur:
                plan = cat.infer(cur, name, event or None)
            if save:
                cat.save_plan(tp.store, plan)
    _write(cat.export(plan, _fmt(fmt)), out)


@plan_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A plan in YAML or JSON.")],
    name: Annotated[str | None, typer.Option(help="Save it under this name.")] = None,
    db: DbOpt = None,
) -> None:
    """Save (create or replace) a plan from a YAML or JSON file."""
    try:
        text = file.read_text()
    except OSError as exc:
        raise SpecError(f"{file}: cannot read the plan: {exc}") from None
    plan = cat.read_plan(text, name)
    with session(db) as tp:
        if isinstance(tp, Remote):
            tp.call("PUT", f"/api/plans/{quote(plan.name, safe='')}", json=plan.model_dump())
        else:
            cat.save_plan(tp.store, plan)
    console.print(f"saved plan {plan.name} ({len(plan.events)} events)")


@plan_app.command("export")
def export_(
    name: NameArg,
    fmt: FormatOpt = "yaml",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write it to a file.")] = None,
    db: DbOpt = None,
) -> None:
    """Print a plan as YAML or JSON."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            data = tp.call("GET", f"/api/plans/{quote(name, safe='')}")
            plan = cat.TrackingPlan.model_validate(data)
        else:
            with tp.store.reading() as cur:
                plan = cat.get_plan(cur, name)
    _write(cat.export(plan, _fmt(fmt)), out)


@plan_app.command("list")
def list_(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every plan and the sources it is assigned to."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            plans = tp.call("GET", "/api/plans")
            given = tp.call("GET", "/api/plans/assignments")
        else:
            with tp.store.reading() as cur:
                plans = [p.model_dump(mode="json") for p in cat.list_plans(cur)]
                given = [a.model_dump(mode="json") for a in cat.assignments(cur)]
    modes = {a["source"]: a["mode"] for a in given}
    rows = [
        {"plan": p["name"], "events": p["events"],
         "sources": ", ".join(f"{s} ({modes.get(s, '?')})" for s in p["sources"])}
        for p in plans
    ]  # fmt: skip
    print_rows(rows, "Tracking plans", as_json)


@plan_app.command("assign")
def assign(
    source: Annotated[str, typer.Argument(help="The source (name or id).")],
    plan: Annotated[str, typer.Argument(help="The plan's name.")],
    mode: Annotated[str, typer.Option(help="flag, block or drop.")] = "flag",
    db: DbOpt = None,
) -> None:
    """Check the messages of SOURCE against PLAN: flag, block or drop."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            body = {"plan": plan, "mode": mode}
            tp.call("PUT", f"/api/plans/assignments/{quote(source, safe='')}", json=body)
        else:
            cat.assign(tp.store, source, plan, mode)
    console.print(f"source {source}: plan {plan}, mode {mode}")


@plan_app.command("unassign")
def unassign(
    source: Annotated[str, typer.Argument(help="The source (name or id).")], db: DbOpt = None
) -> None:
    """Stop checking SOURCE against a plan."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            tp.call("DELETE", f"/api/plans/assignments/{quote(source, safe='')}")
        else:
            cat.unassign(tp.store, source)
    console.print(f"source {source}: no plan")


@plan_app.command("delete")
def delete(name: NameArg, db: DbOpt = None) -> None:
    """Delete a plan (and its assignments)."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            tp.call("DELETE", f"/api/plans/{quote(name, safe='')}")
        else:
            cat.delete_plan(tp.store, name)
    console.print(f"deleted plan {name}")


@plan_app.command("violations")
def violations(
    by: Annotated[str, typer.Option(help="event, property, source or kind.")] = "event",
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Violation counts by event, property or source, with the latest example of each."""
    if by not in ("event", "property", "source", "kind"):
        raise SpecError(f"--by: {by!r} is not event, property, source or kind")
    with session(db) as tp:
        if isinstance(tp, Remote):
            query = urlencode({"by": by, **({"source": source} if source else {})})
            groups = tp.call("GET", f"/api/plans/violations?{query}")["groups"]
        else:
            with tp.store.reading() as cur:
                found = cat.violation_counts(cur, by, source)  # type: ignore[arg-type]
                groups = [g.model_dump(mode="json") for g in found]
    if as_json:
        print_json(groups)
        return
    keys = {"event": ["event"], "property": ["event", "property"], "source": ["source"],
            "kind": ["kind"]}[by]  # fmt: skip
    rows = [
        {**{k: g[k] for k in keys}, "violations": g["violations"], "messages": g["messages"],
         "blocked": g["blocked"], "example": g["example"]}
        for g in groups
    ]  # fmt: skip
    print_rows(rows, f"Violations by {by}", False)
