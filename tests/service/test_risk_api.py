"""Risk portfolios and the risk reads (`/v1/risk/...`) against the real service on stored prices.

Prices are random walks of hourly DAM LMPs (seeded) over 2024-01-02 ..
2024-05-20, a span without NERC holidays, so the onpeak and offpeak daily
averages are recomputed here by hand on Central (or Eastern) wall clocks
with `zoneinfo`: onpeak is weekdays, hour-ending 7-22. The expected VaR is
the book's MWh x those averages' daily changes, measured independently of
the service's history and exposure code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient
from risk_data import (
    AS_OF,
    BOOK,
    FIRST,
    JUNE_OFFPEAK_HOURS,
    JUNE_ONPEAK_HOURS,
    LAST,
    MIXED,
    ZONES,
    fill,
    hourly,
)

from carbon254.config import AuthMode, Settings
from carbon254.risk import var_es
from carbon254.schema import TIMESTAMP
from carbon254.service import create_app
from carbon254.store import Store, open_store


def stored(store: Store, iso: str, location: str) -> pa.Table:
    """Every stored DAM row of one location (latest versions)."""
    span = (datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC))
    return store.read("lmp", iso=iso, market="DAM", start=span[0], end=span[1], locations=[location])


def daily_blocks(table: pa.Table, iso: str) -> dict[date, dict[str, float]]:
    """Onpeak and offpeak daily averages ($/MWh) by local day, by a plain loop over the rows."""
    sums: dict[date, dict[str, list[float]]] = {}
    zone = ZONES[iso]
    for start, price in zip(
        table.column("interval_start").to_pylist(), table.column("lmp").to_pylist(), strict=True
    ):
        local = start.astimezone(zone)
        onpeak = local.weekday() < 5 and 6 <= local.hour <= 21
        sums.setdefault(local.date(), {"onpeak": [], "offpeak": []})[
            "onpeak" if onpeak else "offpeak"
        ].append(price)
    return {day: {block: sum(v) / len(v) for block, v in blocks.items() if v} for day, blocks in sums.items()}


@pytest.fixture(scope="module")
def risk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("risk-data")


@pytest.fixture(scope="module")
def risk_store(risk_dir: Path) -> Iterator[Store]:
    s = open_store(risk_dir)
    fill(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def api(risk_dir: Path, risk_store: Store) -> Iterator[TestClient]:
    settings = Settings(data_dir=risk_dir, auth=AuthMode.OFF, max_range_days=800)
    with TestClient(create_app(settings, risk_store), raise_server_exceptions=False) as c:
        yield c


def _save(api: TestClient, name: str, text: str) -> Any:
    return api.post(
        "/v1/risk/portfolios", params={"name": name}, content=text, headers={"Content-Type": "text/csv"}
    )


def _risk(api: TestClient, what: str, **params: Any) -> Any:
    return api.get(f"/v1/risk/{what}", params={"as_of": AS_OF, **params})


# ---- portfolios --------------------------------------------------------------------------------


def test_saving_a_name_again_adds_a_version_and_reads_give_either(api: TestClient) -> None:
    first = _save(api, "Versions", BOOK)
    assert first.status_code == 201, first.text
    assert (first.json()["name"], first.json()["version"], first.json()["positions"]) == ("Versions", 1, 1)
    records = [
        {"id": "n1", "book": "Power", "kind": "forward", "iso": "ERCOT", "location": "HB_NORTH"}
        | {"block": "onpeak", "start": "2024-06", "end": "2024-07", "mw": 5},
        {"id": "l1", "book": "Retail", "kind": "load", "iso": "ERCOT", "location": "HB_NORTH"}
        | {"start": "2024-06", "end": "2024-06", "volume_mwh": 1000},
    ]
    second = api.post("/v1/risk/portfolios", json={"name": "versions", "positions": records})
    assert second.status_code == 201, second.text
    assert (second.json()["name"], second.json()["version"], second.json()["positions"]) == ("Versions", 2, 2)
    listed = {p["name"]: p for p in api.get("/v1/risk/portfolios").json()}
    assert listed["Versions"]["version"] == 2
    latest = api.get("/v1/risk/portfolios/VERSIONS").json()
    assert latest["version"] == 2 and "l1,Retail,load" in latest["csv"]
    assert api.get("/v1/risk/portfolios/versions", params={"version": 1}).json()["csv"] == BOOK
    missing = api.get("/v1/risk/portfolios/versions", params={"version": 3})
    assert missing.status_code == 404 and "version 3" in missing.json()["message"]


def test_a_malformed_file_is_refused_whole_naming_lines_and_fields(api: TestClient) -> None:
    bad = BOOK + "n2,Power,forward,ERCOT,HB_NORTH,,onpeak,2024-13,2024-06,x,1\n"
    response = _save(api, "Broken", bad)
    assert response.status_code == 422
    body = response.json()
    assert body["parameter"] == "positions"
    assert "line 3, start" in body["message"] and "line 3, mw" in body["message"]
    assert "Broken" not in {p["name"] for p in api.get("/v1/risk/portfolios").json()}
    assert api.get("/v1/risk/portfolios/Broken").status_code == 404
    unknown_field = api.post("/v1/risk/portfolios", json={"name": "x", "positions": [{"colour": "red"}]})
    assert unknown_field.status_code == 422 and "colour" in unknown_field.json()["message"]
    assert _save(api, "../etc", BOOK).status_code == 422


# ---- VaR and ES ---------------------------------------------------------------------------------


def test_historical_var_equals_the_quantile_of_hand_computed_daily_changes(
    api: TestClient, risk_store: Store
) -> None:
    assert _save(api, "Offpeak", BOOK).status_code == 201
    window = 100
    response = _risk(api, "var", portfolio="offpeak", method="historical", window=window, confidence=0.95)
    assert response.status_code == 200, response.text
    [row] = response.json()["data"]
    days = daily_blocks(stored(risk_store, "ERCOT", "HB_NORTH"), "ERCOT")
    levels = [days[FIRST + timedelta(days=k)]["offpeak"] for k in range((LAST - FIRST).days + 1)]
    changes = np.diff(levels)[-window:]
    pnl = 10.0 * JUNE_OFFPEAK_HOURS * changes
    expected = var_es(pnl, 0.95)
    assert row["var"] == pytest.approx(expected.var, rel=1e-9)
    assert row["es"] == pytest.approx(expected.es, rel=1e-9)
    # Whatever the interpolation, VaR lies between the two order statistics around the 5% quantile.
    losses = np.sort(-pnl)[::-1]
    assert losses[5] - 1e-6 <= row["var"] <= losses[4] + 1e-6
    assert row["es"] >= row["var"]
    assert (row["method"], row["scenarios"], row["version"], row["as_of"]) == ("historical", window, 1, AS_OF)
    assert response.json()["query"]["factors"] == ["ERCOT:HB_NORTH:offpeak:spot"]


def test_parametric_and_monte_carlo_agree_and_es_is_at_least_var(api: TestClient) -> None:
    assert _save(api, "Mixed", MIXED).status_code == 201
    common = {"portfolio": "Mixed", "window": 120, "confidence": 0.99, "covariance": "sample"}
    parametric = _risk(api, "var", method="parametric", **common).json()["data"][0]
    mc = _risk(api, "es", method="monte_carlo", paths=100_000, seed=3, **common).json()["data"][0]
    again = _risk(api, "es", method="monte_carlo", paths=100_000, seed=3, **common).json()["data"][0]
    assert mc == again
    assert mc["var"] == pytest.approx(parametric["var"], rel=0.03)
    for row in (parametric, mc):
        assert row["es"] >= row["var"] > 0
    ten_day = _risk(api, "var", method="parametric", horizon_days=4, **common).json()["data"][0]
    assert ten_day["var"] == pytest.approx(2.0 * parametric["var"], rel=1e-9)


def test_attribution_components_sum_to_var_by_position_and_book(api: TestClient) -> None:
    assert _save(api, "Attributed", MIXED).status_code == 201
    response = _risk(api, "attribution", portfolio="Attributed", method="historical", window=120)
    assert response.status_code == 200, response.text
    body = response.json()
    rows = body["data"]
    positions = [r for r in rows if r["level"] == "position"]
    books = {r["book"]: r for r in rows if r["level"] == "book"}
    assert {r["id"] for r in positions} == {"n1", "n2", "b1", "w1"}
    assert sum(r["component_var"] for r in positions) == pytest.approx(body["var"], rel=1e-9)
    assert books[""]["standalone_var"] == pytest.approx(body["var"], rel=1e-9)
    ercot = [r for r in positions if r["book"].startswith("Power/ERCOT")]
    assert books["Power/ERCOT"]["component_var"] == pytest.approx(sum(r["component_var"] for r in ercot))
    children = books["Power/ERCOT/Basis"]["standalone_var"] + sum(
        r["standalone_var"] for r in positions if r["book"] == "Power/ERCOT"
    )
    assert books["Power/ERCOT"]["diversification"] == pytest.approx(
        children - books["Power/ERCOT"]["standalone_var"]
    )


def _revision(published: datetime, spike: float) -> pa.Table:
    """EASTERN HUB's prices again with a spike every other day at midnight, published at `published`."""
    table = hourly("PJM", "EASTERN HUB", 4)
    lmp = pa.compute.add(table.column("lmp"), spike * (np.arange(table.num_rows) % 48 == 0))
    for column in ("lmp", "energy"):
        table = table.set_column(table.schema.get_field_index(column), column, lmp)
    when = pa.array([published] * table.num_rows, TIMESTAMP)
    return table.set_column(table.schema.get_field_index("published_at"), "published_at", when)


def test_a_later_revision_does_not_change_yesterdays_var(api: TestClient, risk_store: Store) -> None:
    book = BOOK.replace("n1,Power/ERCOT,forward,ERCOT,HB_NORTH", "e1,Power/PJM,forward,PJM,EASTERN HUB")
    assert _save(api, "Revised", book).status_code == 201
    params = {"portfolio": "Revised", "method": "historical", "window": 100}
    before = _risk(api, "var", **params).json()["data"][0]
    # Published after as_of's day: the store's latest prices change, the VaR as of that day does not.
    risk_store.write("lmp", _revision(datetime(2024, 7, 1, tzinfo=UTC), 300.0))
    assert max(stored(risk_store, "PJM", "EASTERN HUB").column("lmp").to_pylist()) > 250
    assert _risk(api, "var", **params).json()["data"][0] == before
    # Published before the end of as_of's day: it is what was known then, and the VaR moves.
    risk_store.write("lmp", _revision(datetime(2024, 5, 20, 12, tzinfo=UTC), 200.0))
    known = _risk(api, "var", **params).json()["data"][0]
    assert known["var"] != pytest.approx(before["var"])


# ---- stress and backtest -------------------------------------------------------------------------


def test_a_hypothetical_shock_moves_pnl_by_mwh_times_the_move(api: TestClient) -> None:
    assert _save(api, "Stressed", MIXED).status_code == 201
    response = _risk(api, "stress", portfolio="Stressed", shock="ERCOT:HB_NORTH:offpeak:+10")
    assert response.status_code == 200, response.text
    body = response.json()
    by_id = {r["id"]: r["pnl"] for r in body["data"] if r["level"] == "position"}
    offpeak_mwh = 10.0 * JUNE_OFFPEAK_HOURS
    # The basis position is short the hub in every hour: it loses 3 MW x offpeak hours x $10.
    assert by_id == pytest.approx(
        {"n1": offpeak_mwh * 10, "n2": 0.0, "b1": -3.0 * JUNE_OFFPEAK_HOURS * 10, "w1": 0.0}
    )
    assert body["pnl"] == pytest.approx(sum(by_id.values()))
    books = {r["book"]: r["pnl"] for r in body["data"] if r["level"] == "book"}
    assert books["Power/ERCOT/Basis"] == pytest.approx(by_id["b1"])
    onpeak = _risk(api, "stress", portfolio="Stressed", shock="PJM:WESTERN HUB:atc:-5").json()
    assert onpeak["pnl"] == pytest.approx(8.0 * JUNE_ONPEAK_HOURS * -5.0)


def test_a_replayed_event_sums_the_stored_changes_over_its_days(api: TestClient, risk_store: Store) -> None:
    assert _save(api, "Event", BOOK).status_code == 201
    response = _risk(api, "stress", portfolio="Event", event="2024-03-04..2024-03-08")
    assert response.status_code == 200, response.text
    days = daily_blocks(stored(risk_store, "ERCOT", "HB_NORTH"), "ERCOT")
    move = days[date(2024, 3, 8)]["offpeak"] - days[date(2024, 3, 3)]["offpeak"]
    assert response.json()["pnl"] == pytest.approx(10.0 * JUNE_OFFPEAK_HOURS * move)
    uri = _risk(api, "stress", portfolio="Event", event="uri")
    assert uri.status_code == 422 and "ERCOT:HB_NORTH" in uri.json()["message"]


def test_backtest_counts_exceedances_of_the_rolling_var(api: TestClient) -> None:
    assert _save(api, "Backtested", BOOK).status_code == 201
    params = {"portfolio": "Backtested", "window": 40, "days": 60, "confidence": 0.95}
    response = _risk(api, "backtest", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    rows = body["data"]
    assert len(rows) == 60 and rows[-1]["date"] == AS_OF
    hand = sum(1 for r in rows if -r["pnl"] > r["var"])
    assert body["backtest"]["x"] == hand == sum(r["exceedance"] for r in rows)
    assert body["backtest"]["n"] == 60 and body["backtest"]["basel_zone"] in ("green", "yellow", "red")
    chart = _risk(api, "backtest/chart", **params)
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")


# ---- refusals ------------------------------------------------------------------------------------


def test_bad_requests_are_4xx_naming_what_is_wrong(api: TestClient) -> None:
    assert _save(api, "Refusals", BOOK).status_code == 201
    unknown = _risk(api, "var", portfolio="nope")
    assert unknown.status_code == 404 and unknown.json()["parameter"] == "portfolio"
    method = _risk(api, "var", portfolio="Refusals", method="guess")
    assert method.status_code == 422 and method.json()["parameter"] == "method"
    early = _risk(api, "var", portfolio="Refusals", window=100, as_of="2024-02-15")
    assert early.status_code == 422
    assert "ERCOT:HB_NORTH:offpeak:spot" in early.json()["message"]
    assert _risk(api, "var", portfolio="Refusals", confidence=1.5).status_code == 422
    assert _risk(api, "var", portfolio="Refusals", horizon_days=11).status_code == 422
    assert _risk(api, "stress", portfolio="Refusals", shock="ERCOT:HB_NORTH").status_code == 422
    nowhere = BOOK.replace("HB_NORTH", "HB_NOWHERE")
    assert _save(api, "Nowhere", nowhere).status_code == 201
    missing = _risk(api, "var", portfolio="Nowhere")
    assert missing.status_code == 404 and "HB_NOWHERE" in missing.json()["message"]
    delivered = _risk(api, "var", portfolio="Refusals", as_of="2024-07-01")
    assert delivered.status_code == 422


@pytest.fixture(scope="module")
def tenants(risk_dir: Path, risk_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('risk-tenants') / 'metadata.db'}"
    settings = Settings(data_dir=risk_dir, auth=AuthMode.REQUIRED, metadata_url=url, rate_limit_per_s=0)
    keys = {
        "risk": make_tenant_key(settings, "risk-all"),
        "other": make_tenant_key(settings, "risk-other"),
        "curves": make_tenant_key(settings, "risk-curves", features=["curves"]),
    }
    with TestClient(create_app(settings, risk_store), raise_server_exceptions=False) as c:
        yield c, keys


def test_tenants_need_the_risk_feature_and_see_only_their_portfolios(tenants: Any) -> None:
    client, keys = tenants

    def headers(key: str) -> dict[str, str]:
        return {"X-API-Key": keys[key], "Content-Type": "text/csv"}

    saved = client.post("/v1/risk/portfolios", params={"name": "Own"}, content=BOOK, headers=headers("risk"))
    assert saved.status_code == 201
    refused = client.post(
        "/v1/risk/portfolios", params={"name": "Own"}, content=BOOK, headers=headers("curves")
    )
    assert refused.status_code == 403
    var = {"portfolio": "Own", "as_of": AS_OF, "window": 100}
    assert client.get("/v1/risk/var", params=var, headers=headers("risk")).status_code == 200
    assert client.get("/v1/risk/var", params=var, headers=headers("curves")).status_code == 403
    assert client.get("/v1/risk/var", params=var, headers=headers("other")).status_code == 404
    assert client.get("/v1/risk/portfolios", headers=headers("other")).json() == []
    assert client.get("/v1/risk/var", params=var).status_code == 401
