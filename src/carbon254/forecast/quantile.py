"""Prediction intervals by split conformal calibration: quantiles of a model's own out-of-sample errors.

`Conformal` wraps any point model. At each fit it trains the model on all
but the last `holdout_days` days, forecasts each held-out day from what was
known that day (real out-of-sample errors, not in-sample residuals), and
keeps the empirical quantiles of the errors, hour by hour (`per_hour`) or
pooled. It then refits on all the history (`refit`, default) and adds the
error quantiles to the new point forecast: P10/P50/P90 by default. With
errors that behave alike in the holdout and the test days the band covers
its nominal share (80 % for P10-P90); a backtest reports the coverage
achieved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbon254.forecast.days import Floats, History
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.protocol import QUANTILE_LEVELS, DayForecast, FittedForecaster, Forecaster

MIN_HOLDOUT_DAYS = 7


@dataclass(frozen=True, slots=True)
class FittedConformal:
    """The point model's fit and the error quantiles ((levels, 24), $/MWh) added to its forecast."""

    base: FittedForecaster
    offsets: Floats
    levels: tuple[float, ...]

    def predict_day(self, history: History) -> DayForecast:
        """The point forecast ($/MWh) and point + error quantiles for each level."""
        forecast = self.base.predict_day(history)
        return DayForecast(
            forecast.point,
            quantiles=forecast.point + self.offsets,
            levels=self.levels,
            members=forecast.members,
            member_names=forecast.member_names,
        )


@dataclass(frozen=True, slots=True)
class Conformal:
    """`base` with quantiles from its errors on the last `holdout_days` days before each fit."""

    base: Forecaster
    holdout_days: int = 91
    levels: tuple[float, ...] = QUANTILE_LEVELS
    per_hour: bool = True
    refit: bool = True

    def __post_init__(self) -> None:
        if self.holdout_days < MIN_HOLDOUT_DAYS:
            raise ForecastError(f"holdout_days: {self.holdout_days}; need at least {MIN_HOLDOUT_DAYS}")
        if not self.levels or list(self.levels) != sorted(set(self.levels)) or min(self.levels) <= 0:
            raise ForecastError(f"levels: {self.levels!r} must rise strictly within (0, 1)")
        if max(self.levels) >= 1:
            raise ForecastError(f"levels: {self.levels!r} must rise strictly within (0, 1)")

    @property
    def name(self) -> str:
        """The base model's name (the quantiles do not change its point forecast)."""
        return self.base.name

    @property
    def min_history_days(self) -> int:
        """The base model's needs plus the holdout."""
        return self.base.min_history_days + self.holdout_days

    def fit(self, history: History, seed: int = 0) -> FittedConformal:
        """Calibrate the error quantiles on the holdout, then (by default) refit on the whole history."""
        n = history.n_days
        first = n - self.holdout_days
        if first < self.base.min_history_days:
            raise ForecastError(
                f"history: {self.base.name} with a {self.holdout_days}-day holdout needs "
                f"{self.min_history_days} days of prices, got {n}"
            )
        calibration = self.base.fit(history.truncated(first), seed)
        errors = np.vstack(
            [history.prices[d] - calibration.predict_day(history.truncated(d)).point for d in range(first, n)]
        )
        if self.per_hour:
            offsets = np.quantile(errors, self.levels, axis=0)
        else:
            offsets = np.repeat(
                np.quantile(errors.reshape(-1), self.levels)[:, None], errors.shape[1], axis=1
            )
        base = self.base.fit(history, seed) if self.refit else calibration
        return FittedConformal(base, np.asarray(offsets, dtype=np.float64), self.levels)
