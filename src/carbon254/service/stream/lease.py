"""Who publishes the change feed, and where it stands: one process in-process, one of many with Redis.

Every commit must reach the broker exactly once. Embedded, each process
publishes to its own in-process broker, so each process leads itself
(`LocalLease`). With Redis, service processes compete for a lock
(`SET NX PX`, renewed by its holder); the holder publishes each page of
the change feed and advances the cursor kept in Redis in one Lua script
that first checks it still holds the lock. A leader that stalled past its
lock's expiry therefore cannot publish, and a new leader resumes from the
stored cursor: no gap, no repeat.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as aioredis

from carbon254.service.stream.broker import Broker

logger = logging.getLogger("carbon254.service.stream")

LOCK_TTL_MS = 3_000  # a dead leader is replaced after at most this long
RENEW_EVERY_S = LOCK_TTL_MS / 1000 / 3
CONTEND_EVERY_S = 0.25  # how often a follower tries to take the lock

# KEYS: lock, cursor. ARGV: token, new cursor, ttl ms, then channel/message pairs.
_PUBLISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 4, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
# KEYS: lock. ARGV: token, then channel/message pairs.
_PUBLISH_ONLY = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 1
"""
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class FeedLease(Protocol):
    """The right to publish the change feed, and the feed's cursor."""

    async def acquire(self, fallback: str) -> str | None:
        """The cursor to publish from if this process leads now, else None.

        `fallback` is used when no cursor is stored (first start, or a Redis
        that restarted empty): the caller passes the last cursor it published,
        or the store's head.
        """
        ...

    async def publish(self, messages: Sequence[tuple[str, bytes]], cursor: str) -> bool:
        """Publish (channel, message) pairs and advance the cursor, all or nothing; False if not leader."""
        ...

    async def publish_only(self, messages: Sequence[tuple[str, bytes]]) -> bool:
        """Publish (channel, message) pairs derived from the feed, cursor unmoved; False if not leader."""
        ...

    @property
    def leading(self) -> bool:
        """Whether this process led at its last `acquire` or `publish`."""
        ...

    async def release(self) -> None:
        """Give up leadership (at shutdown) so another process takes over at once."""
        ...


class LocalLease:
    """Embedded: this process always leads, and its cursor lives in memory."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._cursor: str | None = None

    async def acquire(self, fallback: str) -> str | None:
        """This process's cursor (`fallback` the first time)."""
        if self._cursor is None:
            self._cursor = fallback
        return self._cursor

    async def publish(self, messages: Sequence[tuple[str, bytes]], cursor: str) -> bool:
        """Publish to the in-process broker (never blocks) and advance the cursor."""
        for channel, message in messages:
            await self._broker.publish(channel, message)
        self._cursor = cursor
        return True

    async def publish_only(self, messages: Sequence[tuple[str, bytes]]) -> bool:
        """Publish to the in-process broker."""
        for channel, message in messages:
            await self._broker.publish(channel, message)
        return True

    @property
    def leading(self) -> bool:
        """Always: embedded, each process publishes to its own broker."""
        return True

    async def release(self) -> None:
        """Nothing to release."""


class RedisLease:
    """Leadership by a Redis lock under `namespace`; the cursor is stored beside it."""

    def __init__(self, client: aioredis.Redis, namespace: str) -> None:
        self._redis = client
        self._lock_key = f"{namespace}:publisher"
        self._cursor_key = f"{namespace}:cursor"
        self._token = uuid.uuid4().hex
        self._leading = False
        self._cursor: str | None = None
        self._renewed = 0.0
        self._tried = 0.0
        self._publish = client.register_script(_PUBLISH)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._publish_only = client.register_script(_PUBLISH_ONLY)

    @property
    def leading(self) -> bool:
        """Whether this process held the lock at its last check."""
        return self._leading

    async def acquire(self, fallback: str) -> str | None:
        """Take or renew the lock; the stored cursor (else `fallback`) when leading."""
        now = time.monotonic()
        if self._leading:
            if now - self._renewed >= RENEW_EVERY_S:
                if await self._renew(keys=[self._lock_key], args=[self._token, LOCK_TTL_MS]):
                    self._renewed = now
                else:
                    self._lost()
                    return None
            return self._cursor
        if now - self._tried < CONTEND_EVERY_S:
            return None
        self._tried = now
        if not await self._redis.set(self._lock_key, self._token, nx=True, px=LOCK_TTL_MS):
            return None
        stored = await self._redis.get(self._cursor_key)
        self._cursor = (stored.decode() if isinstance(stored, bytes) else stored) or fallback
        self._leading, self._renewed = True, now
        logger.info("stream: this process now publishes the change feed (from cursor %s)", self._cursor)
        return self._cursor

    async def publish(self, messages: Sequence[tuple[str, bytes]], cursor: str) -> bool:
        """Publish and store the cursor in one script, only while holding the lock."""
        args: list[str | bytes | int] = [self._token, cursor, LOCK_TTL_MS]
        for channel, message in messages:
            args += [channel, message]
        if await self._publish(keys=[self._lock_key, self._cursor_key], args=args):
            self._cursor, self._renewed = cursor, time.monotonic()
            return True
        self._lost()
        return False

    async def publish_only(self, messages: Sequence[tuple[str, bytes]]) -> bool:
        """Publish in one script, only while holding the lock (the cursor stays where it is)."""
        args: list[str | bytes | int] = [self._token]
        for channel, message in messages:
            args += [channel, message]
        if await self._publish_only(keys=[self._lock_key], args=args):
            return True
        self._lost()
        return False

    async def release(self) -> None:
        """Delete the lock if this process still holds it."""
        if self._leading:
            self._leading = False
            await self._release(keys=[self._lock_key], args=[self._token])

    def _lost(self) -> None:
        self._leading = False
        logger.warning("stream: lost the publisher lock (expired, or Redis restarted); contending again")
