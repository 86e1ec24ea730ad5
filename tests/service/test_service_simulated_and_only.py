"""Every JSON answer says whether it holds simulated data; a process run with --only says what it serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from datasets_setup import as_price_table, capacity_table, load_table, ordc_table
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import Source, Store, open_store
from conftest import make_lmp_table

WINDOW = {"start": "2024-03-01", "end": "2024-03-03"}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Store]]:
    """ERCOT data from the simulator; PJM capacity prices and LMPs as if ingested."""
    directory = tmp_path_factory.mktemp("mixed")
    store = open_store(directory)
    store.write("as_price", as_price_table(), source=Source.SIMULATED)
    store.write("ordc_adder", ordc_table(), source=Source.SIMULATED)
    store.write("load", load_table(), source=Source.SIMULATED)
    store.write("capacity_price", capacity_table())
    store.write("lmp", make_lmp_table("PJM", "DAM", "WESTERN HUB"))
    yield directory, store
    store.close()


@pytest.fixture(scope="module")
def api(mixed: tuple[Path, Store]) -> Iterator[TestClient]:
    directory, store = mixed
    with TestClient(create_app(Settings(data_dir=directory, auth=AuthMode.OFF), store)) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "params", "simulated"),
    [
        ("/v1/as_price", {"iso": "ERCOT", "market": "DAM", **WINDOW}, True),
        ("/v1/ordc_adder", WINDOW, True),
        ("/v1/load", {"iso": "ERCOT", **WINDOW}, True),
        ("/v1/capacity_price", {"iso": "PJM", "start": "2024-01-01", "end": "2025-01-01"}, False),
        ("/v1/lmp", {"iso": "PJM", "market": "DAM", **WINDOW}, False),
        # Empty answers say so too.
        ("/v1/load", {"iso": "ERCOT", "start": "2020-01-01", "end": "2020-01-02"}, False),
        ("/v1/lmp", {"iso": "PJM", "market": "DAM", "start": "2020-01-01", "end": "2020-01-02"}, False),
    ],
)
def test_every_json_answer_says_whether_it_is_simulated(
    api: TestClient, path: str, params: dict[str, str], simulated: bool
) -> None:
    answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["simulated"] is simulated
    assert answer.headers["x-carbon254-simulated"] == str(simulated).lower()


def test_the_location_catalog_says_it_too(api: TestClient, mixed: tuple[Path, Store]) -> None:
    assert api.get("/v1/locations").json()["simulated"] is False
    _, store = mixed
    store.write("lmp", make_lmp_table("ERCOT", "DAM", "HB_NORTH"), source=Source.SIMULATED)
    assert api.get("/v1/locations").json()["simulated"] is True
    assert api.get("/v1/locations", params={"iso": "PJM"}).json()["simulated"] is False
    assert api.get("/v1/locations", params={"iso": "NYISO"}).json() == {
        "data": [],
        "count": 0,
        "simulated": False,
        "query": {"iso": "NYISO", "search": None, "type": None},
    }


def test_a_process_serving_some_domains_names_what_it_serves(mixed: tuple[Path, Store]) -> None:
    directory, store = mixed
    settings = Settings(data_dir=directory, auth=AuthMode.OFF, only=["graphql"])
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        answer = client.get("/v1/lmp", params={"iso": "PJM", "market": "DAM", **WINDOW})
        assert answer.status_code == 404
        body = answer.json()
        assert body["code"] == "not_served"
        assert "'data' domain" in body["message"] and "/graphql" in body["message"]
        assert "--only graphql" in body["message"]
        assert client.get("/v1/spreads").json()["code"] == "not_served"
        assert client.get("/excel/manifest.xml").json()["message"].startswith("'/excel/manifest.xml' belongs")
        assert client.post("/graphql", json={"query": "{ __typename }"}).json() == {
            "data": {"__typename": "Query"}
        }
