"""Hyper-parameter search within a budget: a result no worse than the defaults, reproducible for a seed."""

from __future__ import annotations

import pytest
from forecast_data import synthetic_data

from carbon254.forecast import ForecastError, LightGbm, tune_gbm, validation_mae


def test_a_tiny_search_returns_parameters_no_worse_than_the_defaults() -> None:
    data = synthetic_data(70)
    result = tune_gbm(data, budget_seconds=60, max_trials=2, validation_days=7, calibration_days=None, seed=2)
    assert 1 <= result.trials <= 2
    assert result.validation_mae <= result.default_mae
    assert validation_mae(data, LightGbm(result.params, None), 7, seed=2) == pytest.approx(
        result.validation_mae
    )
    again = tune_gbm(data, budget_seconds=60, max_trials=2, validation_days=7, calibration_days=None, seed=2)
    assert again.params == result.params


def test_bad_budgets_are_refused() -> None:
    data = synthetic_data(60)
    with pytest.raises(ForecastError, match="budget_seconds: 0"):
        tune_gbm(data, budget_seconds=0)
    with pytest.raises(ForecastError, match="validation_days: 40 leaves 20 days to train on"):
        tune_gbm(data, validation_days=40)
    with pytest.raises(ForecastError, match="library: 'catboost'"):
        tune_gbm(data, library="catboost")
