"""The dataset routes' fast path: a request seen before skips parameter parsing.

Reading and checking a dataset route's parameters (FastAPI's validation of
a dozen query parameters, then `build_query`) costs more than answering a
query from the result cache. What they produce, a `DeliveryRequest`, depends
only on the route, the query string and the `Accept` header (and on market
names the store holds, which are never taken away), so `deliver` remembers
it under those after a successful answer. When the same request comes
again, `DatasetRoute` goes straight to the steps that depend on the caller
and on the data: identification and rate limit, the entitlement check, then
`deliver` (ETag, cache, or a read). Those run exactly as on the first
request, so a revoked key, a narrowed entitlement or new data are seen just
the same; only the parsing is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from carbon254.service.deps import get_settings, get_store
from carbon254.service.identity import get_principal
from carbon254.service.strict_query import StrictQueryRoute

if TYPE_CHECKING:
    from carbon254.service.delivery import DeliveryRequest

# Distinct requests remembered per process; past this the memory starts afresh.
MAX_REMEMBERED = 10_000

RequestKey = tuple[str, bytes, str]


def request_key(http: Request) -> RequestKey:
    """What a dataset query's parsing depends on: the path, the raw query string and `Accept`."""
    return http.scope["path"], http.scope["query_string"], http.headers.get("accept", "")


class RememberedQueries:
    """Parsed dataset queries by `request_key`, at most `max_entries` of them (event-loop only)."""

    def __init__(self, max_entries: int = MAX_REMEMBERED) -> None:
        self.max_entries = max_entries
        self._entries: dict[RequestKey, DeliveryRequest] = {}

    def get(self, http: Request) -> DeliveryRequest | None:
        """The `DeliveryRequest` remembered for a request like `http`, or None."""
        return self._entries.get(request_key(http))

    def remember(self, http: Request, delivery: DeliveryRequest) -> None:
        """Remember `delivery` (without its per-request `If-None-Match`) for requests like `http`."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[request_key(http)] = replace(delivery, if_none_match=None)


def remembered_queries(http: Request) -> RememberedQueries:
    """The app's memo, made on first use."""
    state = http.app.state
    memo: RememberedQueries | None = getattr(state, "remembered_queries", None)
    if memo is None:
        memo = state.remembered_queries = RememberedQueries()
    return memo


class DatasetRoute(StrictQueryRoute):
    """A `StrictQueryRoute` for `/v1` data routes that answers a remembered request without parsing it.

    The route's own handler must end in `deliver(..., http=request)`, which
    remembers what it parsed. Errors raised here (401, 403, 429, 409) are
    the same `ApiError`s the route's dependencies raise, handled alike.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, preceded by the lookup of a remembered query."""
        # Imported here: `delivery` imports this module (`deliver` remembers what it answered).
        from carbon254.service.delivery import deliver, get_cache

        # The strict query-string check runs only on the first request of a
        # kind: a remembered one passed it, and its query string is the key.
        parse_and_answer = super().get_route_handler()

        async def handler(http: Request) -> Response:
            remembered = remembered_queries(http).get(http)
            if remembered is None:
                return await parse_and_answer(http)
            principal = await get_principal(http)
            remembered.query.entitle(principal)
            delivery = replace(remembered, if_none_match=http.headers.get("if-none-match"))
            store, settings, cache = await get_store(http), await get_settings(http), await get_cache(http)
            return await deliver(store, settings, cache, delivery)

        return handler
