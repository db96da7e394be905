"""Discovery, attribution and feedback commands: dfg, variants, conformance, attribution, feedback.

Each command builds its spec from `--spec FILE` (YAML or JSON) with the options on top, calls
`touchpath.analytics.api`, and prints rich tables (or the whole result with --json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from touchpath.analytics import api
from touchpath.cli import base
from touchpath.cli.base import (
    DbOpt,
    JsonOpt,
    app,
    note_as_of,
    print_json,
    print_rows,
)
from touchpath.cli.remote import Remote, analyse, session
from touchpath.errors import SpecError

feedback_app = typer.Typer(help="Feedback: NPS, CSAT, CES, sentiment and negative phrases.")
app.add_typer(feedback_app, name="feedback")

SpecOpt = Annotated[
    Path | None, typer.Option("--spec", help="Spec file (YAML or JSON); options override it.")
]
StageOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--stage",
        help="A stage in designed order: 'name=Event A,Event B' (repeat for each stage).",
    ),
]
CaseOpt = Annotated[
    str | None, typer.Option("--case", help="A journey per 'profile' or per 'session'.")
]


def parse_stage(text: str) -> dict[str, Any]:
    """`'decision=Checkout Started,Payment Info Entered'` -> a stage dict."""
    name, sep, events = text.partition("=")
    names = [e.strip() for e in events.split(",") if e.strip()]
    if not sep or not name.strip() or not names:
        raise SpecError(f"--stage {text!r}: expected 'name=Event A,Event B'")
    return {"name": name.strip(), "events": names}


def build_spec(kind: str, spec_file: Path | None, stages: list[str] | None, **options: Any) -> Any:
    """The spec of `kind` from a spec file with the given options on top."""
    data: dict[str, Any] = {}
    if spec_file is not None:
        import yaml  # only for a spec file (a command with options alone never loads it)

        try:
            loaded = yaml.safe_load(spec_file.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"{spec_file}: cannot read the spec: {exc}") from None
        if not isinstance(loaded, dict):
            raise SpecError(f"{spec_file}: a spec must be a mapping")
        data.update(loaded)
    if stages:
        data["stages"] = [parse_stage(s) for s in stages]
    data.update({k: v for k, v in options.items() if v is not None})
    return api.parse_spec(kind, data)


def _dump(result: Any) -> None:
    print_json(result.model_dump(mode="json"))


def _secs(value: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}s"


@app.command()
def dfg(
    db: DbOpt = None,
    spec: SpecOpt = None,
    stage: StageOpt = None,
    case: CaseOpt = None,
    coverage: Annotated[
        float | None, typer.Option(help="Keep the top variants covering this share.")
    ] = None,
    min_frequency: Annotated[int | None, typer.Option(help="Drop rarer edges.")] = None,
    top_k: Annotated[int | None, typer.Option(help="Keep the K most frequent edges.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The directly-follows graph: edges with frequency and time between steps."""
    s = build_spec("dfg", spec, stage, case=case, coverage=coverage,
                   min_frequency=min_frequency, top_k=top_k)  # fmt: skip
    with session(db) as tp:
        result = analyse(tp, s)
    if as_json:
        return _dump(result)
    note_as_of(result)
    base.console.print(f"{result.cases:,} journeys, {result.events:,} steps")
    rows = [
        {
            "from": e.source,
            "to": e.target,
            "frequency": e.frequency,
            "journeys": e.cases,
            "median": _secs(e.median_seconds),
            "p90": _secs(e.p90_seconds),
        }
        for e in result.edges
    ]
    print_rows(rows, "Directly-follows graph", False)


@app.command()
def variants(
    db: DbOpt = None,
    spec: SpecOpt = None,
    stage: StageOpt = None,
    case: CaseOpt = None,
    coverage: Annotated[float | None, typer.Option(help="Stop at this share of journeys.")] = None,
    limit: Annotated[int | None, typer.Option(help="Most variants to list.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The most common whole journeys with their share."""
    s = build_spec("variants", spec, stage, case=case, coverage=coverage, limit=limit)
    with session(db) as tp:
        result = analyse(tp, s)
    if as_json:
        return _dump(result)
    note_as_of(result)
    base.console.print(f"{result.cases:,} journeys, {result.distinct_variants:,} distinct variants")
    rows = [
        {
            "journeys": v.cases,
            "share": f"{v.share:.1%}",
            "cumulative": f"{v.cumulative_share:.1%}",
            "steps": " > ".join(v.steps),
        }
        for v in result.variants
    ]
    print_rows(rows, "Variants", False)


@app.command("conformance")
def conformance_cmd(
    db: DbOpt = None,
    spec: SpecOpt = None,
    stage: StageOpt = None,
    case: CaseOpt = None,
    allow_skips: Annotated[bool | None, typer.Option(help="Skipping a stage conforms.")] = None,
    require_start: Annotated[
        bool | None, typer.Option(help="Journeys must begin in the first stage.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The share of journeys that follow the designed stage order, and the common deviations."""
    s = build_spec("conformance", spec, stage, case=case, allow_skips=allow_skips,
                   require_start=require_start)  # fmt: skip
    with session(db) as tp:
        result = analyse(tp, s)
    if as_json:
        return _dump(result)
    note_as_of(result)
    base.console.print(
        f"{result.conforming:,} of {result.cases:,} journeys follow the designed order "
        f"([bold]{result.share_conforming:.1%}[/])"
    )
    print_rows([r.model_dump() for r in result.stages], "Stages reached", False)
    rows = [
        {
            "deviation": d.kind,
            "from": d.from_stage or "",
            "to": d.to_stage,
            "journeys": d.cases,
            "share": f"{d.share:.1%}",
        }
        for d in result.deviations
    ]
    print_rows(rows, "Most common deviations", False)


@app.command("attribution")
def attribution_cmd(
    db: DbOpt = None,
    spec: SpecOpt = None,
    by: Annotated[str | None, typer.Option(help="'channel' or 'touchpoint'.")] = None,
    conversion: Annotated[str | None, typer.Option(help="Conversion event name.")] = None,
    revenue: Annotated[str | None, typer.Option(help="Revenue property of the conversion.")] = None,
    lookback_days: Annotated[float | None, typer.Option(help="Lookback window in days.")] = None,
    touch: Annotated[str | None, typer.Option(help="'session' or 'event'.")] = None,
    exclude_touch: Annotated[
        list[str] | None, typer.Option(help="Event that is never a touch (repeat).")
    ] = None,
    model: Annotated[list[str] | None, typer.Option(help="Model to run (repeat).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Conversion credit by channel or touchpoint under each attribution model."""
    s = build_spec(
        "attribution", spec, None, by=by, revenue_property=revenue, lookback_days=lookback_days,
        touch=touch, conversion={"event": conversion} if conversion else None,
        exclude_touches=exclude_touch or None, models=model or None,
    )  # fmt: skip
    with session(db) as tp:
        result = analyse(tp, s)
    if as_json:
        return _dump(result)
    note_as_of(result)
    base.console.print(
        f"{result.conversions:,} conversions ({result.revenue:,.2f} revenue), "
        f"{result.attributed_conversions:,} with a touch in the window"
    )
    rows = [
        {
            s.by: r.key,
            **{m: f"{r.credit[m].share:.1%}" if m in r.credit else "" for m in result.models},
        }
        for r in result.rows
    ]
    print_rows(rows, "Share of conversions", False)


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else fmt.format(value)


@feedback_app.callback(invoke_without_command=True)
def feedback_cmd(
    ctx: typer.Context,
    db: DbOpt = None,
    spec: SpecOpt = None,
    stage: StageOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """NPS, CSAT, CES and sentiment per touchpoint and stage, with negative phrases."""
    if ctx.invoked_subcommand is not None:
        return
    s = build_spec("feedback", spec, stage)
    with session(db) as tp:
        result = analyse(tp, s)
    if as_json:
        return _dump(result)

    def table(rows: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "touchpoint": r.name,
                "responses": f"{r.responses:,}",
                "NPS": _num(r.nps, "{:+.0f}"),
                "CSAT": _num(r.csat, "{:.0f}%"),
                "CES": _num(r.ces_avg, "{:.1f}"),
                "rating": _num(r.rating_avg, "{:.1f}"),
                "sentiment": _num(r.sentiment_avg, "{:+.2f}"),
                "negative": _num(r.negative_share, "{:.0%}"),
            }
            for r in rows
        ]

    print_rows(table([result.overall, *result.touchpoints]), "Feedback per touchpoint", False)
    if result.stages:
        print_rows(table(result.stages), "Feedback per stage", False)
    phrases = [
        {"touchpoint": tp, "phrase": p.phrase, "negative texts": p.count}
        for tp, ps in result.negative_phrases.items()
        for p in ps
    ]
    print_rows(phrases, "Most frequent negative phrases", False)


@feedback_app.command("rescore")
def rescore(
    db: DbOpt = None,
    full: Annotated[bool, typer.Option(help="Score every text again, not only new ones.")] = False,
) -> None:
    """Backfill the sentiment of texts ingested while no scorer was attached."""
    with session(db) as tp:
        if isinstance(tp, Remote):
            found = tp.call("POST", "/api/analyses/feedback/rescore", params={"full": full})
            n = int(found["scored"])
        else:
            from touchpath.analytics import sentiment  # its scorer: only this command's

            n = sentiment.rescore(tp.store, full=full)
    base.console.print(f"scored {n:,} texts")
