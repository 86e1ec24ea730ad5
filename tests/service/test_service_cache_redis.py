"""The Redis query cache on real Redis servers.

Sharing tests use the shared Redis (127.0.0.1:6379) under a unique key prefix
and delete their keys afterwards. Outage tests start a private `redis-server`
and SIGKILL it while threads keep asking for values.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import Response

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app, metrics
from carbon254.service.cache import CacheUnavailable, RedisCache, cache_key, install_cache
from carbon254.service.cache.codec import DEFLATE, RAW
from redis_private import PrivateRedis, require_shared_redis

THREADS = 6
WAIT_S = 10.0  # upper bound of every poll below; reached only when a test fails
CACHE_LOGGER = "carbon254.service.cache"


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.002)


class Counted:
    """A thread-safe compute function returning `value`, counting calls, optionally held until released."""

    def __init__(self, value: bytes, *, hold: bool = False) -> None:
        self.value = value
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            self.calls += 1
        self.entered.set()
        assert self.release.wait(WAIT_S)
        return self.value


@pytest.fixture(scope="module")
def shared_url() -> str:
    return require_shared_redis()


@pytest.fixture
def prefix(shared_url: str) -> Iterator[str]:
    """A key prefix of this test's own on the shared Redis; its keys are deleted afterwards."""
    prefix = f"carbon254:test:cache:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(shared_url)
    try:
        names = list(client.scan_iter(match=prefix + "*", count=1000))
        if names:
            client.delete(*names)
    finally:
        client.close()


@pytest.fixture
def make_cache(shared_url: str, prefix: str) -> Iterator[Callable[..., RedisCache]]:
    """Build RedisCache instances on the shared Redis under the test's prefix; closed afterwards."""
    built: list[RedisCache] = []

    def make(ttl_s: float = 60.0, lock_wait_s: float = 2.0) -> RedisCache:
        cache = RedisCache(shared_url, ttl_s, prefix, lock_wait_s=lock_wait_s)
        built.append(cache)
        return cache

    yield make
    for cache in built:
        cache.close()


def raw_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2)


# --- sharing, TTL, framing ---------------------------------------------------------------------


def test_two_caches_share_values(make_cache: Callable[..., RedisCache]) -> None:
    first, second = make_cache(), make_cache()
    compute = Counted(b"rows")
    assert first.get_or_compute("k", compute) == b"rows"
    assert second.get_or_compute("k", compute) == b"rows"
    assert compute.calls == 1
    assert (first.stats().misses, second.stats().hits) == (1, 1)
    stats = second.stats()
    assert (stats.backend, stats.entries, stats.bytes, stats.errors, stats.available) == (
        "redis",
        1,
        5,
        0,
        True,
    )


def test_values_read_or_computed_are_kept_in_process_in_front_of_redis(
    shared_url: str, prefix: str, make_cache: Callable[..., RedisCache]
) -> None:
    near = RedisCache(shared_url, 60.0, prefix, near_bytes=2**20)
    try:
        other = make_cache()
        compute = Counted(b"rows")
        assert other.get_or_compute("read", compute) == b"rows"
        assert near.peek("read") == b"rows"  # from Redis, now also kept in process
        assert near.get_or_compute("computed", compute) == b"rows"
        assert compute.calls == 2
        raw = raw_client(shared_url)
        try:
            raw.delete(*raw.scan_iter(match=prefix + "*"))
        finally:
            raw.close()
        # Redis no longer has them; the process still does (a key names one value for good).
        assert near.peek("read") == b"rows" and near.peek("computed") == b"rows"
        assert near.get_or_compute("computed", compute) == b"rows"
        assert other.peek("read") is None
        assert compute.calls == 2
        assert near.stats().hits == 4
    finally:
        near.close()
    assert near.peek("read") is None  # closing drops the copies


def test_values_expire_after_their_ttl(make_cache: Callable[..., RedisCache]) -> None:
    cache = make_cache(ttl_s=60.0)
    compute = Counted(b"v")
    cache.get_or_compute("k", compute, ttl_s=0.05)
    cache.get_or_compute("long", compute)
    wait_until(lambda: cache.stats().entries == 1, "the short-lived value to expire")
    cache.get_or_compute("k", compute)
    cache.get_or_compute("long", compute)
    assert compute.calls == 3  # k twice, long once


def test_values_are_stored_compressed_only_when_it_pays(
    make_cache: Callable[..., RedisCache], shared_url: str, prefix: str
) -> None:
    cache = make_cache()
    text = b'{"interval_start":"2024-03-01T00:00:00Z","location":"HB_NORTH","lmp":21.75}\n' * 500
    binary = os.urandom(50_000)  # incompressible
    assert cache.get_or_compute("text", lambda: text) == text
    assert cache.get_or_compute("binary", lambda: binary) == binary
    client = raw_client(shared_url)
    try:
        stored_text = client.get(f"{prefix}v:text")
        stored_binary = client.get(f"{prefix}v:binary")
    finally:
        client.close()
    assert stored_text is not None and stored_text[:1] == DEFLATE and len(stored_text) < len(text) / 5
    assert stored_binary == RAW + binary
    # Hits decode both; stats count the stored (compressed) bytes.
    assert make_cache().get_or_compute("text", lambda: b"recomputed") == text
    assert cache.stats().bytes == len(stored_text) + len(stored_binary)


def test_a_value_this_build_did_not_write_is_recomputed_and_replaced(
    make_cache: Callable[..., RedisCache], shared_url: str, prefix: str
) -> None:
    client = raw_client(shared_url)
    try:
        client.set(f"{prefix}v:k", b"\x09from another build", px=60_000)
        cache = make_cache()
        assert cache.get_or_compute("k", lambda: b"fresh") == b"fresh"
        assert client.get(f"{prefix}v:k") == RAW + b"fresh"
    finally:
        client.close()


def test_ping_answers_when_redis_is_up(make_cache: Callable[..., RedisCache]) -> None:
    make_cache().ping()


# --- single-flight -----------------------------------------------------------------------------


def start(threads: int, target: Callable[[int], object]) -> list[threading.Thread]:
    started = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(threads)]
    for thread in started:
        thread.start()
    return started


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()


def test_concurrent_misses_in_one_process_compute_once(make_cache: Callable[..., RedisCache]) -> None:
    cache = make_cache()
    compute = Counted(b"result", hold=True)
    results: dict[int, bytes] = {}
    threads = start(THREADS, lambda i: results.__setitem__(i, cache.get_or_compute("k", compute)))
    wait_until(lambda: cache._flight.waiters("k") == THREADS - 1, "all threads to join the flight")
    compute.release.set()
    join(threads)
    assert compute.calls == 1
    assert results == dict.fromkeys(range(THREADS), b"result")
    assert (cache.stats().misses, cache.stats().hits) == (1, THREADS - 1)


def test_concurrent_misses_across_processes_compute_once(make_cache: Callable[..., RedisCache]) -> None:
    # Two caches have separate in-process single-flights, like two service processes.
    holder, other = make_cache(), make_cache(lock_wait_s=WAIT_S)
    compute = Counted(b"result", hold=True)
    results: dict[str, bytes] = {}
    leader = start(1, lambda _: results.__setitem__("holder", holder.get_or_compute("k", compute)))
    assert compute.entered.wait(WAIT_S)  # the holder has the lock and is computing
    waiters = start(THREADS, lambda i: results.__setitem__(f"other-{i}", other.get_or_compute("k", compute)))
    wait_until(lambda: other._flight.waiters("k") == THREADS - 1, "the other process's threads to wait")
    compute.release.set()
    join(leader + waiters)
    assert compute.calls == 1
    assert set(results.values()) == {b"result"} and len(results) == THREADS + 1
    assert (other.stats().misses, other.stats().hits) == (0, THREADS)


def test_a_dead_holders_lock_expires_and_a_waiter_computes(
    make_cache: Callable[..., RedisCache], shared_url: str, prefix: str
) -> None:
    client = raw_client(shared_url)
    try:
        client.set(f"{prefix}l:k", b"token-of-a-dead-process", px=200)
    finally:
        client.close()
    cache = make_cache(lock_wait_s=WAIT_S)
    compute = Counted(b"computed after the lock expired")
    assert cache.get_or_compute("k", compute) == b"computed after the lock expired"
    assert compute.calls == 1
    assert make_cache().get_or_compute("k", Counted(b"other")) == b"computed after the lock expired"


def test_a_waiter_stops_waiting_for_a_stuck_holder(
    make_cache: Callable[..., RedisCache], shared_url: str, prefix: str
) -> None:
    client = raw_client(shared_url)
    try:
        client.set(f"{prefix}l:k", b"token-of-a-stuck-process", px=60_000)
        cache = make_cache(lock_wait_s=0.05)
        assert cache.get_or_compute("k", lambda: b"computed anyway") == b"computed anyway"
        assert client.get(f"{prefix}l:k") == b"token-of-a-stuck-process"  # not ours to release
    finally:
        client.close()


def test_an_exception_reaches_every_waiter_releases_the_lock_and_caches_nothing(
    make_cache: Callable[..., RedisCache], shared_url: str, prefix: str
) -> None:
    cache = make_cache()
    release = threading.Event()
    calls: list[int] = []

    def failing() -> bytes:
        calls.append(1)
        release.wait(WAIT_S)
        raise RuntimeError("query failed")

    errors: dict[int, BaseException] = {}

    def call(i: int) -> None:
        try:
            cache.get_or_compute("k", failing)
        except RuntimeError as exc:
            errors[i] = exc

    threads = start(THREADS, call)
    wait_until(lambda: cache._flight.waiters("k") == THREADS - 1, "all threads to join the flight")
    release.set()
    join(threads)
    assert len(calls) == 1 and len(errors) == THREADS
    client = raw_client(shared_url)
    try:
        assert client.exists(f"{prefix}v:k", f"{prefix}l:k") == 0
    finally:
        client.close()
    # Another process is not kept waiting for the failed holder: it computes at once.
    assert make_cache(lock_wait_s=WAIT_S).get_or_compute("k", lambda: b"ok") == b"ok"


# --- outages -----------------------------------------------------------------------------------


class Hammer:
    """Threads calling `get_or_compute` on keys k0..k9 until stopped, checking every value."""

    KEYS = 10

    def __init__(self, call: Callable[[str, Callable[[], bytes]], bytes], threads: int = 4) -> None:
        self._call = call
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.calls = 0
        self.failures: list[str] = []
        self.slowest_s = 0.0
        self._threads = start(threads, self._run)

    @staticmethod
    def expected(key: str) -> bytes:
        return f"value of {key}".encode() * 50

    def _run(self, i: int) -> None:
        n = i
        while not self._stop.is_set():
            key = f"k{n % self.KEYS}"
            n += 1
            began = time.perf_counter()
            try:
                value = self._call(key, partial(self.expected, key))
                problem = None if value == self.expected(key) else f"wrong value for {key}"
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - began
            with self._lock:
                self.calls += 1
                self.slowest_s = max(self.slowest_s, elapsed)
                if problem is not None:
                    self.failures.append(problem)
            time.sleep(0.001)

    def reset_slowest(self) -> None:
        with self._lock:
            self.slowest_s = 0.0

    def more_calls(self, count: int) -> None:
        """Wait until `count` more calls have completed."""
        target = self.calls + count
        wait_until(lambda: self.calls >= target, f"{count} more calls")

    def stop(self) -> None:
        self._stop.set()
        join(self._threads)


def test_killing_redis_mid_run_fails_nothing_and_caching_resumes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=CACHE_LOGGER)
    with PrivateRedis(password="s3cret-pw") as server:
        cache = RedisCache(server.url, 60.0, retry_after_s=0.05)
        hammer = Hammer(cache.get_or_compute)
        try:
            wait_until(lambda: cache.stats().hits >= 50, "hits before the outage")
            server.kill()
            hammer.reset_slowest()
            wait_until(lambda: cache.stats().errors >= 1, "the outage to be noticed")
            assert not cache.stats().available
            with pytest.raises(CacheUnavailable, match="unreachable") as caught:
                cache.ping()
            assert "s3cret-pw" not in str(caught.value) and ":***@" in str(caught.value)
            hammer.more_calls(200)
            slowest_in_outage_s = hammer.slowest_s
            hits_during_outage = cache.stats().hits
            server.start()
            wait_until(lambda: cache.stats().available, "Redis to be used again")
            wait_until(lambda: cache.stats().hits >= hits_during_outage + 50, "hits after the restart")
            cache.ping()
        finally:
            hammer.stop()
        stats = cache.stats()
        cache.close()
    assert hammer.failures == []
    print(f"slowest call during the outage: {slowest_in_outage_s * 1000:.1f} ms")  # measured, not asserted
    assert stats.errors >= 1 and stats.misses >= Hammer.KEYS * 2  # recomputed after losing the data
    records = [r for r in caplog.records if r.name == CACHE_LOGGER]
    assert all("s3cret-pw" not in r.getMessage() for r in caplog.records)
    warnings = [r for r in records if r.levelno == logging.WARNING]
    recoveries = [r for r in records if r.levelno == logging.INFO and "reachable again" in r.getMessage()]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert ":***@127.0.0.1" in warnings[0].getMessage()
    assert len(recoveries) == 1


def test_a_cache_whose_redis_never_answers_still_answers() -> None:
    with PrivateRedis() as server:
        url = server.url
    # The server is gone: nothing listens on its port any more.
    cache = RedisCache(url, 60.0)
    compute = Counted(b"uncached")
    assert [cache.get_or_compute("k", compute) for _ in range(3)] == [b"uncached"] * 3
    stats = cache.stats()
    assert compute.calls == 3 and stats.errors == 1 and not stats.available
    with pytest.raises(CacheUnavailable):
        cache.ping()
    cache.close()


# --- through the app ---------------------------------------------------------------------------


def test_an_app_keeps_answering_while_redis_is_killed_and_restarted(tmp_path: Path) -> None:
    with PrivateRedis() as server:
        # No in-process copies: every lookup must go to Redis, so the outage is met head on.
        settings = Settings(data_dir=tmp_path, auth=AuthMode.OFF, cache_url=server.url, cache_max_bytes=0)
        app = FastAPI()
        metrics.install_metrics(app, settings)
        app.include_router(metrics.router)
        install_cache(app, settings)
        cache = app.state.cache
        assert isinstance(cache, RedisCache)
        # Probe a restarted Redis quickly rather than after the default second.
        cache._outage.retry_after_s = 0.05

        @app.get("/value/{key}")
        def value(key: str, request: Request) -> Response:
            body = request.app.state.cache.get_or_compute(
                cache_key("value", key), lambda: Hammer.expected(key)
            )
            return Response(body, media_type="text/plain")

        with TestClient(app) as client:

            def get(key: str, _compute: Callable[[], bytes]) -> bytes:
                response = client.get(f"/value/{key}")
                if response.status_code != 200:
                    raise AssertionError(f"HTTP {response.status_code}: {response.text}")
                return bytes(response.content)

            hammer = Hammer(get, threads=3)
            try:
                wait_until(lambda: cache.stats().hits >= 20, "hits before the outage")
                server.kill()
                wait_until(lambda: cache.stats().errors >= 1, "the outage to be noticed")
                hammer.more_calls(50)
                hits_during_outage = cache.stats().hits
                server.start()
                wait_until(lambda: cache.stats().hits >= hits_during_outage + 20, "hits after the restart")
            finally:
                hammer.stop()
            exposition = client.get("/metrics").text
        assert hammer.failures == []
        assert 'carbon254_cache_hits_total{backend="redis"}' in exposition
        assert 'carbon254_cache_up{backend="redis"} 1.0' in exposition


def test_create_app_builds_a_redis_cache_from_the_cache_url(tmp_path: Path, shared_url: str) -> None:
    app = create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF, cache_url=shared_url))
    assert isinstance(app.state.cache, RedisCache)
    app.state.cache.ping()
    app.state.cache.close()
