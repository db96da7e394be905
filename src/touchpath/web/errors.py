"""The one error format of the REST API, for Touchpath's errors and for request validation.

Every error answers `{"success": false, "error": {"code", "message", "problems": [{"code",
"path", "problem"}]}}`: the error's stable code, the whole message, and each problem with its
own stable code and the path of what is wrong (`steps[2].event`), as the CLI prints them and
Python raises them (`touchpath.errors.TouchpathError.problems`). A request the API cannot read
(a spec that fails validation, a bad query parameter) answers the same format: 400 on the routes
that take a spec (`SpecRoute`), FastAPI's 422 elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

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

__all__ = [
    "ERRORS",
    "DocumentRoute",
    "ErrorBody",
    "SpecRoute",
    "answer",
    "declare_errors",
    "error_responses",
    "install",
    "reparsed_by",
    "status_of",
]

F = TypeVar("F", bound=Callable[..., Any])

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
    problems: list[ProblemOut] = []


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

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own refusals: a body that is not JSON (400), an unknown path (404), a
        # method the path does not take (405)
        path = "body" if exc.status_code == 400 else ""
        message = "not valid JSON" if exc.detail == _UNPARSABLE else str(exc.detail)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        problem = Problem(code, path, message)
        return JSONResponse(
            body(code, str(problem), [problem]), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = problems_of([_without_source(e) for e in exc.errors()])
        message = "; ".join(map(str, problems))
        return JSONResponse(body(SpecError.code, message, problems), status_code=_invalid(request))


_UNPARSABLE = "There was an error parsing the body"
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


class SpecRoute(APIRoute):
    """A route whose body is a spec (`APIRouter(route_class=SpecRoute)`): a spec that fails
    validation is a 400 `invalid_spec`, as the spec errors of Python and the CLI are."""

    invalid_status = 400


class DocumentRoute(SpecRoute):
    """A SpecRoute whose body holds a document (a map, a journey) typed in the OpenAPI
    document: when the body fails validation, the endpoint's `reparse` (`reparsed_by`) reads it
    again to raise the document's own error, whose paths read as in the document
    (`stages[2].touchpoints[0].match.event: required`), not with pydantic's union members."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reparse: Callable[[Any], Any] | None = getattr(self.endpoint, "reparse", None)
        if reparse is None:
            return handler

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                if any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors()):
                    reparse(exc.body)  # raises the document's SpecError
                raise

        return run


def reparsed_by(reparse: Callable[[Any], Any]) -> Callable[[F], F]:
    """Mark an endpoint of a `DocumentRoute`: `reparse(body)` raises the body's own error."""

    def mark(endpoint: F) -> F:
        endpoint.reparse = reparse  # type: ignore[attr-defined]
        return endpoint

    return mark


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


_REF = "#/components/schemas/ErrorBody"
_WHY = {
    400: "The input is invalid; each problem names its path and what is wrong.",
    401: "No credential, or one that is not valid.",
    403: "The credential's role is too low, or the CSRF token is missing.",
    404: "A thing the request names does not exist.",
    413: "The body is over the size limit of the route.",
    422: "The request does not match its schema; each problem names its path.",
}


def error_responses(op: dict[str, Any], path: str) -> None:
    """Declare in one OpenAPI operation the errors its shape can answer, all in the one format:
    400 when it takes any input, 404 when it may name a thing (in its path, a required query
    parameter or its body), 413 when it takes a body
    (`/api` and `/v1`), FastAPI's 422 with the format the handler really answers, and the
    401/403 of routes that need a credential (`touchpath.web.auth.declare_roles`). Every error
    status gets the error body's schema."""
    responses: dict[str, Any] = op.setdefault("responses", {})
    params = op.get("parameters", [])
    takes_input = bool(params) or "requestBody" in op
    names = any(
        p.get("in") == "path" or (p.get("in") == "query" and p.get("required")) for p in params
    )
    wanted = [
        (400, takes_input),
        (404, names),
        (413, "requestBody" in op and path.startswith(("/api/", "/v1/"))),
        (422, "422" in responses),
    ]
    for code, applies in wanted:
        if applies and (str(code) not in responses or code == 422):
            responses[str(code)] = {"description": _WHY[code]}
    json_error = {"application/json": {"schema": {"$ref": _REF}}}
    for status, answer in responses.items():
        if status[0] not in "45":
            continue
        content = answer.get("content") or {}
        if not content or any(m.get("schema", {}).get("$ref") == _REF for m in content.values()):
            answer["content"] = json_error  # errors are JSON, whatever the route's own type


TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
"""What a time is in the API: ISO 8601, in UTC when it has no offset. The store keeps UTC
times without an offset, and answers them so; a request may give either."""


def _naive_times(node: Any) -> None:
    """Say in the document what times really are (`TIME`): OpenAPI's `date-time` format demands
    an offset, which the store's answers do not carry."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            del node["format"]
            node["pattern"] = TIME
        for value in node.values():
            _naive_times(value)
    elif isinstance(node, list):
        for value in node:
            _naive_times(value)


def declare_errors(app: FastAPI) -> None:
    """Put each route's error answers in the OpenAPI document (`error_responses`), with the
    one error body's schema, so clients and schemathesis know every status a route answers."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(error_schema.pop("$defs", {}))
        components["ErrorBody"] = error_schema
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        _naive_times(schema)
        for path, ops in schema.get("paths", {}).items():
            for op in ops.values():
                error_responses(op, path)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
