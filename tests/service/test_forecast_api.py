"""The forecast surfaces: `GET /v1/forecast` (DAM and RT5), training and the registry, backtests as jobs.

The store holds 240 days of HB_HOUSTON day-ahead prices with a daily
shape, a weekend discount and an AR(1) level, each day published at noon
the day before, and two weeks of five-minute prices. Expected values are
recomputed here: the forecast of a day equals LEAR fitted on the same
prices in the test, a later revision never changes it, the backtest's MAE
is recomputed from its own forecasts file, and a promoted version serves
the next forecast.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from carbon254.application.forecast import issued_at
from carbon254.application.forecast_vintages import read_dayahead
from carbon254.config import AuthMode, Settings
from carbon254.forecast import Conformal, Lear
from carbon254.forecast.days import History
from carbon254.objects import open_object_store
from carbon254.service import create_app
from carbon254.store import Store, open_store
from forecast_store_data import HUB, ISO, dayahead_table, realtime_table

FIRST = date(2025, 3, 1)
DAYS = 240
TARGET = FIRST + timedelta(days=DAYS)  # the day after the last stored one: a true forecast
RT_END = datetime(2025, 10, 20, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forecast-data")


@pytest.fixture(scope="module")
def store(data_dir: Path) -> Iterator[Store]:
    s = open_store(data_dir)
    s.write("lmp", dayahead_table(FIRST, DAYS))
    s.write("lmp", realtime_table(RT_END, 14))
    yield s
    s.close()


@pytest.fixture(scope="module")
def app(data_dir: Path, store: Store) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_dir, auth=AuthMode.OFF)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        yield client


def _forecast(app: TestClient, **params: Any) -> dict[str, Any]:
    response = app.get("/v1/forecast", params={"location": HUB, "iso": ISO, **params})
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def test_a_day_ahead_forecast_is_lear_on_the_prices_known_the_morning_before(
    app: TestClient, store: Store
) -> None:
    document = _forecast(app, day=TARGET.isoformat(), model="lear", train_days=120)
    rows = document["data"]
    assert len(rows) == 24
    assert document["query"]["issued_at"] == issued_at(ISO, TARGET).isoformat()
    # The same model on the same prices, fitted here.
    data = read_dayahead(store, ISO, HUB, TARGET - timedelta(days=120), TARGET, None)
    history = History(
        np.append(data.days, np.datetime64(TARGET)), data.prices, np.zeros((0, len(data) + 1, 24)), ()
    )
    expected = Conformal(Lear(), holdout_days=56).fit(history).predict_day(history)
    assert [r["forecast"] for r in rows] == pytest.approx(list(expected.point), rel=1e-9)
    assert all(r["p10"] <= r["p50"] <= r["p90"] for r in rows)
    # Its shape is the stored one's: the evening peak above the early morning.
    assert rows[18]["forecast"] > rows[4]["forecast"] + 5


def test_horizon_day_and_model_errors_name_the_parameter(app: TestClient) -> None:
    short = _forecast(app, day=TARGET.isoformat(), horizon=6)
    assert len(short["data"]) == 6
    for params, parameter in (
        ({"horizon": 30}, "horizon"),
        ({"market": "RTH"}, "market"),
        ({"model": "prophet"}, "model"),
        ({"day": "2031-01-01"}, "day"),
        ({"train_days": 5000}, "train_days"),
    ):
        response = app.get(
            "/v1/forecast", params={"location": HUB, "iso": ISO, "day": TARGET.isoformat(), **params}
        )
        assert response.status_code in (404, 422), (params, response.text)
        assert response.json()["parameter"] == parameter, response.text


def test_a_real_time_forecast_follows_the_newest_interval(app: TestClient) -> None:
    document = _forecast(app, market="RT5", as_of=RT_END.isoformat(), tz="UTC")
    rows = document["data"]
    assert len(rows) == 12
    first = datetime.fromisoformat(rows[0]["interval_start"])
    assert first == RT_END  # the newest interval known at RT_END started five minutes before it
    assert all(r["p10"] <= r["p50"] <= r["p90"] and r["p10"] < r["p90"] for r in rows)


def _wait(app: TestClient, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while True:
        job: dict[str, Any] = app.get(url).json()
        status = job.get("status") or job["job"]["status"]
        if status in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"{url} still {status}"
        time.sleep(0.2)


def test_a_backtest_compares_models_and_scores_its_own_forecasts(
    app: TestClient, store: Store, data_dir: Path
) -> None:
    body = {
        "iso": ISO,
        "location": HUB,
        "models": ["seasonal_naive", "lear"],
        "start": (FIRST + timedelta(days=200)).isoformat(),
        "end": (FIRST + timedelta(days=227)).isoformat(),
        "train_days": 150,
        "recalibrate_every": 7,
    }
    queued = app.post("/v1/backtests", json=body)
    assert queued.status_code == 202, queued.text
    done = _wait(app, f"/v1/backtests/{queued.json()['id']}")
    assert done["job"]["status"] == "succeeded", done
    naive, lear = done["metrics"]
    assert naive["model"] == "seasonal_naive" and naive["rmae"] == pytest.approx(1.0)
    assert lear["mae"] < naive["mae"] and lear["dm_pvalue"] < 0.05
    assert 0.5 < lear["coverage"] <= 1.0
    # Each model's MAE recomputed from its stored forecasts against the prices read from the store here.
    job_id = queued.json()["id"]
    objects = open_object_store("file://", data_dir=data_dir, s3_endpoint=None)
    forecasts = pq.read_table(io.BytesIO(objects.get(f"jobs/{job_id}/forecasts.parquet")))
    start, end = date.fromisoformat(body["start"]), date.fromisoformat(body["end"])
    prices = read_dayahead(store, ISO, HUB, start, end + timedelta(days=1), None).prices.reshape(-1)
    for row in done["metrics"]:
        mine = forecasts.filter(pc.equal(forecasts.column("model"), row["model"]))
        assert mine.num_rows == len(prices)  # no DST change in the window: every hour scored
        assert row["mae"] == pytest.approx(np.mean(np.abs(mine.column("forecast").to_numpy() - prices)))
    chart = app.get(done["chart_url"].removeprefix("http://testserver"))
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")


def test_a_bad_backtest_is_refused_at_submit(app: TestClient) -> None:
    body = {
        "iso": ISO,
        "location": HUB,
        "models": ["lear", "prophet"],
        "start": "2025-09-01",
        "end": "2025-09-10",
    }
    refused = app.post("/v1/backtests", json=body)
    assert refused.status_code == 422 and refused.json()["parameter"] == "models"
    unknown = app.post("/v1/backtests", json={**body, "models": ["lear"], "location": "HB_NOWHERE"})
    assert unknown.status_code == 404 and unknown.json()["parameter"] == "location"


def test_a_trained_and_promoted_model_serves_the_forecast(app: TestClient) -> None:
    body = {
        "name": "houston-dam",
        "iso": ISO,
        "location": HUB,
        "model": "lear",
        "train_days": 150,
        "holdout_days": 14,
        "as_of": f"{TARGET.isoformat()}T00:00:00Z",
    }
    stale = app.post("/v1/forecast/train", json={**body, "as_of": "2024-01-01T00:00:00Z"})
    failed = _wait(app, f"/v1/jobs/{stale.json()['id']}")
    assert failed["status"] == "failed" and "as_of" in failed["error"]
    queued = app.post("/v1/forecast/train", json=body)
    assert queued.status_code == 202, queued.text
    job = _wait(app, f"/v1/jobs/{queued.json()['id']}")
    assert job["status"] == "succeeded", job
    summary = job["result"]["summary"]
    assert summary["stage"] == "candidate" and summary["metrics"]["n"] == 14 * 24
    # A candidate does not serve; the production version does.
    spot = _forecast(app, day=TARGET.isoformat())
    assert spot["query"]["registered"] is None
    promoted = app.post("/v1/models/houston-dam/promote", json={"version": summary["version"]})
    assert promoted.status_code == 200, promoted.text
    served = _forecast(app, day=TARGET.isoformat())
    assert served["query"]["registered"]["version"] == summary["version"]
    assert served["query"]["model"].startswith("houston-dam@")
    named = _forecast(app, day=TARGET.isoformat(), model="houston-dam")
    assert [r["forecast"] for r in named["data"]] == [r["forecast"] for r in served["data"]]
    wrong = app.get(
        "/v1/forecast", params={"location": HUB, "iso": ISO, "market": "RT5", "model": "houston-dam"}
    )
    assert wrong.status_code == 422 and wrong.json()["parameter"] == "model"


def test_a_registered_real_time_model_serves_five_minute_forecasts(app: TestClient) -> None:
    body = {
        "name": "houston-rt",
        "iso": ISO,
        "location": HUB,
        "market": "RT5",
        "model": "subhourly",
        "as_of": RT_END.isoformat(),
    }
    job = _wait(app, f"/v1/jobs/{app.post('/v1/forecast/train', json=body).json()['id']}")
    assert job["status"] == "succeeded", job
    summary = job["result"]["summary"]
    # Scored interval by interval on the last day, every horizon: it beats nothing by luck alone.
    assert summary["metrics"]["n"] > 200 * 12 and 0 < summary["metrics"]["mae"] < 20
    assert 0.5 < summary["metrics"]["coverage"] <= 1.0
    promoted = app.post("/v1/models/houston-rt/promote", json={"version": summary["version"]})
    assert promoted.status_code == 200, promoted.text
    served = _forecast(app, market="RT5", as_of=RT_END.isoformat())
    assert served["query"]["registered"]["name"] == "houston-rt"
    assert len(served["data"]) == 12
    # The day-ahead forecast is not served by the real-time model.
    registered = _forecast(app, day=TARGET.isoformat())["query"]["registered"]
    assert registered is None or registered["name"] != "houston-rt"
    bad = app.post("/v1/forecast/train", json={**body, "model": "lear"})
    assert bad.status_code == 422 and bad.json()["parameter"] == "model"


def test_a_tree_model_is_tuned_before_the_holdout_and_registered_with_its_search(app: TestClient) -> None:
    body = {
        "name": "houston-tuned",
        "iso": ISO,
        "location": HUB,
        "model": "lightgbm",
        "train_days": 150,
        "holdout_days": 14,
        "tune_seconds": 3,
        "as_of": f"{TARGET.isoformat()}T00:00:00Z",
    }
    job = _wait(app, f"/v1/jobs/{app.post('/v1/forecast/train', json=body).json()['id']}")
    assert job["status"] == "succeeded", job
    metrics = job["result"]["summary"]["metrics"]
    assert metrics["tuning_trials"] >= 1 and metrics["n"] == 14 * 24
    # The search keeps the defaults unless it finds better on the days before the holdout.
    assert metrics["tuning_validation_mae"] <= metrics["default_validation_mae"] + 1e-9
    version = app.get("/v1/models/houston-tuned").json()[0]
    assert version["parameters"]["base"]["params"]["kind"] == "GbmParams"
    for bad, parameter in (({"model": "lear"}, "tune_seconds"), ({"tune_seconds": 0}, "tune_seconds")):
        refused = app.post("/v1/forecast/train", json={**body, **bad})
        assert refused.status_code == 422 and refused.json()["parameter"] == parameter, refused.text
