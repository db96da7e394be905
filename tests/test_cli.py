"""The command line answers at once: `touchpath --help` lists every command from one table,
importing none of them; a command imports only what it runs."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import typer.main

import touchpath.cli as cli
from touchpath.store import Store

HEAVY = (
    "duckdb", "pyarrow", "numpy", "pandas", "sqlglot", "fastapi", "scipy", "pydantic", "numba",
    "rich",
)  # fmt: skip


def _loaded_after(*argv: str) -> set[str]:
    """The heavy modules a `touchpath` process has imported when it ends."""
    code = (
        "import sys\n"
        f"sys.argv = ['touchpath', *{list(argv)!r}]\n"
        "from touchpath.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(eval(out.stdout.strip().splitlines()[-1]))


def test_the_command_table_is_every_command_with_its_help() -> None:
    for module in pkgutil.iter_modules(cli.__path__):
        importlib.import_module(f"touchpath.cli.{module.name}")
    group = typer.main.get_command(cli.app)
    real = {name: cmd.get_short_help_str(limit=300) for name, cmd in group.commands.items()}  # type: ignore[attr-defined]
    table = {name: text for name, (_, text) in cli.COMMANDS.items()}
    assert table == real, "touchpath.cli.COMMANDS drifted from the commands: add or fix its line"
    for name, (module, _) in cli.COMMANDS.items():
        callback = group.commands[name]  # type: ignore[attr-defined]
        callbacks = [getattr(callback, "callback", None)]
        callbacks += [c.callback for c in getattr(callback, "commands", {}).values()]
        modules = {c.__module__ for c in callbacks if c is not None}
        assert f"touchpath.cli.{module}" in modules, (name, module, modules)


def test_help_imports_no_command() -> None:
    assert _loaded_after("--help") == set()
    # A query imports the runtime, never the web server or the experiments' statistics.
    assert {"fastapi", "scipy", "pandas"}.isdisjoint(_loaded_after("funnel", "--help"))


def test_a_query_imports_only_what_it_reads(tmp_path: Path) -> None:
    """A dfg or a funnel with --json reads the store through DuckDB and SQLGlot and nothing
    else heavy: not the writer's Arrow and NumPy (0.13 CPU-s of a BPIC 2012 dfg), not the
    kernels (numba), not rich (JSON is printed plain)."""
    db = tmp_path / "query.duckdb"
    Store(db).close()
    for argv in (["dfg"], ["funnel", "--step", "A", "--step", "B", "--allow-unknown"]):
        loaded = _loaded_after(*argv, "--db", str(db), "--json")
        assert {"duckdb", "sqlglot", "pydantic"} <= loaded, argv  # the query ran
        assert {"pyarrow", "numpy", "pandas", "numba", "fastapi", "scipy", "rich"}.isdisjoint(
            loaded
        ), (argv, loaded)


def test_a_typo_names_the_command_meant() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from touchpath.cli import main; main()", "funel"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "No such command 'funel'. Did you mean 'funnel'?" in out.stderr
