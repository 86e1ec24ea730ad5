"""The in-process cache: LRU bounded by bytes of values, with TTL expiry and single-flight."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from carbon254.service.cache.base import CacheStats
from carbon254.service.cache.singleflight import SingleFlight


@dataclass(frozen=True, slots=True)
class _Entry:
    value: bytes
    expires_at: float  # on the cache's clock (monotonic seconds)


def check_ttl(ttl_s: float) -> float:
    """`ttl_s` if it is a positive number of seconds, else ValueError (a caller's bug, not a user's)."""
    if not ttl_s > 0:
        raise ValueError(f"cache TTL must be > 0 seconds, got {ttl_s!r}")
    return ttl_s


class MemoryCache:
    """A `QueryCache` in this process's memory.

    Values are kept until `ttl_s` seconds after they were stored, or until
    the least recently used ones must make room: the values' total size never
    exceeds `max_bytes`. A value larger than `max_bytes` is returned but not
    stored, so `max_bytes=0` gives a cache that never stores (still
    single-flight: concurrent misses of one key compute once). `clock` is the
    time source in seconds (monotonic), replaceable in tests.
    """

    backend = "memory"

    def __init__(self, max_bytes: int, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.ttl_s = check_ttl(ttl_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._flight: SingleFlight[bytes] = SingleFlight()

    def get_or_compute(self, key: str, compute: Callable[[], bytes], ttl_s: float | None = None) -> bytes:
        """The cached value of `key`, else `compute()`'s, kept `ttl_s` (default: the cache's TTL) seconds."""
        ttl = self.ttl_s if ttl_s is None else check_ttl(ttl_s)
        cached = self._lookup(key)
        if cached is not None:
            return cached
        value, shared = self._flight.run(key, lambda: self._load(key, compute, ttl))
        if shared:
            with self._lock:
                self._hits += 1
        return value

    def peek(self, key: str) -> bytes | None:
        """The live value of `key` (a hit), or None."""
        return self._lookup(key)

    def put(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        """Keep `value` under `key` for `ttl_s` seconds (default: the cache's TTL), within the byte bound."""
        self._store(key, value, self.ttl_s if ttl_s is None else check_ttl(ttl_s))

    def _lookup(self, key: str) -> bytes | None:
        """The live value of `key` (marking it most recently used and counting a hit), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                self._remove(key)
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return entry.value

    def _load(self, key: str, compute: Callable[[], bytes], ttl_s: float) -> bytes:
        # A previous leader may have stored the key between our lookup and our turn to lead.
        cached = self._lookup(key)
        if cached is not None:
            return cached
        with self._lock:
            self._misses += 1
        value = compute()
        self._store(key, value, ttl_s)
        return value

    def _store(self, key: str, value: bytes, ttl_s: float) -> None:
        size = len(value)
        with self._lock:
            self._remove(key)
            if size > self.max_bytes or self.max_bytes == 0:
                return
            while self._entries and self._bytes + size > self.max_bytes:
                self._remove(next(iter(self._entries)))
            self._entries[key] = _Entry(value, self._clock() + ttl_s)
            self._bytes += size

    def _remove(self, key: str) -> None:
        """Drop `key` if present; the caller holds the lock."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.value)

    def stats(self) -> CacheStats:
        """Counters, and the live entries and their bytes (expired entries are purged first)."""
        with self._lock:
            now = self._clock()
            for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
                self._remove(key)
            return CacheStats(
                backend=self.backend,
                hits=self._hits,
                misses=self._misses,
                errors=0,
                entries=len(self._entries),
                bytes=self._bytes,
                available=True,
            )

    def ping(self) -> None:
        """Always reachable: the cache is this process's memory."""

    def close(self) -> None:
        """Drop every entry (counters are kept); the cache stays usable."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
