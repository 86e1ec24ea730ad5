"""Sub-hourly forecasts through the SDK against a real `carbon254 serve`: latest, per interval, refusals."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from live_service import LiveService

from carbon254.client import AsyncClient, Client, InvalidRequest, NotEntitled, SubHourlyForecast
from carbon254.store import open_store
from forecast_stream_data import FIVE_MINUTES, history_rows, interval_rows, last_start

WAIT_S = 30.0  # bound of every wait below (the first includes fitting a model); reached only on failure


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The simulated service, with four days of HB_NORTH five-minute prices ending now."""
    live = LiveService.seeded(tmp_path_factory.mktemp("sdk-forecast"))
    store = open_store(live.data_dir)
    try:
        store.write("lmp", history_rows(["HB_NORTH"], last_start(), 288 * 4))
    finally:
        store.close()
    with live:
        yield live


def commit(service: LiveService, offset: int, lmp: float) -> None:
    """Commit HB_NORTH's interval `offset` intervals after the history's newest, as an ingest would."""
    store = open_store(service.data_dir)
    try:
        store.write("lmp", interval_rows("HB_NORTH", last_start() + FIVE_MINUTES * offset, lmp))
    finally:
        store.close()


def test_async_forecast_stream_yields_the_latest_then_one_per_committed_interval(
    service: LiveService,
) -> None:
    newest = last_start()

    async def run() -> tuple[SubHourlyForecast, SubHourlyForecast]:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as client:
            forecasts = client.forecast_stream(iso="ERCOT", location="HB_NORTH")
            async with asyncio.timeout(WAIT_S):
                first = await anext(forecasts)
                threading.Timer(0.2, commit, args=(service, 1, 90.0)).start()
                fired = await anext(forecasts)
            await forecasts.aclose()
            return first, fired

    first, fired = asyncio.run(run())
    assert (first.iso, first.market, first.location, first.model) == (
        "ERCOT",
        "RT5",
        "HB_NORTH",
        "subhourly_linear",
    )
    assert first.last_interval_start == newest
    assert first.interval_start == tuple(newest + FIVE_MINUTES * h for h in range(1, 13))
    assert fired.last_interval_start == newest + FIVE_MINUTES
    assert fired.interval_start[0] == newest + 2 * FIVE_MINUTES and fired.issued_at > first.issued_at
    frame = fired.frame()
    assert list(frame.columns) == ["interval_start", "point", "p10", "p50", "p90"] and len(frame) == 12
    assert (frame["p10"] <= frame["p90"]).all() and frame["point"].tolist() == list(fired.point)


def test_blocking_forecast_stream_and_its_refusals(service: LiveService) -> None:
    with Client(base_url=service.base_url, api_key=service.keys.full) as client:
        forecast = next(iter(client.forecast_stream(iso="ERCOT", location=["HB_NORTH"])))
        assert forecast.location == "HB_NORTH" and len(forecast.point) == 12
        # HB_WEST's simulated prices are from 2024: nothing in the last week to fit a model on.
        with pytest.raises(InvalidRequest) as unavailable:
            next(iter(client.forecast_stream(iso="ERCOT", location="HB_WEST")))
        assert unavailable.value.code == "forecast_unavailable" and "HB_WEST" in str(unavailable.value)
    with (
        Client(base_url=service.base_url, api_key=service.keys.ercot) as ercot_only,
        pytest.raises(NotEntitled),
    ):
        next(iter(ercot_only.forecast_stream(iso="PJM", location="WESTERN HUB")))
