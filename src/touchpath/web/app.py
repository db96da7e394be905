"""`create_app(settings)`: the ASGI app. Nothing is opened at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from touchpath import __version__
from touchpath.access import Access
from touchpath.clock import Clock
from touchpath.collect.http import CollectCors
from touchpath.collect.http import router as collect_router
from touchpath.errors import TouchpathError
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath
from touchpath.web import (
    access_api,
    analytics_api,
    api,
    builder_api,
    catalogue_api,
    demo_api,
    destinations_api,
    experiments_api,
    explore_api,
    imports_api,
    insights_api,
    journeys_api,
    maps_api,
    personalize_api,
    plans_api,
    profiles_api,
)
from touchpath.web import errors as web_errors
from touchpath.web.auth import AuthMiddleware, declare_roles, require
from touchpath.web.hosts import HostAllowList
from touchpath.web.limits import BodyLimit
from touchpath.web.spa import mount_spa

__all__ = [
    "allowed_hosts",
    "create_app",
    "create_collect_app",
    "mount_docs",
    "touchpath_error",
]


def _body_limits(settings: Settings) -> Callable[[str], int | None]:
    def limit_for(path: str) -> int | None:
        if path.startswith("/api/imports"):
            return settings.max_upload_bytes
        return settings.max_api_body_bytes if path.startswith("/api/") else None  # /v1: its own

    return limit_for


async def touchpath_error(request: Request, exc: TouchpathError) -> JSONResponse:
    """Touchpath's errors in the one format (`touchpath.web.errors`) with their status."""
    return web_errors.answer(request, exc)


def allowed_hosts(settings: Settings) -> list[str]:
    """The Host names the app answers: the setting, and the bound address when it is a name."""
    extra = [] if settings.host in ("0.0.0.0", "::", "") else [settings.host]
    return [*settings.allowed_hosts, *extra]


def create_collect_app(
    settings: Settings, store: Store, touchpath: Touchpath | None = None
) -> FastAPI:
    """The tracking API alone (`/v1`), for the port that may face the internet
    (`--collect-port`): no REST API, no web app, no docs; CORS for any origin. With the
    process's `touchpath`, pages also get their decisions there (`POST /v1/decide`)."""
    app = FastAPI(
        title="Touchpath collector",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.add_exception_handler(TouchpathError, touchpath_error)  # type: ignore[arg-type]
    app.add_middleware(CollectCors)
    app.include_router(collect_router)
    if touchpath is not None:
        app.state.touchpath = touchpath
        app.include_router(personalize_api.public)
    return app


def mount_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc with their scripts and styles served by the app itself
    (from fastapi-offline's copies), so the API pages work with no internet."""
    import fastapi_offline
    from fastapi.openapi.docs import (
        get_redoc_html,
        get_swagger_ui_html,
        get_swagger_ui_oauth2_redirect_html,
    )
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Touchpath API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Touchpath API",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )


def _routes(app: FastAPI, settings: Settings) -> None:
    """The middleware and every router, each with the role it needs."""
    # /v1 takes write keys; every other router needs a session or token (touchpath.web.auth):
    # viewer to read, and the role each route that changes things declares itself.
    app.add_middleware(AuthMiddleware)
    app.add_middleware(BodyLimit, limit_for=_body_limits(settings))  # before auth reads a body
    app.add_middleware(CollectCors)  # /v1 only; /api sends no CORS headers
    app.add_middleware(HostAllowList, allowed=allowed_hosts(settings))  # outermost
    app.include_router(collect_router)
    app.include_router(personalize_api.public)  # /v1/decide: a write key, like the tracking API
    viewer = [Depends(require("viewer"))]
    app.include_router(access_api.router)  # /api/auth is open; users, tokens, audit: admin
    app.include_router(api.router, dependencies=viewer)
    app.include_router(analytics_api.router, dependencies=viewer)
    app.include_router(catalogue_api.router, dependencies=viewer)
    app.include_router(plans_api.router, dependencies=viewer)
    app.include_router(insights_api.insights, dependencies=viewer)
    app.include_router(insights_api.dashboards, dependencies=viewer)
    app.include_router(profiles_api.router, dependencies=viewer)
    app.include_router(imports_api.router, dependencies=[Depends(require("admin"))])
    app.include_router(maps_api.router, dependencies=viewer)
    app.include_router(experiments_api.router, dependencies=viewer)
    app.include_router(explore_api.router, dependencies=viewer)
    app.include_router(journeys_api.router, dependencies=viewer)
    app.include_router(builder_api.router, dependencies=viewer)
    app.include_router(destinations_api.router)  # /api: viewer reads, admin manages; /v1/m public
    app.include_router(personalize_api.router, dependencies=viewer)
    app.include_router(demo_api.router, dependencies=viewer)  # the living demo's panel


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    clock: Clock | None = None,
    touchpath: Touchpath | None = None,
) -> FastAPI:
    """Build the app. It opens `settings.db` on start unless a `store` is handed in; `clock`
    (the wall clock by default) is the time of everything it runs (`tp.clock`). A process that
    built its own `touchpath` (the demo, which publishes journeys beside the app) hands it in:
    the app serves it and leaves closing it to its owner."""
    settings = settings or Settings()
    if touchpath is not None:
        store = touchpath.store

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = touchpath is None
        tp = touchpath or Touchpath.open(settings, store=store, background=True, clock=clock)
        app.state.touchpath = tp
        app.state.store = tp.store
        app.state.access = Access(tp.store)
        collector = None
        try:
            if settings.collect_port is not None:  # only /v1 on a port of its own
                from touchpath.web.server import Collector

                collector = Collector(create_collect_app(settings, tp.store, tp), settings)
                collector.start()
                app.state.collect_url = collector.url
            yield
        finally:
            if collector is not None:
                collector.stop()
            app.state.access.flush()
            if owned:
                tp.close()

    app = FastAPI(
        title="Touchpath",
        version=__version__,
        summary="Customer journey platform: collect, unify, analyse, map, act.",
        lifespan=lifespan,
        docs_url=None,  # served from the package's own assets below, never a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    if store is not None:
        app.state.store = store

    web_errors.install(app)  # one error format: code, message, problems with their paths
    _routes(app, settings)
    mount_docs(app)
    mount_spa(app)  # last: the client answers every other GET path
    declare_roles(app)
    web_errors.declare_errors(app)  # after the roles: their 401/403 get the error body too
    return app
