"""The battery surfaces of the service: `POST /v1/battery/optimize`, the generated `GET /v1/battery/revenue`
and `/dispatch`, `GET /v1/battery/chart` and GraphQL `batteryOptimize`, on a month of simulated prices.

Each answers the same run as the application layer; a bad parameter is a 422
naming it and a price gap a 422 naming its first missing interval (never a
500); tenants see only what they are entitled to (ISO, dataset, feature).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import Store, open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "application"))
from battery_data import GAP_FROM, GAP_NODE, HUB, fill_battery_store

RUN: dict[str, Any] = {
    "iso": "ERCOT",
    "location": HUB,
    "start": "2024-01-01",
    "end": "2024-01-08",
    "power_mw": 100,
    "energy_mwh": 400,
}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("battery-api")


@pytest.fixture(scope="module")
def battery_store(data_dir: Path) -> Iterator[Store]:
    s = open_store(data_dir)
    fill_battery_store(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def api(data_dir: Path, battery_store: Store) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_dir, auth=AuthMode.OFF)
    with TestClient(create_app(settings, battery_store), raise_server_exceptions=False) as c:
        yield c


def test_optimize_answers_the_summary_the_monthly_stack_and_the_parts_asked_for(api: TestClient) -> None:
    response = api.post("/v1/battery/optimize", json={**RUN, "include": "dispatch,health", "years": 12})
    assert response.status_code == 200, response.text
    doc = response.json()
    summary = doc["summary"]
    assert doc["simulated"] is True and doc["query"]["iso"] == "ERCOT" and doc["query"]["market"] == "DAM"
    assert summary["net_revenue"] == pytest.approx(sum(summary["revenue_by_stream"].values()))
    assert summary["reserve_revenue"] > 0 and "REGUP" in summary["revenue_by_stream"]
    assert [row["month"] for row in doc["stack"]] == ["2024-01", "total"]
    assert doc["stack"][-1]["net_revenue"] == pytest.approx(summary["net_revenue"])
    assert len(doc["dispatch"]) == 7 * 24 and doc["dispatch"][0]["interval_start"].endswith("-06:00")
    assert {"REGUP_mw", "REGUP_price", "energy_price", "soc_mwh"} <= set(doc["dispatch"][0])
    assert [h["year"] for h in doc["health"]] == list(range(1, 13))
    # The same run through the generated read: the one row of totals.
    revenue = api.get("/v1/battery/revenue", params=RUN).json()
    assert revenue["data"][0]["net_revenue"] == pytest.approx(summary["net_revenue"], rel=1e-9)


def test_without_include_the_dispatch_and_health_are_null(api: TestClient) -> None:
    doc = api.post("/v1/battery/optimize", json={**RUN, "services": "none"}).json()
    assert doc["dispatch"] is None and doc["health"] is None and doc["end_of_life_year"] is None
    assert doc["summary"]["services"] == [] and doc["summary"]["reserve_revenue"] == 0


def test_dispatch_rows_come_in_every_format(api: TestClient) -> None:
    rows = api.get("/v1/battery/dispatch", params={**RUN, "format": "json"}).json()
    assert rows["count"] == 7 * 24 and rows["unit"] == "MW"
    first = rows["data"][0]
    assert first["net_mw"] == pytest.approx(first["discharge_mw"] - first["charge_mw"])
    csv = api.get("/v1/battery/dispatch", params={**RUN, "format": "csv"})
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith(
        "interval_start,interval_end,charge_mw"
    )
    assert len(csv.text.splitlines()) == 7 * 24 + 1


def test_the_chart_is_a_png_of_the_run(api: TestClient) -> None:
    response = api.get(
        "/v1/battery/chart", params={**RUN, "chart_start": "2024-01-03", "chart_end": "2024-01-05"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png" and response.content.startswith(PNG)
    empty = api.get("/v1/battery/chart", params={**RUN, "chart_start": "2024-03-01"})
    assert empty.status_code == 422 and empty.json()["parameter"] == "chart_start"


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({**RUN, "power_mw": 0}, "power_mw"),
        ({**RUN, "round_trip_efficiency": 2}, "round_trip_efficiency"),
        ({**RUN, "energy_mwh": "lots"}, "energy_mwh"),
        ({**RUN, "include": "everything"}, "include"),
        ({**RUN, "years": 0}, "years"),
        ({**RUN, "services": "REGUP,SPINNING"}, "services"),
        ({**RUN, "unknown": 1}, "unknown"),
        ({k: v for k, v in RUN.items() if k != "start"}, "start"),
        ({**RUN, "start": "2024-13-01"}, "start"),
    ],
)
def test_a_bad_request_names_its_parameter_never_500(
    api: TestClient, body: dict[str, Any], parameter: str
) -> None:
    response = api.post("/v1/battery/optimize", json=body)
    assert response.status_code in (404, 422), response.text
    assert response.json()["parameter"] == parameter


def test_a_body_that_is_not_a_json_object_is_refused(api: TestClient) -> None:
    for content in (b"{", b"[1, 2]"):
        response = api.post(
            "/v1/battery/optimize", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422 and response.json()["parameter"] == "body"


def test_a_price_gap_is_a_422_naming_the_first_missing_interval(api: TestClient) -> None:
    body = {**RUN, "location": GAP_NODE, "services": "none", "end": "2024-01-20"}
    response = api.post("/v1/battery/optimize", json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "price_gap" and GAP_FROM.strftime("%Y-%m-%dT%H:%MZ") in error["message"]
    assert api.get("/v1/battery/revenue", params=body).json()["code"] == "price_gap"


OPTIMIZE = """
query Run($location: String!, $services: String!, $end: String! = "2024-01-08") {
  batteryOptimize(iso: "ERCOT", location: $location, start: "2024-01-01", end: $end,
                  powerMw: 100, energyMwh: 400, services: $services) {
    simulated
    query { iso location market }
    summary { netRevenue reserveRevenue services revenueByStream { stream revenue } }
    stack { month netRevenue revenue { stream revenue } }
    dispatch { intervalStart socMwh reserves { product mw price } }
  }
}
"""


def test_graphql_battery_optimize_is_the_rest_run(api: TestClient) -> None:
    response = api.post(
        "/graphql", json={"query": OPTIMIZE, "variables": {"location": HUB, "services": "all"}}
    )
    assert response.status_code == 200, response.text
    run = response.json()["data"]["batteryOptimize"]
    rest = api.post("/v1/battery/optimize", json=RUN).json()
    assert run["summary"]["netRevenue"] == pytest.approx(rest["summary"]["net_revenue"], rel=1e-9)
    streams = {s["stream"]: s["revenue"] for s in run["summary"]["revenueByStream"]}
    assert streams == pytest.approx(rest["summary"]["revenue_by_stream"])
    assert [m["month"] for m in run["stack"]] == ["2024-01", "total"]
    # Selecting the dispatch computes it: one row per hour, an award per product co-optimized.
    assert len(run["dispatch"]) == 7 * 24
    assert {a["product"] for a in run["dispatch"][0]["reserves"]} == set(run["summary"]["services"])


def test_graphql_refusals_name_the_argument(api: TestClient) -> None:
    response = api.post(
        "/graphql",
        json={
            "query": OPTIMIZE,
            "variables": {"location": GAP_NODE, "services": "none", "end": "2024-01-20"},
        },
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "PRICE_GAP"
    bad = OPTIMIZE.replace("powerMw: 100", "powerMw: -1")
    response = api.post("/graphql", json={"query": bad, "variables": {"location": HUB, "services": "all"}})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_PARAMETER" and "powerMw" in error["message"]


@pytest.fixture(scope="module")
def tenants(data_dir: Path, battery_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('battery-tenants') / 'metadata.db'}"
    settings = Settings(data_dir=data_dir, auth=AuthMode.REQUIRED, metadata_url=url, rate_limit_per_s=0)
    keys = {
        "all": make_tenant_key(settings, "battery-all"),
        "pjm": make_tenant_key(settings, "battery-pjm", isos=["PJM"]),
        "lmp": make_tenant_key(settings, "battery-lmp", datasets=["lmp"]),
        "curves": make_tenant_key(settings, "battery-curves", features=["curves"]),
    }
    with TestClient(create_app(settings, battery_store), raise_server_exceptions=False) as c:
        yield c, keys


def test_tenants_run_batteries_only_within_their_entitlements(tenants: Any) -> None:
    client, keys = tenants

    def post(key: str, **extra: Any) -> Any:
        return client.post("/v1/battery/optimize", json={**RUN, **extra}, headers={"X-API-Key": keys[key]})

    assert post("all").status_code == 200
    assert post("pjm").status_code == 403
    assert post("curves").status_code == 403
    refused = post("lmp")
    assert refused.status_code == 403 and "as_price" in refused.json()["message"]
    assert post("lmp", services="none").status_code == 200
    assert client.post("/v1/battery/optimize", json=RUN).status_code == 401
    chart = client.get("/v1/battery/chart", params=RUN, headers={"X-API-Key": keys["pjm"]})
    assert chart.status_code == 403
    graphql = client.post(
        "/graphql",
        json={"query": OPTIMIZE, "variables": {"location": HUB, "services": "all"}},
        headers={"X-API-Key": keys["curves"]},
    )
    assert graphql.json()["errors"][0]["extensions"]["code"] == "NOT_ENTITLED"


def test_graphql_generated_revenue_and_dispatch_fields(api: TestClient) -> None:
    query = """
    {
      batteryRevenue(iso: "ERCOT", location: "HB_NORTH", start: "2024-01-01", end: "2024-01-08",
                     powerMw: 100, energyMwh: 400, dispatch: "perfect") { rows { netRevenue cycles } unit }
      batteryDispatch(iso: "ERCOT", location: "HB_NORTH", start: "2024-01-01", end: "2024-01-08",
                      powerMw: 100, energyMwh: 400) { rows { intervalStart socMwh } unit }
    }
    """
    response = api.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    rest = api.get("/v1/battery/revenue", params=RUN).json()["data"][0]
    [row] = data["batteryRevenue"]["rows"]
    assert (
        row["netRevenue"] == pytest.approx(rest["net_revenue"], rel=1e-9)
        and data["batteryRevenue"]["unit"] == "$"
    )
    assert len(data["batteryDispatch"]["rows"]) == 7 * 24
