"""Serve the built web app (web/ui/dist): its hashed assets, and index.html for every client route.

The client routes itself (React Router), so any GET that is not the REST API, the collector or
the API docs answers index.html; a path under those prefixes that matched no route stays a JSON
404. When the client has not been built (`scripts/setup.sh` builds it), pages answer 503 with
what to run instead of a blank page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["DIST", "RESERVED", "Assets", "is_client_route", "mount_spa"]

DIST = Path(__file__).parent / "ui" / "dist"
RESERVED = ("v1", "api", "docs", "redoc", "openapi.json", "assets")
"""First path segments that never answer the client."""

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Touchpath: web app not built</title></head><body><main>
<h1>The web app is not built</h1>
<p>Run <code>bash scripts/setup.sh</code> (or <code>make demo</code>) in the repository; it builds
the client into <code>src/touchpath/web/ui/dist/</code>. The REST API is at
<a href="/docs">/docs</a>.</p></main></body></html>"""


def is_client_route(path: str) -> bool:
    """Whether `path` (without the leading slash) is one the client answers.

    >>> [is_client_route(p) for p in ("", "maps", "people/u1", "api/x", "v1/track", "docs")]
    [True, True, True, False, False, False]
    """
    return path.split("/", 1)[0] not in RESERVED


class Assets(StaticFiles):
    """The build's assets: their names carry a hash of their content, so browsers may keep them
    for a year without asking again (each page load would otherwise revalidate every chunk)."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def mount_spa(app: FastAPI, dist: Path | None = None) -> None:
    """Add the assets mount and the catch-all client route; call after every API router.
    `dist`: the build to serve, `DIST` as it is when called (bench/webapp.py sets it to
    compare two builds)."""
    dist = dist if dist is not None else DIST
    assets = dist / "assets"
    if assets.is_dir():
        app.mount("/assets", Assets(directory=assets), name="assets")

    @app.get("/favicon.svg", include_in_schema=False)
    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        icon = dist / "favicon.svg"
        if not icon.is_file():
            raise HTTPException(404, "favicon: the web app is not built")
        return FileResponse(icon, media_type="image/svg+xml")

    @app.get("/{path:path}", include_in_schema=False, response_model=None)
    def client(path: str) -> Response:
        if not is_client_route(path):
            raise HTTPException(404, f"/{path}: no such route")
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        # index.html names the hashed assets of the current build: never cache it.
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})
