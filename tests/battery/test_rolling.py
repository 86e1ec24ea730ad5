"""Rolling-horizon dispatch: no look-ahead, never above perfect foresight, the capture ratio."""

from __future__ import annotations

import numpy as np
import pytest
from real_prices import hb_south

from carbon254.battery import Battery, BatteryError, MarketPrices, optimize
from carbon254.battery.rolling import PersistenceForecast, capture_ratio, rolling_dispatch


def _battery(**fields: float) -> Battery:
    args = {"power_mw": 100.0, "energy_mwh": 400.0, "round_trip_efficiency": 0.85, "initial_soc_mwh": 200.0}
    return Battery.from_round_trip(**(args | fields))


def test_persistence_sees_only_the_past() -> None:
    prices = MarketPrices.energy_only(np.arange(72, dtype=np.float64), 1.0)
    forecast = PersistenceForecast().forecast(prices, 24, 72)
    assert forecast is not None
    # Hours 24..47 are yesterday's 0..23; hours 48..71 have no known yesterday, so two days back.
    np.testing.assert_array_equal(forecast.energy, np.concatenate([np.arange(24), np.arange(24)]))
    assert PersistenceForecast().forecast(prices, 0, 48) is None


def test_a_future_price_never_changes_an_earlier_step() -> None:
    da, _ = hb_south()
    prices = da.window(0, 10 * 24)
    changed = MarketPrices(prices.interval_start, 1.0, prices.energy.copy())
    changed.energy[-24:] += 500.0  # the last day spikes
    a = rolling_dispatch(prices, _battery())
    b = rolling_dispatch(changed, _battery())
    # Steps before the last window did not know the spike: the same dispatch through day 8.
    np.testing.assert_allclose(a.discharge_mw[: 8 * 24], b.discharge_mw[: 8 * 24], atol=1e-6)


def test_rolling_dispatch_earns_less_than_perfect_foresight_on_real_prices() -> None:
    da, _ = hb_south()
    prices = da.window(0, 61 * 24)
    battery = _battery()
    perfect = optimize(prices, battery)
    realized = rolling_dispatch(prices, battery)
    ratio = capture_ratio(realized, perfect)
    assert 0.3 < ratio < 1.0
    assert realized.soc_mwh[-1] == pytest.approx(battery.end_soc_mwh)
    # The first day nothing was known: the battery held its charge.
    np.testing.assert_allclose(realized.soc_mwh[:24], battery.initial_soc_mwh)
    # Settled at actual prices.
    expected = float(np.sum(prices.energy * (realized.discharge_mw - realized.charge_mw)))
    assert realized.energy_revenue == pytest.approx(expected)
    assert (realized.soc_mwh >= -1e-6).all() and (realized.soc_mwh <= 400 + 1e-6).all()


def test_a_step_longer_than_the_horizon_is_refused() -> None:
    prices = MarketPrices.energy_only(np.ones(48), 1.0)
    with pytest.raises(BatteryError, match="step_h"):
        rolling_dispatch(prices, _battery(), horizon_h=12, step_h=24)
