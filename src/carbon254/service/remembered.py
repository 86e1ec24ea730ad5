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

A relative time bound (`start=today-7d`, `as_of=now`) means another instant
as the clock moves, so its parse holds only while the clock reads the same:
a request with a bound relative to `today` is remembered under the day it
was parsed on (in its `tz`, as the parse reads it), and one relative to
`now` is never remembered. The key is taken before the request is parsed,
so a parse that straddles midnight is filed under the earlier day, which
is over by the time anyone asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from carbon254.service.deps import get_settings, get_store
from carbon254.service.identity import get_principal
from carbon254.service.strict_query import StrictQueryRoute
from carbon254.timeseries import Anchor, parse_bound, relative_anchor, resolve_tz

if TYPE_CHECKING:
    from carbon254.service.delivery import DeliveryRequest

# Distinct requests remembered per process; past this the memory starts afresh.
MAX_REMEMBERED = 10_000

# The parameters that hold time bounds, which may be relative to the clock.
BOUND_PARAMETERS = frozenset({"start", "end", "as_of"})
# Where `DatasetRoute` leaves a request's key for `remember`, taken before the request is parsed.
_KEY_SCOPE = "carbon254.remembered_key"

RequestKey = tuple[str, bytes, str, datetime | None]


def _today(parameters: dict[str, str]) -> datetime | None:
    """The start (UTC) of the current day in the request's `tz`, as `today` is read; None if unreadable."""
    tz = parameters.get("tz")
    try:
        zone = resolve_tz(tz, parameters.get("iso", "")) if tz and tz.strip() else None
        return parse_bound("today", zone)
    except (KeyError, ValueError):
        return None  # the parse refuses it too, so there is nothing to remember


def request_key(http: Request) -> RequestKey | None:
    """What a dataset query's parsing depends on: the path, the raw query string, `Accept` and the clock.

    The clock counts only for a bound relative to `today`, whose key holds
    the current day's start; None (never remembered) for one relative to
    `now`, which names another instant every second.
    """
    query_string: bytes = http.scope["query_string"]
    day: datetime | None = None
    parameters = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    anchors = {relative_anchor(value) for name, value in parameters if name in BOUND_PARAMETERS}
    if Anchor.NOW in anchors:
        return None
    if Anchor.TODAY in anchors:
        day = _today(dict(parameters))
        if day is None:
            return None
    return http.scope["path"], query_string, http.headers.get("accept", ""), day


def pinned_bounds(parameters: Mapping[str, str], described: Mapping[str, Any] | None) -> dict[str, str]:
    """`parameters` with each relative time bound replaced by the instant the answer read it as.

    A next-page `Link` carries them, so the page comes from the same window
    however the clock moved (a cursor is bound to the resolved window).
    `described` is the answer's `query` head field, holding the resolved
    bounds; without it the parameters are returned as they are.
    """
    pinned = dict(parameters)
    for name in BOUND_PARAMETERS & pinned.keys():
        resolved = described.get(name) if described is not None else None
        if isinstance(resolved, str) and relative_anchor(pinned[name]) is not None:
            pinned[name] = resolved
    return pinned


def _key(http: Request) -> RequestKey | None:
    """The key `DatasetRoute` took before parsing `http`, else one taken now."""
    scope = http.scope
    return scope[_KEY_SCOPE] if _KEY_SCOPE in scope else request_key(http)


class RememberedQueries:
    """Parsed dataset queries by `request_key`, at most `max_entries` of them (event-loop only)."""

    def __init__(self, max_entries: int = MAX_REMEMBERED) -> None:
        self.max_entries = max_entries
        self._entries: dict[RequestKey, DeliveryRequest] = {}

    def get(self, http: Request) -> DeliveryRequest | None:
        """The `DeliveryRequest` remembered for a request like `http`, or None."""
        key = _key(http)
        return None if key is None else self._entries.get(key)

    def remember(self, http: Request, delivery: DeliveryRequest) -> None:
        """Remember `delivery` (without its per-request `If-None-Match`) for requests like `http`."""
        key = _key(http)
        if key is None:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = replace(delivery, if_none_match=None)


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
            http.scope[_KEY_SCOPE] = request_key(http)
            remembered = remembered_queries(http).get(http)
            if remembered is None:
                return await parse_and_answer(http)
            principal = await get_principal(http)
            remembered.query.entitle(principal)
            delivery = replace(remembered, if_none_match=http.headers.get("if-none-match"))
            store, settings, cache = await get_store(http), await get_settings(http), await get_cache(http)
            return await deliver(store, settings, cache, delivery)

        return handler
