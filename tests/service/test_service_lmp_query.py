"""`/v1/lmp` query semantics: time zones, resample, block, as_of, name matching, simulated flag."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from carbon254.store.base import Store

WEST = {"iso": "PJM", "market": "DAM", "locations": "WESTERN HUB"}


def test_tz_iso_reads_bounds_and_shows_times_in_market_time(client: TestClient) -> None:
    # 2024-03-10 is the US spring-forward day: offsets change from -05:00 to -04:00.
    body = client.get(
        "/v1/lmp", params={**WEST, "start": "2024-03-09", "end": "2024-03-11", "tz": "iso"}
    ).json()
    times = [row["interval_start"] for row in body["data"]]
    assert times[0] == "2024-03-09T00:00:00-05:00"
    assert "2024-03-10T01:00:00-05:00" in times
    assert "2024-03-10T03:00:00-04:00" in times
    assert not any(t.startswith("2024-03-10T02:") for t in times)  # skipped hour
    assert times[-1] == "2024-03-10T23:00:00-04:00"
    assert len(times) == 47  # a 23-hour day plus a 24-hour day
    assert body["query"]["tz"] == "America/New_York"
    assert body["query"]["start"] == "2024-03-09T00:00:00-05:00"


def test_explicit_offset_wins_over_tz(client: TestClient) -> None:
    params = {
        **WEST,
        "start": "2024-03-01T06:00:00Z",
        "end": "2024-03-01T08:00:00+00:00",
        "tz": "America/Chicago",
    }
    body = client.get("/v1/lmp", params=params).json()
    assert [row["interval_start"] for row in body["data"]] == [
        "2024-03-01T00:00:00-06:00",
        "2024-03-01T01:00:00-06:00",
    ]


def test_tz_name_in_any_case(client: TestClient) -> None:
    params = {**WEST, "start": "2024-03-01", "end": "2024-03-01T02:00", "tz": "america/chicago"}
    body = client.get("/v1/lmp", params=params).json()
    assert body["query"]["tz"] == "America/Chicago"
    assert body["data"][0]["interval_start"] == "2024-03-01T00:00:00-06:00"


def test_resample_daily_averages_local_days(client: TestClient) -> None:
    params = {**WEST, "start": "2024-03-02", "end": "2024-03-05", "tz": "iso", "resample": "daily"}
    body = client.get("/v1/lmp", params=params).json()
    assert body["query"]["resample"] == "daily"
    assert [row["interval_start"] for row in body["data"]] == [
        "2024-03-02T00:00:00-05:00",
        "2024-03-03T00:00:00-05:00",
        "2024-03-04T00:00:00-05:00",
    ]
    assert body["data"][0]["interval_end"] == "2024-03-03T00:00:00-05:00"
    # A whole local day holds each UTC hour-of-day once: mean energy is 20 + 11.5.
    assert body["data"][0]["energy"] == pytest.approx(31.5)
    assert body["data"][0]["lmp"] == pytest.approx(31.5 + 1.5 + 0.25)


def test_block_onpeak_keeps_weekday_peak_hours(client: TestClient) -> None:
    # Mon 4 - Fri 8 March 2024 in New York, then the weekend.
    params = {**WEST, "start": "2024-03-04", "end": "2024-03-11", "tz": "iso", "block": "onpeak"}
    body = client.get("/v1/lmp", params=params).json()
    assert body["query"]["block"] == "onpeak"
    assert body["count"] == 5 * 16
    starts = [datetime.fromisoformat(row["interval_start"]) for row in body["data"]]
    # Hour-ending 7-22 is the hours starting 06:00-21:00 local.
    assert {t.hour for t in starts} == set(range(6, 22))
    assert {t.weekday() for t in starts} == set(range(5))


def test_block_then_resample(client: TestClient) -> None:
    params = {
        **WEST,
        "start": "2024-03-04",
        "end": "2024-03-11",
        "tz": "iso",
        "block": "2x16",
        "resample": "daily",
    }
    body = client.get("/v1/lmp", params=params).json()
    # Only the weekend days have 2x16 hours.
    assert [row["interval_start"][:10] for row in body["data"]] == ["2024-03-09", "2024-03-10"]


def test_resample_monthly_and_hourly(client: TestClient) -> None:
    monthly = client.get(
        "/v1/lmp",
        params={**WEST, "start": "2024-03-01", "end": "2024-04-01", "tz": "iso", "resample": "monthly"},
    ).json()
    assert monthly["count"] == 1
    assert monthly["data"][0]["interval_start"] == "2024-03-01T00:00:00-05:00"
    assert monthly["data"][0]["interval_end"] == "2024-04-01T00:00:00-04:00"
    hourly = client.get(
        "/v1/lmp", params={**WEST, "start": "2024-03-01", "end": "2024-03-02", "resample": "hourly"}
    ).json()
    assert hourly["count"] == 24


def test_as_of_returns_what_was_known_then(
    fresh_client: TestClient, fresh_store: Store, make_lmp: Callable[..., pa.Table]
) -> None:
    day = datetime(2024, 6, 1, tzinfo=UTC)
    first_pub = day - timedelta(hours=12)
    revised_pub = day + timedelta(days=2)
    fresh_store.write("lmp", make_lmp("PJM", "DAM", "WESTERN HUB", day, 24, published_at=first_pub))
    fresh_store.write(
        "lmp", make_lmp("PJM", "DAM", "WESTERN HUB", day, 24, offset=10.0, published_at=revised_pub)
    )
    params = {**WEST, "start": "2024-06-01", "end": "2024-06-02"}

    latest = fresh_client.get("/v1/lmp", params=params).json()
    assert latest["data"][0]["energy"] == pytest.approx(30.0)
    assert latest["query"]["as_of"] is None

    known = fresh_client.get("/v1/lmp", params={**params, "as_of": "2024-06-02T00:00:00Z"}).json()
    assert known["data"][0]["energy"] == pytest.approx(20.0)
    assert known["count"] == 24
    assert known["query"]["as_of"] == "2024-06-02T00:00:00+00:00"

    before = fresh_client.get("/v1/lmp", params={**params, "as_of": "2024-05-01"}).json()
    assert before["count"] == 0


def test_names_match_in_any_case(client: TestClient) -> None:
    params = {
        "iso": "pjm",
        "market": "dam",
        "locations": "western hub",
        "start": "2024-03-01",
        "end": "2024-03-02",
    }
    body = client.get("/v1/lmp", params=params).json()
    assert body["count"] == 24
    assert body["query"]["iso"] == "PJM"
    assert body["query"]["market"] == "DAM"
    assert body["query"]["locations"] == ["WESTERN HUB"]
    assert body["data"][0]["location"] == "WESTERN HUB"


def test_locations_omitted_means_every_location(client: TestClient) -> None:
    body = client.get(
        "/v1/lmp", params={"iso": "PJM", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02"}
    )
    data = body.json()
    assert {row["location"] for row in data["data"]} == {"EASTERN HUB", "PSEG", "WESTERN HUB"}
    assert data["query"]["locations"] is None


def test_markets_are_separate(client: TestClient) -> None:
    params = {**WEST, "market": "RTH", "start": "2024-03-01", "end": "2024-03-01T01:00"}
    row = client.get("/v1/lmp", params=params).json()["data"][0]
    assert row["market"] == "RTH"
    assert row["energy"] == pytest.approx(22.0)


def test_simulated_flag_follows_the_catalog(client: TestClient) -> None:
    base = {"iso": "ERCOT", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02"}
    real = client.get("/v1/lmp", params={**base, "locations": "HB_NORTH"})
    assert real.json()["simulated"] is False
    mixed = client.get("/v1/lmp", params={**base, "locations": "HB_NORTH,SIM_NODE_1"})
    assert mixed.json()["simulated"] is True
    assert mixed.json()["count"] == 48
    as_csv = client.get("/v1/lmp", params={**base, "locations": "SIM_NODE_1", "format": "csv"})
    assert as_csv.headers["x-carbon254-simulated"] == "true"
