"""Per-credential rate limits: a token bucket per key, in process or shared through Redis.

Each key (a `Principal.rate_key`: one API key or one token subject) owns a
bucket holding up to `burst` tokens that refills at `rate_per_s` tokens per
second; a request takes one token, or is refused with the seconds until the
next token arrives (the `Retry-After` of the 429).

* `MemoryRateLimiter`: one process (embedded default). Thread-safe; buckets
  that have refilled completely are dropped (a full bucket and no bucket are
  the same thing), and at most `max_keys` are kept.
* `RedisRateLimiter`: shared by every service process (`CARBON254_CACHE_URL=redis://...`).
  An atomic Lua script reads the clock from Redis `TIME`, so processes on
  hosts with skewed clocks still agree. Buckets expire once idle long enough
  to be full. Where the policy allows many requests a second, a process takes
  a few tokens at a time (a lease, at most a tenth of the burst or what
  `LEASE_S` seconds refill) and spends them locally for up to `LEASE_S`, so a
  busy key costs a Redis round trip every few requests, not every request;
  tokens are always taken from the shared bucket before they are spent, so
  all processes together never exceed the limit (a lease left unspent only
  refuses a little early). Slow policies (10/s, burst 20) take one at a time.
  When Redis is unreachable each process falls back to its own in-memory
  buckets (requests keep being answered), logs the outage once, probes Redis
  again every `retry_after_s` seconds and goes back to it when it answers.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from carbon254.config import Settings
from carbon254.service.identity import RateLimiter

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "carbon254:ratelimit:"
DEFAULT_MAX_KEYS = 100_000
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


@dataclass(frozen=True, slots=True)
class TokenBucket:
    """The policy of every bucket: `burst` tokens at most, refilled at `rate_per_s` tokens per second."""

    rate_per_s: float
    burst: int

    def __post_init__(self) -> None:
        if not (self.rate_per_s > 0 and math.isfinite(self.rate_per_s)):
            raise ValueError(f"rate_per_s must be a positive number, got {self.rate_per_s}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {self.burst}")

    @property
    def refill_s(self) -> float:
        """Seconds an empty bucket takes to fill up: after that, an idle bucket may be forgotten."""
        return self.burst / self.rate_per_s

    def take(self, tokens: float, elapsed_s: float) -> tuple[float, float]:
        """Refill a bucket holding `tokens` after `elapsed_s` seconds and take one token.

        Returns `(tokens left, wait)`: wait is 0 when a token was taken, else the
        seconds until one will be there (and nothing is taken).
        """
        tokens = min(float(self.burst), tokens + max(0.0, elapsed_s) * self.rate_per_s)
        if tokens >= 1.0:
            return tokens - 1.0, 0.0
        return tokens, (1.0 - tokens) / self.rate_per_s


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float  # seconds, on the limiter's clock


class MemoryRateLimiter:
    """Token buckets in this process's memory; thread-safe, bounded to `max_keys` buckets.

    `rate_per_s` tokens per second refill each bucket up to `burst`. `clock`
    (monotonic seconds) is only for tests; `acquire(key, now=...)` can also be
    given the time explicitly.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys}")
        self.policy = TokenBucket(rate_per_s, burst)
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        # Least recently used first: the front is where idle (likely full) buckets collect.
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        """How many buckets are held (idle full ones are dropped as requests come in)."""
        return len(self._buckets)

    def acquire(self, key: str, now: float | None = None) -> float:
        """Charge one request to `key`'s bucket: 0 if allowed, else the seconds until a token is there."""
        now = self._clock() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                tokens, wait = self.policy.take(float(self.policy.burst), 0.0)
                self._buckets[key] = _Bucket(tokens, now)
            else:
                bucket.tokens, wait = self.policy.take(bucket.tokens, now - bucket.updated_at)
                bucket.updated_at = max(bucket.updated_at, now)
                self._buckets.move_to_end(key)
            self._evict(now)
        return wait

    def _evict(self, now: float) -> None:
        """Drop least recently used buckets that are full again, and any beyond `max_keys`."""
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            full = now - oldest.updated_at >= (self.policy.burst - oldest.tokens) / self.policy.rate_per_s
            if not (full or len(self._buckets) > self.max_keys):
                return
            self._buckets.popitem(last=False)


# KEYS[1]: the bucket. ARGV: rate per second, burst, expiry in ms, optionally the time in
# seconds (empty: Redis's own clock, so every process shares one), and how many tokens to take
# at most. Returns {tokens taken, wait in seconds}, as strings (Lua numbers would be truncated
# to integers on the way back); wait is 0 unless nothing was taken.
_TAKE_TOKEN = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now
if ARGV[4] ~= nil and ARGV[4] ~= '' then
    now = tonumber(ARGV[4])
else
    local clock = redis.call('TIME')
    now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
    tokens = burst
    at = now
end
if now > at then
    tokens = math.min(burst, tokens + (now - at) * rate)
    at = now
end
local taken = 0
local wait = 0
if tokens >= 1 then
    taken = math.min(tonumber(ARGV[5]), math.floor(tokens))
    tokens = tokens - taken
else
    wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens), 'at', string.format('%.6f', at))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {tostring(taken), string.format('%.9f', wait)}
"""
# Seconds tokens taken ahead from Redis stay usable in the process that took them.
LEASE_S = 0.1


@dataclass(slots=True)
class _Lease:
    tokens: int  # taken from the shared bucket, not yet spent
    expires_at: float  # monotonic seconds


class RedisRateLimiter:
    """Token buckets in Redis, shared by every process using the same Redis and `prefix`.

    `client` should fail fast (short socket timeouts, no client-side retries;
    `from_url` makes such a client): while Redis is unreachable this limiter
    decides from per-process in-memory buckets with the same policy, and tries
    Redis again at most every `retry_after_s` seconds.
    """

    def __init__(
        self,
        client: redis.Redis,
        rate_per_s: float,
        burst: int,
        *,
        prefix: str = DEFAULT_PREFIX,
        retry_after_s: float = 1.0,
        where: str = "Redis",
    ) -> None:
        self.policy = TokenBucket(rate_per_s, burst)
        self.prefix = prefix
        self.retry_after_s = retry_after_s
        self.where = where
        self._client = client
        self._take_token = client.register_script(_TAKE_TOKEN)
        # One second beyond the refill time: an expired bucket was full anyway.
        self._expiry_ms = math.ceil(self.policy.refill_s * 1000) + 1000
        self._fallback = MemoryRateLimiter(rate_per_s, burst)
        self.lease_size = max(1, min(burst // 10, math.floor(rate_per_s * LEASE_S)))
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()
        self._down_since: float | None = None  # monotonic seconds; None while Redis answers
        self._next_probe = 0.0

    @classmethod
    def from_url(
        cls,
        url: str,
        rate_per_s: float,
        burst: int,
        *,
        prefix: str = DEFAULT_PREFIX,
        retry_after_s: float = 1.0,
        timeout_s: float = 0.25,
        max_connections: int = 32,
    ) -> RedisRateLimiter:
        """A limiter on the Redis at `url` (`redis://host:port/db`), its client failing within `timeout_s`."""
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout_s,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),  # outages are handled here, by falling back, not by waiting
        )
        client = redis.Redis(connection_pool=pool)
        return cls(
            client, rate_per_s, burst, prefix=prefix, retry_after_s=retry_after_s, where=_safe_location(url)
        )

    @property
    def using_redis(self) -> bool:
        """False while Redis is unreachable and requests are decided in this process."""
        return self._down_since is None

    def acquire(self, key: str, now: float | None = None) -> float:
        """Charge one request to `key`'s bucket: 0 if allowed, else the seconds until a token is there.

        `now` (seconds since the epoch) overrides Redis's clock; leave it None
        in production so that every process uses the same clock (and with
        `now`, tokens are taken one at a time, never leased).
        """
        if now is None and self._spend_leased(key):
            return 0.0
        if self._should_try_redis():
            want = self.lease_size if now is None else 1
            try:
                taken, wait = self._take_token(
                    keys=[self.prefix + key],
                    args=[
                        self.policy.rate_per_s,
                        self.policy.burst,
                        self._expiry_ms,
                        "" if now is None else now,
                        want,
                    ],
                )
            except redis.RedisError as exc:
                self._went_down(exc)
            else:
                self._came_back()
                if int(taken) > 1:
                    self._lease(key, int(taken) - 1)
                return float(wait)
        return self._fallback.acquire(key)

    def _spend_leased(self, key: str) -> bool:
        """Spend one token of `key`'s live lease, if it has one."""
        with self._lock:
            lease = self._leases.get(key)
            if lease is None:
                return False
            if lease.tokens < 1 or time.monotonic() >= lease.expires_at:
                del self._leases[key]
                return False
            lease.tokens -= 1
            return True

    def _lease(self, key: str, tokens: int) -> None:
        """Keep `tokens` taken ahead for `key`, usable for `LEASE_S` seconds."""
        now = time.monotonic()
        with self._lock:
            if len(self._leases) >= DEFAULT_MAX_KEYS:
                self._leases = {k: v for k, v in self._leases.items() if v.expires_at > now}
            self._leases[key] = _Lease(tokens, now + LEASE_S)

    def close(self) -> None:
        """Disconnect every pooled connection to Redis; a later `acquire` connects again."""
        self._client.close()
        # A client built on a pool it was given leaves that pool open on close(): disconnect it here.
        self._client.connection_pool.disconnect()

    def _should_try_redis(self) -> bool:
        """Always while Redis is up; while it is down, one caller per `retry_after_s` probes it."""
        if self._down_since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if self._down_since is None or now >= self._next_probe:
                self._next_probe = now + self.retry_after_s  # the others keep using the fallback
                return True
            return False

    def _went_down(self, exc: redis.RedisError) -> None:
        with self._lock:
            now = time.monotonic()
            self._next_probe = now + self.retry_after_s
            if self._down_since is not None:
                return
            self._down_since = now
        log.warning(
            "rate limiter: %s unreachable (%s: %s); limiting in this process, retrying every %.1f s",
            self.where,
            type(exc).__name__,
            exc,
            self.retry_after_s,
        )

    def _came_back(self) -> None:
        if self._down_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self._down_since is None:
                return
            outage_s = time.monotonic() - self._down_since
            self._down_since = None
        log.info(
            "rate limiter: %s reachable again after %.1f s; limiting through Redis", self.where, outage_s
        )


def _safe_location(url: str) -> str:
    """`url` without user info or query (where passwords live), fit for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"Redis {parts.scheme}://{host}{port}{parts.path}"


def build_rate_limiter(settings: Settings) -> RateLimiter | None:
    """The rate limiter the settings ask for, or None when `rate_limit_per_s` is 0 (no limits).

    Redis-backed when `cache_url` is a Redis URL (`redis://`, `rediss://`,
    `unix://`), so all service processes share each credential's bucket;
    otherwise in process. Nothing connects here: Redis is first contacted by
    the first request.
    """
    if settings.rate_limit_per_s == 0:
        return None
    if urlsplit(settings.cache_url).scheme.lower() in REDIS_SCHEMES:
        return RedisRateLimiter.from_url(
            settings.cache_url, settings.rate_limit_per_s, settings.rate_limit_burst
        )
    return MemoryRateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
