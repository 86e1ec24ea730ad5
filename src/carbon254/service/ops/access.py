"""The request context: a request id for every request, echoed back, and one access log line each.

Outermost of the service's middleware, so the id is bound before anything
else runs (every log record of the request carries it) and the access line
sees the final status, including answers produced by the inner middleware
(413, CORS preflights).

The access line (`carbon254.access`, INFO; WARNING for 5xx) holds method,
path, the query string with secret parameters redacted, the route template,
status, duration in milliseconds, the client address and, when an
authenticated route stored one in `request.state.principal`, the tenant.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbon254.service.ops.logs import ACCESS_LOGGER
from carbon254.service.ops.redaction import redact_query
from carbon254.service.ops.request_id import (
    REQUEST_ID_HEADER,
    accept_request_id,
    bind_request_id,
    unbind_request_id,
)
from carbon254.service.ops.routes import route_template

access_logger = logging.getLogger(ACCESS_LOGGER)


def _tenant(scope: Scope) -> str | None:
    principal = scope.get("state", {}).get("principal")
    tenant = getattr(principal, "tenant", None)
    return tenant if isinstance(tenant, str) else None


class RequestContextMiddleware:
    """Binds the request id (from a sane `X-Request-ID`, else new), echoes it, and logs the access line.

    The id is also put in `request.state.request_id` for routes that record
    it (e.g. the audit log). WebSocket connections get an id bound for their
    log records but no access line (they are not request/response).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id bound; log one line when it ends (or fails)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        # The same dict becomes `request.state` downstream, so the route's principal is visible here after.
        scope.setdefault("state", {})["request_id"] = request_id
        token = bind_request_id(request_id)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
        else:
            # On an exception the id stays bound: Starlette's ServerErrorMiddleware, outside this
            # one, logs the error next (`errors._unexpected_error`), and that record should carry
            # it. The binding ends with the request's task (each request runs in its own context).
            await self._http(scope, receive, send, request_id)
        unbind_request_id(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        began = time.perf_counter()
        status = 500  # unless the app starts a response: an exception escaped it

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            level = logging.WARNING if status >= 500 else logging.INFO
            # Skip building the record (query redaction, route lookup) when nobody would see it.
            if access_logger.isEnabledFor(level):
                self._log(scope, request_id, status, level, (time.perf_counter() - began) * 1000)

    @staticmethod
    def _log(scope: Scope, request_id: str, status: int, level: int, duration_ms: float) -> None:
        """One access-log record of a finished HTTP request."""
        client = scope.get("client")
        access_logger.log(
            level,
            "%s %s %d %.1f ms",
            scope["method"],
            scope["path"],
            status,
            duration_ms,
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "query": redact_query(scope.get("query_string", b"").decode("latin-1")) or None,
                "route": route_template(scope),
                "status": status,
                "duration_ms": round(duration_ms, 3),
                "tenant": _tenant(scope),
                "client": client[0] if client else None,
            },
        )
