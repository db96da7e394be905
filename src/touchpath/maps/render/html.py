"""The map as one self-contained HTML page: the SVG inline, tables of the numbers, no requests.

Nothing is loaded from anywhere (no scripts, fonts or stylesheets), so the file works offline and
prints the same as it shows: the map on the first A3 landscape page, the tables after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from touchpath.maps.bound import BoundMap
from touchpath.maps.render.svg import hours, num, pct, render_svg

__all__ = ["Panel", "render_html", "render_page"]

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape()
)
_env.globals.update(pct=pct, hours=hours, num=num)


@dataclass(frozen=True)
class Panel:
    """One map of a page, with the label it goes by and the elements to mark."""

    bound: BoundMap
    label: str = ""
    marks: frozenset[str] = frozenset()

    @property
    def svg(self) -> str:
        return render_svg(self.bound, set(self.marks))


def render_page(panels: list[Panel], title: str, differences: list[Any] | None = None) -> str:
    """One page with the maps side by side (one or two) and, when comparing, the differences."""
    return _env.get_template("map.html").render(
        maps=panels, title=title, differences=differences or []
    )


def render_html(bm: BoundMap) -> str:
    """The bound map as a self-contained HTML page."""
    return render_page([Panel(bm)], title=bm.map.heading)
