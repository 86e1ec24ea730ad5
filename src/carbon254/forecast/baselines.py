"""The benchmarks every model is measured against: the naive and the seasonal naive (one-week) forecasts.

Nothing is trained: both copy known prices. The naive forecast is the one
of the EPF literature (Nowotarski and Weron; Lago et al. 2021): tomorrow
like today, except Monday, Saturday and Sunday, which are like the same day
a week earlier (weekends and the first working day differ from the days
before them). The seasonal naive is always a week earlier (y[t - 168 h]),
the reference rMAE divides by.
"""

from __future__ import annotations

from dataclasses import dataclass

from carbon254.forecast.calendar import weekday
from carbon254.forecast.days import History
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.protocol import DayForecast, FittedForecaster

_WEEK_AGO_DAYS = frozenset({0, 5, 6})  # Monday, Saturday, Sunday


def _lagged(history: History, lag: int, name: str) -> DayForecast:
    if history.n_days < lag:
        raise ForecastError(f"history: {name} needs {lag} days of prices, got {history.n_days}")
    return DayForecast(history.prices[history.n_days - lag].copy())


@dataclass(frozen=True, slots=True)
class _Copy:
    lag_weekdays: frozenset[int]
    name: str

    def predict_day(self, history: History) -> DayForecast:
        """The target day's prices copied from a day before (see the module docstring)."""
        day = int(weekday(history.days[-1:])[0])
        return _lagged(history, 7 if day in self.lag_weekdays else 1, self.name)


@dataclass(frozen=True, slots=True)
class Naive:
    """Yesterday's prices; for Monday, Saturday and Sunday the prices of a week earlier."""

    name: str = "naive"
    min_history_days: int = 7

    def fit(self, history: History, seed: int = 0) -> FittedForecaster:
        """Nothing to learn: the copy rule itself."""
        return _Copy(_WEEK_AGO_DAYS, self.name)


@dataclass(frozen=True, slots=True)
class SeasonalNaive:
    """The prices of the same weekday a week earlier (y[t - 168 h])."""

    name: str = "seasonal_naive"
    min_history_days: int = 7

    def fit(self, history: History, seed: int = 0) -> FittedForecaster:
        """Nothing to learn: the copy rule itself."""
        return _Copy(frozenset(range(7)), self.name)
