"""The five-minute forecaster: least-squares coefficients, its small state, and quantiles that cover."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.forecast import FIVE_MINUTES_US, ForecastError, fit_subhourly

START_US = 1_700_000_000 * 1_000_000


def _ar1(n: int, phi: float = 0.9, mean: float = 30.0, sd: float = 2.0, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = mean
    for t in range(1, n):
        x[t] = mean + phi * (x[t - 1] - mean) + rng.normal(0, sd)
    return x


def _starts(n: int) -> np.ndarray:
    return START_US + FIVE_MINUTES_US * np.arange(n, dtype=np.int64)


def test_an_ar1_is_recovered_for_every_horizon() -> None:
    prices = _ar1(20_000)
    model = fit_subhourly(_starts(len(prices)), prices, lags=3, horizons=4, season=0)
    # h steps ahead of an AR(1), x_{t+h} - x_t = (1 - phi^h) (mean - x_t): slope phi^h - 1 on the newest
    # price, none on its changes.
    for h in range(1, 5):
        assert model.coef[h - 1, 1] == pytest.approx(0.9**h - 1, abs=0.03)
        assert np.abs(model.coef[h - 1, 2:]).max() < 0.03
        assert model.coef[h - 1, 0] == pytest.approx(30 * (1 - 0.9**h), abs=0.8)
    # The P10-P90 width of a one-step error is that of the innovations: 2 x 1.2816 x 2.
    assert model.offsets[2, 0] - model.offsets[0, 0] == pytest.approx(2 * 1.2816 * 2.0, rel=0.08)


def test_update_and_predict() -> None:
    prices = _ar1(2_000)
    starts = _starts(2_000)
    model = fit_subhourly(starts[:1_500], prices[:1_500], lags=4, horizons=12, season=0)
    state = model.start(starts[:1_500], prices[:1_500])
    assert state.recent.tolist() == prices[1_496:1_500][::-1].tolist()
    forecast = model.predict(state)
    assert forecast.interval_start.tolist() == (starts[1_499] + FIVE_MINUTES_US * np.arange(1, 13)).tolist()
    newest = prices[1_499]
    x = np.array([1.0, newest, newest - prices[1_498], newest - prices[1_497], newest - prices[1_496]])
    assert np.allclose(forecast.point, newest + model.coef @ x)
    assert np.allclose(forecast.quantiles, forecast.point + model.offsets)
    nxt = model.update(state, int(starts[1_500]), 99.0)
    assert nxt.last_start_us == starts[1_500] and nxt.recent.tolist() == [99.0, *state.recent[:3].tolist()]
    revised = model.update(nxt, int(starts[1_500]), 50.0)
    assert revised.recent[0] == 50.0 and revised.recent[1:].tolist() == nxt.recent[1:].tolist()
    # Two intervals missed: the last price carries over them.
    gap = model.update(state, int(starts[1_502]), 70.0)
    assert gap.recent.tolist() == [70.0, prices[1_499], prices[1_499], prices[1_499]]
    with pytest.raises(ForecastError, match="not on the grid"):
        model.update(nxt, int(starts[1_499]), 10.0)
    with pytest.raises(ForecastError, match="price: nan"):
        model.update(nxt, int(starts[1_501]), float("nan"))


def test_intervals_cover_out_of_sample() -> None:
    prices = _ar1(30_000, seed=9)
    starts = _starts(len(prices))
    model = fit_subhourly(starts[:20_000], prices[:20_000], lags=6, horizons=12, season=0)
    state = model.start(starts[:20_000], prices[:20_000])
    inside = np.zeros(12)
    count = 0
    for t in range(20_000, 29_988):
        forecast = model.predict(state)
        actual = prices[t : t + 12]
        inside += (forecast.quantiles[0] <= actual) & (actual <= forecast.quantiles[2])
        count += 1
        state = model.update(state, int(starts[t]), float(prices[t]))
    assert np.allclose(inside / count, 0.8, atol=0.03)


def test_the_daily_term_reads_yesterday_at_the_target_time() -> None:
    rng = np.random.default_rng(2)
    n = 288 * 40
    daily = 20 * np.sin(np.arange(n) / 288 * 2 * np.pi)
    prices = 40 + daily + _ar1(n, phi=0.5, mean=0.0, sd=1.0) + rng.normal(0, 0.5, n)
    starts = _starts(n)
    seasonal = fit_subhourly(starts[: 288 * 30], prices[: 288 * 30], lags=3, horizons=12)
    plain = fit_subhourly(starts[: 288 * 30], prices[: 288 * 30], lags=3, horizons=12, season=0)
    errors = {"seasonal": [], "plain": []}
    for name, model in (("seasonal", seasonal), ("plain", plain)):
        state = model.start(starts[: 288 * 30], prices[: 288 * 30])
        for t in range(288 * 30, n - 12):
            errors[name].append(abs(model.predict(state).point[-1] - prices[t + 11]))
            state = model.update(state, int(starts[t]), float(prices[t]))
    assert np.mean(errors["seasonal"]) < 0.8 * np.mean(errors["plain"])
    state = seasonal.start(starts[:5_000], prices[:5_000])
    assert len(state.recent) == 288
    newest = prices[4_999]
    x = np.array([1.0, newest, newest - prices[4_998], newest - prices[4_997]])
    yesterday = prices[4_999 - 288 + np.arange(1, 13)]
    expected = newest + seasonal.coef @ x + seasonal.seasonal * (yesterday - newest)
    assert np.allclose(seasonal.predict(state).point, expected)


def test_bad_series_are_refused() -> None:
    starts = _starts(100)
    with pytest.raises(ForecastError, match="interval_start: interval 50"):
        fit_subhourly(np.delete(starts, 50), np.ones(99))
    with pytest.raises(ForecastError, match="too few"):
        fit_subhourly(starts, np.ones(100), lags=12, season=0)
    with pytest.raises(ForecastError, match="season: 6"):
        fit_subhourly(starts, np.ones(100), season=6)
    with pytest.raises(ForecastError, match="lags/horizons"):
        fit_subhourly(starts, np.ones(100), lags=0)
