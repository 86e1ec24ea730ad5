"""`GET /v1/spreads` and GraphQL `spreads`: basis and DA-RT against what pandas computes from `/v1/lmp`.

The operation is declared once (`application.operations.spreads`); these tests
hold its REST and GraphQL surfaces to the contract: rows, components,
resampling with coverage, statistics, formats, ETag and cache, entitlements
and errors that name the caller's own parameters.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from datasets_setup import CountingStore, KeyAuthenticator
from fastapi.testclient import TestClient

from carbon254.application.identity import Entitlements
from carbon254.config import AuthMode, Settings
from carbon254.schema import TIMESTAMP
from carbon254.service import create_app
from carbon254.store import Source, open_store
from conftest import make_lmp_table

START = datetime(2024, 3, 4, 5, tzinfo=UTC)  # Monday 00:00 in New York
DAYS = 3
BASIS = {"iso": "PJM", "market": "DAM", "location": "NODE_A", "minus": "WESTERN HUB"}
WINDOW = {"start": "2024-03-04", "end": "2024-03-07", "tz": "iso"}


def _rt5(location: str, seed: int) -> pa.Table:
    """Five-minute real-time LMPs with noisy components around the day-ahead shape."""
    rng = np.random.default_rng(seed)
    n = DAYS * 288
    starts = np.datetime64(START.replace(tzinfo=None), "us") + np.arange(n) * np.timedelta64(300, "s")
    energy = 25.0 + 10 * np.sin(np.arange(n) / 288 * 2 * np.pi) + rng.normal(0, 4, n).round(2)
    congestion = rng.normal(0, 2, n).round(2)
    loss = np.full(n, 0.3)
    return pa.table(
        {
            "iso": ["PJM"] * n,
            "market": ["RT5"] * n,
            "location": [location] * n,
            "location_type": ["hub"] * n,
            "interval_start": pa.array(starts).cast(TIMESTAMP),
            "interval_end": pa.array(starts + np.timedelta64(300, "s")).cast(TIMESTAMP),
            "lmp": (energy + congestion + loss).round(2),
            "energy": energy,
            "congestion": congestion,
            "loss": loss,
        }
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spreads")


@pytest.fixture(scope="module")
def spread_store(data_dir: Path) -> Iterator[CountingStore]:
    store = open_store(data_dir)
    hours = DAYS * 24
    store.write("lmp", make_lmp_table("PJM", "DAM", "WESTERN HUB", START, hours))
    store.write(
        "lmp",
        make_lmp_table(
            "PJM", "DAM", "NODE_A", START, hours, location_type="node", congestion=4.0, offset=-1.0
        ),
        source=Source.SIMULATED,
    )
    store.write("lmp", _rt5("WESTERN HUB", 1))
    store.write("lmp", make_lmp_table("ERCOT", "DAM", "HB_NORTH", START, hours))
    store.write("lmp", make_lmp_table("ERCOT", "DAM", "HB_WEST", START, hours, congestion=-3.0))
    yield CountingStore(store)
    store.close()


@pytest.fixture(scope="module")
def api(data_dir: Path, spread_store: CountingStore) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_dir, auth=AuthMode.OFF, json_page_rows=100)
    with TestClient(create_app(settings, spread_store), raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        yield client


def _lmp_frame(api: TestClient, **params: str) -> pd.DataFrame:
    answer = api.get("/v1/lmp", params={**params, "format": "arrow"})
    assert answer.status_code == 200, answer.text
    return ipc.open_stream(answer.content).read_all().to_pandas()


def _spreads(api: TestClient, **params: str) -> tuple[pd.DataFrame, dict[str, object]]:
    answer = api.get("/v1/spreads", params={**params, "format": "arrow"})
    assert answer.status_code == 200, answer.text
    table = ipc.open_stream(answer.content).read_all()
    return table.to_pandas(), orjson.loads(table.schema.metadata[b"carbon254"])


def test_basis_is_node_minus_hub_per_interval_with_components(api: TestClient) -> None:
    spread, head = _spreads(api, **BASIS, **WINDOW)
    both = _lmp_frame(api, iso="PJM", market="DAM", locations="NODE_A,WESTERN HUB", **WINDOW)
    node = both[both.location == "NODE_A"].set_index("interval_start")
    hub = both[both.location == "WESTERN HUB"].set_index("interval_start")
    expected = (
        node[["lmp", "energy", "congestion", "loss"]] - hub[["lmp", "energy", "congestion", "loss"]]
    ).round(6)
    assert list(spread.columns) == [
        "interval_start",
        "interval_end",
        "iso",
        "location",
        "minus",
        "spread",
        "energy_spread",
        "congestion_spread",
        "loss_spread",
        "location_lmp",
        "minus_lmp",
    ]
    assert len(spread) == DAYS * 24
    got = spread.set_index("interval_start")
    assert (got["spread"] == expected["lmp"]).all()
    assert (got["congestion_spread"] == expected["congestion"]).all()
    assert (got["energy_spread"] == expected["energy"]).all()
    assert (got["location_lmp"] == node["lmp"]).all() and (got["minus_lmp"] == hub["lmp"]).all()
    assert set(spread["location"]) == {"NODE_A"} and set(spread["minus"]) == {"WESTERN HUB"}
    assert str(spread["interval_start"].dt.tz) == "America/New_York"
    assert head["simulated"] is True  # NODE_A comes from the simulator
    assert head["unit"] == "$/MWh"
    assert head["query"]["location"] == "NODE_A" and head["query"]["minus"] == "WESTERN HUB"


def test_day_ahead_minus_real_time_averages_rt5_onto_the_hours(api: TestClient) -> None:
    spread, _ = _spreads(
        api,
        iso="PJM",
        market="DAM",
        location="western hub",
        minus="western hub",
        minus_market="RT5",
        **WINDOW,
    )
    da = _lmp_frame(api, iso="PJM", market="DAM", locations="WESTERN HUB", **WINDOW).set_index(
        "interval_start"
    )
    rt = _lmp_frame(api, iso="PJM", market="RT5", locations="WESTERN HUB", **WINDOW)
    rt_hourly = rt.set_index("interval_start")["lmp"].resample("1h").mean()
    expected = (da["lmp"] - rt_hourly).dropna().round(6)
    assert len(spread) == DAYS * 24
    got = spread.set_index("interval_start")["spread"]
    assert np.allclose(got.to_numpy(), expected.loc[got.index].to_numpy(), atol=1e-6)
    assert (spread.interval_end - spread.interval_start == pd.Timedelta(hours=1)).all()


def test_resampled_by_block_with_coverage_and_intervals(api: TestClient) -> None:
    daily, _ = _spreads(api, **BASIS, **WINDOW, resample="daily", block="onpeak")
    hourly, _ = _spreads(api, **BASIS, **WINDOW)
    local_hour = hourly.interval_start.dt.hour
    onpeak = hourly[(local_hour >= 6) & (local_hour < 22)]
    assert list(daily.columns[-2:]) == ["coverage", "intervals"]
    assert len(daily) == DAYS
    means = onpeak.groupby(onpeak.interval_start.dt.date)["spread"].mean().round(6).to_numpy()
    assert np.allclose(daily["spread"].to_numpy(), means, atol=1e-6)
    assert (daily["intervals"] == 16).all() and (daily["coverage"] == 1.0).all()
    # A window cut mid-day: the first day's bucket says it holds only part of the day's on-peak hours.
    cut, _ = _spreads(
        api, **BASIS, start="2024-03-04T12:00", end="2024-03-06", tz="iso", resample="daily", block="onpeak"
    )
    assert cut["intervals"].tolist() == [10, 16]
    assert cut["coverage"].iloc[0] == pytest.approx(10 / 16)


def test_stats_are_duration_weighted_statistics_of_the_interval_spreads(api: TestClient) -> None:
    answer = api.get(
        "/v1/spreads",
        params={
            **BASIS,
            **WINDOW,
            "minus": "WESTERN HUB",
            "stats": "true",
            "threshold": "2.25",
            "resample": "monthly",
        },
    )
    assert answer.status_code == 200, answer.text
    stats = answer.json()["stats"]
    hourly, _ = _spreads(api, **BASIS, **WINDOW)
    values = hourly["spread"].to_numpy()
    assert stats["intervals"] == len(values) and stats["hours"] == len(values)
    assert stats["mean"] == pytest.approx(values.mean(), abs=1e-6)
    assert stats["std"] == pytest.approx(values.std(), abs=1e-6)
    assert stats["p50"] == pytest.approx(np.percentile(values, 50, method="inverted_cdf"), abs=1e-6)
    assert stats["share_above"] == pytest.approx((values > 2.25).mean(), abs=1e-6)
    assert stats["threshold"] == 2.25
    assert "stats" not in api.get("/v1/spreads", params={**BASIS, **WINDOW}).json()
    # In Arrow and Parquet the statistics travel in the schema metadata.
    _, head = _spreads(api, **BASIS, **WINDOW, stats="true")
    assert head["stats"]["mean"] == stats["mean"]


def test_every_format_carries_the_same_rows(api: TestClient) -> None:
    arrow = ipc.open_stream(
        api.get("/v1/spreads", params={**BASIS, **WINDOW, "format": "arrow"}).content
    ).read_all()
    parquet = pq.read_table(
        io.BytesIO(api.get("/v1/spreads", params={**BASIS, **WINDOW, "format": "parquet"}).content)
    )
    assert parquet.equals(arrow.replace_schema_metadata(parquet.schema.metadata))
    csv = pd.read_csv(io.StringIO(api.get("/v1/spreads", params={**BASIS, **WINDOW, "format": "csv"}).text))
    assert csv["spread"].tolist() == arrow.column("spread").to_pylist()
    pages = api.get("/v1/spreads", params={**BASIS, **WINDOW, "format": "json"}).json()
    assert pages["total"] == DAYS * 24 and pages["count"] == 72 and pages["next_cursor"] is None


def test_etag_and_cache_follow_the_data_of_both_legs(api: TestClient, spread_store: CountingStore) -> None:
    params = {**BASIS, "start": "2024-03-05", "end": "2024-03-06", "tz": "iso"}
    first = api.get("/v1/spreads", params=params)
    etag = first.headers["etag"]
    reads = spread_store.reads
    assert api.get("/v1/spreads", params=params, headers={"If-None-Match": etag}).status_code == 304
    again = api.get("/v1/spreads", params=params)
    assert again.content == first.content and spread_store.reads == reads  # answered from the cache
    # A revision of the hub (the `minus` leg) changes the answer's ETag and its rows.
    revised = make_lmp_table("PJM", "DAM", "WESTERN HUB", START + timedelta(days=1), 24, offset=5.0)
    spread_store.write("lmp", revised)
    after = api.get("/v1/spreads", params=params)
    assert after.headers["etag"] != etag
    assert after.json()["data"][0]["spread"] == pytest.approx(first.json()["data"][0]["spread"] - 5.0)


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        ({**BASIS, "location": "NODE_B"}, 404, "location"),
        ({**BASIS, "minus": "WESTERN HUBB"}, 404, "minus"),
        ({**BASIS, "minus_market": "RT7"}, 404, "minus_market"),
        ({**BASIS, "market": "DAX"}, 404, "market"),
        ({**BASIS, "iso": "PJMM"}, 404, "iso"),
        ({**BASIS, "minus": "node_a"}, 422, "minus"),
        ({**BASIS, "threshold": "nan"}, 422, "threshold"),
        ({**BASIS, "stats": "maybe"}, 422, "stats"),
        ({**BASIS, "resample": "weekly"}, 422, "resample"),
        ({**BASIS, "minnus": "WESTERN HUB"}, 422, "minnus"),
    ],
)
def test_errors_name_the_callers_own_parameter(
    api: TestClient, params: dict[str, str], status: int, parameter: str
) -> None:
    answer = api.get("/v1/spreads", params={**params, "start": "2024-03-04", "end": "2024-03-05"})
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["parameter"] == parameter
    if status == 404 and parameter in ("location", "minus"):
        assert body["suggestions"]
        assert body["message"].startswith(f"{parameter}: ")


def test_entitlements_need_the_feature_and_the_data(data_dir: Path, spread_store: CountingStore) -> None:
    settings = Settings(data_dir=data_dir, auth=AuthMode.OFF)
    app = create_app(settings, spread_store)  # type: ignore[arg-type]
    app.state.authenticator = KeyAuthenticator(
        {
            "all": Entitlements(),
            "ercot": Entitlements(isos=frozenset({"ERCOT"})),
            "nospreads": Entitlements(features=frozenset({"curves"})),
        }
    )
    params = {**BASIS, "start": "2024-03-04", "end": "2024-03-05"}
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/spreads", params=params, headers={"X-API-Key": "key-all"}).status_code == 200
        outside = client.get("/v1/spreads", params=params, headers={"X-API-Key": "key-ercot"})
        assert outside.status_code == 403 and "PJM" in outside.json()["message"]
        # Refused before anything about PJM's markets is revealed, even for an unknown market.
        unknown = client.get(
            "/v1/spreads", params={**params, "market": "NOPE"}, headers={"X-API-Key": "key-ercot"}
        )
        assert unknown.status_code == 403
        feature = client.get("/v1/spreads", params=params, headers={"X-API-Key": "key-nospreads"})
        assert feature.status_code == 403 and "spreads" in feature.json()["message"]
        ercot = {"iso": "ERCOT", "market": "DAM", "location": "HB_WEST", "minus": "HB_NORTH"}
        answer = client.get("/v1/spreads", params={**ercot, **WINDOW}, headers={"X-API-Key": "key-ercot"})
        assert answer.status_code == 200 and answer.json()["simulated"] is False
        assert {r["congestion_spread"] for r in answer.json()["data"]} == {-4.5}


def test_graphql_field_answers_the_rest_rows_and_stats(api: TestClient) -> None:
    query = """{ spreads(iso: "PJM", market: "DAM", location: "NODE_A", minus: "WESTERN HUB",
                 start: "2024-03-04", end: "2024-03-07", tz: "iso", resample: "daily", stats: true) {
                 rows { intervalStart location minus spread congestionSpread coverage intervals }
                 stats { mean p95 shareAbove intervals } simulated unit } }"""
    answer = api.post("/graphql", json={"query": query})
    assert answer.status_code == 200, answer.text
    field = answer.json()["data"]["spreads"]
    rest = api.get("/v1/spreads", params={**BASIS, **WINDOW, "resample": "daily", "stats": "true"}).json()
    assert [r["spread"] for r in field["rows"]] == [r["spread"] for r in rest["data"]]
    assert [r["intervalStart"] for r in field["rows"]] == [r["interval_start"] for r in rest["data"]]
    assert [r["coverage"] for r in field["rows"]] == [1.0] * DAYS
    assert field["stats"]["mean"] == rest["stats"]["mean"]
    assert field["simulated"] is True and field["unit"] == "$/MWh"

    bad = api.post(
        "/graphql",
        json={
            "query": '{ spreads(iso: "PJM", market: "DAM", location: "NODE_A", minus: "WESTRN HUB", '
            'start: "2024-03-04", end: "2024-03-05") { rows { spread } } }'
        },
    ).json()
    assert bad["data"]["spreads"] is None
    extensions = bad["errors"][0]["extensions"]
    assert extensions["code"] == "NOT_FOUND" and extensions["parameter"] == "minus"
    assert "WESTERN HUB" in extensions["suggestions"]
