"""`/v1/stream` with Redis pub/sub: several service processes, one publisher, and Redis restarts."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from stream_servers import ServiceProcess, StreamClient
from test_service_stream import T0, commit_in_subprocess, lmp_rows, seed_catalog

from carbon254.store import ParquetStore, open_store
from redis_private import PrivateRedis, require_shared_redis


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[ParquetStore]:
    store = open_store(tmp_path / "data")
    yield store
    store.close()


@pytest.fixture
def namespace() -> Iterator[str]:
    """A stream namespace of this test's own on the shared Redis; its keys are deleted afterwards."""
    url = require_shared_redis()
    name = f"carbon254-test:stream:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(url)
    try:
        client.delete(f"{name}:publisher", f"{name}:cursor")
    finally:
        client.close()


class ChannelCounter:
    """Counts what is published on one Redis channel, from a plain redis-py subscriber."""

    def __init__(self, url: str, channel: str) -> None:
        self._client = redis.Redis.from_url(url)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(channel)
        self.messages: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.05)
            if message is not None:
                self.messages.append(message["data"])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pubsub.close()
        self._client.close()


def test_two_service_processes_each_deliver_every_commit_exactly_once(tmp_path: Path, namespace: str) -> None:
    url = require_shared_redis()
    env = {"CARBON254_CACHE_URL": url, "CARBON254_STREAM_NAMESPACE": namespace}
    data_dir = tmp_path / "data"
    seed_catalog(data_dir, ["HB_NORTH"])
    counter = ChannelCounter(url, f"{namespace}:lmp:ERCOT:RT5")
    try:
        with (
            ServiceProcess(data_dir, tmp_path / "a.log", env=env) as a,
            ServiceProcess(data_dir, tmp_path / "b.log", env=env) as b,
            StreamClient(a.ws_url) as on_a,
            StreamClient(b.ws_url) as on_b,
        ):
            for client in (on_a, on_b):
                client.subscribe(iso="ERCOT", market="RT5", locations=["HB_NORTH"])
            for i in range(3):  # committed by other processes than either service
                commit_in_subprocess(data_dir, "HB_NORTH", T0 + timedelta(minutes=5 * i), 1)
            expected = [(T0 + timedelta(minutes=5 * i)).isoformat() for i in range(3)]
            for client in (on_a, on_b):
                assert [r["interval_start"] for r in client.rows_until(3)] == expected
            for client in (on_a, on_b):
                client.assert_quiet(0.5)
            # Exactly one process published each commit: one message per commit on the channel.
            assert len(counter.messages) == 3
    finally:
        counter.close()


def test_streaming_resumes_after_redis_is_killed_and_restarted(tmp_path: Path, writer: ParquetStore) -> None:
    writer.write("lmp", lmp_rows(["HB_NORTH"], T0 - timedelta(days=1), 1))
    with PrivateRedis() as server_redis:
        env = {"CARBON254_CACHE_URL": server_redis.url, "CARBON254_STREAM_HEARTBEAT_S": "0.5"}
        with (
            ServiceProcess(tmp_path / "data", tmp_path / "server.log", env=env) as service,
            StreamClient(service.ws_url) as client,
        ):
            client.subscribe(iso="ERCOT", market="RT5", locations=["HB_NORTH"])
            writer.write("lmp", lmp_rows(["HB_NORTH"], T0, 1))
            assert client.rows_until(1)[0]["interval_start"] == T0.isoformat()

            server_redis.kill()
            # Committed while Redis is down: nobody can publish it now.
            writer.write("lmp", lmp_rows(["HB_NORTH"], T0 + timedelta(minutes=5), 1))
            # The connection stays open meanwhile (heartbeats still arrive).
            assert client.receive_type("heartbeat", timeout=5)["type"] == "heartbeat"
            server_redis.start()
            writer.write("lmp", lmp_rows(["HB_NORTH"], T0 + timedelta(minutes=10), 1))

            rows = client.rows_until(2, timeout=30)
            assert [r["interval_start"] for r in rows] == [
                (T0 + timedelta(minutes=5)).isoformat(),
                (T0 + timedelta(minutes=10)).isoformat(),
            ]
            client.assert_quiet(1.0)
            # And it keeps streaming new commits normally.
            writer.write("lmp", lmp_rows(["HB_NORTH"], T0 + timedelta(minutes=15), 1))
            deadline = time.monotonic() + 30
            assert (
                client.rows_until(1, timeout=deadline - time.monotonic())[0]["interval_start"]
                == (T0 + timedelta(minutes=15)).isoformat()
            )
        assert "Traceback" not in service.log(), service.log()
