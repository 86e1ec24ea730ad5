"""The Diebold-Mariano test against a computation by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbon254.forecast import ForecastError, diebold_mariano, diebold_mariano_hourly


def _by_hand(differentials: list[float]) -> tuple[float, float]:
    n = len(differentials)
    mean = sum(differentials) / n
    variance = sum((d - mean) ** 2 for d in differentials) / n
    stat = mean / math.sqrt(variance / n)
    return stat, 1 - 0.5 * (1 + math.erf(stat / math.sqrt(2)))


def test_multivariate_statistic_and_p_value() -> None:
    rng = np.random.default_rng(5)
    actual = rng.normal(40, 10, (30, 24))
    a = actual + rng.normal(0, 4, (30, 24))
    b = actual + rng.normal(0, 3, (30, 24))
    days = [
        sum(abs(actual[d, h] - a[d, h]) for h in range(24)) / 24
        - sum(abs(actual[d, h] - b[d, h]) for h in range(24)) / 24
        for d in range(30)
    ]
    stat, p = _by_hand(days)
    result = diebold_mariano(actual, a, b)
    assert result.statistic == pytest.approx(stat) and result.p_value == pytest.approx(p) and result.n == 30
    assert result.p_value < 0.05  # B's errors are smaller by construction
    squared = [
        sum((actual[d, h] - a[d, h]) ** 2 for h in range(24)) / 24
        - sum((actual[d, h] - b[d, h]) ** 2 for h in range(24)) / 24
        for d in range(30)
    ]
    assert diebold_mariano(actual, a, b, norm=2).statistic == pytest.approx(_by_hand(squared)[0])
    # Swapping the forecasts flips the sign.
    assert diebold_mariano(actual, b, a).statistic == pytest.approx(-stat)


def test_per_hour_version() -> None:
    rng = np.random.default_rng(6)
    actual = rng.normal(40, 10, (20, 24))
    a = actual + rng.normal(0, 4, (20, 24))
    b = actual + rng.normal(0, 4, (20, 24))
    hourly = diebold_mariano_hourly(actual, a, b)
    assert len(hourly) == 24
    hour = 13
    stat, p = _by_hand(
        [abs(actual[d, hour] - a[d, hour]) - abs(actual[d, hour] - b[d, hour]) for d in range(20)]
    )
    assert hourly[hour].statistic == pytest.approx(stat) and hourly[hour].p_value == pytest.approx(p)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ForecastError, match="forecast_b: shape"):
        diebold_mariano(np.zeros((5, 24)), np.zeros((5, 24)), np.zeros((4, 24)))
    with pytest.raises(ForecastError, match="norm: 3"):
        diebold_mariano(np.zeros((5, 24)), np.zeros((5, 24)), np.zeros((5, 24)), norm=3)
