"""The Redis cache: values shared by every service process, single-flight within and across processes.

Keys live under `prefix`: `<prefix>v:<key>` holds a value (framed by
`codec`, so compressed only when it pays) with a PX expiry, and
`<prefix>l:<key>` is the short lock a process holds while it computes a
missing value. Within a process, concurrent misses of a key share one
computation (`SingleFlight`); across processes, the first to `SET NX PX` the
lock computes, and the others poll for its value, claiming the lock
themselves if it disappears without a value (the holder failed or died), or
computing on their own after `lock_wait_s` (the holder is too slow).

With `near_bytes`, the values this process read or computed are also kept
in process (an LRU of at most that many bytes, same TTL) and a lookup asks
there first, saving the Redis round trip. That is safe because a key names
one value for good: keys embed the data version of what they read (see the
package docstring), so new data means new keys, never a new value under an
old key.

Redis trouble never fails a request: any Redis error counts in `errors`,
logs one warning per outage (with the URL's password redacted), and the
value is computed uncached. While Redis is down it is left alone except for
one probe per `retry_after_s`; the first success logs that it is back.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from carbon254.service.cache.base import CacheStats, CacheUnavailable
from carbon254.service.cache.codec import CodecError, decode, encode
from carbon254.service.cache.memory import MemoryCache, check_ttl
from carbon254.service.cache.outage import OutageTracker
from carbon254.service.cache.singleflight import SingleFlight

DEFAULT_PREFIX = "carbon254:cache:"
REDACTED = "***"

# One round trip per poll: the value if present, else try to take the lock.
# Replies: {2, value} (value present), {1} (lock taken), {0} (someone else holds it).
_CLAIM = """
local value = redis.call('GET', KEYS[1])
if value then return {2, value} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0}
"""
# Store the value, then drop the lock only if it is still ours (it may have expired and been retaken).
_STORE_AND_UNLOCK = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_VALUE_PRESENT, _LOCK_TAKEN = 2, 1
_POLL_FIRST_S = 0.002  # poll delays double from here while another process computes
_POLL_MAX_S = 0.05
_STATS_SCAN_BATCH = 1000


def redact_url(url: str) -> str:
    """`url` safe to log: the password of its user info and any `password` query parameter become `***`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        host = netloc.rpartition("@")[2]
        netloc = f"{user}:{REDACTED}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if k.lower() == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class RedisCache:
    """A `QueryCache` in Redis at `url` (`redis://`, `rediss://` or `unix://`), values kept `ttl_s` seconds.

    `prefix` namespaces the keys (tests use a unique one on a shared Redis).
    Operations time out after `socket_timeout_s` seconds and use at most
    `max_connections` connections; a process waits at most `lock_wait_s` for
    another process computing the same key, whose lock expires after
    `lock_ttl_s` if that process dies. `near_bytes` bounds the in-process
    copy of recent values (0: none). See the module docstring for the
    behaviour when Redis is unreachable.
    """

    backend = "redis"

    def __init__(
        self,
        url: str,
        ttl_s: float,
        prefix: str = DEFAULT_PREFIX,
        *,
        socket_timeout_s: float = 0.25,
        max_connections: int = 32,
        lock_ttl_s: float = 5.0,
        lock_wait_s: float = 2.0,
        retry_after_s: float = 1.0,
        near_bytes: int = 0,
    ) -> None:
        self.ttl_s = check_ttl(ttl_s)
        self._near = MemoryCache(near_bytes, self.ttl_s) if near_bytes > 0 else None
        self.prefix = prefix
        self.lock_ttl_s = lock_ttl_s
        self.lock_wait_s = lock_wait_s
        self.url = redact_url(url)
        # No client-side retries and short timeouts: a dead Redis must cost milliseconds, not
        # seconds; the outage tracker then keeps requests away from it until it answers again.
        self._pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=socket_timeout_s,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        self._client = redis.Redis(connection_pool=self._pool)
        self._claim = self._client.register_script(_CLAIM)
        self._store_and_unlock = self._client.register_script(_STORE_AND_UNLOCK)
        self._unlock = self._client.register_script(_UNLOCK)
        self._outage = OutageTracker(f"Redis cache {self.url}", retry_after_s)
        self._flight: SingleFlight[bytes] = SingleFlight()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._errors = 0
        self._size = (0, 0)  # last counted (entries, bytes), reported while Redis is away

    def _value_key(self, key: str) -> str:
        return f"{self.prefix}v:{key}"

    def _lock_key(self, key: str) -> str:
        return f"{self.prefix}l:{key}"

    def get_or_compute(self, key: str, compute: Callable[[], bytes], ttl_s: float | None = None) -> bytes:
        """The value of `key` from Redis, else `compute()`'s, kept `ttl_s` seconds (default: the TTL)."""
        ttl = self.ttl_s if ttl_s is None else check_ttl(ttl_s)
        near = self._near_value(key)
        if near is not None:
            return near
        value, shared = self._flight.run(key, lambda: self._fetch(key, compute, ttl))
        if shared:
            self._count(hits=1)
        if self._near is not None:
            self._near.put(key, value, ttl)
        return value

    def peek(self, key: str) -> bytes | None:
        """The value of `key` kept in process or in Redis (a hit), or None when absent, unreadable or away."""
        near = self._near_value(key)
        if near is not None:
            return near
        if not self._outage.allows():
            return None
        started = self._outage.now()
        try:
            stored = cast("bytes | None", self._client.get(self._value_key(key)))
        except redis.RedisError as exc:
            self._failed(exc)
            return None
        self._outage.succeeded(started)
        if stored is None:
            return None
        try:
            value = decode(stored)
        except CodecError:
            return None
        self._count(hits=1)
        if self._near is not None:
            self._near.put(key, value)
        return value

    def _near_value(self, key: str) -> bytes | None:
        """The in-process copy of `key`'s value (counted as a hit), or None."""
        if self._near is None:
            return None
        value = self._near.peek(key)
        if value is not None:
            self._count(hits=1)
        return value

    def _fetch(self, key: str, compute: Callable[[], bytes], ttl_s: float) -> bytes:
        if not self._outage.allows():
            return self._uncached(compute)
        started = self._outage.now()
        try:
            stored = cast("bytes | None", self._client.get(self._value_key(key)))  # typed for async too
        except redis.RedisError as exc:
            self._failed(exc)
            return self._uncached(compute)
        self._outage.succeeded(started)
        if stored is None:
            return self._compute_locked(key, compute, ttl_s)
        return self._hit_or_replace(key, stored, compute, ttl_s)

    def _hit_or_replace(self, key: str, stored: bytes, compute: Callable[[], bytes], ttl_s: float) -> bytes:
        """The value framed in `stored` (a hit); if we did not write that frame, a fresh value over it."""
        try:
            value = decode(stored)
        except CodecError:
            # Written by an incompatible build: recompute and overwrite rather than fail.
            return self._compute_and_store(key, compute, ttl_s, token=None)
        self._count(hits=1)
        return value

    def _compute_locked(self, key: str, compute: Callable[[], bytes], ttl_s: float) -> bytes:
        """Compute a missing value under the cross-process lock, or wait for the process holding it."""
        token = secrets.token_hex(16)
        lock_ms = max(1, round(self.lock_ttl_s * 1000))
        deadline = time.monotonic() + self.lock_wait_s
        delay = _POLL_FIRST_S
        while True:
            try:
                reply = self._claim(keys=[self._value_key(key), self._lock_key(key)], args=[token, lock_ms])
            except redis.RedisError as exc:
                self._failed(exc)
                return self._uncached(compute)
            if reply[0] == _VALUE_PRESENT:
                return self._hit_or_replace(key, reply[1], compute, ttl_s)
            if reply[0] == _LOCK_TAKEN:
                return self._compute_and_store(key, compute, ttl_s, token=token)
            if time.monotonic() >= deadline:
                # The holder is slow or stuck: answer now rather than keep this request waiting.
                return self._compute_and_store(key, compute, ttl_s, token=None)
            time.sleep(delay)
            delay = min(delay * 2, _POLL_MAX_S)

    def _compute_and_store(
        self, key: str, compute: Callable[[], bytes], ttl_s: float, *, token: str | None
    ) -> bytes:
        """Run `compute`, store its value and release the lock if `token` holds it; errors propagate."""
        self._count(misses=1)
        try:
            value = compute()
        except BaseException:
            if token is not None:
                self._release(key, token)
            raise
        frame = encode(value)
        ttl_ms = max(1, round(ttl_s * 1000))
        try:
            if token is None:
                self._client.set(self._value_key(key), frame, px=ttl_ms)
            else:
                self._store_and_unlock(
                    keys=[self._value_key(key), self._lock_key(key)], args=[frame, ttl_ms, token]
                )
        except redis.RedisError as exc:
            self._failed(exc)
        return value

    def _release(self, key: str, token: str) -> None:
        """Drop our lock so other processes stop waiting (they then compute themselves)."""
        try:
            self._unlock(keys=[self._lock_key(key)], args=[token])
        except redis.RedisError as exc:
            self._failed(exc)  # the lock expires on its own after lock_ttl_s

    def _uncached(self, compute: Callable[[], bytes]) -> bytes:
        self._count(misses=1)
        return compute()

    def _failed(self, exc: redis.RedisError) -> None:
        self._count(errors=1)
        self._outage.failed(exc)

    def _count(self, *, hits: int = 0, misses: int = 0, errors: int = 0) -> None:
        with self._lock:
            self._hits += hits
            self._misses += misses
            self._errors += errors

    def _count_stored(self) -> tuple[int, int]:
        """(entries, bytes) of the values under the prefix: a SCAN, with each batch's sizes pipelined."""
        entries = stored_bytes = 0
        batch: list[bytes] = []

        def flush() -> None:
            nonlocal entries, stored_bytes
            pipe = self._client.pipeline(transaction=False)
            for name in batch:
                pipe.strlen(name)
            sizes = pipe.execute()
            entries += sum(1 for size in sizes if size)  # 0: expired between SCAN and STRLEN
            stored_bytes += sum(sizes)
            batch.clear()

        for name in self._client.scan_iter(match=self._value_key("*"), count=_STATS_SCAN_BATCH):
            batch.append(name)
            if len(batch) >= _STATS_SCAN_BATCH:
                flush()
        if batch:
            flush()
        return entries, stored_bytes

    def stats(self) -> CacheStats:
        """Counters, and the entries and bytes (compressed) now under the prefix in Redis.

        Counting walks the keyspace with SCAN (cheap for a cache-sized Redis,
        done at scrape time only). While Redis is away the last counted size
        is reported and `available` is False; this never raises.
        """
        if self._outage.available:
            try:
                self._size = self._count_stored()
            except redis.RedisError as exc:
                self._failed(exc)
        entries, stored_bytes = self._size
        with self._lock:
            return CacheStats(
                backend=self.backend,
                hits=self._hits,
                misses=self._misses,
                errors=self._errors,
                entries=entries,
                bytes=stored_bytes,
                available=self._outage.available,
            )

    def ping(self) -> None:
        """Return if Redis answers PING, else raise `CacheUnavailable` naming the (redacted) URL."""
        try:
            self._client.ping()
        except redis.RedisError as exc:
            raise CacheUnavailable(
                f"Redis cache {self.url} unreachable: {type(exc).__name__}: {exc}"
            ) from exc

    def close(self) -> None:
        """Close the pooled connections and drop the in-process copies; a later call opens new ones."""
        if self._near is not None:
            self._near.close()
        self._pool.disconnect()
