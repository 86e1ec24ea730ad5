"""One JSON error body for every failed request, and the handlers that produce it.

Every 4xx and 5xx answer is `{"code", "message", "parameter"}` (plus
`"suggestions"` on 404s for a misspelled ISO, market or location), so clients
and the SDK handle one shape whether the mistake was caught by FastAPI's own
validation, by our parameter parsing, or by the catalog lookup.
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError

logger = logging.getLogger("carbon254.service")


class ErrorBody(BaseModel):
    """The body of every error response (documents the shape in OpenAPI)."""

    code: str
    message: str
    parameter: str | None
    suggestions: list[str] | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting `ErrorBody` for these statuses."""
    described = {
        404: "Unknown ISO, market or location; `suggestions` lists close matches.",
        401: "Missing or invalid credentials (API key or OIDC bearer token).",
        403: "Valid credentials whose tenant is not entitled to this ISO, dataset or feature.",
        422: "A malformed or out-of-range parameter, named in `parameter`.",
        429: "Rate limit exceeded; `Retry-After` says how many seconds to wait.",
    }
    return {s: {"model": ErrorBody, "description": described.get(s, "Error")} for s in statuses}


def error_response(status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """An orjson-encoded error response."""
    return Response(
        orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.body(), exc.headers)


def _describe_validation_error(error: dict[str, Any]) -> tuple[str | None, str, str]:
    """(parameter, code, message) for one pydantic error of a request."""
    loc = tuple(str(part) for part in error.get("loc", ()))
    where = loc[0] if loc else "request"
    # loc is ("query", "start") for a query parameter; body errors keep the full path.
    parameter = (
        loc[-1] if len(loc) == 2 and where in ("query", "path", "header", "cookie") else ".".join(loc[1:])
    )
    kind = {"query": "query parameter", "path": "path parameter", "header": "header"}.get(where, where)
    if error.get("type") == "missing":
        return parameter or None, "missing_parameter", f"{kind} '{parameter}' is required"
    given = error.get("input")
    shown = f" {given!r}" if isinstance(given, str | int | float) else ""
    return (
        parameter or None,
        "invalid_parameter",
        f"invalid value{shown} for {kind} '{parameter}': {error.get('msg', 'invalid')}",
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    described = [_describe_validation_error(dict(e)) for e in exc.errors()]
    if not described:
        described = [(None, "invalid_parameter", "the request is invalid")]
    parameter, code, message = described[0]
    body: dict[str, Any] = {"code": code, "message": message, "parameter": parameter}
    if len(described) > 1:
        body["errors"] = [{"code": c, "message": m, "parameter": p} for p, c, m in described]
    return error_response(BAD_PARAMETER_STATUS, body)


def _route_paths(app: FastAPI) -> list[str]:
    # The OpenAPI document lists every public path however routers were
    # nested, and FastAPI builds it once and caches it.
    return list(app.openapi().get("paths", {}))


def _routing_error(request: Request, exc: StarletteHTTPException) -> ApiError:
    """The error for a request routing could not place: unknown path, wrong method, or other HTTP error."""
    path = request.url.path
    if exc.status_code == 404:
        paths = _route_paths(request.app)
        segments = [s for s in path.split("/") if s]
        # Under /v1/ a single segment names a dataset (/v1/lmp), so a typo
        # there is answered as an unknown dataset. Names are compared without
        # the shared /v1/ prefix, which would make every path look alike.
        if len(segments) == 2 and segments[0] == "v1":
            served = sorted(p for p in paths if p.count("/") == 2 and p.startswith("/v1/") and "{" not in p)
            names = [p.removeprefix("/v1/") for p in served]
            close = difflib.get_close_matches(segments[1].lower(), names, n=3, cutoff=0.6)
            message = (
                f"unknown dataset or endpoint '{segments[1]}' in path {path}; served: {', '.join(served)}"
            )
            return ApiError(404, "not_found", message, "dataset", [f"/v1/{name}" for name in close])
        suggestions = difflib.get_close_matches(path, paths, n=3, cutoff=0.6)
        return ApiError(404, "not_found", f"no endpoint at path {path}", "path", suggestions)
    if exc.status_code == 405:
        message = f"method {request.method} is not allowed on path {path}"
        return ApiError(405, "method_not_allowed", message, "method")
    return ApiError(exc.status_code, "http_error", str(exc.detail))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error = _routing_error(request, exc)
    return error_response(error.status_code, error.body(), dict(exc.headers) if exc.headers else None)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The details stay in the log: they may name files and internals, and
    # they are of no use to the caller, whose request was fine.
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    error = ApiError(500, "internal_error", "internal server error; it has been logged")
    return error_response(500, error.body())


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the one body shape, replacing FastAPI's default 422 and 404 bodies."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
