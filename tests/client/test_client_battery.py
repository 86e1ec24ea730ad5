"""The SDK's battery methods against a real `carbon254 serve` over a month of simulated prices.

`battery_optimize` returns the typed summary with the revenue stack, the
dispatch series and the health projection as frames; `battery_revenue` and
`battery_dispatch` the rows of the generated reads; `battery_chart` a PNG.
The async client answers the same. Errors are the SDK's own types carrying
the service's message and parameter; the tenant's entitlements hold.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from live_service import LiveService, make_keys

from carbon254.client import AsyncClient, BatteryOptimized, Client, InvalidRequest, NotEntitled
from carbon254.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "application"))
from battery_data import GAP_NODE, HUB, fill_battery_store

RUN = {"start": "2024-01-01", "end": "2024-01-08", "power_mw": 100.0, "energy_mwh": 400.0}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    data_dir = tmp_path_factory.mktemp("sdk-battery")
    store = open_store(data_dir)
    try:
        fill_battery_store(store)
    finally:
        store.close()
    with LiveService(data_dir, make_keys(data_dir)) as live:
        yield live


@pytest.fixture(scope="module")
def client(service: LiveService) -> Iterator[Client]:
    with Client(base_url=service.base_url, api_key=service.keys.full) as made:
        yield made


def test_battery_optimize_returns_the_summary_and_frames(client: Client) -> None:
    run = client.battery_optimize(HUB, iso="ERCOT", include=["dispatch", "health"], years=5, **RUN)
    assert isinstance(run, BatteryOptimized) and run.simulated
    assert isinstance(run.stack, pd.DataFrame) and list(run.stack["month"]) == ["2024-01", "total"]
    assert run.stack["net_revenue"].iloc[-1] == pytest.approx(run.summary.net_revenue)
    assert run.summary.net_revenue == pytest.approx(sum(run.summary.revenue_by_stream.values()))
    assert set(run.summary.services) <= set(run.stack.columns)
    dispatch = run.dispatch
    assert isinstance(dispatch, pd.DataFrame) and len(dispatch) == 7 * 24
    assert str(dispatch["interval_start"].dt.tz) == "America/Chicago"
    assert dispatch["interval_start"].iloc[0] == pd.Timestamp("2024-01-01", tz="America/Chicago")
    assert (dispatch["soc_mwh"] <= 400 + 1e-6).all() and "REGUP_mw" in dispatch.columns
    assert run.health is not None and list(run.health["year"]) == [1, 2, 3, 4, 5]
    # The generated read answers the same run's totals.
    revenue = client.battery_revenue(HUB, iso="ERCOT", **RUN)
    assert revenue["net_revenue"].iloc[0] == pytest.approx(run.summary.net_revenue, rel=1e-9)


def test_dispatch_rows_chart_and_the_async_client(
    client: Client, service: LiveService, tmp_path: Path
) -> None:
    rows = client.battery_dispatch(HUB, services="none", frame="polars", **RUN)
    assert isinstance(rows, pl.DataFrame) and rows.height == 7 * 24
    assert rows["reserve_up_mw"].max() == 0
    png = client.battery_chart(HUB, path=tmp_path / "run.png", chart_end="2024-01-03", **RUN)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    async def run_async() -> BatteryOptimized:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as made:
            return await made.battery_optimize(HUB, services="none", include=None, **RUN)

    energy = asyncio.run(run_async())
    assert energy.dispatch is None and energy.summary.services == ()
    assert energy.summary.net_revenue == pytest.approx(
        float(client.battery_revenue(HUB, services="none", **RUN)["net_revenue"].iloc[0]), rel=1e-9
    )


def test_errors_carry_the_services_message_and_parameter(client: Client, service: LiveService) -> None:
    with pytest.raises(InvalidRequest) as bad:
        client.battery_optimize(HUB, **{**RUN, "power_mw": -1.0})
    assert bad.value.parameter == "power_mw"
    with pytest.raises(InvalidRequest) as gap:
        client.battery_optimize(GAP_NODE, services="none", **{**RUN, "end": "2024-01-20"})
    assert gap.value.code == "price_gap" and "2024-01-10T06:00Z" in str(gap.value)
    with pytest.raises(InvalidRequest) as unknown:
        client.battery_optimize(HUB, charge_rate=5, **RUN)  # refused before anything is sent
    assert unknown.value.parameter == "charge_rate"
    with Client(base_url=service.base_url, api_key=service.keys.ercot) as ercot_only:
        assert ercot_only.battery_optimize(HUB, **RUN).summary.net_revenue > 0
        with pytest.raises(NotEntitled):
            ercot_only.battery_optimize("WESTERN HUB", iso="PJM", **RUN)
