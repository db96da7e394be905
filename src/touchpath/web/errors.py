"""The one error format of the REST API, for Touchpath's errors and for request validation.

Every error answers `{"success": false, "error": {"code", "message", "problems": [{"code",
"path", "problem"}]}}`: the error's stable code, the whole message, and each problem with its
own stable code and the path of what is wrong (`steps[2].event`), as the CLI prints them and
Python raises them (`touchpath.errors.TouchpathError.problems`). A request the API cannot read
(a spec that fails validation, a bad query parameter) answers the same format: 400 on the routes
that take a spec (`SpecRoute`), FastAPI's 422 elsewhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from touchpath.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    Problem,
    SpecError,
    StoreUnavailable,
    TouchpathError,
    Unauthorized,
    problems_of,
)

__all__ = ["ERRORS", "ErrorBody", "SpecRoute", "answer", "install", "status_of"]

STATUS: dict[type[TouchpathError], int] = {
    BadRequest: 400,
    SpecError: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    PayloadTooLarge: 413,
    Overloaded: 429,
    StoreUnavailable: 503,
}


class ProblemOut(BaseModel):
    code: str
    path: str
    problem: str


class ErrorOut(BaseModel):
    code: str
    message: str
    problems: list[ProblemOut]


class ErrorBody(BaseModel):
    """What every error answers."""

    success: bool = False
    error: ErrorOut


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The input is invalid; each problem names its path."},
    404: {"model": ErrorBody, "description": "A named thing does not exist."},
}
"""The `responses` of a route that takes a spec."""


def status_of(exc: TouchpathError) -> int:
    """The HTTP status of a Touchpath error (500 for one no class claims)."""
    return next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)


def body(code: str, message: str, problems: tuple[Problem, ...] | list[Problem]) -> dict[str, Any]:
    """The error body: code, message and problems."""
    return {
        "success": False,
        "error": {
            "code": code,
            "message": message,
            "problems": [{"code": p.code, "path": p.path, "problem": p.problem} for p in problems],
        },
    }


def answer(request: Request, exc: TouchpathError) -> JSONResponse:
    """The response to a Touchpath error: its status, the one format, and the headers its
    status asks for (`WWW-Authenticate` outside /v1, `Retry-After`)."""
    headers = {}
    if isinstance(exc, Unauthorized) and not request.url.path.startswith("/v1/"):
        headers["WWW-Authenticate"] = 'Bearer realm="touchpath"'
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(
        body(exc.code, str(exc), exc.problems), status_code=status_of(exc), headers=headers
    )


def install(app: FastAPI) -> None:
    """Answer Touchpath's errors and request validation errors in the one format."""

    @app.exception_handler(TouchpathError)
    async def touchpath_error(request: Request, exc: TouchpathError) -> JSONResponse:
        return answer(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = problems_of([_without_source(e) for e in exc.errors()])
        message = "; ".join(map(str, problems))
        return JSONResponse(body(SpecError.code, message, problems), status_code=_invalid(request))


class SpecRoute(APIRoute):
    """A route whose body is a spec (`APIRouter(route_class=SpecRoute)`): a spec that fails
    validation is a 400 `invalid_spec`, as the spec errors of Python and the CLI are."""

    invalid_status = 400


def _invalid(request: Request) -> int:
    """The status of a request that failed validation: 400 on a `SpecRoute`, FastAPI's 422
    elsewhere."""
    return getattr(request.scope.get("route"), "invalid_status", 422)


def _without_source(error: Any) -> dict[str, Any]:
    """FastAPI's error with the location's first part (`body`, `query`, `path`) left out when
    more follows, so paths read as in a spec (`steps[1].event`, `limit`)."""
    loc = tuple(error.get("loc", ()))
    if len(loc) > 1 and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    return {**error, "loc": loc}
