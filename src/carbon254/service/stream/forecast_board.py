"""Which locations' forecasts are wanted, and the latest forecast of each, shared by every service process.

The re-forecaster runs in the process that publishes the change feed, but
subscribers may be connected to any process: each process posts the
forecast series its connections follow (`want`, renewed while they follow
them, expiring `INTEREST_TTL_S` after the last renewal), and the publisher
reads the union (`wanted`). The publisher also keeps each series' latest
forecast (`remember`), so a new subscriber gets it at once (`latest`)
instead of waiting up to five minutes for the next interval.

Embedded (`LocalBoard`) both live in memory; with Redis (`RedisBoard`) in a
sorted set scored by expiry (wall-clock milliseconds, shared by processes)
and a hash, under the stream's namespace.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import Protocol

import redis.asyncio as aioredis

from carbon254.service.stream.forecast_messages import ForecastKey, ForecastMessage

INTEREST_TTL_S = 10.0  # a process that stopped renewing (it died) stops costing forecasts after this long
LATEST_TTL_S = 2 * 86_400  # latest forecasts of series nobody followed for two days are dropped


class ForecastBoard(Protocol):
    """Interest in forecast series, and their latest forecasts."""

    async def want(self, keys: Collection[ForecastKey]) -> None:
        """Post (or renew) this process's interest in `keys` for `INTEREST_TTL_S` seconds."""
        ...

    async def wanted(self) -> set[ForecastKey]:
        """Every series some process posted interest in and renewed within `INTEREST_TTL_S` seconds."""
        ...

    async def remember(self, messages: Sequence[ForecastMessage]) -> None:
        """Keep each message as its series' latest."""
        ...

    async def latest(self, keys: Collection[ForecastKey]) -> list[ForecastMessage]:
        """The latest message of each of `keys` that has one."""
        ...


class LocalBoard:
    """The embedded board: this process's interest and forecasts, in memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[ForecastKey, float] = {}
        self._latest: dict[ForecastKey, ForecastMessage] = {}

    async def want(self, keys: Collection[ForecastKey]) -> None:
        """Renew interest in `keys`."""
        until = self._clock() + INTEREST_TTL_S
        for key in keys:
            self._expiry[key] = until

    async def wanted(self) -> set[ForecastKey]:
        """Series whose interest has not expired; expired ones are dropped."""
        now = self._clock()
        self._expiry = {k: until for k, until in self._expiry.items() if until > now}
        return set(self._expiry)

    async def remember(self, messages: Sequence[ForecastMessage]) -> None:
        """Keep the latest message per series."""
        for message in messages:
            self._latest[message.key] = message

    async def latest(self, keys: Collection[ForecastKey]) -> list[ForecastMessage]:
        """The kept messages of `keys`."""
        return [self._latest[k] for k in keys if k in self._latest]


class RedisBoard:
    """The board in Redis under `namespace`: a sorted set of interests, a hash of latest forecasts."""

    def __init__(self, client: aioredis.Redis, namespace: str) -> None:
        self._redis = client
        self._wanted_key = f"{namespace}:forecast:wanted"
        self._latest_key = f"{namespace}:forecast:latest"

    async def want(self, keys: Collection[ForecastKey]) -> None:
        """ZADD each key scored by its expiry (epoch ms), and drop the expired ones."""
        if not keys:
            return
        now_ms = time.time() * 1000
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self._wanted_key, {k.text(): now_ms + INTEREST_TTL_S * 1000 for k in keys})
            pipe.zremrangebyscore(self._wanted_key, "-inf", now_ms)
            await pipe.execute()

    async def wanted(self) -> set[ForecastKey]:
        """The keys whose expiry is still ahead."""
        members = await self._redis.zrangebyscore(self._wanted_key, time.time() * 1000, "+inf")
        found: set[ForecastKey] = set()
        for member in members:
            if not isinstance(member, str | bytes):
                continue
            try:
                found.add(ForecastKey.parse(member))
            except ValueError:
                continue  # not written by this code: nothing to forecast
        return found

    async def remember(self, messages: Sequence[ForecastMessage]) -> None:
        """HSET each message under its key; the hash expires two days after the last write."""
        if not messages:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(self._latest_key, mapping={m.key.text(): m.encode() for m in messages})
            pipe.expire(self._latest_key, int(LATEST_TTL_S))
            await pipe.execute()

    async def latest(self, keys: Collection[ForecastKey]) -> list[ForecastMessage]:
        """HMGET the keys' messages."""
        ordered = list(keys)
        if not ordered:
            return []
        raw = await self._redis.hmget(self._latest_key, [k.text() for k in ordered])
        found: list[ForecastMessage] = []
        for value in raw:
            if value is not None:
                try:
                    found.append(ForecastMessage.decode(value))
                except ValueError:
                    continue
        return found
