"""Rendering a bound map: SVG (the picture), HTML (self-contained), PNG and PDF (through Chromium)."""

from __future__ import annotations

from typing import Literal

from touchpath.errors import SpecError
from touchpath.maps.bound import BoundMap
from touchpath.maps.render.html import render_html
from touchpath.maps.render.svg import render_svg

__all__ = ["FORMATS", "MEDIA_TYPES", "Format", "render", "render_html", "render_svg"]

Format = Literal["html", "svg", "png", "pdf"]
FORMATS: tuple[Format, ...] = ("html", "svg", "png", "pdf")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
}


def render(bm: BoundMap, fmt: str) -> bytes:
    """The bound map in one of `FORMATS`, as bytes ready to write or serve."""
    if fmt == "svg":
        return render_svg(bm).encode()
    if fmt not in FORMATS:
        raise SpecError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    html = render_html(bm)
    if fmt == "html":
        return html.encode()
    from touchpath.maps.render.browser import html_to_pdf, html_to_png

    if fmt == "png":
        stages = ", ".join(s.title for s in bm.stages)
        return html_to_png(html, text={"Title": bm.map.heading, "Description": f"Stages: {stages}"})
    return html_to_pdf(html)
