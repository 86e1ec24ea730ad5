"""A neural network day-ahead model: a multilayer perceptron on LEAR's inputs, 24 prices out at once.

The DNN of the day-ahead literature (Lago et al. 2021) is a feed-forward
network mapping one day's inputs (lagged price profiles, exogenous day-ahead
forecasts, weekday) to the next day's 24 prices in one output layer, so the
hours share what they learn. This one reads `features.lear_design` and
trains scikit-learn's `MLPRegressor` (Adam, early stopping on the last
tenth of the window, L2 penalty) in LEAR's asinh-scaled space; a network
is only as good as its seed, so `members` networks with consecutive seeds
are averaged. scikit-learn rather than PyTorch: a few hundred daily rows
need no GPU framework, and a fit takes about a second on one core.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from carbon254.forecast.days import Floats, History
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.features import LOOKBACK_DAYS, WEEKDAYS, lear_design
from carbon254.forecast.protocol import DayForecast
from carbon254.forecast.scaling import AsinhScaler

if TYPE_CHECKING:
    from sklearn.neural_network import MLPRegressor

MIN_TRAINING_DAYS = 60


@dataclass(frozen=True, slots=True)
class FittedNeuralNet:
    """The trained networks and the scalers of their inputs (not the weekday dummies) and 24 outputs."""

    networks: tuple[MLPRegressor, ...]
    x_scaler: AsinhScaler
    y_scaler: AsinhScaler

    def predict_day(self, history: History) -> DayForecast:
        """The target day's 24 prices ($/MWh): the mean of the networks' forecasts."""
        n = history.n_days
        x = _inputs(lear_design(history, n, n + 1), self.x_scaler)
        scaled = np.mean([network.predict(x).reshape(1, -1) for network in self.networks], axis=0)
        return DayForecast(self.y_scaler.inverse(scaled)[0])


def _inputs(design: Floats, scaler: AsinhScaler) -> Floats:
    return np.hstack([scaler.transform(design[:, :-WEEKDAYS]), design[:, -WEEKDAYS:]])


@dataclass(frozen=True, slots=True)
class NeuralNet:
    """An MLP day-ahead model: `hidden` layer widths, L2 penalty `alpha`, the last `calibration_days` days,
    and `members` networks (seeds seed, seed + 1, ...) averaged."""

    hidden: tuple[int, ...] = (128, 64)
    alpha: float = 1e-3
    calibration_days: int = 1456
    members: int = 3
    max_iter: int = 400
    name: str = "neural"

    def __post_init__(self) -> None:
        if not self.hidden or min(self.hidden) < 1:
            raise ForecastError(f"hidden: {self.hidden}; need at least one layer of at least one unit")
        if self.members < 1:
            raise ForecastError(f"members: {self.members}; need at least 1")
        if self.calibration_days < self.min_history_days:
            raise ForecastError(
                f"calibration_days: {self.calibration_days}; need at least {self.min_history_days}"
            )

    @property
    def min_history_days(self) -> int:
        """A week of lags and two months of training days (a network needs more rows than LEAR)."""
        return LOOKBACK_DAYS + MIN_TRAINING_DAYS

    def fit(self, history: History, seed: int = 0) -> FittedNeuralNet:
        """Train the networks on the last `calibration_days` days of `history` (same seed, same fit)."""
        n = history.n_days
        first = max(LOOKBACK_DAYS, n - self.calibration_days + LOOKBACK_DAYS)
        if n - first < MIN_TRAINING_DAYS:
            raise ForecastError(
                f"history: {self.name} needs at least {self.min_history_days} days of prices, got {n}"
            )
        # Deferred: scikit-learn takes over a second to import, and every process that serves
        # forecasts imports this package, mostly never to train a network.
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor

        design = lear_design(history, first, n)
        x_scaler = AsinhScaler.fit(design[:, :-WEEKDAYS])
        y_scaler = AsinhScaler.fit(history.prices[first:n])
        x = _inputs(design, x_scaler)
        y = y_scaler.transform(history.prices[first:n])
        networks = []
        for member in range(self.members):
            network = MLPRegressor(
                hidden_layer_sizes=self.hidden,
                alpha=self.alpha,
                learning_rate_init=1e-3,
                max_iter=self.max_iter,
                early_stopping=True,
                validation_fraction=0.1,
                n_iter_no_change=20,
                random_state=seed + member,
            )
            with warnings.catch_warnings():
                # Early stopping ends most fits; one that runs out of iterations is still a usable fit.
                warnings.simplefilter("ignore", ConvergenceWarning)
                networks.append(network.fit(x, y))
        return FittedNeuralNet(tuple(networks), x_scaler, y_scaler)
