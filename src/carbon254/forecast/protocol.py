"""The one shape every day-ahead model has: fit on a `History`, then forecast a day's 24 prices from one.

A `Forecaster` is a model's specification (its parameters: a frozen,
picklable value a registry can store). `fit(history, seed)` returns a
`FittedForecaster`, trained on prices before `history.target_day`, whose
`predict_day(history)` forecasts the target day of any later history
(between recalibrations the same fit forecasts several days, each from
that day's own lags). Quantile models also give P10/P50/P90.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from carbon254.forecast.days import HOURS, Floats, History
from carbon254.forecast.errors import ForecastError

QUANTILE_LEVELS = (0.1, 0.5, 0.9)


@dataclass(frozen=True, slots=True)
class DayForecast:
    """One delivery day's forecast: `point` (24,) $/MWh, and `quantiles` (len(levels), 24) $/MWh or None.

    `levels` are the quantile probabilities (P10/P50/P90 by default), rising;
    each quantile row is non-decreasing across levels hour by hour. An
    ensemble also gives its members' forecasts: `members` (m, 24) $/MWh
    named by `member_names`, so a backtest scores each member on the way.
    """

    point: Floats
    quantiles: Floats | None = None
    levels: tuple[float, ...] = QUANTILE_LEVELS
    members: Floats | None = None
    member_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.point.shape != (HOURS,):
            raise ForecastError(f"point: shape {self.point.shape}, expected ({HOURS},)")
        if not np.isfinite(self.point).all():
            raise ForecastError("point: a forecast price is not finite")
        if self.quantiles is not None and self.quantiles.shape != (len(self.levels), HOURS):
            raise ForecastError(
                f"quantiles: shape {self.quantiles.shape}, expected ({len(self.levels)}, {HOURS})"
            )
        if self.members is not None and self.members.shape != (len(self.member_names), HOURS):
            raise ForecastError(
                f"members: shape {self.members.shape}, expected ({len(self.member_names)}, {HOURS})"
            )


class FittedForecaster(Protocol):
    """A model trained at one moment; forecasts the target day of any later history."""

    def predict_day(self, history: History) -> DayForecast:
        """The 24 prices ($/MWh) of `history.target_day` from what `history` holds."""
        ...


class Forecaster(Protocol):
    """A day-ahead model's specification: its name, how much history it needs, and how it trains."""

    @property
    def name(self) -> str:
        """A short name for tables and the CLI (e.g. `lear`)."""
        ...

    @property
    def min_history_days(self) -> int:
        """The fewest days of prices before the first forecast day that the model can train on."""
        ...

    def fit(self, history: History, seed: int = 0) -> FittedForecaster:
        """Train on the prices in `history` (all before its target day); reproducible for a `seed`."""
        ...
