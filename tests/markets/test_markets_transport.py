"""IsoClient against a real local server: retries, Retry-After, timeouts, no retry on 4xx, rate limits."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from carbon254.isos import Iso
from carbon254.markets.transport import (
    FetchError,
    IsoClient,
    RetryPolicy,
    TransportConfig,
    retry_after_seconds,
)
from carbon254.replay import Fault, FaultKind, ReplayServer, Reply, Route

BODY = b"a,b\n1,2\n3,4\n5,6\n7,8\n"


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    routes = [
        Route(re.compile(r"/files/.+\.csv"), lambda r: Reply(200, BODY, {"Content-Type": "text/csv"})),
        Route(re.compile(r"/bad"), lambda r: Reply(400, b"bad parameter startdate")),
    ]
    with ReplayServer(routes) as s:
        yield s


class Sleeps:
    """Records the waits a client asks for instead of sleeping through them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(server: ReplayServer, sleeps: Sleeps, **config: object) -> IsoClient:
    retry = config.pop("retry", RetryPolicy(attempts=4, base_s=0.01))
    cfg = TransportConfig(base_url=server.url, retry=retry, **config)  # type: ignore[arg-type]
    return IsoClient(Iso.NYISO, cfg, sleep=sleeps, seed=1)


def test_base_url_replaces_scheme_and_host_keeping_path_and_query(server: ReplayServer) -> None:
    with client(server, Sleeps()) as c:
        assert c.url("https://mis.nyiso.com/public/x.csv?a=1") == f"{server.url}/public/x.csv?a=1"
        resp = c.get("https://mis.nyiso.com/files/day.csv")
    assert resp.content == BODY
    assert server.requests[-1].path == "/files/day.csv"


@pytest.mark.parametrize("kind", [FaultKind.ERROR_500, FaultKind.TRUNCATED])
def test_transient_faults_are_retried_into_success(server: ReplayServer, kind: FaultKind) -> None:
    server.inject(Fault(kind, "/files/", times=2))
    sleeps = Sleeps()
    with client(server, sleeps) as c:
        resp = c.get("http://x/files/day.csv")
        assert resp.content == BODY
        assert c.requests_made == 3
    assert len(sleeps.waits) == 2
    assert all(0 <= w <= 0.02 for w in sleeps.waits)  # jittered exponential backoff under the cap


def test_429_waits_as_long_as_retry_after_says(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.RATE_LIMIT, "/files/", retry_after_s=7))
    sleeps = Sleeps()
    with client(server, sleeps) as c:
        assert c.get("http://x/files/day.csv").content == BODY
    assert sleeps.waits == [7.0]


def test_timeout_is_retried(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.TIMEOUT, "/files/", delay_s=1.0))
    with client(server, Sleeps(), timeout_s=0.3) as c:
        assert c.get("http://x/files/day.csv").content == BODY
        assert c.requests_made == 2


def test_gives_up_after_the_policy_with_the_last_reason(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.ERROR_500, "/files/", times=10))
    with client(server, Sleeps()) as c, pytest.raises(FetchError) as info:
        c.get("http://x/files/day.csv")
    assert info.value.status == 500
    assert info.value.attempts == 4
    assert "HTTP 500" in str(info.value) and "after 4 attempts" in str(info.value)


def test_client_errors_are_not_retried(server: ReplayServer) -> None:
    sleeps = Sleeps()
    with client(server, sleeps) as c, pytest.raises(FetchError) as info:
        c.get("http://x/bad")
    assert info.value.status == 400 and info.value.attempts == 1
    assert "bad parameter startdate" in str(info.value)
    assert sleeps.waits == []
    with client(server, sleeps) as c, pytest.raises(FetchError) as missing:
        c.get("http://x/nothing-here")
    assert missing.value.status == 404


def test_connection_refused_is_retried_then_reported() -> None:
    with ReplayServer() as dead:
        url = dead.url
    sleeps = Sleeps()
    cfg = TransportConfig(base_url=url, retry=RetryPolicy(attempts=3, base_s=0.01))
    with IsoClient(Iso.PJM, cfg, sleep=sleeps) as c, pytest.raises(FetchError) as info:
        c.get("https://api.pjm.com/api/v1/da_hrl_lmps")
    assert "connection failed" in str(info.value)
    assert len(sleeps.waits) == 2


def test_rate_limit_spaces_requests(server: ReplayServer) -> None:
    with client(server, time.sleep, min_interval_s=0.15) as c:  # type: ignore[arg-type]
        began = time.monotonic()
        for _ in range(3):
            c.get("http://x/files/day.csv")
        elapsed = time.monotonic() - began
    assert elapsed >= 0.29  # three requests need two full intervals between them


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("30") == 30.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=5), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_filename_comes_from_content_disposition(server: ReplayServer) -> None:
    server.add_routes(
        [
            Route(
                re.compile("/zip"),
                lambda r: Reply(200, b"PK", {"Content-Disposition": 'attachment; filename="PRC_LMP.zip"'}),
            )
        ]
    )
    with client(server, Sleeps()) as c:
        assert c.get("http://x/zip").filename() == "PRC_LMP.zip"
