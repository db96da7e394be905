"""`touchpath import FILE`: CSV, JSONL, Parquet and XES event logs into the event log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from touchpath.cli.base import DbOpt, JsonOpt, app, console
from touchpath.cli.remote import Remote, session
from touchpath.collect.importers import FORMATS, ImportMapping, ImportReport, import_file
from touchpath.errors import NotFound
from touchpath.system import Touchpath


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV, JSONL, Parquet or XES file (.gz allowed).")],
    db: DbOpt = None,
    person: Annotated[
        str | None, typer.Option(help="Column of the user id [case:concept:name, userId, ...].")
    ] = None,
    anonymous_id: Annotated[
        str | None, typer.Option("--anonymous-id", help="Column of an anonymous id.")
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(help="Event column, columns 'a,b' (joined), or '=Constant Name'."),
    ] = None,
    time: Annotated[
        str | None, typer.Option(help="Column of the time [time:timestamp, timestamp, ...].")
    ] = None,
    time_format: Annotated[
        str | None, typer.Option("--time-format", help="strptime format, e.g. '%m/%d/%Y %H:%M'.")
    ] = None,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", help="Zone of times without an offset [UTC].")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Channel column or '=constant' [derived by the rules].")
    ] = None,
    properties: Annotated[
        str | None, typer.Option(help="Columns kept as properties, 'a,b' [all unmapped].")
    ] = None,
    event_prefix: Annotated[
        str, typer.Option("--event-prefix", help="Text put before every event name.")
    ] = "",
    source: Annotated[
        str | None, typer.Option(help="Source name, created if missing [import:<file stem>].")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help=f"One of {', '.join(FORMATS)} [from the file name]."),
    ] = None,
    show_bad: Annotated[int, typer.Option("--show-bad", help="Bad rows to print.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Import a file of events; bad rows are reported with their line numbers, never dropped."""
    mapping = ImportMapping(
        person=person,
        anonymous_id=anonymous_id,
        event=event,
        time=time,
        time_format=time_format,
        time_zone=time_zone,
        channel=channel,
        properties=properties,  # a comma list, split by the validator
        event_prefix=event_prefix,
    )
    bad = 0 if as_json else max(show_bad, 0)
    with session(db, listen=True, create=True) as tp:
        if isinstance(tp, Remote):
            report = _upload(tp, file, mapping, source, fmt, bad)
        else:
            report = _import_here(tp, file, mapping, source, fmt, bad, as_json)
    if as_json:
        console.print_json(json.dumps(report.model_dump(mode="json"), default=str))
    else:
        _print_report(report, show_bad)


def _import_here(
    tp: Touchpath,
    file: Path,
    mapping: ImportMapping,
    source: str | None,
    fmt: str | None,
    max_bad_rows: int,
    quiet: bool,
) -> ImportReport:
    """Import into the store opened here, with a progress bar. Texts are scored and identities
    resolved as each chunk commits (the writer runs the composition root's listeners), as over
    HTTP."""
    with _progress(quiet) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return import_file(
            tp.store, file, mapping, source=source, fmt=fmt, max_bad_rows=max_bad_rows,
            progress=progress,
        )  # fmt: skip


def _upload(
    remote: Remote,
    file: Path,
    mapping: ImportMapping,
    source: str | None,
    fmt: str | None,
    max_bad_rows: int,
) -> ImportReport:
    """Upload the file to the server holding the store (`POST /api/imports`); the report names
    the file as given here, as an import here does."""
    if not file.is_file():
        raise NotFound(f"{file}: no such file")
    form = {"mapping": mapping.model_dump_json(), "max_bad_rows": str(max_bad_rows)}
    if source:
        form["source"] = source
    if fmt:
        form["format"] = fmt
    with file.open("rb") as body:
        found = remote.call("POST", "/api/imports", files={"file": (file.name, body)}, data=form)
    return ImportReport.model_validate(found).model_copy(update={"file": str(file)})


def _progress(hidden: bool) -> Progress:
    """The import's progress bar (rows so far, elapsed time), gone once it ends."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=hidden,
    )


def _print_report(report: ImportReport, show_bad: int) -> None:
    """What was imported, and the first `show_bad` bad rows with their line numbers."""
    console.print(
        f"{report.file}: {report.rows:,} rows ({report.format}) -> source "
        f"[bold]{report.source}[/]: {report.imported:,} imported, "
        f"{report.duplicates:,} already there, {report.suppressed:,} suppressed, "
        f"{report.bad:,} bad  ({report.seconds:.1f} s)",
        soft_wrap=True,
    )
    if report.blocked or report.flagged:
        console.print(
            f"tracking plan: {report.blocked:,} rows blocked (in `touchpath rejected`), "
            f"{report.flagged:,} imported with violations (`touchpath plan violations`)",
            soft_wrap=True,
        )
    if report.bad:
        by = ", ".join(f"{field}: {n:,}" for field, n in report.bad_by_field.items())
        console.print(f"bad rows by field: {by}; all are in `touchpath rejected`", soft_wrap=True)
        table = Table(title=f"First {min(show_bad, report.bad)} bad rows")
        table.add_column("line", justify="right")
        table.add_column("reason")
        for row in report.bad_rows[:show_bad]:
            table.add_row(str(row.line), row.reason)
        if show_bad > 0:
            console.print(table)
