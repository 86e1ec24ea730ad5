"""`install_operations(app, settings)`: the operations middleware, the store's readiness check, and the
400/413 answers of body-taking operations in OpenAPI (`openapi.py`).

Middleware order, outermost first (Starlette runs the last added outermost,
so they are added in reverse):

1. `RequestContextMiddleware`: binds the request id first, so every log
   record of the request carries it, and logs the access line last, so it
   sees the final status of everything inside (413s, CORS answers).
2. `RequestMetricsMiddleware`: latency and status of every answer, the
   inner middleware's included; outside CORS and the body limit so
   refused requests are counted too.
3. `SecurityHeadersMiddleware`: decorates every response below, errors
   and preflight answers included.
4. `CORSMiddleware` (only when `cors_origins` is set): answers preflights
   before the body limit and the routes, and adds the CORS headers to
   every answer, a 413 included, so a browser can read the error.
5. `ControlCharacterMiddleware`: refuses (422) control characters in query
   parameters, paths and credential headers before anything below, the
   audit log included, sees them.
6. `BodyLimitMiddleware`: innermost, right around the routes that read
   the body, which it counts as they read it.

Unhandled exceptions become 500s in Starlette's outermost
`ServerErrorMiddleware`, outside all of these: such an answer carries no
request id header or security headers, but its access line and the error
log record still carry the request id. Middleware other installers add
after this call runs outside the request context (its logs would have no
request id): add middleware before `install_operations`, or not at all.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from carbon254.config import Settings
from carbon254.service.metrics import RequestMetrics, RequestMetricsMiddleware
from carbon254.service.ops.access import RequestContextMiddleware
from carbon254.service.ops.body_limit import BodyLimitMiddleware
from carbon254.service.ops.control_characters import ControlCharacterMiddleware
from carbon254.service.ops.openapi import document_body_responses
from carbon254.service.ops.readiness import add_readiness_check, store_check
from carbon254.service.ops.request_id import REQUEST_ID_HEADER
from carbon254.service.ops.security_headers import SecurityHeadersMiddleware

CORS_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
CORS_REQUEST_HEADERS = (
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "Accept",
    "If-None-Match",
    REQUEST_ID_HEADER,
)
CORS_EXPOSED_HEADERS = (
    REQUEST_ID_HEADER,
    "ETag",
    "Retry-After",
    "Content-Disposition",
    "X-Carbon254-Count",
    "X-Carbon254-Simulated",
)
CORS_MAX_AGE_S = 600


def install_operations(app: FastAPI, settings: Settings) -> None:
    """Add the operations middleware (order in the module docstring) and the store's readiness check.

    Needs `app.state.metrics_registry` (`install_metrics` runs first). CORS
    allows only `settings.cors_origins`, without cookies (credentials travel
    in headers); request bodies are limited to `settings.max_body_bytes`.
    """
    add_readiness_check(app, store_check(app.state))
    document_body_responses(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ControlCharacterMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=list(CORS_METHODS),
            allow_headers=list(CORS_REQUEST_HEADERS),
            expose_headers=list(CORS_EXPOSED_HEADERS),
            allow_credentials=False,
            max_age=CORS_MAX_AGE_S,
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestMetricsMiddleware, metrics=RequestMetrics(app.state.metrics_registry))
    app.add_middleware(RequestContextMiddleware)
