"""Day-ahead then real-time: settlement identities, hand cases and the real ERCOT DA/RT pair."""

from __future__ import annotations

import numpy as np
import pytest
from real_prices import hb_south

from carbon254.battery import (
    Battery,
    BatteryError,
    MarketPrices,
    ReserveDirection,
    ReservePrices,
    ReserveProduct,
    optimize,
)
from carbon254.battery.two_settlement import optimize_da_rt

HOUR_US = 3_600_000_000
RRS = ReserveProduct("RRS", ReserveDirection.UP, 1.0, 0.0)


def _battery(**fields: float) -> Battery:
    args = {"power_mw": 10.0, "energy_mwh": 20.0, "round_trip_efficiency": 0.81, "initial_soc_mwh": 0.0}
    return Battery.from_round_trip(**(args | fields))


def test_rt_prices_equal_to_da_add_nothing() -> None:
    da = MarketPrices.energy_only(np.array([10.0, 10.0, 50.0, 50.0]), 1.0)
    rt = MarketPrices.energy_only(np.repeat(da.energy, 4), 0.25)
    schedule = optimize_da_rt(da, rt, _battery())
    assert schedule.revenue_by_stream["da_energy"] == pytest.approx(optimize(da, _battery()).net_revenue)
    assert schedule.revenue_by_stream["rt_energy"] == pytest.approx(0.0, abs=1e-6)
    assert len(schedule) == 16


def test_a_real_time_spike_is_sold_on_top_of_the_day_ahead_schedule() -> None:
    # DA is flat (nothing to do day-ahead); RT spikes in hour 3: the battery sells the spike in RT.
    da = MarketPrices.energy_only(np.full(4, 30.0), 1.0)
    rt = MarketPrices.energy_only(np.array([20.0, 20.0, 20.0, 300.0]), 1.0)
    # Ending empty, the battery can store 20 MWh by hour 3 and sell all 10 MW of it into the spike.
    battery = _battery(initial_soc_mwh=10.0, final_soc_mwh=0.0)
    schedule = optimize_da_rt(da, rt, battery)
    assert schedule.revenue_by_stream["rt_energy"] > 0
    assert schedule.net_revenue > optimize(da, battery).net_revenue + 1000
    assert schedule.discharge_mw[3] == pytest.approx(10.0)


def test_day_ahead_reserve_awards_are_held_and_paid_in_real_time() -> None:
    da = MarketPrices(
        np.arange(3, dtype=np.int64) * HOUR_US, 1.0, np.full(3, 30.0), (ReservePrices(RRS, np.full(3, 9.0)),)
    )
    rt = MarketPrices.energy_only(np.array([30.0, 30.0, 500.0]), 1.0)
    battery = Battery(10.0, 20.0, 0.9, 0.9, initial_soc_mwh=20.0, reserve_limits=(("RRS", 10.0),))
    schedule = optimize_da_rt(da, rt, battery)
    np.testing.assert_allclose(schedule.reserve_mw["RRS"], 10.0, atol=1e-7)
    assert schedule.revenue_by_stream["RRS"] == pytest.approx(3 * 10 * 9.0)
    # The RRS award keeps 10 MW of headroom: the spike is sold with what is left (0 MW beyond the award).
    assert (schedule.discharge_mw + schedule.reserve_mw["RRS"] <= 10.0 + 1e-6).all()


def test_grids_that_do_not_line_up_are_refused() -> None:
    da = MarketPrices.energy_only(np.full(2, 30.0), 1.0)
    with pytest.raises(BatteryError, match="do not divide"):
        optimize_da_rt(da, MarketPrices.energy_only(np.full(5, 30.0), 0.4), _battery())
    with pytest.raises(BatteryError, match="do not cover"):
        optimize_da_rt(da, MarketPrices.energy_only(np.full(4, 30.0), 0.25), _battery())


def test_real_ercot_da_and_rt_settle_to_the_physical_dispatch() -> None:
    da, rt = hb_south()
    month = 30 * 24
    da, rt = da.window(0, month), rt.window(0, 4 * month)
    battery = _battery(power_mw=100.0, energy_mwh=400.0, round_trip_efficiency=0.85, initial_soc_mwh=200.0)
    schedule = optimize_da_rt(da, rt, battery)
    day_ahead = optimize(da, battery)
    # RT can always follow the DA schedule, so two settlements never earn less than DA alone.
    assert schedule.net_revenue >= day_ahead.net_revenue - 1e-6
    assert schedule.revenue_by_stream["da_energy"] == pytest.approx(day_ahead.energy_revenue)
    # DA + RT cash = RT price x physical energy + (DA - RT price) x DA schedule.
    da_net = np.repeat(day_ahead.discharge_mw - day_ahead.charge_mw, 4) * 0.25
    physical = (schedule.discharge_mw - schedule.charge_mw) * 0.25
    expected = float(np.sum(rt.energy * physical + (np.repeat(da.energy, 4) - rt.energy) * da_net))
    assert schedule.energy_revenue == pytest.approx(expected, rel=1e-9)
    assert not ((schedule.charge_mw > 1e-6) & (schedule.discharge_mw > 1e-6)).any()


def test_negative_rt_prices_under_held_day_ahead_awards_still_keep_charge_and_discharge_apart() -> None:
    # Heavy DA reserve awards box the RT dispatch in: at some negative-price hours only the
    # direction the greedy separation would not pick is feasible, so the MILP decides them.
    rng = np.random.default_rng(0)
    n = 72
    hours = np.arange(n)
    da_energy = 30 + 15 * np.sin(2 * np.pi * (hours % 24 - 9) / 24) + rng.normal(0, 5, n)
    products = [
        ReserveProduct("REGUP", ReserveDirection.UP, 1.0, 0.1),
        ReserveProduct("REGDN", ReserveDirection.DOWN, 1.0, 0.1),
        ReserveProduct("RRS", ReserveDirection.UP, 1.0, 0.01),
        ReserveProduct("NSPIN", ReserveDirection.UP, 4.0, 0.01),
    ]
    reserves = tuple(
        ReservePrices(p, np.clip(rng.normal(m, m, n), 0, None))
        for p, m in zip(products, (10, 8, 12, 4), strict=True)
    )
    da = MarketPrices(hours.astype(np.int64) * HOUR_US, 1.0, da_energy, reserves)
    rt_energy = da_energy + rng.normal(0, 15, n)
    rt_energy[rng.random(n) < 0.15] = -rng.uniform(5, 50)
    battery = Battery(
        100.0,
        400.0,
        0.85**0.5,
        0.85**0.5,
        initial_soc_mwh=200.0,
        reserve_limits=(("REGUP", 100.0), ("REGDN", 100.0), ("RRS", 100.0), ("NSPIN", 92.0)),
    )
    schedule = optimize_da_rt(da, MarketPrices.energy_only(rt_energy, 1.0), battery)
    assert not ((schedule.charge_mw > 1e-6) & (schedule.discharge_mw > 1e-6)).any()
    assert schedule.net_revenue >= optimize(da, battery).net_revenue - 1e-6
    assert schedule.soc_mwh[-1] == pytest.approx(200.0)
