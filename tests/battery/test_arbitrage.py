"""Energy arbitrage with perfect foresight: hand-solvable cases, bounds, cycles, negative and real prices.

The real-data case checks the optimizer against an independent LP written
here with SciPy's `linprog` on a month of ERCOT HB_SOUTH day-ahead prices.
"""

from __future__ import annotations

import csv
from datetime import datetime

import numpy as np
import pytest
from scipy.optimize import linprog

from carbon254.battery import Battery, BatteryError, optimize_arbitrage
from shared_data import SHARED_DATA

HISTORY = SHARED_DATA / "history" / "ercot_hb_south_dam_rtm_15min_2024-06_2025-03.csv"


def _battery(**fields: float) -> Battery:
    args = {"power_mw": 10.0, "energy_mwh": 20.0, "round_trip_efficiency": 0.81, "initial_soc_mwh": 0.0}
    return Battery.from_round_trip(**(args | fields))


def test_a_two_price_day_charges_cheap_and_discharges_dear() -> None:
    prices = np.array([10.0, 10.0, 50.0, 50.0])
    dispatch = optimize_arbitrage(prices, 1.0, _battery())
    np.testing.assert_allclose(dispatch.charge_mw, [10, 10, 0, 0], atol=1e-7)
    # 20 MWh in stores 18 (sqrt 0.81 = 0.9); 18 out delivers 16.2 MWh, in either order over the dear hours.
    np.testing.assert_allclose(dispatch.discharge_mw[:2], 0, atol=1e-7)
    assert dispatch.discharge_mw.sum() == pytest.approx(16.2)
    np.testing.assert_allclose(dispatch.soc_mwh[[0, 1, 3]], [9, 18, 0], atol=1e-7)
    assert dispatch.energy_revenue == pytest.approx(16.2 * 50 - 20 * 10)


def test_efficiency_losses_make_a_small_spread_unprofitable() -> None:
    # Buying at 40 to sell at 45 loses money at 81% round trip: 45 x 0.81 < 40.
    dispatch = optimize_arbitrage(np.array([40.0, 45.0]), 1.0, _battery())
    assert dispatch.energy_revenue == pytest.approx(0.0, abs=1e-7)
    np.testing.assert_allclose(dispatch.charge_mw + dispatch.discharge_mw, 0, atol=1e-7)


def test_soc_bounds_and_the_final_soc_bind() -> None:
    battery = Battery(10.0, 20.0, 1.0, 1.0, initial_soc_mwh=5.0, min_soc_mwh=2.0, max_soc_mwh=15.0)
    dispatch = optimize_arbitrage(np.array([10.0, 10.0, 10.0, 90.0, 90.0]), 1.0, battery)
    assert dispatch.soc_mwh.max() == pytest.approx(15.0)
    assert dispatch.soc_mwh.min() >= 2.0 - 1e-7 and dispatch.soc_mwh[-1] == pytest.approx(5.0)
    # 10 MWh of headroom, bought at 10, sold at 90
    assert dispatch.energy_revenue == pytest.approx(10 * (90 - 10))


def test_a_cycle_limit_binds() -> None:
    prices = np.tile([10.0, 10.0, 60.0, 60.0], 3)  # three profitable cycles on offer
    free = optimize_arbitrage(prices, 1.0, _battery(round_trip_efficiency=1.0))
    capped = optimize_arbitrage(
        prices, 1.0, Battery(10.0, 20.0, 1.0, 1.0, initial_soc_mwh=0.0, max_cycles=1.0)
    )
    assert free.energy_revenue == pytest.approx(3 * 20 * 50)
    assert capped.energy_revenue == pytest.approx(20 * 50)
    assert capped.discharge_mw.sum() == pytest.approx(20.0)


def test_negative_prices_never_charge_and_discharge_at_once() -> None:
    # Paid to consume for six hours: an LP would charge and discharge at once to burn energy.
    prices = np.array([-80.0] * 6 + [30.0] * 2)
    dispatch = optimize_arbitrage(prices, 1.0, _battery())
    assert not ((dispatch.charge_mw > 1e-6) & (dispatch.discharge_mw > 1e-6)).any()
    assert dispatch.integer
    assert dispatch.energy_revenue == pytest.approx(
        float(np.sum(prices * (dispatch.discharge_mw - dispatch.charge_mw)))
    )


def test_an_unreachable_final_soc_is_a_clear_error() -> None:
    with pytest.raises(BatteryError, match="no feasible schedule"):
        optimize_arbitrage(np.array([10.0]), 1.0, _battery(final_soc_mwh=20.0))
    with pytest.raises(BatteryError, match="round_trip_efficiency"):
        _battery(round_trip_efficiency=1.5)
    with pytest.raises(BatteryError, match="prices"):
        optimize_arbitrage(np.array([1.0, float("nan")]), 1.0, _battery())


def _june_hourly_dam() -> np.ndarray:
    """ERCOT HB_SOUTH day-ahead prices of June 2024, hourly (the file repeats each hour in 15-minute rows)."""
    if not HISTORY.is_file():
        pytest.skip(f"real ERCOT history not found at {HISTORY}")
    prices = []
    with HISTORY.open() as f:
        for row in csv.DictReader(f):
            start = datetime.fromisoformat(row["interval_start_central"])
            if start.month == 6 and start.minute == 0:
                prices.append(float(row["HB_SOUTH_DAM"]))
    return np.array(prices)


def test_a_month_of_real_ercot_prices_matches_an_independent_linprog() -> None:
    prices = _june_hourly_dam()
    assert len(prices) == 30 * 24
    battery = _battery(power_mw=100.0, energy_mwh=400.0, round_trip_efficiency=0.85, initial_soc_mwh=200.0)
    dispatch = optimize_arbitrage(prices, 1.0, battery)
    # The same problem written out plainly: x = [c, d, s], s_t = s_{t-1} + eta c_t - d_t / eta.
    n, eta = len(prices), battery.charge_efficiency
    cost = np.concatenate([prices, -prices, np.zeros(n)])
    a = np.zeros((n, 3 * n))
    for t in range(n):
        a[t, t], a[t, n + t], a[t, 2 * n + t] = -eta, 1 / eta, 1.0
        if t:
            a[t, 2 * n + t - 1] = -1.0
    b = np.zeros(n)
    b[0] = 200.0
    bounds = [(0, 100)] * (2 * n) + [(0, 400)] * (n - 1) + [(200, 200)]
    reference = linprog(cost, A_eq=a, b_eq=b, bounds=bounds, method="highs")
    assert reference.status == 0
    assert dispatch.energy_revenue == pytest.approx(-reference.fun, rel=1e-6)
    assert dispatch.energy_revenue > 0
    assert (dispatch.soc_mwh >= -1e-6).all() and (dispatch.soc_mwh <= 400 + 1e-6).all()
