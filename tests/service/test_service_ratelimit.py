"""Per-credential token buckets: in memory, on the shared Redis, and through a Redis that dies and returns."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from auth_setup import make_key, make_tenant_key
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.service.ratelimit import (
    MemoryRateLimiter,
    RedisRateLimiter,
    TokenBucket,
    build_rate_limiter,
)
from carbon254.store import Store
from redis_private import PrivateRedis, require_shared_redis

EPOCH = 1_750_000_000.0  # an explicit "now" (seconds since the epoch) for deterministic Redis checks


def charged(acquire: Callable[[], float], times: int) -> list[float]:
    """The waits of `times` requests in a row (0.0 = allowed)."""
    return [acquire() for _ in range(times)]


# --- the policy ---------------------------------------------------------------------------------------


def test_token_bucket_rejects_nonsense_policies() -> None:
    with pytest.raises(ValueError, match="rate_per_s"):
        TokenBucket(0, 10)
    with pytest.raises(ValueError, match="rate_per_s"):
        TokenBucket(float("inf"), 10)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1.0, 0)


# --- in memory ----------------------------------------------------------------------------------------


def test_memory_burst_then_refusal_with_retry_after() -> None:
    limiter = MemoryRateLimiter(rate_per_s=2.0, burst=3)
    assert charged(lambda: limiter.acquire("k", now=100.0), 3) == [0.0, 0.0, 0.0]
    assert limiter.acquire("k", now=100.0) == pytest.approx(0.5)
    # A refused request takes nothing: a quarter second later half a token is there.
    assert limiter.acquire("k", now=100.25) == pytest.approx(0.25)


def test_memory_refill_is_proportional_and_capped_at_burst() -> None:
    limiter = MemoryRateLimiter(rate_per_s=2.0, burst=3)
    charged(lambda: limiter.acquire("k", now=0.0), 3)
    assert limiter.acquire("k", now=0.5) == 0.0  # one token refilled
    assert limiter.acquire("k", now=0.5) > 0
    # A long idle time refills to the burst, never beyond it.
    waits = charged(lambda: limiter.acquire("k", now=1000.0), 4)
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.5)


def test_memory_buckets_are_per_key() -> None:
    limiter = MemoryRateLimiter(rate_per_s=1.0, burst=1)
    assert limiter.acquire("api_key:acme:1", now=0.0) == 0.0
    assert limiter.acquire("api_key:acme:1", now=0.0) > 0
    assert limiter.acquire("api_key:acme:2", now=0.0) == 0.0


def test_memory_uses_its_clock() -> None:
    now = [50.0]
    limiter = MemoryRateLimiter(rate_per_s=4.0, burst=1, clock=lambda: now[0])
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == pytest.approx(0.25)
    now[0] += 0.25
    assert limiter.acquire("k") == 0.0


def test_memory_forgets_idle_buckets() -> None:
    limiter = MemoryRateLimiter(rate_per_s=10.0, burst=5)  # an empty bucket refills in 0.5 s
    for client in range(100):
        limiter.acquire(f"client-{client}", now=0.0)
    assert len(limiter) == 100
    # Long after, one request sweeps the full (idle) buckets away: only the caller's remains.
    limiter.acquire("late", now=10.0)
    assert len(limiter) == 1


def test_memory_never_holds_more_than_max_keys() -> None:
    limiter = MemoryRateLimiter(rate_per_s=0.001, burst=5, max_keys=50)
    for client in range(500):
        limiter.acquire(f"client-{client}", now=0.0)
        assert len(limiter) <= 50
    # The most recent caller's bucket is kept.
    assert limiter.acquire("client-499", now=0.0) == 0.0
    assert len(limiter) == 50


def test_memory_is_thread_safe() -> None:
    limiter = MemoryRateLimiter(rate_per_s=0.001, burst=100)
    allowed: list[int] = []
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        allowed.append(sum(limiter.acquire("shared", now=1.0) == 0.0 for _ in range(50)))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(allowed) == 100


# --- the shared Redis ---------------------------------------------------------------------------------


@pytest.fixture
def shared_redis() -> str:
    """The shared Redis's URL (skips, or fails under CARBON254_REQUIRE_SERVICES=1, when it is not there)."""
    return require_shared_redis()


@pytest.fixture
def prefix(shared_redis: str) -> Iterator[str]:
    """A key prefix of this test's own on the shared Redis, cleaned up afterwards (never a FLUSH)."""
    unique = f"carbon254-test:ratelimit:{uuid.uuid4().hex}:"
    yield unique
    client = redis.Redis.from_url(shared_redis)
    try:
        stale = list(client.scan_iter(match=f"{unique}*"))
        if stale:
            client.delete(*stale)
    finally:
        client.close()


@pytest.fixture
def make_redis_limiter(shared_redis: str, prefix: str) -> Iterator[Callable[..., RedisRateLimiter]]:
    made: list[RedisRateLimiter] = []

    def make(rate_per_s: float, burst: int, **options: object) -> RedisRateLimiter:
        limiter = RedisRateLimiter.from_url(shared_redis, rate_per_s, burst, prefix=prefix, **options)  # type: ignore[arg-type]
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        limiter.close()


def test_redis_burst_then_refusal_with_retry_after(
    make_redis_limiter: Callable[..., RedisRateLimiter],
) -> None:
    limiter = make_redis_limiter(2.0, 3)
    assert charged(lambda: limiter.acquire("k", now=EPOCH), 3) == [0.0, 0.0, 0.0]
    assert limiter.acquire("k", now=EPOCH) == pytest.approx(0.5)
    assert limiter.acquire("k", now=EPOCH + 0.25) == pytest.approx(0.25)
    assert limiter.using_redis


def test_redis_refill(make_redis_limiter: Callable[..., RedisRateLimiter]) -> None:
    limiter = make_redis_limiter(2.0, 3)
    charged(lambda: limiter.acquire("k", now=EPOCH), 3)
    assert limiter.acquire("k", now=EPOCH + 0.5) == 0.0
    assert limiter.acquire("k", now=EPOCH + 0.5) > 0
    waits = charged(lambda: limiter.acquire("k", now=EPOCH + 1000), 4)
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.5)


def test_redis_uses_the_servers_clock(make_redis_limiter: Callable[..., RedisRateLimiter]) -> None:
    limiter = make_redis_limiter(0.001, 2)  # one token per 1000 s
    assert charged(lambda: limiter.acquire("k"), 2) == [0.0, 0.0]
    assert 990 < limiter.acquire("k") <= 1000


def test_redis_buckets_expire_when_idle(
    shared_redis: str, prefix: str, make_redis_limiter: Callable[..., RedisRateLimiter]
) -> None:
    limiter = make_redis_limiter(10.0, 20)  # refills in 2 s
    limiter.acquire("k")
    with redis.Redis.from_url(shared_redis) as client:
        ttl_ms = client.pttl(f"{prefix}k")
    assert 0 < ttl_ms <= 3000


def test_two_limiters_on_one_redis_share_the_bucket(
    make_redis_limiter: Callable[..., RedisRateLimiter],
) -> None:
    first, second = make_redis_limiter(1.0, 4), make_redis_limiter(1.0, 4)
    assert [first.acquire("k", now=EPOCH), second.acquire("k", now=EPOCH)] == [0.0, 0.0]
    assert [first.acquire("k", now=EPOCH), second.acquire("k", now=EPOCH)] == [0.0, 0.0]
    assert first.acquire("k", now=EPOCH) == pytest.approx(1.0)
    assert second.acquire("k", now=EPOCH) == pytest.approx(1.0)


def test_redis_bucket_is_atomic_under_concurrency(
    make_redis_limiter: Callable[..., RedisRateLimiter],
) -> None:
    limiters = [make_redis_limiter(0.001, 60) for _ in range(2)]
    allowed: list[int] = []
    start = threading.Barrier(6)

    def hammer(limiter: RedisRateLimiter) -> None:
        start.wait()
        allowed.append(sum(limiter.acquire("shared", now=EPOCH) == 0.0 for _ in range(25)))

    threads = [threading.Thread(target=hammer, args=(limiters[n % 2],)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(allowed) == 60


def test_busy_keys_lease_tokens_and_never_exceed_the_shared_limit(
    make_redis_limiter: Callable[..., RedisRateLimiter],
) -> None:
    first, second = make_redis_limiter(50.0, 200), make_redis_limiter(50.0, 200)
    assert first.lease_size == 5  # a tenth of a second's refill, under a tenth of the burst
    assert make_redis_limiter(10.0, 20).lease_size == 1  # slow policies take one token at a time
    trips = [0]
    for limiter in (first, second):
        take = limiter._take_token

        def counted(*args: object, _take: Callable[..., object] = take, **kwargs: object) -> object:
            trips[0] += 1
            return _take(*args, **kwargs)

        limiter._take_token = counted  # type: ignore[assignment]
    began = time.monotonic()
    allowed = sum(limiter.acquire("busy") == 0.0 for _ in range(150) for limiter in (first, second))
    elapsed = time.monotonic() - began
    # Tokens are taken from the shared bucket before they are spent: never more than the limit;
    # at most one unspent lease per process is refused early.
    assert allowed <= 200 + 50 * elapsed + 1
    assert allowed >= 200 - 2 * first.lease_size
    refused = 2 * 150 - allowed  # each asks Redis (an empty bucket leases nothing)
    assert trips[0] - refused <= allowed / 2  # allowed requests mostly spend leased tokens


# --- a Redis that goes away ---------------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll `condition` until it holds (True) or `timeout_s` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_redis_outage_falls_back_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    with PrivateRedis() as server:
        limiter = RedisRateLimiter.from_url(server.url, 0.001, 3, prefix="rl:", retry_after_s=0.05)
        probe = redis.Redis.from_url(server.url)
        try:
            assert limiter.acquire("before") == 0.0
            assert probe.exists("rl:before") == 1

            server.kill()
            with caplog.at_level(logging.INFO, logger="carbon254.service.ratelimit"):
                # Every request is still decided, by the same policy, now in this process.
                waits = charged(lambda: limiter.acquire("during"), 5)
                assert waits[:3] == [0.0, 0.0, 0.0]
                assert all(wait > 900 for wait in waits[3:])
                assert not limiter.using_redis
                time.sleep(0.06)  # past the retry interval: the next request probes (and fails) again
                assert limiter.acquire("during") > 900
                server.start()  # same port, empty dataset
                assert wait_until(lambda: limiter.acquire("after") >= 0 and limiter.using_redis)
            assert probe.exists("rl:after") == 1

            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1  # once per outage, not once per request
            assert "limiting in this process" in warnings[0].getMessage()
            assert any(
                "reachable again" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO
            )
        finally:
            probe.close()
            limiter.close()


# --- choosing the limiter -----------------------------------------------------------------------------


def test_build_rate_limiter_follows_the_settings(tmp_path: Path) -> None:
    assert build_rate_limiter(Settings(data_dir=tmp_path, rate_limit_per_s=0)) is None
    memory = build_rate_limiter(Settings(data_dir=tmp_path, rate_limit_per_s=5, rate_limit_burst=7))
    assert isinstance(memory, MemoryRateLimiter)
    assert memory.policy == TokenBucket(5.0, 7)
    redis_backed = build_rate_limiter(
        Settings(
            data_dir=tmp_path, cache_url="redis://127.0.0.1:6379/0", rate_limit_per_s=5, rate_limit_burst=7
        )
    )
    assert isinstance(redis_backed, RedisRateLimiter)
    assert redis_backed.policy == TokenBucket(5.0, 7)
    assert redis_backed.where == "Redis redis://127.0.0.1:6379/0"
    redis_backed.close()


def test_logged_redis_location_hides_the_password() -> None:
    limiter = RedisRateLimiter.from_url("redis://user:s3cret@127.0.0.1:6379/2?password=other", 1.0, 1)
    assert "s3cret" not in limiter.where and "other" not in limiter.where
    limiter.close()


# --- through the service: 429 with Retry-After ----------------------------------------------------------

LMP_QUERY = {
    "iso": "ERCOT",
    "market": "DAM",
    "locations": "HB_NORTH",
    "start": "2024-03-01",
    "end": "2024-03-02",
}


def limited_settings(data_dir: Path, cache_url: str = "memory://") -> Settings:
    """Credentials required; each credential may make 2 requests, then one per 100 s."""
    return Settings(
        data_dir=data_dir,
        auth=AuthMode.REQUIRED,
        rate_limit_per_s=0.01,
        rate_limit_burst=2,
        cache_url=cache_url,
    )


def test_rest_answers_429_with_retry_after_per_key(tmp_path: Path, store: Store) -> None:
    settings = limited_settings(tmp_path)
    first_key = make_tenant_key(settings, "acme")
    second_key = make_key(settings, "acme")
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        codes = [client.get("/v1/lmp", params=LMP_QUERY, headers={"X-API-Key": first_key}) for _ in range(3)]
        assert [response.status_code for response in codes] == [200, 200, 429]
        refused = codes[2]
        assert refused.headers["Retry-After"] == "100"
        assert refused.json()["code"] == "rate_limited"
        # Each API key has a bucket of its own.
        other = client.get("/v1/lmp", params=LMP_QUERY, headers={"X-API-Key": second_key})
        assert other.status_code == 200


def test_rest_keeps_answering_when_redis_dies(tmp_path: Path, store: Store) -> None:
    with PrivateRedis() as server:
        settings = limited_settings(tmp_path, cache_url=server.url)
        key = make_tenant_key(settings, "acme")
        with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:

            def status() -> int:
                return int(client.get("/v1/lmp", params=LMP_QUERY, headers={"X-API-Key": key}).status_code)

            assert status() == 200  # through Redis
            server.kill()
            # Limits are still enforced, by the process's own buckets; nothing fails.
            assert [status(), status(), status()] == [200, 200, 429]
            server.start()
            limiter = client.app.state.rate_limiter  # type: ignore[attr-defined]
            assert isinstance(limiter, RedisRateLimiter)
            assert wait_until(lambda: status() in (200, 429) and limiter.using_redis)
            # Back on Redis, whose (new, empty) dataset gives the key a fresh bucket.
            assert status() == 200


def test_the_redis_limiter_is_closed_when_the_app_shuts_down(tmp_path: Path, store: Store) -> None:
    with PrivateRedis() as server:
        settings = limited_settings(tmp_path, cache_url=server.url)
        key = make_tenant_key(settings, "acme")
        observer = redis.Redis.from_url(server.url)
        try:
            with TestClient(create_app(settings, store)) as client:
                limiter = client.app.state.rate_limiter  # type: ignore[attr-defined]
                assert isinstance(limiter, RedisRateLimiter)
                assert client.get("/v1/lmp", params=LMP_QUERY, headers={"X-API-Key": key}).status_code == 200
                assert limiter.using_redis
                connected = {c["id"] for c in observer.client_list()}
            assert len(connected) > 1  # the limiter's (and the cache's, the broker's) connections
            # At shutdown every connection the app opened is closed: only the observer's is left.
            assert wait_until(lambda: len(observer.client_list()) == 1)
        finally:
            observer.close()
