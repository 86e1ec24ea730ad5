"""Conformal prediction intervals cover their nominal share on data with known noise."""

from __future__ import annotations

import numpy as np
import pytest
from forecast_data import synthetic_data

from carbon254.forecast import BacktestSpec, Conformal, ForecastError, Lear, backtest

NOISE = 5.0


def test_p10_p90_covers_about_80_percent_and_is_as_wide_as_the_noise() -> None:
    # No level shocks: the forecast error is the hourly noise (sd 5 $/MWh) plus estimation error.
    data = synthetic_data(260, noise=NOISE, level_sd=0.0, seed=11)
    model = Conformal(Lear(120), holdout_days=60, per_hour=False)
    start = data.days[-60].astype(object)
    result = backtest(model, data, BacktestSpec(start, recalibrate_every=15))
    assert result.metrics.coverage == pytest.approx(0.8, abs=0.05)
    assert result.quantiles is not None
    width = np.mean(result.quantiles[:, 2] - result.quantiles[:, 0])
    assert width == pytest.approx(2 * 1.2816 * NOISE, rel=0.2)  # the normal's P10-P90 width
    median_miss = np.mean(data.prices[-60:] < result.quantiles[:, 1])
    assert median_miss == pytest.approx(0.5, abs=0.06)


def test_bad_quantile_settings_are_refused() -> None:
    with pytest.raises(ForecastError, match="levels"):
        Conformal(Lear(28), levels=(0.9, 0.1))
    with pytest.raises(ForecastError, match="holdout_days: 3"):
        Conformal(Lear(28), holdout_days=3)
    history = synthetic_data(40).known_at(30)
    with pytest.raises(ForecastError, match="needs 49 days of prices, got 30"):
        Conformal(Lear(28), holdout_days=28).fit(history)
