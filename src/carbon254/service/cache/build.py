"""Choosing the cache from settings: `CARBON254_CACHE_URL` names the backend."""

from __future__ import annotations

from urllib.parse import urlsplit

from carbon254.config import Settings
from carbon254.service.cache.base import CacheConfigError, QueryCache
from carbon254.service.cache.memory import MemoryCache
from carbon254.service.cache.redis_cache import RedisCache, redact_url

MEMORY_SCHEMES = frozenset({"memory"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


def build_cache(settings: Settings) -> QueryCache:
    """The cache `settings.cache_url` asks for, with `settings.cache_ttl_s` as its TTL (seconds).

    `memory://` gives a `MemoryCache` holding at most `settings.cache_max_bytes`
    bytes of values (0: it never stores); `redis://host:port/db` (or
    `rediss://` for TLS, `unix:///path.sock`) gives a `RedisCache` that keeps
    copies of up to `settings.cache_max_bytes` bytes in process. Any other
    scheme raises `CacheConfigError`. Nothing connects here: Redis is first
    contacted by the first lookup (or `ping`).
    """
    url = settings.cache_url
    scheme = urlsplit(url).scheme.lower()
    if scheme in MEMORY_SCHEMES:
        return MemoryCache(settings.cache_max_bytes, settings.cache_ttl_s)
    if scheme in REDIS_SCHEMES:
        return RedisCache(url, settings.cache_ttl_s, near_bytes=settings.cache_max_bytes)
    raise CacheConfigError(
        f"CARBON254_CACHE_URL={redact_url(url)!r}: unknown cache scheme {scheme or '(none)'!r}; "
        "use memory:// (in-process) or redis://host:port/db (also rediss://, unix://)"
    )
