"""PNG and PDF of a rendered page, drawn by Debian's Chromium through Playwright, offline.

The page is handed over as content, every request it might make is refused, and console errors
fail the render, so a picture that needs the network never comes out looking fine by accident.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from touchpath.errors import TouchpathError

__all__ = [
    "CHROMIUM",
    "LAUNCH_ARGS",
    "RenderFailed",
    "html_to_pdf",
    "html_to_png",
    "open_page",
    "png_with_text",
]

CHROMIUM = os.environ.get("TOUCHPATH_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class RenderFailed(TouchpathError):
    """Chromium could not draw the page, or the page logged errors or asked for the network."""

    code = "render_failed"


@contextmanager
def open_page(html: str, width: int = 1700, scale: float = 1.0) -> Iterator[Any]:
    """A Chromium page showing `html` with the network refused; raises on console errors."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RenderFailed(f"{CHROMIUM}: chromium is not installed (apt-get install chromium)")
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": width, "height": 1000}, device_scale_factor=scale
            )
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def refuse(route: Any) -> None:
                errors.append(f"network request refused: {route.request.url}")
                route.abort()

            page.route("**/*", refuse)
            page.set_content(html, wait_until="load")
            if errors:
                raise RenderFailed("the page failed in chromium: " + "; ".join(errors))
            yield page
            if errors:
                raise RenderFailed("the page failed in chromium: " + "; ".join(errors))
        finally:
            browser.close()


def png_with_text(png: bytes, text: dict[str, str]) -> bytes:
    """`png` with tEXt chunks (Title, Description, ...) after its header, so files say what they are."""
    chunks = b""
    for key, value in text.items():
        data = key.encode("latin-1") + b"\0" + value.encode("latin-1", "replace")
        chunks += struct.pack(">I", len(data)) + b"tEXt" + data
        chunks += struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    head = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
    return png[:head] + chunks + png[head:]


def html_to_png(html: str, scale: float = 1.5, text: dict[str, str] | None = None) -> bytes:
    """A PNG of the map (the `#map` element) at `scale` device pixels per CSS pixel."""
    with open_page(html, scale=scale) as page:
        png: bytes = page.locator("#map").screenshot(type="png")
    return png_with_text(png, {"Software": "Touchpath", **(text or {})})


def html_to_pdf(html: str) -> bytes:
    """A PDF on A3 landscape: the map on the first page, the tables after it."""
    with open_page(html) as page:
        page.emulate_media(media="print")
        pdf: bytes = page.pdf(
            format="A3", landscape=True, print_background=True, prefer_css_page_size=True
        )
    return pdf
