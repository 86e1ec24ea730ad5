"""Sub-hourly forecasts on `/v1/stream`, from real uvicorn processes (in-process broker, then Redis).

Intervals are committed by this test process, as `carbon254 ingest` beside
the service would; the service's watcher publishes each commit and its
re-forecaster a forecast. The time from the commit's `data` message to the
forecast's, on one connection, is the re-forecast path as a client sees it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from stream_servers import ServiceProcess, StreamClient

from carbon254.service.stream.session import CloseCode
from carbon254.store import ParquetStore, open_store
from forecast_stream_data import FIVE_MINUTES, history_rows, interval_rows, last_start
from redis_private import require_shared_redis

FAST = {"CARBON254_STREAM_HEARTBEAT_S": "0.5"}
BUDGET_S = 0.1
FIT_WAIT_S = (
    30.0  # bound of the first forecast's wait (a model fitted in the service); reached only on failure
)


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[ParquetStore]:
    """Four days of HB_NORTH and HB_SOUTH prices and a little of HB_WEST, ending now; PJM's catalog too."""
    store = open_store(tmp_path / "data")
    store.write("lmp", history_rows(["HB_NORTH", "HB_SOUTH"], last_start(), 288 * 4))
    store.write("lmp", history_rows(["HB_WEST"], last_start(), 30))
    store.write("lmp", history_rows(["WESTERN HUB"], last_start(), 3, iso="PJM"))
    yield store
    store.close()


def _namespace_env() -> Iterator[dict[str, str]]:
    url = require_shared_redis()
    namespace = f"carbon254-test:stream:{uuid.uuid4().hex}"
    yield {**FAST, "CARBON254_CACHE_URL": url, "CARBON254_STREAM_NAMESPACE": namespace}
    client = redis.Redis.from_url(url)
    try:
        client.delete(*client.keys(f"{namespace}:*") or [f"{namespace}:none"])
    finally:
        client.close()


@pytest.fixture(params=["memory", "redis"])
def env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The service's environment: the embedded broker, or Redis under a namespace of this test's own."""
    if request.param == "memory":
        yield FAST
    else:
        yield from _namespace_env()


def next_of(client: StreamClient, kinds: set[str], timeout: float) -> tuple[dict[str, Any], float]:
    """The next message of one of `kinds` (heartbeats skipped) and when it was received (monotonic)."""
    deadline = time.monotonic() + timeout
    while True:
        message = client.receive(max(deadline - time.monotonic(), 0.01))
        if message["type"] in kinds:
            return message, time.monotonic()
        assert message["type"] == "heartbeat", message


def commit_and_time(
    client: StreamClient, writer: ParquetStore, location: str, start_offset: int, lmp: float
) -> tuple[dict[str, Any], float]:
    """Commit an interval; its forecast, and the seconds from its `data` message to the forecast."""
    writer.write("lmp", interval_rows(location, last_start() + FIVE_MINUTES * start_offset, lmp))
    received: dict[str, tuple[dict[str, Any], float]] = {}
    while len(received) < 2:
        message, at = next_of(client, {"data", "forecast"}, 20.0)
        assert message["type"] not in received, message
        received[message["type"]] = (message, at)
    (data, data_at), (forecast, forecast_at) = received["data"], received["forecast"]
    assert data["data"][-1]["lmp"] == lmp
    return forecast, forecast_at - data_at


def test_each_committed_interval_fires_a_forecast_within_100_ms(
    tmp_path: Path, writer: ParquetStore, env: dict[str, str]
) -> None:
    newest = last_start()
    with (
        ServiceProcess(tmp_path / "data", tmp_path / "server.log", env=env) as server,
        StreamClient(server.ws_url) as client,
    ):
        client.subscribe(iso="ERCOT", market="RT5", locations=["HB_NORTH"])
        confirmed = client.subscribe(dataset="Forecast", iso="ercot", locations=["hb_north"])
        assert confirmed == {
            "type": "subscribed",
            "dataset": "forecast",
            "iso": "ERCOT",
            "market": "RT5",
            "locations": ["HB_NORTH"],
        }
        first, _ = next_of(client, {"forecast"}, FIT_WAIT_S)
        assert first["location"] == "HB_NORTH" and first["model"] == "subhourly_linear"
        assert first["last_interval_start"] == newest.isoformat()
        assert len(first["interval_start"]) == len(first["point"]) == len(first["p90"]) == 12

        fired, took = commit_and_time(client, writer, "HB_NORTH", 1, 75.0)
        assert took < BUDGET_S, f"the forecast came {took * 1000:.1f} ms after the commit: {server.log()}"
        assert fired["last_interval_start"] == (newest + FIVE_MINUTES).isoformat()
        assert fired["interval_start"][0] == (newest + 2 * FIVE_MINUTES).isoformat()
        assert fired["interval_start"][-1] == (newest + 13 * FIVE_MINUTES).isoformat()
        assert all(a <= b <= c for a, b, c in zip(fired["p10"], fired["p50"], fired["p90"], strict=True))

        revised, took = commit_and_time(client, writer, "HB_NORTH", 1, 15.0)  # the same interval, revised
        assert took < BUDGET_S, f"the revision's forecast came {took * 1000:.1f} ms after it"
        assert revised["interval_start"] == fired["interval_start"]
        assert revised["point"][0] < fired["point"][0]

        # A second connection gets the latest forecast at once, then nothing until the next interval.
        with StreamClient(server.ws_url) as late:
            late.subscribe(dataset="forecast", iso="ERCOT", locations=["HB_NORTH"])
            latest, _ = next_of(late, {"forecast"}, 5.0)
            assert latest == revised
            late.assert_quiet(0.5)

        client.send({"type": "unsubscribe", "dataset": "forecast", "iso": "ERCOT"})
        assert client.receive_type("unsubscribed")["dataset"] == "forecast"


def test_forecast_subscriptions_are_checked_like_lmp_subscriptions(
    tmp_path: Path, writer: ParquetStore
) -> None:
    with (
        ServiceProcess(tmp_path / "data", tmp_path / "server.log", env=FAST) as server,
        StreamClient(server.ws_url) as client,
    ):
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"iso": "ERCOT", "locations": ["HB_NORHT"]}, "not_found", "locations"),
            ({"iso": "ERCOT", "market": "DAM", "locations": ["HB_NORTH"]}, "not_found", "market"),
            ({"iso": "ERCOT"}, "missing_parameter", "locations"),
            (
                {"iso": "ERCOT", "locations": ["HB_NORTH"], "since": "2026-01-01"},
                "invalid_parameter",
                "since",
            ),
            ({"iso": "ERCOT", "locations": [f"N{i}" for i in range(21)]}, "too_many_locations", "locations"),
        ]
        for fields, code, parameter in cases:
            client.send({"type": "subscribe", "dataset": "forecast", **fields})
            error = client.receive_type("error")
            assert (error["code"], error["parameter"]) == (code, parameter), (fields, error)
            if code == "not_found":  # with the suggestions `/v1/lmp` gives
                assert error["suggestions"][0] in ("HB_NORTH", "RT5"), error

        # A location with too little stored history is refused by the re-forecaster, not silently starved.
        client.subscribe(dataset="forecast", iso="ERCOT", locations=["HB_WEST"])
        refused, _ = next_of(client, {"error"}, FIT_WAIT_S)
        assert (refused["code"], refused["location"], refused["parameter"]) == (
            "forecast_unavailable",
            "HB_WEST",
            "locations",
        )
        assert "30 intervals stored" in refused["message"]


@pytest.mark.parametrize(
    ("key", "iso"),
    [("key-data-only", "ERCOT"), ("key-ercot", "PJM")],
    ids=["without-the-forecast-feature", "without-the-iso"],
)
def test_an_unentitled_subscriber_is_refused(
    tmp_path: Path, writer: ParquetStore, key: str, iso: str
) -> None:
    location = "HB_NORTH" if iso == "ERCOT" else "WESTERN HUB"
    with ServiceProcess(tmp_path / "data", tmp_path / "server.log", env=FAST, test_keys=True) as server:
        with StreamClient(server.ws_url, additional_headers={"X-API-Key": key}) as client:
            client.send({"type": "subscribe", "dataset": "forecast", "iso": iso, "locations": [location]})
            error = client.receive_type("error")
            assert error["code"] == "not_entitled", error
            assert client.close_code() == CloseCode.NOT_ENTITLED
        # The same tenant's price data stays open to it; a tenant with the feature gets forecasts.
        with StreamClient(server.ws_url, additional_headers={"X-API-Key": "key-all"}) as entitled:
            entitled.subscribe(dataset="forecast", iso=iso, locations=[location])


def test_losing_the_forecast_feature_ends_only_the_forecast_subscription(
    tmp_path: Path, writer: ParquetStore
) -> None:
    with (
        ServiceProcess(tmp_path / "data", tmp_path / "server.log", env=FAST, test_keys=True) as server,
        StreamClient(server.ws_url, additional_headers={"X-API-Key": "key-all"}) as client,
    ):
        client.subscribe(iso="ERCOT", market="RT5", locations=["HB_NORTH"])
        client.subscribe(dataset="forecast", iso="ERCOT", locations=["HB_NORTH"])
        next_of(client, {"forecast"}, FIT_WAIT_S)
        client.send(
            {"type": "auth", "token": "key-data-only"}
        )  # the same connection, now a tenant without it
        ended, _ = next_of(client, {"error"}, 10.0)
        assert (ended["code"], ended["dataset"], ended["iso"]) == ("not_entitled", "forecast", "ERCOT")
        assert client.receive_type("authenticated")["tenant"] == "data-co"
        writer.write("lmp", interval_rows("HB_NORTH", last_start() + FIVE_MINUTES, 50.0))
        data, _ = next_of(client, {"data", "forecast"}, 20.0)
        assert data["type"] == "data"  # the LMP subscription carries on; no forecast follows
        client.assert_quiet(1.0)
