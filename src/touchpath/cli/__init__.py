"""The `touchpath` command: one group, each area's commands in its own module here.

`touchpath --help` must answer at once, so the group knows its commands from `COMMANDS` (the
module that defines each, and its one-line help) and imports a command's module only when that
command runs (or shows its own help): a funnel never imports the web server, the experiments'
statistics or the demo. `tests/test_cli.py` pins `COMMANDS` to the modules' commands, so adding
a command is its function in a module here plus one line in the table. `app` (every command,
for tests and docs) imports them all.
"""

from __future__ import annotations

import difflib
import gc
import importlib
from typing import TYPE_CHECKING, Any

from typer.core import TyperGroup

if TYPE_CHECKING:
    import typer

__all__ = ["COMMANDS", "HELP", "app", "command", "main"]

HELP = "Touchpath: collect, unify, analyse, map and act on customer journeys."

COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("core", "Serve an existing store: the /v1 tracking API, the REST API and the UI."),
    "demo": ("demo", "Generate the demo retailer, send it through the real /v1/batch path, serve it, keep it alive."),
    "sources": ("core", "Sources and their write keys."),
    "stats": ("core", "Event counts by channel and type."),
    "rejected": ("core", "Show messages that were rejected, with the reason."),
    "import": ("imports", "Import a file of events; bad rows are reported with their line numbers, never dropped."),
    "identity": ("identity", "The identity graph."),
    "profiles": ("identity", "Profiles: show, explain, timeline."),
    "traits": ("identity", "Computed traits."),
    "audiences": ("identity", "Audiences."),
    "privacy": ("identity", "Privacy requests: delete, suppress."),
    "catalogue": ("catalogue", "The event catalogue: every event, its properties and their types (docs/catalogue.md)."),
    "plan": ("plans", "Tracking plans: a JSON Schema per event, assigned per source (docs/tracking-plans.md)."),
    "funnel": ("analyse", "Per-step counts and conversion of a funnel."),
    "paths": ("analyse", "The paths from a start event or to an end event (Sankey edges)."),
    "retention": ("analyse", "The cohort retention table, the average curve and the repeat rate."),
    "optimize": ("analyse", "Rebuild the copy of journey events sorted by profile and time that funnels read fast."),
    "dfg": ("discover", "The directly-follows graph: edges with frequency and time between steps."),
    "variants": ("discover", "The most common whole journeys with their share."),
    "conformance": ("discover", "The share of journeys that follow the designed stage order, and the common deviations."),
    "attribution": ("discover", "Conversion credit by channel or touchpoint under each attribution model."),
    "feedback": ("discover", "Feedback: NPS, CSAT, CES, sentiment and negative phrases."),
    "experiments": ("experiments", "Experiments: did the change work? (docs/experiments.md)"),
    "insights": ("insights", "Saved insights: analysis specs kept under a name (docs/insights.md)."),
    "dashboards": ("insights", "Dashboards of saved insights (docs/insights.md)."),
    "map": ("maps", "Journey maps: documents bound to live data."),
    "journeys": ("journeys", "Journeys: event-triggered, multi-step orchestration (docs/journeys.md)."),
    "destinations": ("destinations", "Destinations: webhooks, email, SMS, push; the outbox, policy and templates."),
    "decisions": ("decisions", "Personalisation decisions: rules to content, per source (docs/personalize.md)."),
    "users": ("access", "People who sign in, and their roles."),
    "tokens": ("access", "Personal API tokens (Authorization: Bearer) for scripts and servers."),
    "audit": ("access", "Show the audit log of admin actions: who, what, on what, when."),
}  # fmt: skip
"""Every command or command group: the module of `touchpath.cli` that defines it, and its help
line (the first line of its docstring)."""


def _typer_app() -> typer.Typer:
    from touchpath.cli.base import app as typer_app

    return typer_app


class _Lazy(TyperGroup):
    """The top-level group: commands listed from `COMMANDS`, each loaded when it is used."""

    gc_paused = False
    """Whether `main` paused Python's garbage collector while the command's modules load."""

    def resume_gc(self) -> None:
        """The garbage collector on again, with what was loaded so far set aside from its
        passes (`gc.freeze`: modules, classes and functions live as long as the process)."""
        if self.gc_paused:
            self.gc_paused = False
            gc.freeze()
            gc.enable()

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        importlib.import_module(f"touchpath.cli.{where[0]}")
        import typer.main

        self.resume_gc()

        built = typer.main.get_command(_typer_app())
        return getattr(built, "commands", {}).get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            near = difflib.get_close_matches(args[0], COMMANDS, n=3)
            hint = f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            ctx.fail(f"No such command {args[0]!r}.{hint}")
        return super().resolve_command(ctx, args)


def command() -> _Lazy:
    """The `touchpath` group."""
    return _Lazy(name="touchpath", help=HELP, no_args_is_help=True, rich_markup_mode=None)


def main() -> None:
    """Entry point: turn Touchpath's own errors into a clear message and exit code 2.

    Python's garbage collector is paused while the command's modules load (their objects are
    never garbage, and the collector's passes over them took about a tenth of a one-shot
    `dfg`'s or `funnel`'s CPU), and runs again, with those objects frozen, once the command
    runs."""
    from touchpath.errors import TouchpathError

    group = command()
    if gc.isenabled():
        group.gc_paused = True
        gc.disable()
    try:
        group.main(prog_name="touchpath")
    except TouchpathError as exc:
        from touchpath.cli.base import err

        err.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from None
    finally:
        group.resume_gc()


def __getattr__(name: str) -> Any:
    """`app`: the Typer app with every command (imports every command module)."""
    if name == "app":
        for module in sorted({m for m, _ in COMMANDS.values()}):
            importlib.import_module(f"touchpath.cli.{module}")
        return _typer_app()
    raise AttributeError(name)
