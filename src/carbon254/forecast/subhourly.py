"""Real-time forecasts of the next few five-minute intervals, fast enough to redo at every new interval.

A direct multi-horizon linear autoregression: for each horizon h = 1..H
intervals ahead, `price[t + h] = c_h + sum_i a_{h,i} price[t - i]` over the
last `lags` intervals, fitted by least squares on a history (one solve for
all horizons). Prediction intervals come from the empirical quantiles of
each horizon's errors on the last `holdout_share` of the history, fitted
without it (out of sample); the coefficients are then refitted on all of it.

The live part is small on purpose: a `SubHourlyState` holds the last
`lags` prices and the start of the newest interval; `update` folds in a
new (or revised) interval and `predict` is one (H x lags) product, a few
microseconds, for the stream re-forecaster to call per committed interval.
Times are UTC microseconds since the epoch; prices $/MWh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.forecast.days import Floats
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.protocol import QUANTILE_LEVELS

Stamps = npt.NDArray[np.int64]
FIVE_MINUTES_US = 300_000_000


@dataclass(frozen=True, slots=True)
class SubHourlyForecast:
    """The next intervals' starts (µs UTC, (H,)), point forecasts and quantiles ((levels, H)), $/MWh."""

    interval_start: Stamps
    point: Floats
    quantiles: Floats
    levels: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SubHourlyState:
    """What the model needs between intervals: the newest interval's start (µs UTC) and the last prices
    ($/MWh), newest first."""

    last_start_us: int
    recent: Floats


@dataclass(frozen=True, slots=True)
class SubHourlyModel:
    """Per-horizon coefficients `coef` (H, 1 + lags: intercept, then the newest price first) and error
    quantiles `offsets` (levels, H) $/MWh, on a grid of `interval_us` microseconds."""

    interval_us: int
    coef: Floats
    offsets: Floats
    levels: tuple[float, ...]

    @property
    def lags(self) -> int:
        """How many past intervals a forecast reads."""
        return int(self.coef.shape[1]) - 1

    @property
    def horizons(self) -> int:
        """How many intervals ahead it forecasts."""
        return int(self.coef.shape[0])

    def start(self, interval_start_us: Stamps, prices: Floats) -> SubHourlyState:
        """The state after a regular series (µs UTC starts, $/MWh); needs at least `lags` intervals."""
        starts, values = _regular(interval_start_us, prices, self.interval_us)
        if len(values) < self.lags:
            raise ForecastError(f"prices: need the last {self.lags} intervals, got {len(values)}")
        return SubHourlyState(int(starts[-1]), values[::-1][: self.lags].copy())

    def update(self, state: SubHourlyState, interval_start_us: int, price: float) -> SubHourlyState:
        """The state with one more interval (µs UTC start, $/MWh).

        The newest interval again replaces its price (a revision); an
        interval after a gap carries the last price over the missed ones;
        an older interval raises `ForecastError`, as does a non-finite price.
        """
        if not np.isfinite(price):
            raise ForecastError(f"price: {price!r} is not a finite price")
        if interval_start_us == state.last_start_us:
            recent = state.recent.copy()
            recent[0] = price
            return SubHourlyState(interval_start_us, recent)
        step, rest = divmod(interval_start_us - state.last_start_us, self.interval_us)
        if step < 1 or rest:
            raise ForecastError(
                f"interval_start: {interval_start_us} is not on the grid after {state.last_start_us}"
            )
        missed = min(step - 1, self.lags)
        fill = np.full(missed, state.recent[0]) if missed else np.empty(0)
        recent = np.concatenate(([price], fill, state.recent))[: self.lags]
        return SubHourlyState(interval_start_us, recent)

    def predict(self, state: SubHourlyState) -> SubHourlyForecast:
        """The next `horizons` intervals after the state's newest: starts, point and quantiles ($/MWh)."""
        point = self.coef[:, 0] + self.coef[:, 1:] @ state.recent
        starts = state.last_start_us + self.interval_us * np.arange(1, self.horizons + 1, dtype=np.int64)
        return SubHourlyForecast(starts, point, point + self.offsets, self.levels)


def _regular(starts: Stamps, prices: Floats, interval_us: int) -> tuple[Stamps, Floats]:
    s = np.asarray(starts, dtype=np.int64)
    p = np.asarray(prices, dtype=np.float64)
    if len(s) != len(p):
        raise ForecastError(f"interval_start/prices: {len(s)} starts for {len(p)} prices")
    if len(s) > 1 and not (np.diff(s) == interval_us).all():
        at = int(np.argmax(np.diff(s) != interval_us)) + 1
        raise ForecastError(f"interval_start: interval {at} is not {interval_us} µs after the one before")
    if not np.isfinite(p).all():
        raise ForecastError(f"prices: interval {int(np.argmin(np.isfinite(p)))} is not a finite price")
    return s, p


def _lagged(prices: Floats, lags: int, horizons: int) -> tuple[Floats, Floats]:
    """Design (rows, 1 + lags) and targets (rows, horizons): row t reads prices t, t-1, ... and
    forecasts t+1..t+H."""
    n = len(prices)
    rows = np.arange(lags - 1, n - horizons)
    x = np.column_stack([np.ones(len(rows))] + [prices[rows - i] for i in range(lags)])
    y = np.column_stack([prices[rows + h] for h in range(1, horizons + 1)])
    return x, y


def fit_subhourly(
    interval_start_us: Stamps,
    prices: Floats,
    *,
    lags: int = 12,
    horizons: int = 12,
    levels: tuple[float, ...] = QUANTILE_LEVELS,
    holdout_share: float = 0.2,
    interval_us: int = FIVE_MINUTES_US,
) -> SubHourlyModel:
    """Fit the per-horizon AR on a regular series (µs UTC starts, $/MWh; see the module docstring).

    Raises `ForecastError` for an irregular or short series, or parameters
    out of range (lags and horizons >= 1, holdout_share in (0, 1)).
    """
    if lags < 1 or horizons < 1:
        raise ForecastError(f"lags/horizons: {lags}/{horizons}; both must be at least 1")
    if not 0 < holdout_share < 1:
        raise ForecastError(f"holdout_share: {holdout_share!r} must be in (0, 1)")
    if not levels or list(levels) != sorted(set(levels)) or levels[0] <= 0 or levels[-1] >= 1:
        raise ForecastError(f"levels: {levels!r} must rise strictly within (0, 1)")
    _, p = _regular(interval_start_us, prices, interval_us)
    x, y = _lagged(p, lags, horizons)
    holdout = int(len(x) * holdout_share)
    if len(x) - holdout < 5 * (lags + 1) or holdout < 20:
        raise ForecastError(f"prices: {len(p)} intervals are too few to fit {lags} lags and hold some out")
    head = np.linalg.lstsq(x[:-holdout], y[:-holdout], rcond=None)[0]
    errors = y[-holdout:] - x[-holdout:] @ head
    offsets = np.quantile(errors, levels, axis=0)
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    return SubHourlyModel(interval_us, np.ascontiguousarray(coef.T), np.asarray(offsets), levels)
