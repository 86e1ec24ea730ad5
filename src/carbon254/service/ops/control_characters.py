"""Refuses control characters in query parameters, paths and credential headers, for every route.

One check at the edge instead of one per route: a NUL that reached
PostgreSQL would fail the statement (a 500) and the audit event recording
the request. The answer is a 422 with the service's error body naming the
parameter: the query parameter, the path parameter of the route the path
matches (else `path`), or the header. A WebSocket handshake is refused the
same way when the server supports denial responses, else closed with 1008
(policy violation) before it is accepted. See
`carbon254.service.control_characters` for which characters are refused.
"""

from __future__ import annotations

from starlette.datastructures import Headers, QueryParams
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.service.control_characters import control_character_message, first_control_character
from carbon254.service.errors import error_response

# Headers whose values are looked up in the metadata database (credentials).
IDENTIFIER_HEADERS = ("authorization", "x-api-key")
POLICY_VIOLATION = 1008


def _path_parameter(scope: Scope) -> str:
    """The name of the path parameter holding a control character, else `path` (no documented route matches).

    Matched against the OpenAPI path templates, which list every route however
    routers were nested (and which FastAPI builds once and caches); only an
    error takes this path, so its cost does not matter.
    """
    openapi = getattr(scope.get("app"), "openapi", None)
    templates = openapi().get("paths", {}) if callable(openapi) else {}
    path = scope.get("path", "")
    for template in templates:
        regex, _, _ = compile_path(template)
        found = regex.match(path)
        if found is None:
            continue
        for name, value in found.groupdict().items():
            if first_control_character(value) is not None:
                return name
    return "path"


def control_character_error(scope: Scope) -> ApiError | None:
    """The 422 for the first control character in `scope`'s query, path or credential headers, else None."""
    for name, value in QueryParams(scope.get("query_string", b"")).multi_items():
        character = first_control_character(name + value)
        if character is not None:
            return bad_parameter(name, control_character_message(f"query parameter {name!r}", character))
    character = first_control_character(scope.get("path", ""))
    if character is not None:
        name = _path_parameter(scope)
        what = "the path" if name == "path" else f"path parameter {name!r}"
        return bad_parameter(name, control_character_message(what, character))
    headers = Headers(scope=scope)
    for name in IDENTIFIER_HEADERS:
        character = first_control_character(headers.get(name, ""))
        if character is not None:
            return bad_parameter(name, control_character_message(f"header {name!r}", character))
    return None


class ControlCharacterMiddleware:
    """Answers 422 to HTTP requests and WebSocket handshakes holding control characters (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on unless `control_character_error` finds something to refuse."""
        error = control_character_error(scope) if scope["type"] in ("http", "websocket") else None
        if error is None:
            await self.app(scope, receive, send)
            return
        response = error_response(error.status_code, error.body(), error.headers)
        if scope["type"] == "http":
            await response(scope, receive, send)
            return
        await receive()  # websocket.connect: the handshake must arrive before it can be answered
        if "websocket.http.response" in scope.get("extensions", {}):
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": response.status_code,
                    "headers": response.raw_headers,
                }
            )
            await send({"type": "websocket.http.response.body", "body": response.body})
        else:
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": "control character"})
