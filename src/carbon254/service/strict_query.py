"""Query strings taken literally: an unknown, inapplicable or repeated parameter is a 422, never ignored.

Web frameworks drop parameters they were not told about, so `locaton=HB_WEST`
silently asks for every location and `iso=ERCOT&iso=PJM` silently uses PJM.
For market data that is a wrong answer that looks right. `StrictQueryRoute`
checks the raw query string against the parameters its endpoint declares
(through every dependency) before the endpoint runs:

- a name the endpoint does not take is `unknown_parameter`, with the close
  matches as `suggestions`; if another `/v1` endpoint takes it (e.g.
  `resample` on `/v1/capacity_price`), the message says it does not apply;
- a name given twice is `repeated_parameter` (lists are comma-separated);
- credentials in the query string are refused with where to send them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError
from carbon254.service.identity import get_principal

# Query names that carry credentials: REST takes them in headers only.
_CREDENTIAL_NAMES = frozenset({"api_key", "apikey", "key", "token", "access_token"})
# Names shown at most, so an error about a request with a thousand junk parameters stays short.
_MAX_NAME_CHARS = 40


def declared_query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameter names (aliases) an endpoint takes, through all its dependencies."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(field.alias for field in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(names)


def _every_api_query_name(openapi: dict[str, Any]) -> frozenset[str]:
    """Every query parameter some `/v1` endpoint takes, read off the app's (cached) OpenAPI document."""
    names: set[str] = set()
    for path, operations in openapi.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            names.update(p["name"] for p in operation.get("parameters", ()) if p.get("in") == "query")
    return frozenset(names)


def _shown(name: str) -> str:
    return name if len(name) <= _MAX_NAME_CHARS else f"{name[:_MAX_NAME_CHARS]}..."


def check_query_names(request: Request, allowed: frozenset[str], path: str) -> None:
    """Raise a 422 `ApiError` for the first unknown, inapplicable or repeated query parameter."""
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in allowed:
            if name in seen:
                raise ApiError(
                    BAD_PARAMETER_STATUS,
                    "repeated_parameter",
                    f"query parameter '{_shown(name)}' is given more than once; give it once "
                    "(lists are comma-separated, e.g. locations=A,B)",
                    name,
                )
            seen.add(name)
            continue
        raise _unknown(request, name, allowed, path)


def _unknown(request: Request, name: str, allowed: frozenset[str], path: str) -> ApiError:
    shown = _shown(name)
    if name.lower() in _CREDENTIAL_NAMES:
        return ApiError(
            BAD_PARAMETER_STATUS,
            "unknown_parameter",
            f"query parameter '{shown}' is not accepted: send credentials in the X-API-Key or "
            "Authorization: Bearer header",
            shown,
        )
    state = request.app.state
    everywhere: frozenset[str] | None = getattr(state, "api_query_names", None)
    if everywhere is None:
        everywhere = state.api_query_names = _every_api_query_name(request.app.openapi())
    suggestions = difflib.get_close_matches(name.lower(), sorted(allowed), n=3, cutoff=0.6)
    if name in everywhere:
        message = f"query parameter '{shown}' does not apply to {path}"
    else:
        message = f"unknown query parameter '{shown}' for {path}"
    if suggestions:
        message += f"; did you mean {' or '.join(repr(s) for s in suggestions)}?"
    else:
        message += f"; it takes {', '.join(sorted(allowed))}"
    return ApiError(BAD_PARAMETER_STATUS, "unknown_parameter", message, shown, suggestions)


class StrictQueryRoute(APIRoute):
    """An `APIRoute` refusing unknown, inapplicable and repeated query parameters (module docstring)."""

    @property
    def query_names(self) -> frozenset[str]:
        """The query parameters this route's endpoint takes."""
        return declared_query_names(self.dependant)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The endpoint's handler, after the query-string check."""
        handler = super().get_route_handler()
        allowed, path = self.query_names, self.path

        async def strict(request: Request) -> Response:
            try:
                check_query_names(request, allowed, path)
            except ApiError:
                # Missing credentials come first (401, or 429), as for any other mistake, and an
                # identified caller's refused request is audited under its tenant.
                await get_principal(request)
                raise
            return await handler(request)

        return strict
