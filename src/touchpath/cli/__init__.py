"""The `touchpath` command: one group. Each area adds its commands in its own module here."""

from __future__ import annotations

from touchpath.cli import access as access
from touchpath.cli import analyse as analyse
from touchpath.cli import core as core
from touchpath.cli import decisions as decisions
from touchpath.cli import demo as demo
from touchpath.cli import destinations as destinations
from touchpath.cli import discover as discover
from touchpath.cli import experiments as experiments
from touchpath.cli import identity as identity
from touchpath.cli import imports as imports
from touchpath.cli import insights as insights
from touchpath.cli import journeys as journeys
from touchpath.cli import maps as maps
from touchpath.cli.base import app, main

__all__ = ["app", "main"]
