"""`touchpath experiments ...`: save, list, show and delete experiment definitions, read their
results, and size a new one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
import yaml
from rich.table import Table

from touchpath.analytics.experiments import (
    ComparisonResult,
    ExperimentResult,
    experiment_spec,
    sample_size,
)
from touchpath.analytics.experiments.saved import (
    SavedExperiment,
    arm_audience,
    delete_experiment,
    get_experiment,
    list_experiments,
    save_arm_audiences,
    save_experiment,
)
from touchpath.cli.analyse import _load  # a spec file (YAML or JSON), one reader for all
from touchpath.cli.base import DbOpt, JsonOpt, app, console, print_rows
from touchpath.cli.remote import Remote, analyse, session
from touchpath.errors import SpecError
from touchpath.system import Touchpath

experiments_app = typer.Typer(
    help="Experiments: did the change work? (docs/experiments.md)", no_args_is_help=True
)
app.add_typer(experiments_app, name="experiments")

SpecOpt = Annotated[
    Path | None, typer.Option("--spec", help="A spec file (YAML or JSON); options override it.")
]


def _at(name: str, *rest: str) -> str:
    return "/".join(["/api/experiments", quote(name, safe=""), *rest])


def _saved(tp: Touchpath | Remote, name: str) -> SavedExperiment:
    """A saved experiment, read here or from the server holding the store."""
    if isinstance(tp, Remote):
        return SavedExperiment.model_validate(tp.call("GET", _at(name)))
    return get_experiment(tp.store, name)


def _spec_from(
    spec_file: Path | None,
    experiment_id: str | None,
    goal: str | None,
    window: str | None,
    control: str | None,
    guardrails: list[str] | None,
) -> dict[str, Any]:
    data = _load(spec_file)
    if experiment_id:
        data["experiment_id"] = experiment_id
    if control:
        data["control"] = control
    if goal:
        primary: dict[str, Any] = {"name": goal, "event": {"event": goal}}
        if window:
            primary["window"] = window
        data["primary"] = primary
    elif window and isinstance(data.get("primary"), dict):
        data["primary"] = {**data["primary"], "window": window}
    if guardrails:
        data["guardrails"] = [
            {"name": g, "event": {"event": g}, "higher_is_better": False} for g in guardrails
        ]
    if "experiment_id" not in data or "primary" not in data:
        raise SpecError("give --experiment-id and --goal, or a --spec file with both")
    return data


ExpIdOpt = Annotated[
    str | None,
    typer.Option(
        "--experiment-id",
        help="The experiment_id of its Experiment Viewed events, e.g. journey:cart:split_1.",
    ),
]
GoalOpt = Annotated[str | None, typer.Option(help="The goal event (primary metric: conversion).")]
WindowOpt = Annotated[str | None, typer.Option(help="Conversion window after exposure, e.g. 7d.")]
ControlOpt = Annotated[str | None, typer.Option(help="The control arm (variation_id).")]
GuardOpt = Annotated[
    list[str] | None,
    typer.Option("--guardrail", help="An event that must not go up (e.g. Unsubscribed)."),
]


@experiments_app.command("save")
def save(
    name: str,
    spec: SpecOpt = None,
    experiment_id: ExpIdOpt = None,
    goal: GoalOpt = None,
    window: WindowOpt = None,
    control: ControlOpt = None,
    guardrail: GuardOpt = None,
    description: Annotated[str, typer.Option(help="What the experiment tests.")] = "",
    db: DbOpt = None,
) -> None:
    """Save (create or replace) an experiment definition."""
    data = _spec_from(spec, experiment_id, goal, window, control, guardrail)
    with session(db) as tp:
        if isinstance(tp, Remote):
            body = {"spec": data, "description": description}
            entry = SavedExperiment.model_validate(tp.call("PUT", _at(name), json=body))
        else:
            entry = save_experiment(tp.store, name, data, description)
    console.print(f"saved experiment [bold]{entry.name}[/] over {entry.spec.experiment_id}")


@experiments_app.command("list")
def list_(as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """The saved experiments."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            found = [SavedExperiment.model_validate(e) for e in tp.call("GET", "/api/experiments")]
        else:
            found = list_experiments(tp.store)
        rows = [
            {
                "name": e.name,
                "experiment_id": e.spec.experiment_id,
                "primary": e.spec.primary.name,
                "guardrails": ", ".join(g.name for g in e.spec.guardrails),
                "updated_at": e.updated_at,
            }
            for e in found
        ]
    print_rows(rows, "experiments", as_json)


@experiments_app.command("show")
def show(name: str, db: DbOpt = None) -> None:
    """A saved experiment's definition, as YAML (give it back to `save --spec`)."""
    with session(db) as tp:
        entry = _saved(tp, name)
    typer.echo(
        yaml.safe_dump(entry.spec.model_dump(mode="json", exclude_defaults=True), sort_keys=False),
        nl=False,
    )


@experiments_app.command("delete")
def delete(name: str, db: DbOpt = None) -> None:
    """Delete a saved experiment (its events stay in the log)."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            tp.call("DELETE", _at(name))
        else:
            delete_experiment(tp.store, name)
    console.print(f"deleted experiment {name}")


@experiments_app.command("audiences")
def audiences_cmd(name: str, db: DbOpt = None) -> None:
    """Save each arm's people as static audience `experiment <name> <arm>` (a map's persona
    audience then binds the map for that arm, to compare arms on the map)."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            sizes = {a["arm"]: a["size"] for a in tp.call("POST", _at(name, "audiences"))}
        else:
            sizes = save_arm_audiences(tp.store, name)
    for arm, size in sizes.items():
        console.print(f"audience [bold]{arm_audience(name, arm)}[/]: {size:,} people")


@experiments_app.command("results")
def results(
    name: Annotated[str | None, typer.Argument(help="A saved experiment.")] = None,
    spec: SpecOpt = None,
    experiment_id: ExpIdOpt = None,
    goal: GoalOpt = None,
    window: WindowOpt = None,
    control: ControlOpt = None,
    guardrail: GuardOpt = None,
    daily: Annotated[
        bool, typer.Option("--daily", help="Also the primary metric's lift day by day.")
    ] = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Read an experiment (saved, or given by options) from the event log: the verdict, the
    numbers per metric and arm, and (--daily) the lift day by day."""
    if name is not None and any((spec, experiment_id, goal, window, control, guardrail)):
        raise SpecError(f"{name}: a saved experiment takes no spec options")
    with session(db) as tp:
        data: Any = (
            _saved(tp, name).spec
            if name is not None
            else _spec_from(spec, experiment_id, goal, window, control, guardrail)
        )
        result = analyse(tp, experiment_spec(data))
    if as_json:
        console.print_json(result.model_dump_json())
        return
    _print_result(result)
    if daily:
        _print_series(result)


def _print_series(r: ExperimentResult) -> None:
    table = Table(
        title=f"{r.metrics[0].name if r.metrics else ''}: lift with everyone exposed so far"
    )
    for col in ("day", "arm", "people (arm / control)", "lift", "interval"):
        table.add_column(col)
    for p in r.series:
        table.add_row(
            f"{p.day:%Y-%m-%d}",
            p.arm,
            f"{p.n_arm:,} / {p.n_control:,}",
            "" if p.lift is None else _pct(p.lift),
            "" if p.lift_ci is None else f"{_pct(p.lift_ci[0])} to {_pct(p.lift_ci[1])}",
        )
    console.print(table)


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def _cells(c: ComparisonResult) -> list[str]:
    """Lift, interval, p and chance to win of a comparison ("n/a" over a control mean of 0)."""
    if c.lift is None or c.lift_ci is None:
        lift, ci = "n/a", f"{c.diff_ci[0]:+.4g} to {c.diff_ci[1]:+.4g} (difference)"
    else:
        lift, ci = _pct(c.lift), f"{_pct(c.lift_ci[0])} to {_pct(c.lift_ci[1])}"
    p = "<0.001" if c.p_value < 0.001 else f"{c.p_value:.3f}"
    win = "n/a" if c.chance_to_win is None else f"{100 * c.chance_to_win:.0f}%"
    return [lift, ci, p, win]


def _print_result(r: ExperimentResult) -> None:
    colour = {"winner": "green", "loser": "red", "srm": "red", "guardrail_harmed": "yellow"}
    console.print(f"[bold {colour.get(r.verdict, 'cyan')}]{r.verdict}[/]: {r.summary}")
    if not r.metrics:
        return
    test = "always-valid (sequential)" if r.sequential else "fixed-horizon"
    console.print(
        f"[dim]{r.experiment_id}: control {r.control}; {test} at alpha {r.alpha}, "
        f"{r.correction} correction; sample ratio p = {r.srm_p_value:.3g}; "
        f"{r.multiple_exposures} people seen in two arms left out[/]"
    )
    for m in r.metrics:
        table = Table(title=f"{m.name} ({m.kind}{', guardrail' if m.guardrail else ''})")
        for col in ("arm", "people", "mean", "lift", "interval", "p", "chance to win"):
            table.add_column(col)
        comps = {c.arm: c for c in m.comparisons}
        for a in m.arms:
            c = comps.get(a.arm)
            table.add_row(a.arm, f"{a.n:,}", f"{a.mean:.4g}", *(_cells(c) if c else ["control"]))
        console.print(table)


@experiments_app.command("sample-size")
def sample_size_cmd(
    baseline: Annotated[float, typer.Option(help="Control conversion rate (0-1) or mean.")],
    mde: Annotated[float, typer.Option(help="Smallest relative lift to find, 0.05 = 5%.")],
    sd: Annotated[float | None, typer.Option(help="Standard deviation, for a mean.")] = None,
    alpha: Annotated[float, typer.Option(help="False-positive rate.")] = 0.05,
    power: Annotated[float, typer.Option(help="Chance to find a true lift of mde.")] = 0.8,
    per_day: Annotated[
        float | None, typer.Option(help="Exposures per day over all arms (for the duration).")
    ] = None,
    arms: Annotated[int, typer.Option(help="Arms, control included.")] = 2,
    as_json: JsonOpt = False,
) -> None:
    """People per arm (and days) needed to find a lift of --mde over --baseline."""
    try:
        s = sample_size(baseline, mde, sd=sd, alpha=alpha, power=power)
        row: dict[str, Any] = {
            "per_arm": s.per_arm,
            "per_arm_sequential": s.per_arm_sequential,
        }
        if per_day is not None:
            row["days"] = s.days(per_day, arms)
            row["days_sequential"] = s.days(per_day, arms, sequential=True)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    if as_json:
        console.print_json(json.dumps(row))
        return
    console.print(
        f"To find a {100 * mde:g}% lift over {baseline:g} (alpha {alpha:g}, power {power:g}): "
        f"[bold]{s.per_arm:,}[/] people per arm read once at the end, "
        f"[bold]{s.per_arm_sequential:,}[/] when the result is watched daily (sequential)."
    )
    if per_day is not None:
        console.print(
            f"At {per_day:,.0f} exposures a day over {arms} arms: {row['days']} days "
            f"({row['days_sequential']} sequential)."
        )
