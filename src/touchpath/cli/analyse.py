"""Commands `funnel`, `paths` and `retention`: a spec from options and/or `--spec file`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from touchpath.analytics import api, journey
from touchpath.analytics.funnels import SavedAudience
from touchpath.cli import base
from touchpath.cli.base import DbOpt, JsonOpt, app, note_as_of, print_json
from touchpath.cli.remote import Remote, analyse, session
from touchpath.errors import SpecError

if TYPE_CHECKING:
    from touchpath.analytics.funnels import FunnelResult, SavedAudience

SpecOpt = Annotated[
    Path | None, typer.Option("--spec", help="A spec file (YAML or JSON); options override it.")
]
AllowOpt = Annotated[
    bool,
    typer.Option(
        "--allow-unknown",
        help="Allow event and property names the store has never seen (events still to come).",
    ),
]


def _load(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec: {exc}") from None
    import yaml  # only for a spec file (a command with options alone never loads it)

    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SpecError(f"{path}: not valid {path.suffix[1:] or 'YAML'}: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: the spec must be a mapping")
    return data


def _merge(spec: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {**spec, **{k: v for k, v in options.items() if v not in (None, [], ())}}


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


def _dur(s: float | None) -> str:
    if s is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s / size:.1f}{unit}"
    return f"{s:.0f}s"


def _print(data: Any, as_json: bool) -> bool:
    if as_json:
        print_json(data.model_dump(mode="json"))
    return as_json


def _save_dropped(tp: Any, spec: Any, save: tuple[int, str], group: str | None) -> SavedAudience:
    """Who dropped at a step as a static audience, here or through the server."""
    step, name = save
    if isinstance(tp, Remote):
        body = {
            "spec": spec.model_dump(mode="json"),
            "step": step,
            "audience": name,
            "group": group,
        }
        return SavedAudience.model_validate(
            tp.call("POST", "/api/analyses/funnel/save-dropped", json=body)
        )
    return api.save_dropped(tp.store, spec, step, name, group)


@app.command()
def funnel(
    step: Annotated[list[str] | None, typer.Option("--step", help="A step's event name.")] = None,
    window: Annotated[str | None, typer.Option(help="Conversion window, e.g. 7d.")] = None,
    order: Annotated[str | None, typer.Option(help="ordered, strict or any.")] = None,
    breakdown: Annotated[
        str | None,
        typer.Option(
            help="channel, first_touch_channel, property:<name>, audience or audience:<a>,<b>."
        ),
    ] = None,
    trend: Annotated[str | None, typer.Option(help="day or week.")] = None,
    dropped_at: Annotated[int | None, typer.Option(help="List who dropped at step k.")] = None,
    save_dropped: Annotated[
        str | None,
        typer.Option(help="STEP:NAME saves who dropped at STEP as static audience NAME."),
    ] = None,
    dropped_group: Annotated[
        str | None, typer.Option(help="With --save-dropped: only this breakdown group.")
    ] = None,
    spec: SpecOpt = None,
    allow_unknown: AllowOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-step counts and conversion of a funnel."""
    data = _merge(
        _load(spec),
        allow_unknown=allow_unknown or None,
        steps=[{"event": s} for s in step or []],
        window=window,
        order=order,
        breakdown=_breakdown(breakdown),
        trend=trend,
        dropped_at=dropped_at,
    )
    parsed = api.funnel_spec(data)
    save: tuple[int, str] | None = None
    if save_dropped is not None:
        k, _, name = save_dropped.partition(":")
        if not k.strip().isdigit() or not name:
            raise typer.BadParameter(f"--save-dropped: expected STEP:NAME, got {save_dropped!r}")
        save = int(k), name
    with session(db) as tp:
        result = analyse(tp, parsed)
        saved = _save_dropped(tp, parsed, save, dropped_group) if save else None
    if as_json:
        out = result.model_dump(mode="json")
        if saved is not None:
            out["saved"] = saved.model_dump(mode="json")
        print_json(out)
    else:
        _print_funnel(result, saved)


def _breakdown(text: str | None) -> dict[str, Any] | None:
    """`--breakdown`'s words as a spec's breakdown: `property:<name>`, `audience:<a>,<b>`, ..."""
    if not text:
        return None
    kind, _, prop = text.partition(":")
    if kind == "property":
        return {"by": "event_property", "property": prop}
    if kind == "audience" and prop:
        return {"by": "audience", "audiences": prop.split(",")}
    return {"by": kind}


def _print_funnel(result: FunnelResult, saved: SavedAudience | None) -> None:
    """A funnel's tables: steps per group, the trend, who dropped and the saved audience."""
    from rich.table import Table  # tables only: a command with --json never loads rich

    note_as_of(result)
    for group in result.groups:
        title = "Funnel" if group.value is None else f"Funnel: {group.value}"
        table = Table(title=title)
        for col in ("step", "name", "count", "conversion", "from previous", "median", "p90"):
            table.add_column(col, justify="left" if col == "name" else "right")
        for s in group.steps:
            t = s.time_from_previous
            table.add_row(
                str(s.index), s.name, f"{s.count:,}", _pct(s.conversion),
                _pct(s.step_conversion), _dur(t.median_s if t else None),
                _dur(t.p90_s if t else None),
            )  # fmt: skip
        base.console.print(table)
    if result.trend:
        table = Table(title="Conversion by entry period")
        for col in ("period", "entered", "converted", "conversion"):
            table.add_column(col, justify="right")
        for p in result.trend:
            table.add_row(str(p.period), f"{p.entered:,}", f"{p.converted:,}", _pct(p.conversion))
        base.console.print(table)
    if result.dropped:
        base.console.print(
            f"{result.dropped.total:,} dropped at step {result.dropped.step}: "
            + ", ".join(result.dropped.profiles[:20])
        )
    if saved is not None:
        base.console.print(
            f"audience [bold]{saved.audience}[/]: {saved.size:,} who dropped at step {saved.step} "
            f"({saved.entered:,} entered, {saved.exited:,} exited)"
        )


@app.command()
def paths(
    start: Annotated[str | None, typer.Option(help="Start event name.")] = None,
    end: Annotated[str | None, typer.Option(help="End event name.")] = None,
    steps: Annotated[int | None, typer.Option(help="Events per path.")] = None,
    session_gap: Annotated[str | None, typer.Option(help="Inactivity that ends a session.")] = None,
    min_weight: Annotated[int | None, typer.Option(help="Minimum edge weight.")] = None,
    top: Annotated[int | None, typer.Option(help="Top K edges.")] = None,
    spec: SpecOpt = None,
    allow_unknown: AllowOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The paths from a start event or to an end event (Sankey edges)."""
    data = _merge(
        _load(spec),
        allow_unknown=allow_unknown or None,
        start={"event": start} if start else None,
        end={"event": end} if end else None,
        steps=steps,
        session_gap=session_gap,
        min_edge_weight=min_weight,
        top_edges=top,
    )
    parsed = api.paths_spec(data)
    with session(db) as tp:
        result = analyse(tp, parsed)
    if _print(result, as_json):
        return
    from rich.table import Table

    note_as_of(result)
    table = Table(title=f"Path edges ({result.total:,} paths)")
    for col in ("step", "from", "to", "weight"):
        table.add_column(col, justify="right" if col in ("step", "weight") else "left")
    for e in result.edges:
        table.add_row(
            str(e.step), e.source.split(":", 1)[1], e.target.split(":", 1)[1], f"{e.weight:,}"
        )
    base.console.print(table)
    table = Table(title="Top paths")
    table.add_column("path")
    table.add_column("count", justify="right")
    for p in result.top_paths:
        table.add_row(" → ".join(p.path), f"{p.count:,}")
    base.console.print(table)


@app.command()
def retention(
    event: Annotated[str | None, typer.Option(help="Cohort event name.")] = None,
    returning: Annotated[
        str | None, typer.Option("--return", help="Return event (default: the cohort event).")
    ] = None,
    period: Annotated[str | None, typer.Option(help="day, week or month.")] = None,
    periods: Annotated[int | None, typer.Option(help="How many periods.")] = None,
    mode: Annotated[str | None, typer.Option(help="on or on_or_after.")] = None,
    recurring: Annotated[
        bool, typer.Option(help="Recurring instead of first-time cohorts.")
    ] = False,
    spec: SpecOpt = None,
    allow_unknown: AllowOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The cohort retention table, the average curve and the repeat rate."""
    data = _merge(
        _load(spec),
        allow_unknown=allow_unknown or None,
        cohort_event={"event": event} if event else None,
        return_event={"event": returning} if returning else None,
        period=period,
        periods=periods,
        mode=mode,
        cohort_type="recurring" if recurring else None,
    )
    parsed = api.retention_spec(data)
    with session(db) as tp:
        result = analyse(tp, parsed)
    if _print(result, as_json):
        return
    from rich.table import Table

    table = Table(title=f"Retention by {result.period}")
    table.add_column("cohort")
    table.add_column("size", justify="right")
    for k in range(parsed.periods):
        table.add_column(str(k), justify="right")
    for c in result.cohorts:
        table.add_row(str(c.cohort), f"{c.size:,}", *[_pct(r) for r in c.rates])
    table.add_row("average", "", *[_pct(r) for r in result.curve])
    base.console.print(table)
    rep = result.repeat
    base.console.print(
        f"repeat rate {_pct(rep.repeat_rate)} ({rep.repeaters:,} of {rep.profiles:,}); "
        f"time between returns: median {_dur(rep.median_gap_s)}, p90 {_dur(rep.p90_gap_s)}"
    )


@app.command()
def optimize(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Rebuild the copy of journey events sorted by profile and time that funnels read fast."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            out = tp.call("POST", "/api/analyses/optimize")
        else:
            built = journey.optimize(tp.store)
            out = {**built.__dict__, "built_at": built.built_at.isoformat()}
    if as_json:
        print_json(out)
        return
    base.console.print(
        f"sorted {out['events']:,} journey events of {out['profiles']:,} profiles "
        f"in {out['seconds']:.1f} s"
    )
