"""The command group, shared options and printing helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from touchpath.errors import NotFound, SpecError
from touchpath.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from touchpath.system import Touchpath

__all__ = [
    "DbOpt",
    "JsonOpt",
    "app",
    "console",
    "err",
    "opened",
    "print_json",
    "print_rows",
    "settings_for",
    "sources_app",
]

app = typer.Typer(
    name="touchpath",
    help="Touchpath: collect, unify, analyse, map and act on customer journeys.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
sources_app = typer.Typer(help="Sources and their write keys.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


if TYPE_CHECKING:
    console: Console
    """Where commands print (rich); made on first use (`__getattr__`)."""
    err: Console
    """Where errors go (stderr)."""


@cache
def _console(stderr: bool = False) -> Console:
    """The rich console, made when a command first prints through it: a command that prints
    JSON (`print_json`) never imports rich (about 40 CPU-ms of a 0.6 s command)."""
    from rich.console import Console

    return Console(stderr=stderr)


def __getattr__(name: str) -> Any:
    """`console` and `err`, made on first use (`_console`)."""
    if name in ("console", "err"):
        return _console(stderr=name == "err")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    try:
        return Settings(**values)
    except ValidationError as exc:  # a bad TOUCHPATH_* variable (or option): say which
        raise SpecError(
            "; ".join(
                f"TOUCHPATH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']} "
                f"(got {e.get('input')!r})"
                for e in exc.errors()
            )
        ) from None


@contextmanager
def opened(
    db: Path | None = None, *, listen: bool = False, create: bool = False, **overrides: Any
) -> Iterator[Touchpath]:
    """The store of `--db` (or TOUCHPATH_DB) built by the composition root (`touchpath.system`),
    closed afterwards; every command opens it this way. Commands that write events or profiles
    pass `listen=True` (identity, profiles and sentiment then run as over HTTP); the others
    only read and start nothing beside the store. A store that does not exist is an error unless
    the command makes one (`create=True`); one a server holds is refused with its address
    (commands that can go through the server use `touchpath.cli.remote.store_or_server`).

    A command's analyses run as SQL, never as compiled kernels: the process ends before numba
    could load them (about 2.4 s from its cache, docs/funnels.md), so starting the load would
    only take the other core and the same answer comes back later (0.2-0.4 CPU-s a command)."""
    from touchpath.cli.remote import refuse_held
    from touchpath.system import Touchpath

    overrides.setdefault("analytics_kernels", False)
    settings = settings_for(db, **overrides)
    if not create and not settings.db.exists():
        raise NotFound(
            f"--db {settings.db}: no such store (a misspelt path?); `touchpath sources add NAME` "
            "or `touchpath demo` makes one"
        )
    refuse_held(settings.db)
    tp = Touchpath.open(settings, listen=listen)
    try:
        yield tp
    finally:
        tp.close()


def note_as_of(result: Any) -> None:
    """Say so when an analysis read a journey copy that lags the log (`as_of` is set)."""
    as_of = getattr(result, "as_of", None)
    if as_of is not None:
        _console().print(
            f"[dim]as of {as_of:%Y-%m-%d %H:%M:%S} UTC: read from the journey copy, events "
            "after that are not counted (TOUCHPATH_JOURNEY_MAX_LAG_SECONDS)[/]"
        )


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout, as `--json` prints it (plain text: no colours to
    strip in a pipe, and no pass of a pretty-printer over a large result)."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def print_rows(rows: list[dict[str, Any]], title: str, as_json: bool) -> None:
    """Rows as a rich table, or as JSON with --json."""
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=title)
    names = list(rows[0].keys()) if rows else ["(none)"]
    for name in names:
        numeric = bool(rows) and all(_is_number(r.get(name)) for r in rows)
        table.add_column(name, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*[_cell(v) for v in row.values()])
    _console().print(table)


def _is_number(v: Any) -> bool:
    return v is None or (isinstance(v, int | float) and not isinstance(v, bool))


def _cell(v: Any) -> str:
    """A value as a reader wants it: thousands separated, nothing for a missing value."""
    if v is None:
        return ""
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)
