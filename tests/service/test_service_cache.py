"""The in-process query cache: keys, TTL, byte bound and LRU, single-flight, settings, metrics."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import Response

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app, metrics
from carbon254.service.cache import (
    CacheConfigError,
    MemoryCache,
    RedisCache,
    build_cache,
    cache_key,
    install_cache,
    redact_url,
)
from carbon254.service.cache.codec import DEFLATE, RAW, CodecError, decode, encode
from carbon254.service.cache.singleflight import SingleFlight

THREADS = 8
WAIT_S = 10.0  # upper bound of every poll below; reached only when a test fails


class FakeClock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counted:
    """A compute function returning `value` and counting its calls."""

    def __init__(self, value: bytes) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.value


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.001)


# --- keys ------------------------------------------------------------------------------------


def test_cache_key_is_a_bounded_digest_of_ordered_parts() -> None:
    key = cache_key("rest", "lmp", "ERCOT", "DAM", "HB_NORTH", "v1")
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == cache_key("rest", "lmp", "ERCOT", "DAM", "HB_NORTH", "v1")
    assert len(cache_key("x" * 100_000)) == 64
    # Part boundaries and order matter; the data version changes the key.
    assert cache_key("a:b", "c") != cache_key("a", "b:c")
    assert cache_key("a", "b") != cache_key("b", "a")
    assert cache_key("lmp", "version-1") != cache_key("lmp", "version-2")


def test_cache_key_refuses_non_str_parts_and_no_parts() -> None:
    with pytest.raises(TypeError, match="must be str"):
        cache_key("lmp", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one part"):
        cache_key()


# --- TTL ------------------------------------------------------------------------------------


def test_entries_expire_after_their_ttl() -> None:
    clock = FakeClock()
    cache = MemoryCache(1000, ttl_s=10.0, clock=clock)
    compute = Counted(b"value")
    assert cache.get_or_compute("k", compute) == b"value"
    clock.now += 9.9
    assert cache.get_or_compute("k", compute) == b"value"
    assert compute.calls == 1
    clock.now += 0.1
    assert cache.get_or_compute("k", compute) == b"value"
    assert compute.calls == 2
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.bytes) == (1, 2, 1, 5)


def test_a_call_may_set_its_own_ttl() -> None:
    clock = FakeClock()
    cache = MemoryCache(1000, ttl_s=10.0, clock=clock)
    compute = Counted(b"value")
    cache.get_or_compute("k", compute, ttl_s=60.0)
    clock.now += 30.0
    cache.get_or_compute("k", compute)
    assert compute.calls == 1
    with pytest.raises(ValueError, match="TTL"):
        cache.get_or_compute("k", compute, ttl_s=0)


def test_stats_do_not_count_expired_entries() -> None:
    clock = FakeClock()
    cache = MemoryCache(1000, ttl_s=1.0, clock=clock)
    cache.get_or_compute("a", Counted(b"aaaa"))
    cache.get_or_compute("b", Counted(b"bb"), ttl_s=5.0)
    clock.now += 2.0
    stats = cache.stats()
    assert (stats.entries, stats.bytes) == (1, 2)


# --- byte bound and LRU ------------------------------------------------------------------------


def test_least_recently_used_values_make_room_within_the_byte_bound() -> None:
    cache = MemoryCache(10, ttl_s=60.0)
    computes = {name: Counted(name.encode() * 4) for name in "abc"}
    cache.get_or_compute("a", computes["a"])
    cache.get_or_compute("b", computes["b"])
    cache.get_or_compute("a", computes["a"])  # a is now more recent than b
    cache.get_or_compute("c", computes["c"])  # 12 bytes > 10: the LRU value (b) goes
    assert cache.stats().bytes == 8
    for name in "ac":
        cache.get_or_compute(name, computes[name])
    assert (computes["a"].calls, computes["c"].calls) == (1, 1)
    cache.get_or_compute("b", computes["b"])
    assert computes["b"].calls == 2
    stats = cache.stats()
    assert stats.bytes <= 10 and stats.entries == 2


def test_a_value_larger_than_the_bound_is_returned_but_not_stored() -> None:
    cache = MemoryCache(10, ttl_s=60.0)
    small, big = Counted(b"small"), Counted(b"x" * 11)
    cache.get_or_compute("small", small)
    assert cache.get_or_compute("big", big) == b"x" * 11
    assert cache.get_or_compute("big", big) == b"x" * 11
    assert big.calls == 2
    # ...and storing nothing evicted nothing.
    cache.get_or_compute("small", small)
    assert small.calls == 1
    assert (cache.stats().entries, cache.stats().bytes) == (1, 5)


def test_a_zero_byte_cache_never_stores() -> None:
    cache = MemoryCache(0, ttl_s=60.0)
    compute = Counted(b"")
    for _ in range(3):
        assert cache.get_or_compute("k", compute) == b""
    assert compute.calls == 3
    assert (cache.stats().entries, cache.stats().misses) == (0, 3)


def test_close_drops_entries_and_keeps_the_cache_usable() -> None:
    cache = MemoryCache(100, ttl_s=60.0)
    compute = Counted(b"v")
    cache.get_or_compute("k", compute)
    cache.close()
    assert cache.stats().entries == 0
    assert cache.get_or_compute("k", compute) == b"v"
    assert compute.calls == 2


# --- single-flight ---------------------------------------------------------------------------


def run_threads(count: int, target: Callable[[int], object]) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()


def test_concurrent_misses_of_one_key_compute_once() -> None:
    cache = MemoryCache(1000, ttl_s=60.0)
    release = threading.Event()
    calls: list[int] = []

    def compute() -> bytes:
        calls.append(1)
        release.wait(WAIT_S)
        return b"result"

    results: dict[int, bytes] = {}
    threads = run_threads(THREADS, lambda i: results.__setitem__(i, cache.get_or_compute("k", compute)))
    # Hold the computation until every other thread is waiting on it.
    wait_until(lambda: cache._flight.waiters("k") == THREADS - 1, "all threads to join the flight")
    release.set()
    join(threads)
    assert len(calls) == 1
    assert results == dict.fromkeys(range(THREADS), b"result")
    stats = cache.stats()
    assert (stats.misses, stats.hits) == (1, THREADS - 1)


def test_an_exception_reaches_every_waiter_and_nothing_is_cached() -> None:
    cache = MemoryCache(1000, ttl_s=60.0)
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

    threads = run_threads(THREADS, call)
    wait_until(lambda: cache._flight.waiters("k") == THREADS - 1, "all threads to join the flight")
    release.set()
    join(threads)
    assert len(calls) == 1
    assert len(errors) == THREADS
    assert len({id(exc) for exc in errors.values()}) == 1  # the leader's exception, shared
    assert cache.stats().entries == 0
    ok = Counted(b"second try")
    assert cache.get_or_compute("k", ok) == b"second try"
    assert ok.calls == 1


def test_single_flight_forgets_a_finished_call() -> None:
    flight: SingleFlight[int] = SingleFlight()
    assert flight.run("k", lambda: 1) == (1, False)
    assert flight.run("k", lambda: 2) == (2, False)
    assert flight.waiters("k") == 0


def test_different_keys_do_not_wait_for_each_other() -> None:
    cache = MemoryCache(1000, ttl_s=60.0)
    release = threading.Event()

    def slow() -> bytes:
        release.wait(WAIT_S)
        return b"slow"

    thread = run_threads(1, lambda _: cache.get_or_compute("slow", slow))
    try:
        assert cache.get_or_compute("fast", lambda: b"f") == b"f"
    finally:
        release.set()
        join(thread)


# --- framing for shared caches ---------------------------------------------------------------


def test_values_are_compressed_only_when_it_pays() -> None:
    text = b'{"location":"HB_NORTH","lmp":21.75}' * 200
    packed = encode(text)
    assert packed[:1] == DEFLATE and len(packed) < len(text) / 5
    assert decode(packed) == text
    noise = os.urandom(20_000)
    assert encode(noise) == RAW + noise
    assert encode(b"tiny") == RAW + b"tiny"
    assert decode(encode(b"")) == b""
    with pytest.raises(CodecError):
        decode(b"\x07junk")
    with pytest.raises(CodecError):
        decode(DEFLATE + b"not a zlib stream")


# --- settings ---------------------------------------------------------------------------------


def test_build_cache_follows_the_cache_url(tmp_path: Path) -> None:
    memory = build_cache(Settings(data_dir=tmp_path, cache_max_bytes=1234, cache_ttl_s=7.0))
    assert isinstance(memory, MemoryCache)
    assert (memory.max_bytes, memory.ttl_s) == (1234, 7.0)
    off = build_cache(Settings(data_dir=tmp_path, cache_max_bytes=0))
    compute = Counted(b"v")
    off.get_or_compute("k", compute)
    off.get_or_compute("k", compute)
    assert compute.calls == 2
    # Building a Redis cache does not connect (nothing listens on port 1).
    remote = build_cache(Settings(data_dir=tmp_path, cache_url="redis://:pw@127.0.0.1:1/2", cache_ttl_s=9.0))
    assert isinstance(remote, RedisCache)
    assert remote.ttl_s == 9.0 and "pw" not in remote.url
    remote.close()


def test_an_unknown_cache_scheme_is_a_clear_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(CacheConfigError, match="unknown cache scheme 'memcached'") as caught:
        build_cache(Settings(data_dir=tmp_path, cache_url="memcached://admin:hunter2@cache:11211"))
    assert "hunter2" not in str(caught.value)
    assert "memory://" in str(caught.value) and "redis://" in str(caught.value)
    with pytest.raises(CacheConfigError, match="'\\(none\\)'"):
        build_cache(Settings(data_dir=tmp_path, cache_url="cache-host"))


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://app:s3cret@cache:6379/0", "redis://app:***@cache:6379/0"),
        ("rediss://cache:6380/1?password=s3cret&ssl_cert_reqs=none", "rediss://cache:6380/1?password=***&ssl_cert_reqs=none"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
    ],
)  # fmt: skip
def test_redis_urls_are_logged_without_their_password(url: str, logged: str) -> None:
    assert redact_url(url) == logged


# --- the app ----------------------------------------------------------------------------------


def cached_app(settings: Settings, *, metrics_first: bool = True) -> tuple[FastAPI, list[int]]:
    """A minimal app with the cache and metrics installed and one cached route, `/square/{n}`."""
    app = FastAPI()
    if metrics_first:
        metrics.install_metrics(app, settings)
    install_cache(app, settings)
    if not metrics_first:
        metrics.install_metrics(app, settings)
    app.include_router(metrics.router)
    computed: list[int] = []

    @app.get("/square/{n}")
    def square(n: int, request: Request) -> Response:
        def compute() -> bytes:
            computed.append(n)
            return str(n * n).encode()

        body = request.app.state.cache.get_or_compute(cache_key("square", str(n)), compute)
        return Response(body, media_type="text/plain")

    return app, computed


def metric(text: str, name: str) -> float:
    """The value of the one sample of `name` in a Prometheus exposition."""
    values = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(name + "{")]
    assert len(values) == 1, f"{name} in\n{text}"
    return float(values[0])


@pytest.mark.parametrize("metrics_first", [True, False], ids=["metrics-first", "cache-first"])
def test_install_cache_serves_the_app_and_exports_metrics(tmp_path: Path, metrics_first: bool) -> None:
    app, computed = cached_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), metrics_first=metrics_first)
    assert isinstance(app.state.cache, MemoryCache)
    with TestClient(app) as client:
        for n in (3, 3, 3, 4):
            assert client.get(f"/square/{n}").text == str(n * n)
        text = client.get("/metrics").text
    assert computed == [3, 4]
    assert metric(text, "carbon254_cache_hits_total") == 2
    assert metric(text, "carbon254_cache_misses_total") == 2
    assert metric(text, "carbon254_cache_errors_total") == 0
    assert metric(text, "carbon254_cache_entries") == 2
    assert metric(text, "carbon254_cache_bytes") == 3  # "9" and "16"
    assert metric(text, "carbon254_cache_hit_ratio") == 0.5
    assert metric(text, "carbon254_cache_up") == 1
    assert 'backend="memory"' in text
    # Shutdown closed the cache (memory: emptied) and a restart registers the collector again.
    assert app.state.cache.stats().entries == 0
    with TestClient(app) as client:
        assert metric(client.get("/metrics").text, "carbon254_cache_misses_total") == 2


def test_create_app_installs_the_configured_cache(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF, cache_max_bytes=4096))
    assert isinstance(app.state.cache, MemoryCache) and app.state.cache.max_bytes == 4096
    with TestClient(app) as client:
        text = client.get("/metrics").text
    assert metric(text, "carbon254_cache_misses_total") == 0
    assert metric(text, "carbon254_cache_up") == 1
