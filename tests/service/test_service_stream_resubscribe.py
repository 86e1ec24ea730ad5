"""Closing and reopening a stream subscription at once (the SDK's reconnect path), with Redis and without."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from stream_servers import ServiceProcess, StreamClient
from test_service_stream import T0, lmp_rows, seed_catalog

from carbon254.service.stream.broker import Broker, InProcessBroker, RedisBroker
from carbon254.store import open_store
from redis_private import require_shared_redis

CYCLES = 20
STALL_S = 2.0  # far below the 5 s a broker that never confirms used to cost; far above a loaded machine's lag


def _broker(kind: str) -> Broker:
    return RedisBroker(require_shared_redis()) if kind == "redis" else InProcessBroker()


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_channel_closed_and_reopened_at_once_is_subscribed_again_every_time(kind: str) -> None:
    """Each reopen is confirmed quickly and receives what is published after it, however fast it follows."""

    async def scenario() -> list[float]:
        broker = _broker(kind)
        channel = f"carbon254-test:resubscribe:{uuid.uuid4().hex}"
        await broker.start()
        waits: list[float] = []
        try:
            for i in range(CYCLES):
                began = time.monotonic()
                sub = await asyncio.wait_for(broker.subscribe(channel), STALL_S)
                waits.append(time.monotonic() - began)
                await broker.publish(channel, f"m{i}".encode())
                assert await asyncio.wait_for(sub.get(), STALL_S) == f"m{i}".encode()
                await sub.close()  # and at once the next subscribe, within the reader's cycle
        finally:
            await broker.close()
        return waits

    waits = asyncio.run(scenario())
    assert len(waits) == CYCLES and max(waits) < 1.0, waits


@pytest.fixture
def stream_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The service's environment: the embedded broker, or Redis under a namespace of this test's own."""
    env = {"CARBON254_STREAM_HEARTBEAT_S": "60"}
    if request.param == "memory":
        yield env
        return
    url = require_shared_redis()
    namespace = f"carbon254-test:stream:{uuid.uuid4().hex}"
    yield {**env, "CARBON254_CACHE_URL": url, "CARBON254_STREAM_NAMESPACE": namespace}
    client = redis.Redis.from_url(url)
    try:
        client.delete(f"{namespace}:publisher", f"{namespace}:cursor")
    finally:
        client.close()


class Arrivals:
    """Reads one client's data messages in a thread, noting when each interval arrived."""

    def __init__(self, client: StreamClient) -> None:
        self.client = client
        self.at: dict[str, float] = {}
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    message = self.client.receive(timeout=0.2)
                except TimeoutError:
                    continue
                assert message["type"] in ("data", "heartbeat"), message
                for row in message.get("data", ()):
                    self.at[row["interval_start"]] = time.monotonic()
        except BaseException as exc:
            self.errors.append(exc)

    def wait_for(self, interval: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while interval not in self.at and time.monotonic() < deadline and not self.errors:
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.mark.parametrize("stream_env", ["memory", "redis"], indirect=True)
def test_fast_resubscribes_all_succeed_while_another_subscriber_keeps_receiving(
    tmp_path: Path, stream_env: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    seed_catalog(data_dir, ["HB_NORTH"])
    store = open_store(data_dir)
    committed: dict[str, float] = {}
    stop = threading.Event()

    def commit_dam_intervals() -> None:
        i = 0
        while not stop.is_set():
            start = T0 + timedelta(minutes=5 * i)
            store.write("lmp", lmp_rows(["HB_NORTH"], start, 1, market="DAM"))
            committed[start.isoformat()] = time.monotonic()
            i += 1
            time.sleep(0.1)

    writer = threading.Thread(target=commit_dam_intervals, daemon=True)
    try:
        with (
            ServiceProcess(data_dir, tmp_path / "server.log", env=stream_env) as server,
            StreamClient(server.ws_url) as steady,
            StreamClient(server.ws_url) as cycling,
        ):
            steady.subscribe(iso="ERCOT", market="DAM", locations=["HB_NORTH"])
            arrivals = Arrivals(steady)
            writer.start()
            since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
            channel = {"iso": "ERCOT", "market": "RT5", "locations": ["HB_NORTH"]}
            cycling.subscribe(**channel, since=since)
            for _ in range(CYCLES):
                # Unsubscribed and subscribed again back to back: the server handles both within
                # one read cycle of the broker, its only subscriber to the channel gone and back.
                cycling.send({"type": "unsubscribe", "iso": "ERCOT", "market": "RT5"})
                cycling.send({"type": "subscribe", **channel, "since": since})
                assert cycling.receive_type("unsubscribed", timeout=STALL_S)["market"] == "RT5"
                assert cycling.receive_type("subscribed", timeout=STALL_S)["since"] is not None
                # And the SDK's way: a new connection resuming with `since`, closed at once.
                with StreamClient(server.ws_url) as reconnected:
                    assert reconnected.subscribe(**channel, since=since)["since"] is not None
            stop.set()
            writer.join()
            last = max(committed, key=committed.__getitem__)
            arrivals.wait_for(last, timeout=10)
            arrivals.stop()
            assert not arrivals.errors, arrivals.errors
        lags = {start: arrivals.at[start] - at for start, at in committed.items() if start in arrivals.at}
        assert set(lags) == set(committed), sorted(set(committed) - set(lags))
        assert max(lags.values()) < STALL_S, max(lags.values())
        assert "Traceback" not in server.log(), server.log()
    finally:
        stop.set()
        if writer.is_alive():
            writer.join()
        store.close()
