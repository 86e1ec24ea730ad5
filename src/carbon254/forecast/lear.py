"""LEAR: the LASSO-estimated autoregressive model of the day-ahead literature (Lago et al. 2021).

One linear model per hour of the day on the same daily inputs (the price
profiles of D-1, D-2, D-3 and D-7, each exogenous series on D, D-1 and D-7,
weekday dummies: `features.lear_design`). Prices and inputs go through the
asinh transform with median/MAD scaling fitted on the calibration window
(the dummies stay 0/1); each hour's penalty is the AIC-best knot of its
LARS path (`lars.lasso_lars_aic`, the criterion `LassoLarsIC` had when the
benchmark was published), whose coefficients are that penalty's LASSO fit.

`calibration_days` counts days of data in the window as epftoolbox does:
the first week of it only feeds the lags, so 1456 days train on 1449.
With less history the window is what there is. `LearEnsemble` averages
LEARs over several windows (56, 84, 1092 and 1456 days in the paper),
sharing one design matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.forecast.days import Floats, History
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.features import LOOKBACK_DAYS, WEEKDAYS, lear_design
from carbon254.forecast.lars import lasso_lars_aic_many
from carbon254.forecast.protocol import DayForecast
from carbon254.forecast.scaling import AsinhScaler

MIN_TRAINING_DAYS = 14
PAPER_WINDOWS = (56, 84, 1092, 1456)


@dataclass(frozen=True, slots=True)
class FittedLear:
    """One window's 24 hourly LASSO models in the transformed space, with the scalers that define it.

    `coef` (24, p) and `intercept` (24,) apply to the scaled inputs centred
    on `center` (p,); `x_scaler` covers the inputs but the weekday dummies,
    `y_scaler` the 24 hourly prices. `df` (24,) are the non-zero
    coefficients of each hour and `training_days` the rows it learned from.
    """

    coef: Floats
    intercept: Floats
    center: Floats
    x_scaler: AsinhScaler
    y_scaler: AsinhScaler
    df: npt.NDArray[np.int64]
    training_days: int

    def predict_rows(self, design: Floats) -> Floats:
        """Prices ($/MWh, (rows, 24)) for LEAR design rows."""
        scaled = _scale_inputs(design, self.x_scaler)
        return self.y_scaler.inverse(self.intercept + (scaled - self.center) @ self.coef.T)

    def predict_day(self, history: History) -> DayForecast:
        """The target day's 24 prices ($/MWh) from its LEAR inputs."""
        n = history.n_days
        return DayForecast(self.predict_rows(lear_design(history, n, n + 1))[0])


def _scale_inputs(design: Floats, scaler: AsinhScaler) -> Floats:
    return np.hstack([scaler.transform(design[:, :-WEEKDAYS]), design[:, -WEEKDAYS:]])


def fit_lear_rows(design: Floats, targets: Floats) -> FittedLear:
    """A LEAR fitted on design rows (m, p) and their day prices (m, 24) $/MWh (see the module docstring)."""
    m = len(design)
    x_scaler = AsinhScaler.fit(design[:, :-WEEKDAYS])
    y_scaler = AsinhScaler.fit(targets)
    x = _scale_inputs(design, x_scaler)
    y = y_scaler.transform(targets)
    center, y_mean = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - center, y - y_mean
    gram = xc.T @ xc
    xy = xc.T @ yc
    yy = np.einsum("ij,ij->j", yc, yc)
    floor = _least_squares_rss(gram, xy, yy, m)
    fits = lasso_lars_aic_many(gram, xy, yy, m, rss_floor=floor)
    coef = np.vstack([fit.coef for fit in fits])
    df = np.array([fit.df for fit in fits], dtype=np.int64)
    return FittedLear(coef, y_mean, center, x_scaler, y_scaler, df, m)


def _least_squares_rss(gram: Floats, xy: Floats, yy: Floats, m: int) -> Floats:
    """Each target's least-squares residual sum of squares (a floor for any LASSO knot); 0 if p >= m."""
    if m <= gram.shape[0] + 1:
        return np.zeros(len(yy))
    values, vectors = np.linalg.eigh(gram)
    keep = values > values.max() * 1e-12
    projected = vectors[:, keep].T @ xy
    explained = (projected**2 / values[keep, None]).sum(axis=0)
    return np.asarray(np.maximum(yy - explained, 0.0), dtype=np.float64)


def _window_rows(history: History, calibration_days: int, name: str) -> tuple[int, int]:
    n = history.n_days
    first = max(LOOKBACK_DAYS, n - calibration_days + LOOKBACK_DAYS)
    if n - first < MIN_TRAINING_DAYS:
        raise ForecastError(
            f"history: {name} needs at least {LOOKBACK_DAYS + MIN_TRAINING_DAYS} days of prices, got {n}"
        )
    return first, n


@dataclass(frozen=True, slots=True)
class Lear:
    """LEAR over a calibration window of `calibration_days` days (1456 = the paper's best single window)."""

    calibration_days: int = 1456
    name: str = "lear"

    def __post_init__(self) -> None:
        if self.calibration_days < LOOKBACK_DAYS + MIN_TRAINING_DAYS:
            raise ForecastError(
                f"calibration_days: {self.calibration_days}; "
                f"need at least {LOOKBACK_DAYS + MIN_TRAINING_DAYS}"
            )

    @property
    def min_history_days(self) -> int:
        """A week of lags and two weeks of training days."""
        return LOOKBACK_DAYS + MIN_TRAINING_DAYS

    def fit(self, history: History, seed: int = 0) -> FittedLear:
        """The 24 hourly models on the last `calibration_days` days of `history` (deterministic: no seed)."""
        first, stop = _window_rows(history, self.calibration_days, self.name)
        return fit_lear_rows(lear_design(history, first, stop), history.prices[first:stop])


@dataclass(frozen=True, slots=True)
class FittedLearEnsemble:
    """One `FittedLear` per calibration window; the forecast is their mean, each kept as a member."""

    members: tuple[FittedLear, ...]
    member_names: tuple[str, ...]

    def predict_day(self, history: History) -> DayForecast:
        """The mean of the windows' forecasts ($/MWh), with each window's forecast as a member."""
        n = history.n_days
        row = lear_design(history, n, n + 1)
        each = np.vstack([member.predict_rows(row)[0] for member in self.members])
        return DayForecast(each.mean(axis=0), members=each, member_names=self.member_names)


@dataclass(frozen=True, slots=True)
class LearEnsemble:
    """The mean of LEARs over several calibration windows (days; the paper's 56, 84, 1092, 1456)."""

    windows: tuple[int, ...] = PAPER_WINDOWS
    name: str = "lear_ensemble"

    def __post_init__(self) -> None:
        if not self.windows:
            raise ForecastError("windows: need at least one calibration window")
        for window in self.windows:
            Lear(window)

    @property
    def min_history_days(self) -> int:
        """A week of lags and two weeks of training days."""
        return LOOKBACK_DAYS + MIN_TRAINING_DAYS

    def fit(self, history: History, seed: int = 0) -> FittedLearEnsemble:
        """One LEAR per window from one design matrix of the longest window (deterministic: no seed)."""
        first, stop = _window_rows(history, max(self.windows), self.name)
        design = lear_design(history, first, stop)
        members = []
        for window in self.windows:
            start, _ = _window_rows(history, window, self.name)
            members.append(fit_lear_rows(design[start - first :], history.prices[start:stop]))
        names = tuple(f"lear_{window}" for window in self.windows)
        return FittedLearEnsemble(tuple(members), names)
