"""The PPA surfaces (`POST /v1/ppa/value`, `GET /v1/ppa/...`, GraphQL, the job) on a marked hub.

The hub is marked for 2027 (a year of monthly onpeak/offpeak quotes) with
nine weeks of stored day-ahead history before the mark, so its HPFC is
shaped. Expected settlements are recomputed here from the HPFC the
service answers (`GET /v1/curves/hpfc`, itself tested to average to the
mark), hour by hour for a flat plant, not taken from the valuation.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from carbon254.config import Settings
from carbon254.service import create_app
from carbon254.store import Store

AS_OF = "2026-12-04"
HUB = "HB_WEST"
MONTHS = [f"2027-{m:02d}" for m in range(1, 13)]
# A year of months, onpeak dearer than offpeak, summer dearest (an ERCOT-like strip).
QUOTES = [
    {"start": f"{m}-01", "end": f"{MONTHS[i + 1]}-01" if i < 11 else "2028-01-01", "block": block, "price": p}
    for i, m in enumerate(MONTHS)
    for block, p in (("onpeak", 45.0 + 25.0 * (i in (6, 7)) + i), ("offpeak", 28.0 + 8.0 * (i in (6, 7))))
]
FLAT = {
    "hub": HUB,
    "iso": "ERCOT",
    "technology": "flat",
    "capacity_mw": 10.0,
    "start": "2027-01",
    "term_years": 1,
}


@pytest.fixture(scope="module")
def app(settings: Settings, store: Store, make_lmp: Callable[..., pa.Table]) -> Iterator[TestClient]:
    start = datetime(2026, 10, 1, 5, tzinfo=UTC)
    store.write("lmp", make_lmp("ERCOT", "DAM", HUB, start, 64 * 24, published_at=start))
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        marked = client.post(
            "/v1/curves", json={"iso": "ERCOT", "hub": HUB, "as_of": AS_OF, "quotes": QUOTES}
        )
        assert marked.status_code == 201, marked.text
        yield client


@pytest.fixture(scope="module")
def hpfc(app: TestClient) -> list[float]:
    response = app.get(
        "/v1/curves/hpfc", params={"hub": HUB, "iso": "ERCOT", "start": "2027-01", "end": "2028-01"}
    )
    assert response.status_code == 200, response.text
    return [row["price"] for row in response.json()["data"]]


def _value(app: TestClient, **fields: Any) -> dict[str, Any]:
    response = app.post("/v1/ppa/value", json={**FLAT, **fields})
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def test_a_fixed_price_on_a_flat_block_settles_mw_times_price_minus_strike(
    app: TestClient, hpfc: list[float]
) -> None:
    document = _value(app, contract="fixed", strike=40.0, discount_rate=0.0)
    expected = sum(10.0 * (p - 40.0) for p in hpfc)
    summary = document["summary"]
    assert summary["settlement"] == pytest.approx(expected, rel=1e-9)
    assert summary["npv"] == pytest.approx(expected, rel=1e-9)  # undiscounted
    assert summary["volume_mwh"] == pytest.approx(10.0 * len(hpfc))
    # A flat block captures the time-weighted price exactly; the breakeven is that price.
    assert summary["capture_price"] == pytest.approx(sum(hpfc) / len(hpfc), rel=1e-9)
    assert summary["capture_rate"] == pytest.approx(1.0)
    assert summary["breakeven"] == pytest.approx(sum(hpfc) / len(hpfc), rel=1e-9)
    assert [row["year"] for row in document["annual"]] == [2027]
    assert document["query"]["settlement_point"] == HUB and document["query"]["extrapolated_from"] is None
    # The waterfall ends at the contract's value.
    assert document["waterfall"][-1]["cumulative"] == pytest.approx(summary["npv"], rel=1e-9, abs=1e-6)


def test_the_breakeven_strike_is_worth_nothing_at_any_discount_rate(app: TestClient) -> None:
    params = {**FLAT, "technology": "solar", "discount_rate": 0.09, "term_years": 3}
    breakeven = app.get("/v1/ppa/breakeven", params=params)
    assert breakeven.status_code == 200, breakeven.text
    strike = breakeven.json()["data"][0]["breakeven"]
    npv = app.get("/v1/ppa/npv", params={**params, "strike": strike})
    assert npv.status_code == 200, npv.text
    row = npv.json()["data"][0]
    assert abs(row["npv"]) < 1e-6 * abs(row["settlement"] or 1.0) + 1e-3


def test_a_collar_around_every_price_settles_nothing(app: TestClient, hpfc: list[float]) -> None:
    summary = _value(app, contract="collar", floor=min(hpfc) - 1, cap=max(hpfc) + 1)["summary"]
    assert summary["settlement"] == pytest.approx(0.0, abs=1e-9)
    below = _value(app, contract="collar", floor=max(hpfc) + 5, cap=max(hpfc) + 10, discount_rate=0.0)
    # Every price under the floor: the buyer pays floor - price on every MWh.
    assert below["summary"]["settlement"] == pytest.approx(
        -sum(10.0 * (max(hpfc) + 5 - p) for p in hpfc), rel=1e-9
    )


def test_cashflows_add_up_to_the_settlement(app: TestClient) -> None:
    params = {**FLAT, "strike": 38.0, "discount_rate": 0.07, "tz": "iso"}
    rows = app.get("/v1/ppa/cashflows", params=params).json()["data"]
    assert [r["month"] for r in rows] == MONTHS
    row = app.get("/v1/ppa/npv", params=params).json()["data"][0]
    assert sum(r["settlement"] for r in rows) == pytest.approx(row["settlement"], rel=1e-9)
    assert sum(r["discounted"] for r in rows) == pytest.approx(row["npv"], rel=1e-6)


def test_a_term_past_the_mark_repeats_its_last_year_escalated(app: TestClient) -> None:
    document = _value(
        app, contract="fixed", strike=40.0, term_years=3, curve_escalation=0.02, discount_rate=0.0
    )
    assert document["query"]["extrapolated_from"] == "2028-01"
    years = {row["year"]: row for row in document["annual"]}
    assert sorted(years) == [2027, 2028, 2029]
    # A flat 10 MW: each year's capture price is its time-weighted price, 2% up on the year before.
    assert years[2029]["capture_price"] == pytest.approx(years[2028]["capture_price"] * 1.02, rel=2e-3)


def test_solar_volume_and_monte_carlo_spread(app: TestClient) -> None:
    fields = {"technology": "solar", "capacity_mw": 200.0, "contract": "fixed", "strike": 35.0, "paths": 200}
    first = _value(app, **fields, seed=3)
    again = _value(app, **fields, seed=3)
    summary = first["summary"]
    hours = 8760
    # A 200 MW single-axis plant in West Texas: a capacity factor of roughly a quarter.
    assert 0.15 < summary["volume_mwh"] / (200.0 * hours) < 0.4
    assert summary["npv_p5"] < summary["npv_p50"] < summary["npv_p95"]
    assert summary["npv_p90_volume"] != summary["npv"]
    assert first["distribution"]["paths"] == 200
    assert sum(b["paths"] for b in first["distribution"]["histogram"]) == 200
    assert again["summary"]["npv_p50"] == summary["npv_p50"]  # seeded
    assert {r["risk"] for r in first["risks"]} >= {"price", "volume"}


def test_graphql_answers_what_rest_answers(app: TestClient) -> None:
    query = """{ ppaValue(hub: "HB_WEST", iso: "ERCOT", technology: "flat", capacityMw: 10, start: "2027-01",
      termYears: 1, strike: 41.5) { summary { npv breakeven settlementPoint } annual { year settlement }
      waterfall { step value cumulative } } }"""
    response = app.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    answer = response.json()["data"]["ppaValue"]
    rest = _value(app, contract="fixed", strike=41.5)["summary"]
    assert answer["summary"]["npv"] == pytest.approx(rest["npv"], rel=1e-12)
    assert answer["summary"]["settlementPoint"] == HUB
    bad = app.post("/graphql", json={"query": query.replace("termYears: 1", "termYears: 40")}).json()
    assert bad["errors"][0]["extensions"]["parameter"] == "termYears"


def test_the_chart_is_a_png_of_the_distribution(app: TestClient) -> None:
    response = app.get("/v1/ppa/chart", params={**FLAT, "strike": 40.0, "paths": 200})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("fields", "parameter"),
    [
        ({"contract": "collar", "floor": 50.0, "cap": 30.0}, "cap"),
        ({"contract": "fixed"}, "strike"),
        ({"contract": "swap", "strike": 1.0}, "contract"),
        ({"strike": 40.0, "term_years": 0}, "term_years"),
        ({"strike": 40.0, "term_years": -3}, "term_years"),
        ({"strike": 40.0, "paths": 5_000}, "paths"),
        ({"strike": 40.0, "side": "middleman"}, "side"),
        ({"strike": 40.0, "capacity_mw": -5.0}, "capacity_mw"),
        ({"strike": 40.0, "start": "2020-01"}, "start"),
    ],
)
def test_bad_requests_are_422_naming_the_field(
    app: TestClient, fields: dict[str, Any], parameter: str
) -> None:
    response = app.post("/v1/ppa/value", json={**FLAT, **fields})
    assert response.status_code == 422, response.text
    assert response.json()["parameter"] == parameter, response.json()


def test_an_unmarked_hub_is_404(app: TestClient) -> None:
    response = app.post("/v1/ppa/value", json={**FLAT, "hub": "HB_NOWHERE", "strike": 40.0})
    assert response.status_code == 404, response.text


def _wait(app: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        job: dict[str, Any] = app.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.1)


def test_many_paths_run_as_the_ppa_simulate_job(app: TestClient) -> None:
    request = {**FLAT, "contract": "fixed", "strike": 30.0, "paths": 700, "seed": 5}
    refused = app.post("/v1/ppa/value", json={**request, "paths": 5_000})
    assert "ppa_simulate" in refused.json()["message"]
    job = _wait(app, app.post("/v1/jobs", json={"kind": "ppa_simulate", "request": request}).json()["id"])
    assert job["status"] == "succeeded", job
    summary = job["result"]["summary"]
    table = pq.read_table(
        io.BytesIO(app.get(job["result"]["download_url"].removeprefix("http://testserver")).content)
    )
    assert table.column("path").to_pylist() == list(range(700))
    npv = table.column("npv").to_numpy()
    assert summary["paths"] == 700 and summary["mean_npv"] == pytest.approx(float(npv.mean()))
    p = summary["percentiles"]
    assert p["p5"] < p["p50"] < p["p95"]
    # The mean over paths sits near the NPV on the curve (the paths are centred on it).
    on_curve = _value(app, contract="fixed", strike=30.0)["summary"]["npv"]
    assert summary["mean_npv"] == pytest.approx(on_curve, rel=0.1)
    again = _wait(app, app.post("/v1/jobs", json={"kind": "ppa_simulate", "request": request}).json()["id"])
    assert again["result"]["summary"]["percentiles"] == p  # seeded, batch by batch


def test_the_strike_sensitivity_moves_npv_by_volume_times_the_strike_step(
    app: TestClient, hpfc: list[float]
) -> None:
    params = {**FLAT, "discount_rate": 0.0, "axis": "strike", "values": "30,35,40"}
    response = app.get("/v1/ppa/sensitivity", params=params)
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert [r["value"] for r in rows] == [30.0, 35.0, 40.0]
    for row in rows:
        assert row["npv"] == pytest.approx(sum(10.0 * (p - row["value"]) for p in hpfc), rel=1e-9)
    # Volatility runs paths: its spread widens as volatility grows.
    vol = app.get(
        "/v1/ppa/sensitivity", params={**params, "strike": 40.0, "axis": "volatility", "values": "1,6"}
    )
    assert vol.status_code == 200, vol.text
    low, high = vol.json()["data"]
    assert high["npv_p90"] - high["npv_p10"] > low["npv_p90"] - low["npv_p10"] > 0
    bad = app.get("/v1/ppa/sensitivity", params={**params, "axis": "weather"})
    assert bad.status_code == 422 and bad.json()["parameter"] == "axis"
