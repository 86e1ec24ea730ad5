"""Metric definitions against hand computations, masks and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbon254.forecast import ForecastError, coverage, evaluate, mae, mape, pinball, rmse, smape


def test_metrics_of_a_small_example() -> None:
    actual = np.array([10.0, -5.0, 0.0, 20.0])
    forecast = np.array([12.0, -5.0, 1.0, 10.0])
    assert mae(actual, forecast) == pytest.approx((2 + 0 + 1 + 10) / 4)
    assert rmse(actual, forecast) == pytest.approx(math.sqrt((4 + 0 + 1 + 100) / 4))
    assert smape(actual, forecast) == pytest.approx((4 / 22 + 0 + 2 / 1 + 20 / 30) / 4)
    assert mape(actual, forecast) == pytest.approx((2 / 10 + 0 + 10 / 20) / 3)  # the zero price is skipped
    mask = np.array([True, True, False, True])
    assert mae(actual, forecast, mask) == pytest.approx(12 / 3)
    assert smape(np.zeros(2), np.zeros(2)) == 0.0


def test_pinball_and_coverage() -> None:
    actual = np.array([10.0, 20.0])
    quantiles = np.array([[8.0, 25.0], [10.0, 26.0], [12.0, 30.0]])
    levels = (0.1, 0.5, 0.9)
    # Level 0.1: y above f by 2 -> 0.2; y below f by 5 -> 0.9 * 5.
    # Level 0.5: 0, then 3. Level 0.9: 0.1 * 2, then 0.1 * 10.
    expected = ((0.2 + 4.5) / 2 + (0 + 3) / 2 + (0.2 + 1.0) / 2) / 3
    assert pinball(actual, quantiles, levels) == pytest.approx(expected)
    assert coverage(actual, quantiles[0], quantiles[2]) == 0.5
    result = evaluate(actual, quantiles[1], benchmark=actual + 4, quantiles=quantiles, levels=levels)
    assert result.rmae == pytest.approx(3 / 4) and result.coverage == 0.5 and result.interval == (0.1, 0.9)


def test_shape_mismatches_are_refused() -> None:
    with pytest.raises(ForecastError, match="forecast: shape"):
        mae(np.zeros(3), np.zeros(4))
    with pytest.raises(ForecastError, match="mask: shape"):
        mae(np.zeros(3), np.zeros(3), np.ones(2, dtype=bool))
