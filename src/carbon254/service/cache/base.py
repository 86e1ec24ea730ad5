"""What every query-result cache offers: the `QueryCache` protocol, its statistics and its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CacheStats:
    """A snapshot of one cache's counters since it was built.

    `hits` are answers served without running `compute`, `misses` are runs of
    `compute` (so N concurrent callers of one missing key count one miss and
    N-1 hits), `errors` are failed backend operations (Redis unreachable,
    timed out, refused a command). `entries` and `bytes` are what the backend
    holds now (bytes of stored values, after compression for Redis).
    `available` is False while the backend is known to be unreachable.
    """

    backend: str
    hits: int
    misses: int
    errors: int
    entries: int
    bytes: int
    available: bool

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses), 0.0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class CacheUnavailable(RuntimeError):
    """The cache backend cannot be reached (raised by `ping`, for readiness checks)."""


class CacheConfigError(ValueError):
    """`CARBON254_CACHE_URL` names no cache this build knows how to open."""


class QueryCache(Protocol):
    """A bytes-valued cache of query results, shared by every thread of the service.

    Implementations are thread-safe: FastAPI runs sync routes in a thread
    pool. A cache never makes a request fail: when its backend is away it
    answers by computing (uncached) and counts the error.
    """

    def get_or_compute(self, key: str, compute: Callable[[], bytes], ttl_s: float | None = None) -> bytes:
        """The value cached under `key`, else `compute()`'s result, stored for `ttl_s` seconds.

        `ttl_s` defaults to the cache's own TTL. Concurrent misses of one key
        run `compute` once and all callers get its result; an exception from
        `compute` propagates to every caller waiting on it and nothing is
        cached. See the package docstring for what a key must contain.
        """
        ...

    def peek(self, key: str) -> bytes | None:
        """The value cached under `key` (counted as a hit), or None; never computes, waits or raises.

        The service answers cache hits on its event loop with this, and goes
        to a worker thread (and `get_or_compute`) only on a miss.
        """
        ...

    def stats(self) -> CacheStats:
        """The current counters and size; never raises, even when the backend is away."""
        ...

    def ping(self) -> None:
        """Return if the backend answers, else raise `CacheUnavailable` (used by `/ready`)."""
        ...

    def close(self) -> None:
        """Release the backend's connections (idempotent); a later call reconnects lazily."""
        ...
