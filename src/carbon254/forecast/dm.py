"""The Diebold-Mariano test between two day-ahead forecasts, as the EPF literature runs it.

Two versions (Lago et al. 2021, after Ziel and Weron 2018):
- multivariate: one loss differential per day, the mean |error| (norm 1) or
  mean squared error (norm 2) of the 24 hours of forecast A minus B's, so the
  day's 24 correlated errors count once;
- per hour: one test per hour of the day on that hour's series.
The statistic is mean(d) / sqrt(var(d) / N) (population variance, no
autocorrelation correction: day-ahead losses one day apart are treated as
independent, as in the reference implementation). The p-value is one-sided,
1 - Phi(DM): a small value says B is significantly more accurate than A.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from carbon254.forecast.days import HOURS, Floats
from carbon254.forecast.errors import ForecastError


@dataclass(frozen=True, slots=True)
class DieboldMariano:
    """A DM statistic, its one-sided p-value (small: B beats A) and the number of loss differentials."""

    statistic: float
    p_value: float
    n: int


def _losses(actual: Floats, forecast: Floats, norm: int) -> Floats:
    errors = np.abs(actual - forecast)
    return errors if norm == 1 else errors**2


def _normal_cdf(x: float) -> float:
    """The standard normal distribution function (via erf: no SciPy import on the CLI's path)."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _test(differential: Floats) -> DieboldMariano:
    n = len(differential)
    if n < 2:
        raise ForecastError(f"forecasts: need at least 2 days for a Diebold-Mariano test, got {n}")
    variance = float(np.var(differential))
    mean = float(np.mean(differential))
    if variance == 0:
        stat = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    else:
        stat = mean / math.sqrt(variance / n)
    return DieboldMariano(stat, 1.0 - _normal_cdf(stat), n)


def _check(actual: Floats, a: Floats, b: Floats, norm: int) -> None:
    if norm not in (1, 2):
        raise ForecastError(f"norm: {norm}; use 1 (absolute errors) or 2 (squared errors)")
    if actual.ndim != 2 or actual.shape[1] != HOURS:
        raise ForecastError(f"actual: shape {actual.shape}, expected (days, {HOURS})")
    for name, values in (("forecast_a", a), ("forecast_b", b)):
        if values.shape != actual.shape:
            raise ForecastError(f"{name}: shape {values.shape} differs from the actuals' {actual.shape}")


def diebold_mariano(actual: Floats, forecast_a: Floats, forecast_b: Floats, norm: int = 1) -> DieboldMariano:
    """The multivariate DM test on days x 24 forecasts ($/MWh): is B more accurate than A?"""
    _check(actual, forecast_a, forecast_b, norm)
    loss_a = _losses(actual, forecast_a, norm).mean(axis=1)
    differential = loss_a - _losses(actual, forecast_b, norm).mean(axis=1)
    return _test(differential)


def diebold_mariano_hourly(
    actual: Floats, forecast_a: Floats, forecast_b: Floats, norm: int = 1
) -> tuple[DieboldMariano, ...]:
    """The DM test for each hour of the day (24 results, hour 0 first): is B more accurate than A?"""
    _check(actual, forecast_a, forecast_b, norm)
    differential = _losses(actual, forecast_a, norm) - _losses(actual, forecast_b, norm)
    return tuple(_test(differential[:, h]) for h in range(HOURS))
