"""The SDK's forecasting methods against the service's own code (local mode): forecast, train, backtest.

A data dir holds 150 days of HB_HOUSTON day-ahead prices (`forecast_store_data`).
Through the SDK a model is trained and promoted, then serves the forecast;
a backtest job's scores come back with its chart, and refusals are the SDK's
error types. The async client forecasts the same numbers as the sync one.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest

from carbon254.client import AsyncClient, Client, InvalidRequest
from carbon254.store import open_store
from forecast_store_data import HUB, ISO, dayahead_table

FIRST = date(2025, 3, 1)
DAYS = 150
TARGET = FIRST + timedelta(days=DAYS)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    store = open_store(tmp_path)
    try:
        store.write("lmp", dayahead_table(FIRST, DAYS))
    finally:
        store.close()
    return tmp_path


def test_train_promote_forecast_and_backtest_through_the_sdk(data_dir: Path) -> None:
    with Client.local(data_dir) as client:
        job = client.forecast_train(
            name="houston",
            iso=ISO,
            location=HUB,
            train_days=120,
            holdout_days=14,
            as_of=f"{TARGET}T00:00:00Z",
        )
        summary = job.wait().result.summary
        assert summary["stage"] == "candidate" and summary["metrics"]["n"] == 14 * 24
        client.promote_model("houston", summary["version"])
        frame = client.forecast(HUB, iso=ISO, day=TARGET.isoformat(), train_days=120)
        assert len(frame) == 24 and (frame["p10"] <= frame["p90"]).all()
        backtest = client.forecast_backtest(
            iso=ISO,
            location=HUB,
            models=["seasonal_naive", "lear"],
            start=TARGET - timedelta(days=14),
            end=TARGET - timedelta(days=1),
            train_days=100,
        )
        rows = backtest.wait().result.summary["metrics"]
        assert [r["model"] for r in rows] == ["seasonal_naive", "lear"]
        chart = client.backtest_chart(backtest.id, path=data_dir / "chart.png")
        assert chart.read_bytes().startswith(b"\x89PNG")
        with pytest.raises(InvalidRequest, match="tune_seconds"):
            client.forecast_train(name="x", iso=ISO, location=HUB, model="lear", tune_seconds=5)


def test_the_async_client_forecasts_what_the_sync_one_does(data_dir: Path) -> None:
    with Client.local(data_dir) as client:
        expected = client.forecast(HUB, iso=ISO, day=TARGET.isoformat(), model="lear", train_days=120)

    async def run() -> list[float]:
        async with AsyncClient.local(data_dir) as client:
            frame = await client.forecast(HUB, iso=ISO, day=TARGET.isoformat(), model="lear", train_days=120)
            return list(frame["forecast"])

    assert asyncio.run(run()) == list(expected["forecast"])
