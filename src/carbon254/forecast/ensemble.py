"""Forecast averaging: the mean (or a weighted mean) of several models' day-ahead forecasts.

Averaging models that err differently (LEAR extrapolates linearly, trees
do not; short and long calibration windows weigh regimes differently) is
the most reliable gain in the EPF literature. The ensemble's forecast keeps
every member's forecast (and the members' own members, an ensemble of LEAR
windows for one), so one backtest scores them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbon254.forecast.days import History
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.protocol import DayForecast, FittedForecaster, Forecaster


@dataclass(frozen=True, slots=True)
class FittedEnsemble:
    """The members' fits, their names and weights (summing to 1)."""

    members: tuple[FittedForecaster, ...]
    names: tuple[str, ...]
    weights: tuple[float, ...]

    def predict_day(self, history: History) -> DayForecast:
        """The weighted mean of the members' forecasts ($/MWh); members (and theirs) kept by name."""
        forecasts = [member.predict_day(history) for member in self.members]
        point = np.sum([w * f.point for w, f in zip(self.weights, forecasts, strict=True)], axis=0)
        rows: list[np.ndarray] = []
        names: list[str] = []
        for name, forecast in zip(self.names, forecasts, strict=True):
            if forecast.members is not None:
                rows += list(forecast.members)
                names += [n if n not in names else f"{name}.{n}" for n in forecast.member_names]
            rows.append(forecast.point)
            names.append(name)
        return DayForecast(point, members=np.vstack(rows), member_names=tuple(names))


@dataclass(frozen=True, slots=True)
class Ensemble:
    """The mean of `members`' forecasts, weighted by `weights` (None: equal; normalised to sum to 1)."""

    members: tuple[Forecaster, ...]
    weights: tuple[float, ...] | None = None
    name: str = "ensemble"

    def __post_init__(self) -> None:
        if not self.members:
            raise ForecastError("members: an ensemble needs at least one model")
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise ForecastError(f"members: a name is used twice ({', '.join(names)})")
        if self.weights is not None and (
            len(self.weights) != len(self.members) or min(self.weights) < 0 or sum(self.weights) <= 0
        ):
            raise ForecastError("weights: one non-negative weight per member, not all zero")

    @property
    def min_history_days(self) -> int:
        """What the most demanding member needs."""
        return max(m.min_history_days for m in self.members)

    def fit(self, history: History, seed: int = 0) -> FittedEnsemble:
        """Every member fitted on the same history and seed."""
        raw = self.weights or tuple(1.0 for _ in self.members)
        total = sum(raw)
        return FittedEnsemble(
            tuple(m.fit(history, seed) for m in self.members),
            tuple(m.name for m in self.members),
            tuple(w / total for w in raw),
        )
