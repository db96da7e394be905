"""`touchpath map ...`: validate, save, list, bind, render, discover, compare, schema."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from touchpath.cli.base import DbOpt, JsonOpt, app, console, print_rows
from touchpath.cli.remote import Remote, session
from touchpath.errors import SpecError
from touchpath.maps.arms import bind_arms
from touchpath.maps.bind import bind_map
from touchpath.maps.bound import BoundMap
from touchpath.maps.compare import compare_maps, render_compare
from touchpath.maps.discover import discover_map, load_taxonomy
from touchpath.maps.document import JourneyMap, dump_map, load_map_file, schema_text
from touchpath.maps.library import MapEntry, get_map, list_maps, save_map
from touchpath.maps.render import FORMATS, render
from touchpath.store import Store
from touchpath.system import Touchpath

map_app = typer.Typer(help="Journey maps: documents bound to live data.", no_args_is_help=True)
app.add_typer(map_app, name="map")

StartOpt = Annotated[
    datetime | None, typer.Option(help="Only events at or after this UTC time.", show_default=False)
]
EndOpt = Annotated[
    datetime | None, typer.Option(help="Only events before this UTC time.", show_default=False)
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")]


def _is_file(ref: str) -> bool:
    path = Path(ref)
    return path.suffix in (".yaml", ".yml", ".json") or path.is_file()


def _doc(store: Store, ref: str) -> JourneyMap:
    """A map from a YAML file path, or a saved/example map by name."""
    return load_map_file(ref) if _is_file(ref) else get_map(store, ref)[0]


def _write(data: bytes | str, out: Path | None) -> None:
    if out is None:
        if isinstance(data, bytes):
            raise SpecError("--out: required for binary formats (png, pdf)")
        typer.echo(data, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data if isinstance(data, bytes) else data.encode())
    console.print(f"wrote {out} ({out.stat().st_size:,} bytes)")


@map_app.command("validate")
def validate(files: list[Path]) -> None:
    """Check map documents; errors name the path, e.g. stages[2].touchpoints[0].match.event."""
    failed = 0
    for f in files:
        try:
            doc = load_map_file(f)
        except SpecError as exc:
            failed += 1
            console.print(f"[red]invalid[/] {exc}")
        else:
            console.print(f"[green]ok[/] {f}: {doc.name}, {len(doc.stages)} stages, "
                          f"{len(doc.touchpoints())} touchpoints")  # fmt: skip
    if failed:
        raise typer.Exit(1)


@map_app.command("schema")
def schema(out: OutOpt = None) -> None:
    """Print (or write) the JSON Schema of the map document."""
    _write(schema_text(), out)


@map_app.command("save")
def save(file: Path, db: DbOpt = None) -> None:
    """Save a new version of a map document in the store."""
    doc = load_map_file(file)
    text = file.read_text(encoding="utf-8")
    with session(db) as tp:
        if isinstance(tp, Remote):
            version = tp.call("POST", "/api/maps", json={"yaml": text})["version"]
        else:
            version = save_map(tp.store, doc, text)
    console.print(f"saved {doc.name} version {version}")


@map_app.command("list")
def list_(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Saved maps (latest versions) and the shipped examples."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            entries = [_entry(e) for e in tp.call("GET", "/api/maps")]
        else:
            entries = list_maps(tp.store)
    rows = [e.__dict__ for e in entries]
    print_rows(rows, "Journey maps", as_json)


def _entry(found: dict[str, Any]) -> MapEntry:
    """A map entry as the server lists it, with its times read back as times."""
    at = found.get("created_at")
    return MapEntry(**{**found, "created_at": datetime.fromisoformat(at) if at else None})


def _bind(
    tp: Touchpath | Remote,
    ref: str,
    start: datetime | None,
    end: datetime | None,
    optimize: bool = False,
) -> BoundMap:
    """The map of `ref` (a file or a name) bound here, or by the server holding the store."""
    if not isinstance(tp, Remote):
        return bind_map(tp.store, _doc(tp.store, ref), start, end, optimize=optimize)
    params = {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
    if _is_file(ref):
        text = Path(ref).read_text(encoding="utf-8")
        load_map_file(ref)  # its errors name the file, as here
        found = tp.call("POST", "/api/maps/bind", params=params, json={"yaml": text})
    else:
        params["optimize"] = str(optimize).lower()
        found = tp.call("GET", f"/api/maps/{quote(ref, safe='')}/bind", params=params)
    return BoundMap.model_validate(found)


@map_app.command("bind")
def bind(
    map_ref: Annotated[str, typer.Argument(metavar="MAP", help="A YAML file or a map name.")],
    db: DbOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    optimize: Annotated[
        bool,
        typer.Option(
            "--optimize", help="Rebuild the sorted journey copy first when it is stale (faster)."
        ),
    ] = False,
) -> None:
    """Bind a map to the events: numbers per stage and touchpoint, pain points, opportunities."""
    with session(db) as tp:
        bm = _bind(tp, map_ref, start, end, optimize)
    if as_json or out:
        _write(bm.model_dump_json(indent=2), out)
        return
    rows = [
        {"stage": s.title, "touchpoint": t.name, "reach": t.persona.reach,
         "to goal": None if t.persona.to_goal is None else round(t.persona.to_goal, 3),
         "emotion": None if t.emotion is None else round(t.emotion, 2)}
        | ({"others reach": t.others.reach,
            "others to goal": None if t.others.to_goal is None else round(t.others.to_goal, 3)}
           if t.others else {})
        for s in bm.stages for t in s.touchpoints
    ]  # fmt: skip
    others = f", everyone else {bm.others_size:,}" if bm.others_size is not None else ""
    print_rows(rows, f"{bm.map.heading}: {bm.persona_size:,} people{others}", False)
    print_rows(
        [{"rank": p.rank, "kind": p.kind, "pain point": p.summary} for p in bm.pain_points[:10]],
        "Pain points",
        False,
    )
    for o in bm.opportunities[:10]:
        console.print(f"• {o.text}")
    for p in bm.pending:
        console.print(f"[yellow]pending:[/] {p}")


@map_app.command("render")
def render_cmd(
    map_ref: Annotated[str, typer.Argument(metavar="MAP", help="A YAML file or a map name.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")] = "",
    out: OutOpt = None,
    db: DbOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
) -> None:
    """Render a bound map as self-contained HTML, SVG, PNG or PDF (A3 landscape)."""
    fmt = fmt or (out.suffix.lstrip(".") if out else "html")
    with session(db) as tp:
        bm = _bind(tp, map_ref, start, end)
    _write(render(bm, fmt), out)


@map_app.command("discover")
def discover(
    db: DbOpt = None,
    name: Annotated[str, typer.Option(help="Name of the new map.")] = "discovered",
    taxonomy: Annotated[
        Path | None, typer.Option(help="YAML {stage: [event names]}; default built in.")
    ] = None,
    per_stage: Annotated[int, typer.Option(help="Touchpoints per stage.")] = 5,
    goal: Annotated[str, typer.Option(help="Goal event.")] = "Order Completed",
    start: StartOpt = None,
    end: EndOpt = None,
    out: OutOpt = None,
) -> None:
    """Write a current-state map discovered from the events; edit it and bind it again."""
    tax = load_taxonomy(taxonomy.read_text(encoding="utf-8")) if taxonomy else None
    with session(db) as tp:
        if isinstance(tp, Remote):
            params: dict[str, Any] = {"name": name, "per_stage": per_stage, "goal": goal}
            params |= {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v}
            found = tp.call("POST", "/api/maps/discover", params=params, json=tax)
            doc = JourneyMap.model_validate(found["document"])
        else:
            doc = discover_map(
                tp.store, name=name, taxonomy=tax, per_stage=per_stage, start=start, end=end,
                goal=goal,
            )  # fmt: skip
    _write(dump_map(doc), out)


def _arms(
    tp: Touchpath | Remote,
    ref: str,
    experiment: str,
    arms: list[str] | None,
    start: datetime | None,
    end: datetime | None,
) -> tuple[BoundMap, BoundMap, tuple[str, str]]:
    """The map of `ref` bound for two arms of `experiment`, here or by the server."""
    if not isinstance(tp, Remote):
        got = bind_arms(tp.store, _doc(tp.store, ref), experiment, arms, start, end)
        return got.a, got.b, got.arms
    params: dict[str, Any] = {
        k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None
    }
    params.update({"a": ref, "experiment": experiment})
    if arms:
        params["arms"] = arms
    found = tp.call("GET", "/api/maps/compare", params=params)
    la, lb = found["labels"]
    return BoundMap.model_validate(found["a"]), BoundMap.model_validate(found["b"]), (la, lb)


@map_app.command("compare")
def compare(
    first: Annotated[str, typer.Argument(help="A YAML file or a map name.")],
    second: Annotated[
        str | None, typer.Argument(help="A YAML file or a map name (not with --experiment).")
    ] = None,
    db: DbOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    second_start: Annotated[
        datetime | None, typer.Option(help="Time range of the second map (default: the same).")
    ] = None,
    second_end: Annotated[datetime | None, typer.Option(help="End of the second range.")] = None,
    experiment: Annotated[
        str | None,
        typer.Option(help="A saved experiment: the map bound once per arm, side by side."),
    ] = None,
    arm: Annotated[
        list[str] | None,
        typer.Option(help="An arm to compare (twice; default: the control and the other)."),
    ] = None,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Two maps side by side (or one map in two time ranges, or for two arms of an
    experiment) with the differences marked."""
    with session(db) as tp:
        if experiment is not None:
            a, b, labels = _arms(tp, first, experiment, arm, start, end)
        elif second is None:
            raise typer.BadParameter("a second map is required, unless --experiment is given")
        else:
            a = _bind(tp, first, start, end)
            b = _bind(tp, second, second_start or start, second_end or end)
            labels = (first, second)
    if as_json:
        console.print_json(json.dumps([d.__dict__ for d in compare_maps(a, b)]))
        return
    _write(render_compare(a, b, labels), out)
