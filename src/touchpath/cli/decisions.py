"""`touchpath decisions ...`: define, publish, preview and measure personalisation decisions
(docs/personalize.md). They read and write the store file; a server holding the file answers
the same over `/api/decisions`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
import yaml
from rich.table import Table

from touchpath.cli.analyse import _load  # a spec file (YAML or JSON), one reader for all
from touchpath.cli.base import DbOpt, JsonOpt, app, console, print_rows
from touchpath.cli.remote import Remote, session
from touchpath.errors import SpecError
from touchpath.events.durations import parse_duration
from touchpath.events.match import EventMatch
from touchpath.personalize import (
    DecisionInfo,
    DecisionNumbers,
    PreviewResult,
    Publication,
    SavedDecision,
    decision_numbers,
    delete_decision,
    get_decision,
    list_decisions,
    preview_for,
    publications,
    publish,
    save_decision,
    unpublish,
)
from touchpath.system import Touchpath

decisions_app = typer.Typer(
    help="Personalisation decisions: rules to content, per source (docs/personalize.md).",
    no_args_is_help=True,
)
app.add_typer(decisions_app, name="decisions")

SourceOpt = Annotated[str, typer.Option("--source", help="The source's name or id.")]
VersionOpt = Annotated[int | None, typer.Option(help="A saved version; the latest if omitted.")]


def _at(name: str, *rest: str) -> str:
    return "/".join(["/api/decisions", quote(name, safe=""), *rest])


def _listed(tp: Touchpath | Remote) -> list[DecisionInfo]:
    if isinstance(tp, Remote):
        return [DecisionInfo.model_validate(d) for d in tp.call("GET", "/api/decisions")]
    return list_decisions(tp.store)


def _saved(tp: Touchpath | Remote, name: str, version: int | None) -> SavedDecision:
    if isinstance(tp, Remote):
        params = {"version": version} if version else {}
        return SavedDecision.model_validate(tp.call("GET", _at(name), params=params))
    return get_decision(tp.store, name, version)


@decisions_app.command("save")
def save(
    file: Annotated[Path, typer.Argument(help="The decision spec (YAML or JSON).")],
    name: Annotated[
        str | None, typer.Option(help="Save under this name (else the file's).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Save a decision from a file; a change makes a new version (publish it to go live)."""
    data = _load(file)
    if name:
        data["name"] = name
    if "name" not in data:
        raise SpecError(f"{file}: name: required (or give --name)")
    with session(db) as tp:
        if isinstance(tp, Remote):
            found = tp.call("PUT", _at(str(data["name"])), json=data)
            saved = SavedDecision.model_validate(found)
        else:
            saved = save_decision(tp.store, data)
    what = "saved" if saved.new else "unchanged:"
    console.print(f"{what} decision [bold]{saved.name}[/] version {saved.version}")


@decisions_app.command("list")
def list_(as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """The decisions, their latest version and where each is published."""
    with session(db) as tp:
        rows = [
            {
                "name": d.name,
                "latest": d.latest,
                "variants": ", ".join(d.variants),
                "rules": d.rules,
                "holdout": d.holdout,
                "published": ", ".join(f"{p.source} v{p.version}" for p in d.publications),
                "updated": f"{d.updated_at:%Y-%m-%d %H:%M} by {d.updated_by}",
            }
            for d in _listed(tp)
        ]
    print_rows(rows, "Decisions", as_json)


@decisions_app.command("show")
def show(name: str, version: VersionOpt = None, as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """A decision's spec (YAML, as `save` reads it) and where it is published."""
    with session(db) as tp:
        saved = _saved(tp, name, version)
        if isinstance(tp, Remote):
            pubs = next((d.publications for d in _listed(tp) if d.name == name), [])
        else:
            pubs = publications(tp.store, name)
    spec = saved.spec.model_dump(mode="json", exclude_defaults=True)
    if as_json:
        console.print_json(json.dumps({"version": saved.version, "spec": spec,
                                       "publications": [p.model_dump(mode="json") for p in pubs]}))  # fmt: skip
        return
    console.print(f"# {saved.name} version {saved.version}, saved {saved.created_at:%Y-%m-%d %H:%M}"
                  f" by {saved.created_by}")  # fmt: skip
    for p in pubs:
        console.print(f"# published on {p.source}: version {p.version}")
    console.print(yaml.safe_dump({"name": saved.name, **spec}, sort_keys=False, allow_unicode=True))


@decisions_app.command("delete")
def delete(name: str, db: DbOpt = None) -> None:
    """Delete every version of a decision and take it off every source."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            n = int(tp.call("DELETE", _at(name))["versions"])
        else:
            n = delete_decision(tp.store, name)
    console.print(f"deleted decision [bold]{name}[/] ({n} version{'s' if n != 1 else ''})")


@decisions_app.command("publish")
def publish_(name: str, source: SourceOpt, version: VersionOpt = None, db: DbOpt = None) -> None:
    """Make a source answer a version of the decision on POST /v1/decide."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            body = {"source": source, "version": version}
            pub = Publication.model_validate(tp.call("POST", _at(name, "publish"), json=body))
        else:
            pub = publish(tp.store, name, source, version)
    console.print(f"source [bold]{pub.source}[/] answers [bold]{name}[/] version {pub.version}")


@decisions_app.command("unpublish")
def unpublish_(name: str, source: SourceOpt, db: DbOpt = None) -> None:
    """Stop answering the decision on a source."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            found = tp.call("POST", _at(name, "unpublish"), json={"source": source})
            pub = Publication.model_validate(found)
        else:
            pub = unpublish(tp.store, name, source)
    console.print(f"source [bold]{pub.source}[/] no longer answers [bold]{name}[/]")


def _context(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise SpecError(f"--context: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SpecError('--context: must be a JSON object, e.g. \'{"page": {"path": "/"}}\'')
    return value


@decisions_app.command("preview")
def preview(
    name: Annotated[str | None, typer.Argument(help="A saved decision.")] = None,
    person: Annotated[
        str, typer.Option("--as", help="The person: user_id:..., email:..., anonymous_id:...")
    ] = "",
    file: Annotated[Path | None, typer.Option("--file", help="A draft spec instead.")] = None,
    context: Annotated[
        str | None, typer.Option(help='The page, as JSON: \'{"page": {"path": "/"}}\'')
    ] = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """What a decision answers for a chosen person, and which rules matched (nothing is
    recorded)."""
    if not person:
        raise SpecError("--as: required, e.g. --as user_id:u_000042 or --as email:ann@shop.example")
    if (name is None) == (file is None):
        raise SpecError("give a saved decision's name or --file with a draft, not both")
    spec: Any = name if name is not None else _load(file)
    with session(db) as tp:
        if isinstance(tp, Remote):
            body: dict[str, Any] = {
                "identifier": person,
                "context": _context(context),
                "version": version,
            }
            path = _at(name, "preview") if name is not None else "/api/decisions/preview"
            if name is None:
                body["decision"] = spec
            result = PreviewResult.model_validate(tp.call("POST", path, json=body))
        else:
            result = preview_for(tp.store, spec, person, _context(context), version)
    if as_json:
        console.print_json(result.model_dump_json())
        return
    _print_preview(result)


def _print_preview(r: PreviewResult) -> None:
    who = r.profile_id or "nobody yet (an unknown visitor)"
    ver = f" v{r.version}" if r.version else " (draft)"
    console.print(f"[bold]{r.decision}[/]{ver} for {who}")
    why = f"rule {r.rule}" if r.rule else ("the holdout" if r.arm == "holdout" else "no rule")
    console.print(f"  variant [bold]{r.variant}[/] (arm {r.arm}, by {why})")
    console.print(f"  content {json.dumps(r.content, ensure_ascii=False)}")
    for t in r.rules:
        mark = "[green]matched[/]" if t["matched"] else "[dim]no[/]"
        console.print(f"  rule {t['rule']}: {mark}")
    if r.audiences:
        console.print(f"  audiences {', '.join(r.audiences)}")
    for label, values in (("trait", r.traits), ("computed", r.computed_traits)):
        for k, v in values.items():
            console.print(f"  {label} {k} = {json.dumps(v, ensure_ascii=False)}")


@decisions_app.command("results")
def results(
    name: str,
    goal: Annotated[str | None, typer.Option(help="Conversion event; the decision's own.")] = None,
    window: Annotated[str | None, typer.Option(help="After exposure, e.g. 7d.")] = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Exposure and conversion per variant (read by the experiments engine)."""
    seconds = parse_duration(window) if window else None
    if seconds is not None and not isinstance(seconds, int):
        raise SpecError(f"--window: not a duration: {window!r}")
    with session(db) as tp:
        if isinstance(tp, Remote):
            params = {"version": version, "goal": goal, "window": seconds}
            found = tp.call("GET", _at(name, "results"),
                            params={k: v for k, v in params.items() if v is not None})  # fmt: skip
            nums = DecisionNumbers.model_validate(found)
        else:
            spec = get_decision(tp.store, name, version).spec
            match = EventMatch(event=goal) if goal else None
            nums = decision_numbers(tp.store, spec, match, seconds)
    if as_json:
        console.print_json(nums.model_dump_json())
        return
    table = Table(
        title=f"{name}: {nums.goal or 'exposures only (no goal)'}, control {nums.control}"
    )
    for col in ("arm", "exposed", "conversions", "rate", "lift", "chance to win"):
        table.add_column(col)
    for a in nums.arms:
        table.add_row(
            a.arm,
            f"{a.exposed:,}",
            "" if a.conversions is None else f"{a.conversions:,}",
            "" if a.conversion_rate is None else f"{100 * a.conversion_rate:.2f}%",
            "" if a.lift is None else f"{100 * a.lift:+.1f}%",
            "" if a.chance_to_win is None else f"{100 * a.chance_to_win:.0f}%",
        )
    console.print(table)
    if nums.summary:
        console.print(nums.summary)
    if nums.multiple_exposures:
        console.print(f"[dim]{nums.multiple_exposures:,} people saw two arms and are left out[/]")
