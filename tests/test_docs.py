"""Docs cannot drift: every CLI command, REST route and setting is documented (datasette-style)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from click import Command, Group

from touchpath.cli import app
from touchpath.settings import Settings
from touchpath.web import create_app

REPO = Path(__file__).resolve().parents[1]
DOCS = (
    "\n".join(p.read_text() for p in sorted((REPO / "docs").glob("*.md")))
    + (REPO / "README.md").read_text()
)
# `POST /api/analyses/dfg|variants` documents both routes: spell such alternatives out.
DOCS += "\n".join(
    m.group(1) + alt
    for m in re.finditer(r"(/[\w/{}.-]*/)([\w.-]+(?:\|[\w.-]+)+)", DOCS)
    for alt in m.group(2).split("|")
)


def _commands(command: Command, prefix: tuple[str, ...] = ()) -> list[str]:
    if isinstance(command, Group):
        return [
            c
            for name, sub in sorted(command.commands.items())
            for c in _commands(sub, (*prefix, name))
        ]
    return [" ".join(prefix)]


@pytest.mark.parametrize("command", _commands(typer.main.get_command(app)))
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"touchpath {command}" in DOCS, f"`touchpath {command}` is in no docs/*.md"


def _routes() -> list[str]:
    return sorted(create_app().openapi()["paths"])


@pytest.mark.parametrize("path", _routes())
def test_every_rest_route_is_documented(path: str) -> None:
    # `/api/maps/{name}/bind` may be written with a concrete name in an example.
    pattern = re.escape(path)
    pattern = re.sub(r"\\\{[^}]+\\\}", r"[^/\\s`\"']+", pattern)
    assert re.search(pattern, DOCS), f"{path} is in no docs/*.md"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    env = f"TOUCHPATH_{name.upper()}"
    assert env in DOCS, f"setting {name} ({env}) is in no docs/*.md"
