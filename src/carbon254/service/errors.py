"""One JSON error body for every failed request, and the handlers that produce it.

Every 4xx and 5xx answer is `{"code", "message", "parameter"}` (plus
`"suggestions"` on 404s for a misspelled ISO, market or location), so clients
and the SDK handle one shape whether the mistake was caught by FastAPI's own
validation, by our parameter parsing, or by the catalog lookup.

Messages show a user's value only as a short `carbon254.excerpt.excerpt`,
and never a path of this machine: `public_message` replaces any that slipped
into a message (from a library's error text, say) before it is sent, on
every surface (REST here, GraphQL, the stream).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

import carbon254
from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError
from carbon254.excerpt import excerpt
from carbon254.service.routes import unserved_owner

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


@lru_cache(maxsize=8)
def _local_paths(data_dir: str | None) -> re.Pattern[str]:
    """A pattern matching paths under the install, package, working, temp, home and data directories."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, tempfile.gettempdir(), os.getcwd()}
    roots |= {str(Path(carbon254.__file__).resolve().parents[1]), str(Path.home())}
    if data_dir is not None:
        roots |= {data_dir, str(Path(data_dir).resolve())}
    # The longest first, so a path under two roots is matched whole; "/" alone
    # (a container's working directory, say) would match every route path.
    kept = sorted((r.rstrip("/") for r in roots if len(r.rstrip("/")) > 1), key=len, reverse=True)
    alternatives = "|".join(re.escape(r) for r in kept)
    return re.compile(rf"(?:{alternatives})(?![^/\\\s'\"])[^\s'\"]*")


def public_message(message: str, data_dir: Path | str | None = None) -> str:
    """`message` with every path on this machine (under the install, package, working, temp, home
    or `data_dir` directory) replaced by `<path>`, as every error message is before it is sent."""
    return _local_paths(None if data_dir is None else str(data_dir)).sub("<path>", message)


def _data_dir(request: Request) -> Path | None:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "data_dir", None)


def error_response(status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """An orjson-encoded error response."""
    return Response(
        orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers
    )


def _public_response(
    request: Request, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    """`error_response` with the message (and those of `errors`, if any) passed through `public_message`."""
    data_dir = _data_dir(request)
    body["message"] = public_message(body["message"], data_dir)
    for each in body.get("errors", ()):
        each["message"] = public_message(each["message"], data_dir)
    return error_response(status_code, body, headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _public_response(request, exc.status_code, exc.body(), exc.headers)


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
        return parameter or None, "missing_parameter", f"{kind} {excerpt(parameter)} is required"
    given = error.get("input")
    shown = f" {excerpt(given)}" if isinstance(given, str | int | float) else ""
    return (
        parameter or None,
        "invalid_parameter",
        f"invalid value{shown} for {kind} {excerpt(parameter)}: {error.get('msg', 'invalid')}",
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
    return _public_response(request, BAD_PARAMETER_STATUS, body)


def _route_paths(app: FastAPI) -> list[str]:
    # The OpenAPI document lists every public path however routers were
    # nested, and FastAPI builds it once and caches it.
    return list(app.openapi().get("paths", {}))


def _routing_error(request: Request, exc: StarletteHTTPException) -> ApiError:
    """The error for a request routing could not place: unknown path, wrong method, or other HTTP error."""
    path = request.url.path
    if exc.status_code == 404:
        misdirected = _not_served_here(request, path)
        if misdirected is not None:
            return misdirected
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
                f"unknown dataset or endpoint {excerpt(segments[1])} in path {excerpt(path)}; "
                f"served: {', '.join(served) or 'none by this process'}"
            )
            return ApiError(404, "not_found", message, "dataset", [f"/v1/{name}" for name in close])
        suggestions = difflib.get_close_matches(path, paths, n=3, cutoff=0.6)
        return ApiError(404, "not_found", f"no endpoint at path {excerpt(path)}", "path", suggestions)
    if exc.status_code == 405:
        message = f"method {excerpt(request.method)} is not allowed on path {excerpt(path)}"
        return ApiError(405, "method_not_allowed", message, "method")
    return ApiError(exc.status_code, "http_error", str(exc.detail))


def _not_served_here(request: Request, path: str) -> ApiError | None:
    """The 404 for a path of a domain this process leaves out (`serve --only`), naming what it serves."""
    settings = getattr(request.app.state, "settings", None)
    found = unserved_owner(path, getattr(settings, "only", None))
    if found is None:
        return None
    owner, served = found
    listing = "; ".join(f"{d.name}: {', '.join(d.paths)}" for d in served)
    message = (
        f"{excerpt(path)} belongs to the '{owner.name}' domain, which this process does not serve "
        f"(it runs with --only {','.join(d.name for d in served if d.name != 'ops')}); it serves {listing}"
    )
    return ApiError(404, "not_served", message, "path")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error = _routing_error(request, exc)
    headers = dict(exc.headers) if exc.headers else None
    return _public_response(request, error.status_code, error.body(), headers)


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
