"""Kill Redis mid-run: a real service keeps answering every request, and its stream stays usable.

Issue 4: "Kill Redis mid-run in a test: no failed requests." A uvicorn
process runs `create_app()` with credentials required and
`CARBON254_CACHE_URL` pointing at a private `redis-server`, so the result
cache, the per-key rate limiter and the stream's broker (and its feed lease)
all live in that Redis. While a client thread keeps asking for LMPs over a
cycle of windows (cache misses at first, hits after) and a WebSocket client
stays subscribed, the Redis process is SIGKILLed, left dead while requests
go on, then started again (empty) on the same port.

Every response must be a 200 with exactly the right rows; the stream
connection must not close (the documented design: an established
subscription survives a broker outage, the hub replaying from the store what
the broker missed), and rows committed during and after the outage must
arrive on it once each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
import redis
from auth_setup import make_tenant_key
from stream_servers import ServiceProcess, StreamClient

from carbon254.config import AuthMode, Settings
from carbon254.store import open_store
from redis_private import PrivateRedis

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
DAYS = 14
# The REST client cycles through these (start day, length in days) windows: each is a cache miss
# the first time it is asked for, a hit afterwards (until Redis loses everything).
WINDOWS = [(start, length) for start in range(0, 10, 2) for length in (1, 3)]
STREAM_T0 = datetime(2025, 3, 1, tzinfo=UTC)  # the hours committed for the stream
REQUESTS_PER_PHASE = 30  # REST requests each phase (before, during, after the outage) must see at least
PHASE_TIMEOUT_S = 30.0
# The /ready checks of the backends CARBON254_CACHE_URL=redis://... puts in Redis (the store's and the
# metadata database's checks must keep passing through the outage).
REDIS_CHECKS = frozenset({"cache", "broker"})


def expected_lmp(start_day: int, days: int) -> list[tuple[datetime, float]]:
    """`(interval_start, lmp)` of HB_NORTH's day-ahead rows in a window: see `make_lmp_table`."""
    first = DAY0 + timedelta(days=start_day)
    return [(first + timedelta(hours=h), 20.0 + (h % 24) + 1.5 + 0.25) for h in range(24 * days)]


@dataclass
class RestLoad:
    """A thread asking `GET /v1/lmp` over `WINDOWS` in a loop; every answer is checked and counted."""

    base: str
    key: str
    phase: str = "before"
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start asking, in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="rest-load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop asking and wait for the request in flight (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def enter(self, phase: str) -> None:
        """Count the answers from now on under `phase`."""
        with self._lock:
            self.phase = phase

    def count(self, phase: str) -> int:
        """Answers checked so far in `phase`."""
        with self._lock:
            return self.counts.get(phase, 0)

    def wait_for(self, phase: str, requests: int) -> None:
        """Block until `requests` answers were checked in `phase` (AssertionError after a timeout)."""
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while self.count(phase) < requests:
            assert time.monotonic() < deadline, f"only {self.count(phase)} requests answered in {phase}"
            assert self._thread is not None and self._thread.is_alive(), "the REST client stopped"
            time.sleep(0.02)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, headers={"X-API-Key": self.key}, timeout=30) as client:
            i = 0
            while not self._stop.is_set():
                start_day, days = WINDOWS[i % len(WINDOWS)]
                i += 1
                with self._lock:
                    phase = self.phase
                problem = self._check(client, start_day, days)
                with self._lock:
                    self.counts[phase] = self.counts.get(phase, 0) + 1
                    if problem is not None:
                        self.failures.append(f"{phase}: {problem}")

    @staticmethod
    def _check(client: httpx.Client, start_day: int, days: int) -> str | None:
        start = (DAY0 + timedelta(days=start_day)).date().isoformat()
        end = (DAY0 + timedelta(days=start_day + days)).date().isoformat()
        params = {"iso": "ERCOT", "market": "DAM", "locations": "HB_NORTH", "start": start, "end": end}
        try:
            response = client.get("/v1/lmp", params=params)
        except httpx.HTTPError as exc:
            return f"{start}..{end}: {type(exc).__name__}: {exc}"
        if response.status_code != 200:
            return f"{start}..{end}: HTTP {response.status_code}: {response.text[:300]}"
        rows = response.json()["data"]
        got = [(datetime.fromisoformat(r["interval_start"]), r["lmp"]) for r in rows]
        if got != expected_lmp(start_day, days) or {r["location"] for r in rows} != {"HB_NORTH"}:
            return f"{start}..{end}: wrong rows ({len(rows)} rows, first {rows[:1]})"
        return None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    with PrivateRedis() as server:
        yield server


def ready(base: str) -> tuple[int, dict[str, Any]]:
    """`GET /ready`: its status and body (`status`, `checks`, `failed`)."""
    response = httpx.get(f"{base}/ready", timeout=10)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def wait_until(condition: Callable[[], bool], what: str, timeout: float = PHASE_TIMEOUT_S) -> None:
    """Poll `condition` until it holds; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_killing_redis_mid_run_fails_no_request(
    tmp_path: Path, private_redis: PrivateRedis, make_lmp: Callable[..., pa.Table]
) -> None:
    data_dir = tmp_path / "data"
    writer = open_store(data_dir)
    writer.write("lmp", make_lmp("ERCOT", "DAM", "HB_NORTH", start=DAY0, hours=24 * DAYS))
    key = make_tenant_key(Settings(data_dir=data_dir, auth=AuthMode.REQUIRED), "ops", isos=["ERCOT"])
    env = {
        "CARBON254_AUTH": "required",
        "CARBON254_CACHE_URL": private_redis.url,
        # Generous: the limiter must be consulted on every request, not refuse this load.
        "CARBON254_RATE_LIMIT_PER_S": "10000",
        "CARBON254_RATE_LIMIT_BURST": "10000",
        "CARBON254_STREAM_HEARTBEAT_S": "0.5",
    }

    def commit_hour(hour: int) -> None:
        writer.write(
            "lmp", make_lmp("ERCOT", "RTH", "HB_NORTH", start=STREAM_T0 + timedelta(hours=hour), hours=1)
        )

    load: RestLoad | None = None
    try:
        with (
            ServiceProcess(data_dir, tmp_path / "server.log", env=env) as server,
            StreamClient(server.ws_url, additional_headers={"X-API-Key": key}) as stream,
        ):
            stream.subscribe(iso="ERCOT", market="RTH", locations=["HB_NORTH"])
            load = RestLoad(server.base, key)
            load.start()
            commit_hour(0)
            received = stream.rows_until(1)
            load.wait_for("before", REQUESTS_PER_PHASE)
            # Redis really is in play: the rate limiter's buckets and the cached results are in it.
            with redis.Redis.from_url(private_redis.url) as client:
                stored = [k.decode() for k in client.scan_iter(count=1000)]
            assert any(k.startswith("carbon254:ratelimit:") for k in stored), stored
            assert any(k.startswith("carbon254:cache:") for k in stored), stored
            status, body = ready(server.base)
            assert status == 200, body
            assert {c["name"] for c in body["checks"]} >= REDIS_CHECKS, body

            private_redis.kill()
            load.enter("outage")
            commit_hour(1)  # committed while the broker is gone: must arrive once Redis is back
            load.wait_for("outage", REQUESTS_PER_PHASE)
            status, body = ready(server.base)
            assert status == 503 and set(body["failed"]) == REDIS_CHECKS, body
            load.wait_for("outage", 2 * REQUESTS_PER_PHASE)

            private_redis.start()  # same port, empty
            load.enter("after")
            commit_hour(2)
            received += stream.rows_until(2, timeout=PHASE_TIMEOUT_S)
            load.wait_for("after", REQUESTS_PER_PHASE)
            wait_until(lambda: ready(server.base)[0] == 200, "/ready to recover")
            stream.assert_quiet(0.5)  # nothing twice
            load.stop()

            assert load.failures == [], f"{len(load.failures)} failed requests: {load.failures[:5]}"
            starts = [datetime.fromisoformat(r["interval_start"]) for r in received]
            assert starts == [STREAM_T0 + timedelta(hours=h) for h in range(3)]
            # The connection stayed usable throughout: it still answers a new subscription.
            assert stream.subscribe(iso="ERCOT", market="DAM", locations=["HB_NORTH"])["iso"] == "ERCOT"
    finally:
        if load is not None:
            load.stop()
        writer.close()
