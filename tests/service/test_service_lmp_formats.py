"""`/v1/lmp` bodies in every format, chosen by `format=` or by `Accept`."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from carbon254.store.base import Store

COLUMNS = [
    "interval_start",
    "interval_end",
    "iso",
    "market",
    "location",
    "lmp",
    "energy",
    "congestion",
    "loss",
]
QUERY = {
    "iso": "PJM",
    "market": "DAM",
    "locations": "WESTERN HUB,EASTERN HUB",
    "start": "2024-03-01",
    "end": "2024-03-02",
}


def test_json_is_the_default(client: TestClient) -> None:
    r = client.get("/v1/lmp", params=QUERY)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["count"] == 48
    assert body["simulated"] is False
    assert body["unit"] == "$/MWh"
    assert list(body["data"][0]) == COLUMNS
    # Sorted by location, then time; the requested order does not matter.
    assert [row["location"] for row in body["data"][::24]] == ["EASTERN HUB", "WESTERN HUB"]
    first = body["data"][0]
    assert first["interval_start"] == "2024-03-01T00:00:00+00:00"
    assert first["interval_end"] == "2024-03-01T01:00:00+00:00"
    assert first["lmp"] == pytest.approx(20.0 + 3.0 + 0.25)
    assert first["lmp"] == pytest.approx(first["energy"] + first["congestion"] + first["loss"])
    assert body["query"] == {
        "iso": "PJM",
        "market": "DAM",
        "locations": ["WESTERN HUB", "EASTERN HUB"],
        "start": "2024-03-01T00:00:00+00:00",
        "end": "2024-03-02T00:00:00+00:00",
        "tz": "UTC",
        "resample": None,
        "block": None,
        "as_of": None,
    }


@pytest.mark.parametrize("accept", ["application/json", "*/*", "text/html", None])
def test_json_by_accept_or_fallback(client: TestClient, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    r = client.get("/v1/lmp", params=QUERY, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["count"] == 48


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(("params", "headers"), [({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})])
def test_csv(client: TestClient, params: dict[str, str], headers: dict[str, str]) -> None:
    r = client.get("/v1/lmp", params={**QUERY, **params}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0] == ",".join(COLUMNS)
    rows = _csv_rows(r.text)
    assert len(rows) == 48
    assert rows[0]["interval_start"] == "2024-03-01T00:00:00+00:00"
    assert float(rows[0]["lmp"]) == pytest.approx(23.25)
    assert r.headers["x-carbon254-count"] == "48"
    assert r.headers["x-carbon254-simulated"] == "false"


def _check_arrow_table(table: pa.Table) -> None:
    assert table.column_names == COLUMNS
    assert table.num_rows == 48
    assert table.schema.field("interval_start").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("lmp").type == pa.float64()
    assert table.column("interval_start")[0].as_py() == datetime(2024, 3, 1, tzinfo=UTC)
    meta = orjson.loads(table.schema.metadata[b"carbon254"])
    assert meta["count"] == 48
    assert meta["simulated"] is False


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"format": "parquet"}, {}),
        ({}, {"Accept": "application/vnd.apache.parquet"}),
        ({}, {"Accept": "application/x-parquet"}),
    ],
)
def test_parquet(client: TestClient, params: dict[str, str], headers: dict[str, str]) -> None:
    r = client.get("/v1/lmp", params={**QUERY, **params}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.apache.parquet"
    _check_arrow_table(pq.read_table(io.BytesIO(r.content)))


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "arrow"}, {}), ({}, {"Accept": "application/vnd.apache.arrow.stream"})],
)
def test_arrow_stream(client: TestClient, params: dict[str, str], headers: dict[str, str]) -> None:
    r = client.get("/v1/lmp", params={**QUERY, **params}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.apache.arrow.stream"
    _check_arrow_table(ipc.open_stream(r.content).read_all())


def test_accept_q_values_rank_types(client: TestClient) -> None:
    accept = "text/csv;q=0.5, application/vnd.apache.arrow.stream;q=0.9, application/json;q=0.1"
    r = client.get("/v1/lmp", params=QUERY, headers={"Accept": accept})
    assert r.headers["content-type"] == "application/vnd.apache.arrow.stream"


def test_format_parameter_beats_accept(client: TestClient) -> None:
    r = client.get("/v1/lmp", params={**QUERY, "format": "csv"}, headers={"Accept": "application/json"})
    assert r.headers["content-type"].startswith("text/csv")


def test_arrow_timestamps_carry_the_requested_zone(client: TestClient) -> None:
    r = client.get("/v1/lmp", params={**QUERY, "tz": "iso", "format": "arrow"})
    table = ipc.open_stream(r.content).read_all()
    assert table.schema.field("interval_start").type == pa.timestamp("us", tz="America/New_York")
    # Same instant as asked: local midnight in New York is 05:00 UTC.
    assert table.column("interval_start")[0].as_py().astimezone(UTC) == datetime(2024, 3, 1, 5, tzinfo=UTC)


def test_empty_result_in_every_format(client: TestClient) -> None:
    empty = {**QUERY, "start": "2020-01-01", "end": "2020-01-02"}
    body = client.get("/v1/lmp", params=empty).json()
    assert body["data"] == []
    assert body["count"] == 0
    assert client.get("/v1/lmp", params={**empty, "format": "csv"}).text.strip() == ",".join(COLUMNS)
    parquet = pq.read_table(io.BytesIO(client.get("/v1/lmp", params={**empty, "format": "parquet"}).content))
    assert parquet.column_names == COLUMNS
    assert parquet.num_rows == 0
    arrow = ipc.open_stream(client.get("/v1/lmp", params={**empty, "format": "arrow"}).content).read_all()
    assert arrow.num_rows == 0


def test_year_of_hourly_json_is_fast(
    fresh_client: TestClient, fresh_store: Store, make_lmp: Callable[..., pa.Table]
) -> None:
    fresh_store.write("lmp", make_lmp("ERCOT", "DAM", "HB_WEST", datetime(2023, 1, 1, tzinfo=UTC), 8760))
    params = {
        "iso": "ERCOT",
        "market": "DAM",
        "locations": "HB_WEST",
        "start": "2023-01-01",
        "end": "2024-01-01",
    }
    fresh_client.get("/v1/lmp", params=params)  # warm DuckDB's metadata cache
    began = time.perf_counter()
    r = fresh_client.get("/v1/lmp", params=params)
    elapsed = time.perf_counter() - began
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 8760
    assert body["data"][-1]["interval_start"] == "2023-12-31T23:00:00+00:00"
    print(f"8,760-row JSON response: {elapsed * 1000:.0f} ms, {len(r.content):,} bytes")
    # Generous for a 2-core CI machine; per-row Python encoding takes several times longer.
    assert elapsed < 1.0
