"""Gradient-boosted trees for day-ahead prices: LightGBM and XGBoost point models on one long design.

One model for all 24 hours: each (day, hour) is a row of `features.gbm_design`
(calendar, lagged prices, rolling means, exogenous series). The target is
the price through the asinh transform with median/MAD scaling of the
training window (`scaling.AsinhScaler`), so squared error is not dominated
by spikes; forecasts are transformed back to $/MWh. Trees do not
extrapolate, which is why the best model averages them with LEAR.

Training is seeded (bagging, feature sampling) and single-threaded by
default (`threads`): backtests parallelise over days instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from carbon254.forecast.days import Floats, History
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.features import LOOKBACK_DAYS, gbm_design
from carbon254.forecast.protocol import DayForecast
from carbon254.forecast.scaling import AsinhScaler

MIN_TRAINING_DAYS = 28


@dataclass(frozen=True, slots=True)
class GbmParams:
    """Boosting hyper-parameters shared by both libraries (each maps them to its own names).

    `leaves` bounds a LightGBM tree's leaves and sets XGBoost's
    `max_leaves` (depth-unbounded, lossguide growth); `min_child_samples`
    is the fewest rows in a leaf (XGBoost: the minimum child weight);
    `subsample` and `colsample` the share of rows and features each tree sees.
    The defaults were chosen on the PJM benchmark for accuracy at a few
    seconds per fit on one thread (400 trees at 0.075 matched 600 at 0.05).
    """

    n_estimators: int = 400
    learning_rate: float = 0.075
    leaves: int = 31
    min_child_samples: int = 20
    subsample: float = 0.5
    colsample: float = 0.8
    reg_lambda: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "n_estimators": self.n_estimators >= 1,
            "learning_rate": 0 < self.learning_rate <= 1,
            "leaves": self.leaves >= 2,
            "min_child_samples": self.min_child_samples >= 1,
            "subsample": 0 < self.subsample <= 1,
            "colsample": 0 < self.colsample <= 1,
            "reg_lambda": self.reg_lambda >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ForecastError(f"{name}: {getattr(self, name)!r} is out of range")


class _Regressor(Protocol):
    def fit(self, x: Floats, y: Floats) -> Any: ...

    def predict(self, x: Floats) -> Any: ...


@dataclass(frozen=True, slots=True)
class FittedGbm:
    """A trained booster and the target scaler; forecasts the target day of any later history."""

    regressor: _Regressor
    scaler: AsinhScaler
    training_days: int

    def predict_day(self, history: History) -> DayForecast:
        """The target day's 24 prices ($/MWh)."""
        n = history.n_days
        raw = np.asarray(self.regressor.predict(gbm_design(history, n, n + 1)), dtype=np.float64)
        return DayForecast(self.scaler.inverse(raw[:, None])[:, 0])


def _training_set(history: History, calibration_days: int | None, name: str) -> tuple[Floats, Floats, int]:
    n = history.n_days
    first = LOOKBACK_DAYS if calibration_days is None else max(LOOKBACK_DAYS, n - calibration_days)
    if n - first < MIN_TRAINING_DAYS:
        raise ForecastError(
            f"history: {name} needs at least {LOOKBACK_DAYS + MIN_TRAINING_DAYS} days of prices, got {n}"
        )
    x = gbm_design(history, first, n)
    y = history.prices[first:n].reshape(-1)
    return x, y, n - first


def _fit(regressor: _Regressor, history: History, calibration_days: int | None, name: str) -> FittedGbm:
    x, y, days = _training_set(history, calibration_days, name)
    scaler = AsinhScaler.fit(y[:, None])
    regressor.fit(x, scaler.transform(y[:, None])[:, 0])
    return FittedGbm(regressor, scaler, days)


@dataclass(frozen=True, slots=True)
class LightGbm:
    """LightGBM on the last `calibration_days` days of (day, hour) rows (None: all history)."""

    params: GbmParams = field(default_factory=GbmParams)
    calibration_days: int | None = 1456
    threads: int = 1
    name: str = "lightgbm"

    @property
    def min_history_days(self) -> int:
        """A week of lags and four weeks of training days."""
        return LOOKBACK_DAYS + MIN_TRAINING_DAYS

    def fit(self, history: History, seed: int = 0) -> FittedGbm:
        """A LightGBM regressor (squared error on the transformed price), seeded."""
        import lightgbm  # deferred: the naive models and the CLI's start-up do without it

        p = self.params
        regressor = lightgbm.LGBMRegressor(
            n_estimators=p.n_estimators,
            learning_rate=p.learning_rate,
            num_leaves=p.leaves,
            min_child_samples=p.min_child_samples,
            subsample=p.subsample,
            subsample_freq=1,
            colsample_bytree=p.colsample,
            reg_lambda=p.reg_lambda,
            random_state=seed,
            n_jobs=self.threads,
            deterministic=True,
            verbose=-1,
        )
        return _fit(regressor, history, self.calibration_days, self.name)


@dataclass(frozen=True, slots=True)
class XgBoost:
    """XGBoost (histogram trees, lossguide growth) on the last `calibration_days` days (None: all)."""

    params: GbmParams = field(default_factory=GbmParams)
    calibration_days: int | None = 1456
    threads: int = 1
    name: str = "xgboost"

    @property
    def min_history_days(self) -> int:
        """A week of lags and four weeks of training days."""
        return LOOKBACK_DAYS + MIN_TRAINING_DAYS

    def fit(self, history: History, seed: int = 0) -> FittedGbm:
        """An XGBoost regressor (squared error on the transformed price), seeded."""
        import xgboost  # deferred, as LightGBM

        p = self.params
        regressor = xgboost.XGBRegressor(
            n_estimators=p.n_estimators,
            learning_rate=p.learning_rate,
            max_leaves=p.leaves,
            max_depth=0,
            grow_policy="lossguide",
            tree_method="hist",
            min_child_weight=p.min_child_samples,
            subsample=p.subsample,
            colsample_bytree=p.colsample,
            reg_lambda=p.reg_lambda,
            random_state=seed,
            n_jobs=self.threads,
        )
        return _fit(regressor, history, self.calibration_days, self.name)
