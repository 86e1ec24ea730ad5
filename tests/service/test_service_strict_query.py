"""Query strings are taken literally: unknown, inapplicable and repeated parameters are 422s with a hint."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

LMP = {"iso": "PJM", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02"}


def test_a_misspelled_parameter_is_named_with_a_suggestion(client: TestClient) -> None:
    answer = client.get("/v1/lmp", params={**LMP, "locaton": "WESTERN HUB"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "unknown_parameter"
    assert body["parameter"] == "locaton"
    assert body["suggestions"] == ["locations"]
    assert "did you mean 'locations'" in body["message"]


def test_a_repeated_parameter_is_refused_rather_than_one_copy_used(client: TestClient) -> None:
    answer = client.get("/v1/lmp?iso=ERCOT&iso=PJM&market=DAM&start=2024-03-01&end=2024-03-02")
    assert answer.status_code == 422
    assert answer.json()["code"] == "repeated_parameter"
    assert answer.json()["parameter"] == "iso"


def test_a_parameter_of_another_endpoint_does_not_apply(client: TestClient) -> None:
    answer = client.get(
        "/v1/capacity_price",
        params={"iso": "PJM", "start": "2024-01-01", "end": "2025-01-01", "resample": "daily"},
    )
    assert answer.status_code == 422
    assert answer.json()["parameter"] == "resample"
    assert "does not apply to /v1/capacity_price" in answer.json()["message"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/locations", {"iso": "PJM", "serch": "hub"}),
        ("/v1/quality", {"start": "2024-03-01", "end": "2024-03-02", "markt": "DAM"}),
        ("/v1/ordc_adder", {"start": "2024-03-01", "end": "2024-03-02", "resampel": "hourly"}),
        ("/v1/spreads", {**LMP, "location": "PSEG", "minus": "WESTERN HUB", "minnus_market": "RTH"}),
    ],
)
def test_every_data_route_is_strict(client: TestClient, path: str, params: dict[str, str]) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "unknown_parameter"
    assert answer.json()["suggestions"]


def test_credentials_in_the_query_string_are_refused_with_where_to_send_them(client: TestClient) -> None:
    answer = client.get("/v1/lmp", params={**LMP, "api_key": "c254_secret"})
    assert answer.status_code == 422
    assert "X-API-Key" in answer.json()["message"]
    assert "c254_secret" not in answer.text


def test_an_overlong_name_is_not_echoed_whole(client: TestClient) -> None:
    name = "x" * 5000
    answer = client.get("/v1/lmp", params={**LMP, name: "1"})
    assert answer.status_code == 422
    assert len(answer.text) < 1000


def test_a_refused_request_is_refused_again_not_remembered(client: TestClient) -> None:
    # The remembered fast path skips parsing for a query string seen before; a refused one is never
    # remembered, so the second identical request is checked (and refused) again.
    for _ in range(2):
        assert client.get("/v1/lmp", params={**LMP, "locaton": "PSEG"}).status_code == 422
    good = {**LMP, "locations": "PSEG"}
    assert client.get("/v1/lmp", params=good).status_code == 200
    assert client.get("/v1/lmp", params=good).status_code == 200
