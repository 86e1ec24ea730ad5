"""How an application-layer request becomes an HTTP answer: ETag and 304, cache, JSON pages, streams.

Every `/v1/...` data route (stored datasets and computed operations alike)
checks its parameters and the caller's entitlements, then calls `deliver`
with an `Answerable` (`carbon254.application.answer`), which:

1. asks it for its data version (the store's version of what it reads; no
   data read) and derives the `ETag` from it, the request's canonical key,
   the format and the page, so `If-None-Match` is answered 304 before
   anything is read;
2. looks the encoded answer up in the query cache (`app.state.cache`), keyed
   by the same parts, or computes it: read, filter, page, encode;
3. answers small and medium results from bytes (what the cache keeps) and
   streams large ones slice by slice, uncached.

JSON answers hold at most `settings.json_page_rows` rows; `next_cursor` in
the body and a `Link: <...>; rel="next"` header ask for the next page.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlencode

import orjson
import pyarrow as pa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from carbon254.application.answer import Answerable
from carbon254.application.errors import bad_parameter
from carbon254.config import Settings
from carbon254.service.cache import cache_key
from carbon254.service.cursor import cursor_key, decode_cursor, encode_cursor
from carbon254.service.encoding import MEDIA_TYPES, Format, attachment_headers, body_bytes, stream_body
from carbon254.service.remembered import BOUND_PARAMETERS, pinned_bounds, remembered_queries
from carbon254.store.base import Store
from carbon254.timeseries.bounds import relative_anchor

# Answers with more rows than this are streamed and never cached: a cache
# entry stays a few MB, and a large body is never encoded whole.
CACHE_MAX_ROWS = 50_000


class ResultCache(Protocol):
    """The part of the query cache (`carbon254.service.cache.QueryCache`) used here."""

    def peek(self, key: str) -> bytes | None:
        """The bytes cached under `key`, or None; never computes or waits."""
        ...

    def get_or_compute(self, key: str, compute: Callable[[], bytes], ttl_s: float | None = None) -> bytes:
        """The bytes cached under `key`, else `compute()`'s, stored."""
        ...


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A finished small answer: its media type, headers and body."""

    media_type: str
    headers: dict[str, str]
    body: bytes

    def pack(self) -> bytes:
        """One bytes value for the cache: a length-prefixed JSON head, then the body."""
        head = orjson.dumps({"media_type": self.media_type, "headers": self.headers})
        return struct.pack(">I", len(head)) + head + self.body

    @staticmethod
    def unpack(value: bytes) -> _Encoded:
        """The answer `pack` stored."""
        (size,) = struct.unpack_from(">I", value)
        head = orjson.loads(value[4 : 4 + size])
        return _Encoded(head["media_type"], head["headers"], value[4 + size :])


class _TooLargeToCache(Exception):
    """Raised out of the cache's compute for a large result, which is streamed instead of cached."""

    def __init__(self, table: pa.Table, metadata: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__("large result: streamed, not cached")
        self.table = table
        self.metadata = metadata
        self.headers = headers


async def get_cache(request: Request) -> ResultCache | None:
    """FastAPI dependency: the app's query cache (`app.state.cache`), None when it has none."""
    cache: ResultCache | None = getattr(request.app.state, "cache", None)
    return cache


def link_params(**given: str | StrEnum | None) -> dict[str, str]:
    """The caller's parameters to repeat in a next-page `Link`: unset ones dropped, enums by value."""
    return {
        name: value.value if isinstance(value, StrEnum) else value for name, value in given.items() if value
    }


def _etag(version: str, query_key: str, fmt: Format, offset: int) -> str:
    digest = hashlib.sha256(f"{version}\n{query_key}\n{fmt.value}\n{offset}".encode()).hexdigest()
    return f'"{digest[:40]}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 asks for GETs)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """A checked request and how to answer it.

    `path` is the route (`/v1/lmp`) and `link_params` the caller's own
    parameters, repeated in the next page's `Link`.
    """

    query: Answerable
    fmt: Format
    path: str
    link_params: Mapping[str, str]
    cursor: str | None = None
    if_none_match: str | None = None


async def deliver(
    store: Store,
    settings: Settings,
    cache: ResultCache | None,
    request: DeliveryRequest,
    *,
    http: Request | None = None,
) -> Response:
    """The HTTP answer to a request whose caller is already entitled to it.

    Raises `ApiError` for a bad cursor (422, or 409 when the data changed
    since it was issued), unknown names (404) and queries the store refuses
    (422). See the module docstring for the steps. A 304 or a cache hit is
    answered on the event loop (no data is read); anything else is read and
    encoded on a worker thread. With `http`, the HTTP request the query was
    parsed from, a successful answer remembers the query for the next
    identical request (`service.remembered`).
    """
    response = await _deliver(store, settings, cache, request)
    if http is not None:
        remembered_queries(http).remember(http, request)
    return response


async def _deliver(
    store: Store, settings: Settings, cache: ResultCache | None, request: DeliveryRequest
) -> Response:
    query, fmt = request.query, request.fmt
    query_key = query.key()
    version = query.data_version(store)
    offset = 0
    if request.cursor is not None:
        if fmt is not Format.JSON:
            raise bad_parameter(
                "cursor", "cursor pages JSON answers; other formats hold every row", "invalid_cursor"
            )
        relative = any(
            relative_anchor(request.link_params[name]) is not None
            for name in BOUND_PARAMETERS & request.link_params.keys()
        )
        offset = decode_cursor(
            cursor_key(settings), request.cursor, query_key, version, relative_bounds=relative
        )
    etag = _etag(version, query_key, fmt, offset)
    if _matches(request.if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag, "Vary": "Accept"})
    key = cache_key("rest", request.path, query_key, fmt.value, str(offset), version)
    hit = cache.peek(key) if cache is not None else None
    if hit is not None:
        return _response(_Encoded.unpack(hit), etag)
    return await run_in_threadpool(_computed, store, settings, cache, request, key, version, offset, etag)


def _response(encoded: _Encoded, etag: str) -> Response:
    return Response(
        encoded.body,
        media_type=encoded.media_type,
        headers={"Vary": "Accept", "ETag": etag, **encoded.headers},
    )


def _computed(
    store: Store,
    settings: Settings,
    cache: ResultCache | None,
    request: DeliveryRequest,
    key: str,
    version: str,
    offset: int,
    etag: str,
) -> Response:
    """The answer read and encoded now (through the cache's single flight), or streamed when large."""

    def compute() -> bytes:
        return _answer(store, settings, request, version, offset).pack()

    try:
        encoded = _Encoded.unpack(compute() if cache is None else cache.get_or_compute(key, compute))
    except _TooLargeToCache as large:
        headers = {"Vary": "Accept", "ETag": etag, **large.headers}
        return StreamingResponse(
            stream_body(large.table, request.fmt, large.metadata, request.query.tz),
            media_type=MEDIA_TYPES[request.fmt],
            headers=headers,
        )
    return _response(encoded, etag)


def _answer(
    store: Store, settings: Settings, request: DeliveryRequest, version: str, offset: int
) -> _Encoded:
    """Read, page and encode one answer; raises `_TooLargeToCache` with the rows when they are many."""
    query, fmt = request.query, request.fmt
    answer = query.answer(store)
    table = answer.table
    total = table.num_rows
    metadata: dict[str, Any] = {"count": total, **answer.head}
    headers: dict[str, str] = attachment_headers(fmt, query.filename)
    if "simulated" in answer.head:
        headers["X-Carbon254-Simulated"] = str(answer.head["simulated"]).lower()
    if fmt is Format.JSON:
        if offset > total:
            raise bad_parameter("cursor", "cursor points past the last row", "invalid_cursor")
        table = table.slice(offset, settings.json_page_rows)
        following = offset + table.num_rows
        next_cursor = None
        if following < total:
            next_cursor = encode_cursor(cursor_key(settings), following, query.key(), version)
            bounds = pinned_bounds(request.link_params, answer.head.get("query"))
            link = urlencode({**bounds, "cursor": next_cursor})
            headers["Link"] = f'<{request.path}?{link}>; rel="next"'
        metadata["count"] = table.num_rows
        metadata["total"] = total
        metadata["next_cursor"] = next_cursor
    headers["X-Carbon254-Count"] = str(table.num_rows)
    if table.num_rows > CACHE_MAX_ROWS:
        raise _TooLargeToCache(table, metadata, headers)
    return _Encoded(MEDIA_TYPES[fmt], headers, body_bytes(table, fmt, metadata, query.tz))
