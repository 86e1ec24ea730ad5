"""The query-result cache: in-process by default, Redis by setting (`CARBON254_CACHE_URL`).

A route caches an encoded response body (JSON, CSV, Parquet, Arrow bytes)
with `app.state.cache.get_or_compute(key, compute)`: the cached bytes if
present, else `compute()`'s, stored for `CARBON254_CACHE_TTL_S` seconds.
Concurrent misses of one key compute once (per process, and across processes
with Redis). A cache never fails a request: if Redis is away the result is
computed uncached, the outage is logged once, and caching resumes when Redis
answers again.

Key contract (callers MUST follow it; it is the only invalidation there is):
build keys with `cache_key(*parts)` from every input that determines the
result (surface and route, dataset, iso, market, locations in canonical
order, start, end, as_of, tz, format, page/cursor, and anything else the
body depends on) AND the data version of what the result reads:
`store.data_version(dataset, iso, market, start, end)`, which changes
whenever data overlapping that range is committed. Ingesting overlapping
data therefore changes the key, so stale entries are never read again in any
process, without any invalidation message; they age out by TTL or LRU. A
key without the data version would serve stale data for up to the TTL.
Tenant entitlements are checked before the cache is consulted, so keys need
no tenant unless the body itself depends on the caller.

    key = cache_key("rest", "lmp", iso, market, ",".join(sorted(locations)), start.isoformat(),
                    end.isoformat(), fmt, store.data_version("lmp", iso, market, start, end))
    body = request.app.state.cache.get_or_compute(key, lambda: encode(query(...)))
"""

from carbon254.service.cache.base import CacheConfigError, CacheStats, CacheUnavailable, QueryCache
from carbon254.service.cache.build import build_cache
from carbon254.service.cache.install import install_cache
from carbon254.service.cache.keys import cache_key
from carbon254.service.cache.memory import MemoryCache
from carbon254.service.cache.redis_cache import RedisCache, redact_url

__all__ = [
    "CacheConfigError",
    "CacheStats",
    "CacheUnavailable",
    "MemoryCache",
    "QueryCache",
    "RedisCache",
    "build_cache",
    "cache_key",
    "install_cache",
    "redact_url",
]
