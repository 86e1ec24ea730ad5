"""The revenue stack by market-time month and the dispatch table, on hand-built schedules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from real_prices import hb_south

from carbon254.battery import (
    Battery,
    BatteryError,
    CycleDepthCurve,
    dispatch_table,
    revenue_stack,
    state_of_health,
    throughput_cost_per_mwh,
)
from carbon254.battery.market import MarketPrices, ReserveDirection, ReservePrices, ReserveProduct
from carbon254.battery.schedule import Schedule
from carbon254.battery.two_settlement import optimize_da_rt

US_PER_HOUR = 3_600_000_000
BATTERY = Battery(100.0, 400.0, 0.95, 0.95, 200.0)


def _us(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000


def _schedule(start: datetime, hours: int, seed: int = 7) -> Schedule:
    """A two-settlement-shaped schedule with random but fixed cash, dispatch and two reserve awards."""
    rng = np.random.default_rng(seed)
    starts = _us(start) + np.arange(hours, dtype=np.int64) * US_PER_HOUR
    charge = np.where(rng.random(hours) < 0.4, rng.uniform(0, 100, hours), 0.0)
    discharge = np.where(charge == 0, rng.uniform(0, 100, hours), 0.0)
    # Streams deliberately out of stack order: the report puts them in order.
    cash = {
        "degradation": -rng.uniform(0, 50, hours),
        "REGDN": rng.uniform(0, 300, hours),
        "rt_energy": rng.normal(0, 500, hours),
        "aux": -rng.uniform(0, 20, hours),
        "REGUP": rng.uniform(0, 300, hours),
        "da_energy": rng.normal(1000, 3000, hours),
    }
    return Schedule(
        interval_start=starts,
        interval_hours=1.0,
        charge_mw=charge,
        discharge_mw=discharge,
        soc_mwh=rng.uniform(0, 400, hours),
        cash=cash,
        reserve_mw={"REGDN": rng.uniform(0, 20, hours), "REGUP": rng.uniform(0, 20, hours)},
        deployed_up_mwh=rng.uniform(0, 2, hours),
        deployed_down_mwh=rng.uniform(0, 2, hours),
    )


def test_stream_columns_come_in_stack_order() -> None:
    stack = revenue_stack(_schedule(datetime(2024, 3, 1, tzinfo=UTC), 72), BATTERY, "America/Chicago")
    assert stack.columns == [
        "month",
        "da_energy",
        "rt_energy",
        "REGDN",
        "REGUP",
        "aux",
        "degradation",
        "net_revenue",
        "discharged_mwh",
        "charged_mwh",
        "cycles",
        "degradation_cost",
    ]


def test_streams_sum_to_net_revenue_and_the_total_row_sums_the_months() -> None:
    schedule = _schedule(datetime(2024, 1, 15, tzinfo=UTC), 24 * 80)
    stack = revenue_stack(schedule, BATTERY, "America/Chicago")
    streams = ["da_energy", "rt_energy", "REGDN", "REGUP", "aux", "degradation"]
    assert stack["month"].to_list() == ["2024-01", "2024-02", "2024-03", "2024-04", "total"]
    summed = stack.select(pl.sum_horizontal(streams)).to_series().to_numpy()
    np.testing.assert_allclose(summed, stack["net_revenue"].to_numpy(), rtol=1e-12)
    months, total = stack.filter(pl.col("month") != "total"), stack.filter(pl.col("month") == "total")
    for column in stack.columns[1:]:
        assert total[column].item() == pytest.approx(months[column].sum(), rel=1e-12), column
    assert total["net_revenue"].item() == pytest.approx(schedule.net_revenue, rel=1e-12)
    for stream, value in schedule.revenue_by_stream.items():
        assert total[stream].item() == pytest.approx(value, rel=1e-12)
    assert total["discharged_mwh"].item() == pytest.approx(schedule.discharged_mwh.sum())
    assert total["charged_mwh"].item() == pytest.approx(schedule.charged_mwh.sum())
    assert total["cycles"].item() == pytest.approx(schedule.equivalent_cycles(BATTERY.energy_mwh))
    np.testing.assert_allclose(stack["cycles"], stack["discharged_mwh"] / BATTERY.energy_mwh)
    np.testing.assert_allclose(stack["degradation_cost"], -stack["degradation"])
    assert (stack["degradation_cost"] > 0).all()


def test_months_are_the_isos_market_time() -> None:
    # 2024-07-01 03:00 UTC is 22:00 on June 30 in Chicago (CDT, UTC-5); 05:00 UTC is midnight on July 1.
    start = datetime(2024, 7, 1, 3, tzinfo=UTC)
    n = 3
    schedule = Schedule(
        interval_start=_us(start) + np.arange(n, dtype=np.int64) * US_PER_HOUR,
        interval_hours=1.0,
        charge_mw=np.zeros(n),
        discharge_mw=np.array([10.0, 20.0, 40.0]),
        soc_mwh=np.array([390.0, 370.0, 330.0]),
        cash={"energy": np.array([1.0, 2.0, 4.0])},
    )
    chicago = revenue_stack(schedule, BATTERY, "America/Chicago")
    assert chicago["month"].to_list() == ["2024-06", "2024-07", "total"]
    assert chicago["energy"].to_list() == [3.0, 4.0, 7.0]
    assert chicago["discharged_mwh"].to_list() == [30.0, 40.0, 70.0]
    utc = revenue_stack(schedule, BATTERY, "UTC")
    assert utc["month"].to_list() == ["2024-07", "total"]
    # No degradation stream: the cost column is there, and zero.
    assert chicago["degradation_cost"].to_list() == [0.0, 0.0, 0.0]


def test_bad_input_names_the_field() -> None:
    schedule = _schedule(datetime(2024, 3, 1, tzinfo=UTC), 24)
    with pytest.raises(BatteryError, match="tz"):
        revenue_stack(schedule, BATTERY, "America/Nowhere")
    short = Schedule(
        interval_start=schedule.interval_start,
        interval_hours=1.0,
        charge_mw=schedule.charge_mw,
        discharge_mw=schedule.discharge_mw,
        soc_mwh=schedule.soc_mwh,
        cash={"energy": np.zeros(5)},
    )
    with pytest.raises(BatteryError, match=r"cash\[energy\]"):
        revenue_stack(short, BATTERY, "UTC")
    clashing = Schedule(
        interval_start=schedule.interval_start,
        interval_hours=1.0,
        charge_mw=schedule.charge_mw,
        discharge_mw=schedule.discharge_mw,
        soc_mwh=schedule.soc_mwh,
        cash={"cycles": np.zeros(24)},
    )
    with pytest.raises(BatteryError, match="cycles"):
        revenue_stack(clashing, BATTERY, "UTC")


def test_the_dispatch_table() -> None:
    schedule = _schedule(datetime(2024, 3, 1, tzinfo=UTC), 48)
    table = dispatch_table(schedule)
    assert table.columns == [
        "interval_start",
        "charge_mw",
        "discharge_mw",
        "net_mw",
        "soc_mwh",
        "REGDN_mw",
        "REGUP_mw",
    ]
    assert table.schema["interval_start"] == pl.Datetime("us", "UTC")
    assert table["interval_start"][0] == datetime(2024, 3, 1, tzinfo=UTC)
    np.testing.assert_array_equal(table["net_mw"], schedule.discharge_mw - schedule.charge_mw)
    np.testing.assert_array_equal(table["REGUP_mw"], schedule.reserve_mw["REGUP"])
    np.testing.assert_array_equal(table["soc_mwh"], schedule.soc_mwh)


def test_the_dispatch_table_with_prices() -> None:
    schedule = _schedule(datetime(2024, 3, 1, tzinfo=UTC), 48)
    rng = np.random.default_rng(3)
    regup = ReserveProduct("REGUP", ReserveDirection.UP, 1.0, 0.1)
    prices = MarketPrices(
        schedule.interval_start, 1.0, rng.normal(40, 20, 48), (ReservePrices(regup, rng.uniform(0, 30, 48)),)
    )
    table = dispatch_table(schedule, prices)
    assert table.columns[-2:] == ["energy_price", "REGUP_price"]
    np.testing.assert_array_equal(table["energy_price"], prices.energy)
    np.testing.assert_array_equal(table["REGUP_price"], prices.reserves[0].prices)
    shifted = MarketPrices.energy_only(prices.energy, 1.0, int(schedule.interval_start[0]) + US_PER_HOUR)
    with pytest.raises(BatteryError, match="prices"):
        dispatch_table(schedule, shifted)


def test_the_stack_and_health_of_a_two_settlement_run_on_real_ercot_prices() -> None:
    # Forty-one days of HB_SOUTH DA (hourly) and RT (15-minute) prices across a month end, with synthetic
    # regulation prices beside the real energy: the report must read what the optimizer writes.
    da_all, rt_all = hb_south()
    days = 41  # June 21 to July 31, whole Central days
    da_first = da_all.window(24 * 20, 24 * (20 + days))
    rng = np.random.default_rng(1)
    regup = ReserveProduct("REGUP", ReserveDirection.UP, 1.0, 0.1)
    regdn = ReserveProduct("REGDN", ReserveDirection.DOWN, 1.0, 0.1)
    n = len(da_first)
    da = MarketPrices(
        da_first.interval_start,
        1.0,
        da_first.energy,
        (
            ReservePrices(regup, np.clip(rng.normal(8, 4, n), 0, None)),
            ReservePrices(regdn, np.clip(rng.normal(5, 3, n), 0, None)),
        ),
    )
    rt = rt_all.window(96 * 20, 96 * (20 + days))
    battery = dataclasses.replace(
        BATTERY,
        aux_load_mw=1.0,
        degradation_cost=throughput_cost_per_mwh(CycleDepthCurve.lithium_iron_phosphate(), 150.0, 0.8),
        reserve_limits=(("REGUP", 20.0), ("REGDN", 20.0)),
    )
    schedule = optimize_da_rt(da, rt, battery)
    stack = revenue_stack(schedule, battery, "America/Chicago")
    assert stack.columns[1:7] == ["da_energy", "rt_energy", "REGUP", "REGDN", "aux", "degradation"]
    assert stack["month"].to_list() == ["2024-06", "2024-07", "total"]
    # July 31's evening is August in UTC: the zone decides the month.
    utc = revenue_stack(schedule, battery, "UTC")
    assert utc["month"].to_list() == ["2024-06", "2024-07", "2024-08", "total"]
    total = stack.filter(pl.col("month") == "total")
    assert total["net_revenue"].item() == pytest.approx(schedule.net_revenue, rel=1e-9)
    assert total["degradation_cost"].item() == pytest.approx(
        battery.degradation_cost * schedule.discharged_mwh.sum(), rel=1e-6
    )
    table = dispatch_table(schedule, rt)
    assert table.height == len(rt)
    assert {"REGUP_mw", "REGDN_mw", "energy_price"} <= set(table.columns)
    health = state_of_health(schedule, battery, CycleDepthCurve.lithium_iron_phosphate(), years=20)
    soh = health.table()["soh"].to_numpy()
    assert (np.diff(soh) < 0).all()
    assert health.years[0].cycles == pytest.approx(schedule.equivalent_cycles(400.0) * 365 / days)
