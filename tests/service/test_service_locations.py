"""`/v1/locations`: the catalog, filtered by ISO, name substring and type."""

from __future__ import annotations

import csv
import io

import pyarrow.ipc as ipc
from fastapi.testclient import TestClient


def test_all_locations(client: TestClient) -> None:
    r = client.get("/v1/locations")
    assert r.status_code == 200
    body = r.json()
    assert list(body["data"][0]) == ["iso", "location", "location_type", "source"]
    pairs = [(row["iso"], row["location"]) for row in body["data"]]
    assert pairs == [
        ("ERCOT", "HB_NORTH"),
        ("ERCOT", "SIM_NODE_1"),
        ("PJM", "EASTERN HUB"),
        ("PJM", "PSEG"),
        ("PJM", "WESTERN HUB"),
    ]
    assert body["count"] == 5


def test_filter_by_iso_search_and_type(client: TestClient) -> None:
    pjm = client.get("/v1/locations", params={"iso": "pjm"}).json()
    assert {row["iso"] for row in pjm["data"]} == {"PJM"}
    assert pjm["query"]["iso"] == "PJM"

    hubs = client.get("/v1/locations", params={"iso": "PJM", "search": "hub"}).json()
    assert [row["location"] for row in hubs["data"]] == ["EASTERN HUB", "WESTERN HUB"]

    zones = client.get("/v1/locations", params={"iso": "PJM", "type": "zone"}).json()
    assert [row["location"] for row in zones["data"]] == ["PSEG"]

    nothing = client.get("/v1/locations", params={"search": "no such place"}).json()
    assert nothing == {
        "data": [],
        "count": 0,
        "simulated": False,
        "query": {"iso": None, "search": "no such place", "type": None},
    }


def test_source_marks_simulated_locations(client: TestClient) -> None:
    rows = client.get("/v1/locations", params={"iso": "ERCOT"}).json()["data"]
    assert {row["location"]: row["source"] for row in rows} == {
        "HB_NORTH": "ingested",
        "SIM_NODE_1": "simulated",
    }
    assert {row["location"]: row["location_type"] for row in rows} == {
        "HB_NORTH": "hub",
        "SIM_NODE_1": "node",
    }


def test_csv_and_arrow(client: TestClient) -> None:
    r = client.get("/v1/locations", params={"iso": "PJM", "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["location"] for row in rows] == ["EASTERN HUB", "PSEG", "WESTERN HUB"]

    r = client.get(
        "/v1/locations", params={"iso": "PJM"}, headers={"Accept": "application/vnd.apache.arrow.stream"}
    )
    table = ipc.open_stream(r.content).read_all()
    assert table.column_names == ["iso", "location", "location_type", "source"]
    assert table.num_rows == 3


def test_unknown_iso_and_type(client: TestClient) -> None:
    r = client.get("/v1/locations", params={"iso": "NYSIO"})
    assert r.status_code == 404
    body = r.json()
    assert body["parameter"] == "iso"
    assert "NYISO" in body["suggestions"]

    r = client.get("/v1/locations", params={"type": "substation"})
    assert r.status_code == 422
    assert r.json()["parameter"] == "type"
    assert "type" in r.json()["message"]
