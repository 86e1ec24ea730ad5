"""PPA and battery positions in stored portfolios, measured through `/v1/risk/...` on stored prices.

A flat, virtual fixed-price PPA bought for June 2024 at a hub is, for
price risk, the same as a 7x24 forward of its capacity there: the test
checks the service gives both the same VaR, and that a battery at a node
is measured (long its evening hours, short its night hours) and attributed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from risk_data import AS_OF, fill

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import open_store

HEADER = "id,book,kind,iso,location,block,start,end,mw,price,contract,technology,side,energy_mwh\n"
PPA = (
    'ppa,Renewables,ppa,ERCOT,HB_NORTH,,2024-06,2024-06,10,,"{""type"": ""fixed"", ""strike"": 45}",flat,,\n'
)
FORWARD = "fwd,Power,forward,ERCOT,HB_NORTH,atc,2024-06,2024-06,10,45,,,,\n"
BATTERY = "bess,Storage,battery,ERCOT,NODE_A,,2024-06,2024-08,25,,,,,100\n"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("risk-engines"), auth=AuthMode.OFF, max_range_days=800
    )
    store = open_store(Path(settings.data_dir))
    fill(store)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        yield client
    store.close()


def _save(api: TestClient, name: str, text: str) -> Any:
    return api.post(
        "/v1/risk/portfolios", params={"name": name}, content=text, headers={"Content-Type": "text/csv"}
    )


def _get(api: TestClient, what: str, **params: Any) -> Any:
    response = api.get(
        f"/v1/risk/{what}", params={"as_of": AS_OF, "window": 100, "confidence": 0.95, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_flat_fixed_price_ppa_has_the_var_of_the_forward_it_amounts_to(api: TestClient) -> None:
    assert _save(api, "Ppa", HEADER + PPA).status_code == 201
    assert _save(api, "Forward", HEADER + FORWARD).status_code == 201
    for method in ("historical", "parametric"):
        ppa = _get(api, "var", portfolio="Ppa", method=method)["data"][0]
        forward = _get(api, "var", portfolio="Forward", method=method)["data"][0]
        assert ppa["var"] > 0
        assert ppa["var"] == pytest.approx(forward["var"], rel=1e-9)
        assert ppa["es"] == pytest.approx(forward["es"], rel=1e-9)


def test_a_battery_is_measured_and_attributed_with_the_rest_of_the_book(api: TestClient) -> None:
    assert _save(api, "WithBattery", HEADER + PPA + FORWARD + BATTERY).status_code == 201
    body = _get(api, "attribution", portfolio="WithBattery", method="historical")
    positions = {r["id"]: r for r in body["data"] if r["level"] == "position"}
    assert set(positions) == {"ppa", "fwd", "bess"}
    assert positions["bess"]["standalone_var"] > 0
    assert sum(r["component_var"] for r in positions.values()) == pytest.approx(body["var"], rel=1e-9)
    assert "ERCOT:NODE_A:onpeak:spot" in body["query"]["factors"]
    # A $10 rise of the node's onpeak price: the battery sells more onpeak than it buys there.
    shock = api.get(
        "/v1/risk/stress",
        params={"as_of": AS_OF, "portfolio": "WithBattery", "shock": "ERCOT:NODE_A:onpeak:+10"},
    ).json()
    by_id = {r["id"]: r["pnl"] for r in shock["data"] if r["level"] == "position"}
    assert by_id["bess"] > 0 and by_id["ppa"] == 0.0


def test_a_bad_ppa_or_battery_line_is_refused_whole_naming_line_and_field(api: TestClient) -> None:
    bad = HEADER + PPA.replace('""strike"": 45', '""strike"": ""x""') + BATTERY.replace(",100\n", ",\n")
    response = _save(api, "Broken", bad)
    assert response.status_code == 422
    message = response.json()["message"]
    assert "line 2, contract" in message and "line 3, energy_mwh" in message
    assert api.get("/v1/risk/portfolios/Broken").status_code == 404
    records = [
        {"id": "ppa", "book": "R", "kind": "ppa", "iso": "ERCOT", "location": "HB_NORTH", "start": "2024-06"}
        | {"end": "2024-06", "mw": 10, "contract": {"type": "fixed", "strike": 45}, "technology": "flat"}
    ]
    saved = api.post("/v1/risk/portfolios", json={"name": "JsonPpa", "positions": records})
    assert saved.status_code == 201, saved.text
    stored = api.get("/v1/risk/portfolios/JsonPpa").json()["csv"]
    assert json.dumps({"type": "fixed", "strike": 45}).replace('"', '""') in stored
