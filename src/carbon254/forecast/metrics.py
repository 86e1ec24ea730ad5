"""Accuracy of price forecasts as the EPF literature scores them (Lago et al. 2021).

All take arrays of the same shape (any shape: hours, or days x 24) and an
optional `mask` of the values to score (filled-in DST hours are not).
- MAE, RMSE in $/MWh.
- sMAPE = mean(2|y - f| / (|y| + |f|)) as a FRACTION (0.12 = 12 %); a term
  with y = f = 0 counts 0.
- MAPE = mean(|y - f| / |y|) as a fraction, over hours with y != 0 (prices
  can be 0 or negative: treat it with care).
- rMAE = MAE / MAE of a benchmark forecast on the same hours (the weekly
  seasonal naive in a backtest).
- Pinball loss averaged over the quantile levels, $/MWh; interval coverage
  is the share of actuals within [lowest, highest] quantile (P10-P90: 0.8
  is ideal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.forecast.days import Floats
from carbon254.forecast.errors import ForecastError

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ForecastMetrics:
    """Scores of a forecast over `n` hours (see the module docstring for definitions and units).

    `smape` and `mape` are fractions. `rmae` is None without a benchmark;
    `pinball`, `coverage` and `interval` (the levels of the band scored by
    `coverage`) are None without quantiles.
    """

    n: int
    mae: float
    rmse: float
    smape: float
    mape: float
    rmae: float | None = None
    pinball: float | None = None
    coverage: float | None = None
    interval: tuple[float, float] | None = None


def _flat(actual: Floats, other: Floats, mask: Mask | None, what: str) -> tuple[Floats, Floats]:
    if actual.shape != other.shape:
        raise ForecastError(f"{what}: shape {other.shape} differs from the actuals' {actual.shape}")
    if mask is None:
        return actual.reshape(-1), other.reshape(-1)
    if mask.shape != actual.shape:
        raise ForecastError(f"mask: shape {mask.shape} differs from the actuals' {actual.shape}")
    return actual[mask], other[mask]


def mae(actual: Floats, forecast: Floats, mask: Mask | None = None) -> float:
    """Mean absolute error, $/MWh."""
    y, f = _flat(actual, forecast, mask, "forecast")
    return float(np.mean(np.abs(y - f))) if len(y) else math.nan


def rmse(actual: Floats, forecast: Floats, mask: Mask | None = None) -> float:
    """Root mean squared error, $/MWh."""
    y, f = _flat(actual, forecast, mask, "forecast")
    return float(np.sqrt(np.mean((y - f) ** 2))) if len(y) else math.nan


def smape(actual: Floats, forecast: Floats, mask: Mask | None = None) -> float:
    """Symmetric MAPE, mean(2|y - f| / (|y| + |f|)), as a fraction."""
    y, f = _flat(actual, forecast, mask, "forecast")
    if not len(y):
        return math.nan
    scale = np.abs(y) + np.abs(f)
    terms = np.divide(2 * np.abs(y - f), scale, out=np.zeros(len(y)), where=scale > 0)
    return float(np.mean(terms))


def mape(actual: Floats, forecast: Floats, mask: Mask | None = None) -> float:
    """Mean absolute percentage error as a fraction, over hours whose actual price is not 0."""
    y, f = _flat(actual, forecast, mask, "forecast")
    nonzero = y != 0
    return float(np.mean(np.abs(y - f)[nonzero] / np.abs(y[nonzero]))) if nonzero.any() else math.nan


def pinball(actual: Floats, quantiles: Floats, levels: tuple[float, ...], mask: Mask | None = None) -> float:
    """Pinball (quantile) loss averaged over `levels` and hours, $/MWh.

    `quantiles` has a leading axis of one forecast per level; the rest
    matches `actual`. The loss of level q is q (y - f) when y >= f, else
    (1 - q)(f - y).
    """
    if quantiles.shape != (len(levels), *actual.shape):
        raise ForecastError(f"quantiles: shape {quantiles.shape}, expected ({len(levels)}, *{actual.shape})")
    total = 0.0
    for q, level in zip(quantiles, levels, strict=True):
        y, f = _flat(actual, q, mask, "quantile forecast")
        diff = y - f
        total += float(np.mean(np.maximum(level * diff, (level - 1) * diff))) if len(y) else math.nan
    return total / len(levels)


def coverage(actual: Floats, lower: Floats, upper: Floats, mask: Mask | None = None) -> float:
    """The share of actual prices within [lower, upper] (0-1)."""
    y, lo = _flat(actual, lower, mask, "lower bound")
    _, hi = _flat(actual, upper, mask, "upper bound")
    return float(np.mean((y >= lo) & (y <= hi))) if len(y) else math.nan


def evaluate(
    actual: Floats,
    forecast: Floats,
    *,
    benchmark: Floats | None = None,
    mask: Mask | None = None,
    quantiles: Floats | None = None,
    levels: tuple[float, ...] = (),
) -> ForecastMetrics:
    """Every score of a forecast: point errors, rMAE against `benchmark`, and quantile scores if given."""
    y, _ = _flat(actual, forecast, mask, "forecast")
    error = mae(actual, forecast, mask)
    relative = None
    if benchmark is not None:
        base = mae(actual, benchmark, mask)
        relative = error / base if base > 0 else math.nan
    loss = cover = band = None
    if quantiles is not None:
        loss = pinball(actual, quantiles, levels, mask)
        cover = coverage(actual, quantiles[0], quantiles[-1], mask)
        band = (levels[0], levels[-1])
    return ForecastMetrics(
        n=len(y),
        mae=error,
        rmse=rmse(actual, forecast, mask),
        smape=smape(actual, forecast, mask),
        mape=mape(actual, forecast, mask),
        rmae=relative,
        pinball=loss,
        coverage=cover,
        interval=band,
    )
