"""The re-forecaster on a real store and a real broker (in-process, then Redis): fit, fire, revise.

The watcher's part is played by the test: it commits an interval, reads the
page of the change feed and hands it over as the watcher does after
publishing it, so the time measured is the re-forecast path alone (fold,
forecast, publish, broker, fan-out to a listener), not polling.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from carbon254.service.stream.broker import Broker, InProcessBroker, RedisBroker
from carbon254.service.stream.forecast_board import ForecastBoard, LocalBoard, RedisBoard
from carbon254.service.stream.forecast_feed import ForecastFeed
from carbon254.service.stream.forecast_messages import ForecastChannel, ForecastKey, ForecastMessage
from carbon254.service.stream.lease import FeedLease, LocalLease, RedisLease
from carbon254.service.stream.reforecast import Reforecaster
from carbon254.store import ParquetStore, open_store
from forecast_stream_data import FIVE_MINUTES, history_rows, interval_rows, last_start
from redis_private import require_shared_redis

NORTH = ForecastKey("ERCOT", "RT5", "HB_NORTH")
CHANNEL = ForecastChannel("ERCOT", "RT5")
BUDGET_S = 0.1  # the bound: a committed interval's forecast reaches a subscriber within 100 ms
WAIT_S = 10.0


@dataclass(eq=False)
class Collector:
    """A forecast listener that keeps what it gets and wakes the test."""

    keys: frozenset[ForecastKey]
    got: list[ForecastMessage] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def on_forecast(self, message: ForecastMessage) -> None:
        self.got.append(message)
        self.arrived.set()

    async def next(self) -> ForecastMessage:
        async with asyncio.timeout(WAIT_S):
            await self.arrived.wait()
        self.arrived.clear()
        return self.got[-1]


@dataclass
class Parts:
    store: ParquetStore
    reforecaster: Reforecaster
    feed: ForecastFeed


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    opened = open_store(tmp_path / "data")
    opened.write("lmp", history_rows(["HB_NORTH", "HB_SOUTH"], last_start(), 288 * 4))
    yield opened
    opened.close()


@asynccontextmanager
async def running(kind: str, store: ParquetStore) -> AsyncIterator[Parts]:
    """The re-forecaster, a forecast feed, and their broker, lease and board of `kind`."""
    broker: Broker
    lease: FeedLease
    board: ForecastBoard
    namespace = f"carbon254-test:forecast:{uuid.uuid4().hex}"
    if kind == "memory":
        broker = InProcessBroker()
        lease, board = LocalLease(broker), LocalBoard()
    else:
        redis_broker = RedisBroker(require_shared_redis())
        broker, board = redis_broker, RedisBoard(redis_broker.client, namespace)
        lease = RedisLease(redis_broker.client, namespace)
        assert await lease.acquire(store.change_cursor()) is not None
    await broker.start()
    reforecaster = Reforecaster(lambda: store, lease, board, namespace, history_days=7)
    feed = ForecastFeed(broker, namespace, board)
    try:
        yield Parts(store, reforecaster, feed)
    finally:
        await feed.close()
        await lease.release()
        await broker.close()
        if kind == "redis":
            client = redis.Redis.from_url(require_shared_redis())
            client.delete(*client.keys(f"{namespace}:*") or [f"{namespace}:none"])
            client.close()


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_committed_interval_is_reforecast_within_100_ms_and_a_revision_again(
    kind: str, store: ParquetStore
) -> None:
    newest = last_start()

    async def run() -> None:
        async with running(kind, store) as parts:
            listener = Collector(frozenset({NORTH}))
            await parts.feed.listen(CHANNEL, listener)
            await parts.reforecaster.step()  # the wanted location is fitted and forecast at once
            first = await listener.next()
            assert first.error is None and first.last_interval_start_us == _us(newest)
            assert first.interval_start_us == [_us(newest + FIVE_MINUTES * h) for h in range(1, 13)]
            assert all(lo <= mid <= hi for lo, mid, hi in zip(first.p10, first.p50, first.p90, strict=True))

            async def reforecast(location: str, start: timedelta, lmp: float) -> float:
                cursor = store.change_cursor()
                store.write("lmp", interval_rows(location, newest + start, lmp))
                changes = store.changes_since(cursor)
                began = time.perf_counter()
                await parts.reforecaster.on_page(cursor, changes)
                if location == NORTH.location:
                    await listener.next()
                return time.perf_counter() - began

            # Another location's interval: no forecast for a location nobody follows.
            await reforecast("HB_SOUTH", FIVE_MINUTES, 44.0)
            assert len(listener.got) == 1

            took = await reforecast("HB_NORTH", FIVE_MINUTES, 80.0)
            fired = listener.got[-1]
            assert took < BUDGET_S, f"re-forecast took {took * 1000:.1f} ms"
            assert fired.last_interval_start_us == _us(newest + FIVE_MINUTES)
            assert fired.interval_start_us[0] == _us(newest + 2 * FIVE_MINUTES)
            assert fired.commit > first.commit and fired.model_version == first.model_version

            took = await reforecast("HB_NORTH", FIVE_MINUTES, 20.0)  # the same interval, revised down
            revised = listener.got[-1]
            assert took < BUDGET_S, f"re-forecast of a revision took {took * 1000:.1f} ms"
            assert revised.interval_start_us == fired.interval_start_us
            assert revised.point[0] < fired.point[0] and revised.commit > fired.commit

            # A new subscriber gets the latest forecast from the board without waiting for an interval.
            (latest,) = await parts.feed.board.latest({NORTH})
            assert latest == revised

    asyncio.run(run())


def test_too_little_history_is_published_as_an_error_and_fitted_again_later(store: ParquetStore) -> None:
    west = ForecastKey("ERCOT", "RT5", "HB_WEST")
    store.write("lmp", history_rows(["HB_WEST"], last_start(), 40))

    async def run() -> None:
        async with running("memory", store) as parts:
            listener = Collector(frozenset({west}))
            await parts.feed.listen(CHANNEL, listener)
            await parts.reforecaster.step()
            refused = await listener.next()
            assert refused.error is not None and "40 intervals stored" in refused.error
            assert refused.interval_start_us == []
            await parts.reforecaster.step()  # not retried at once
            assert len(listener.got) == 1 and not parts.reforecaster.following()

    asyncio.run(run())


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
