"""Real-time forecasts of the next few five-minute intervals, fast enough to redo at every new interval.

A direct multi-horizon linear model: for each horizon h = 1..H intervals
ahead, the change from the newest price, `price[t + h] - price[t]`, is
regressed on the newest price (mean reversion), its changes over the last
`lags` intervals and, when `season` is set (288 five-minute intervals a
day), on yesterday's price at the target time minus the newest (the daily
shape). Real-time prices spike, and a least-squares fit chasing spikes
forecasts worse than the last price, so the training changes are clipped
at their `clip_quantile` (winsorized) before the least-squares solve.
Prediction intervals come from the empirical quantiles of each horizon's
errors on the last `holdout_share` of the history, fitted without it (out
of sample); the coefficients are then refitted on all of it.

The live part is small: a `SubHourlyState` holds the newest interval's
start and the last prices (a day's worth with `season`, else `lags`);
`update` folds in a new or revised interval and `predict` is a couple of
small products, microseconds, for the stream re-forecaster to call per
committed interval. Times are UTC microseconds since the epoch; prices $/MWh.
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
INTERVALS_PER_DAY = 288


@dataclass(frozen=True, slots=True)
class SubHourlyForecast:
    """The next intervals' starts (µs UTC, (H,)), point forecasts (H,) and quantiles ((levels, H)), $/MWh."""

    interval_start: Stamps
    point: Floats
    quantiles: Floats
    levels: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SubHourlyState:
    """What the model keeps between intervals: the newest interval's start (µs UTC) and the last prices
    ($/MWh), newest first."""

    last_start_us: int
    recent: Floats


@dataclass(frozen=True, slots=True)
class SubHourlyModel:
    """Per-horizon coefficients on a grid of `interval_us` microseconds.

    `coef` (H, 1 + lags): intercept, the newest price, then its changes
    since 1..lags-1 intervals before; `seasonal` (H,) multiplies yesterday's
    price at the target time minus the newest (zeros when `season` is 0);
    `offsets` (levels, H) are the error quantiles added for the intervals.
    """

    interval_us: int
    coef: Floats
    seasonal: Floats
    season: int
    offsets: Floats
    levels: tuple[float, ...]

    @property
    def lags(self) -> int:
        """How many past intervals the autoregressive part reads."""
        return int(self.coef.shape[1]) - 1

    @property
    def horizons(self) -> int:
        """How many intervals ahead it forecasts."""
        return int(self.coef.shape[0])

    @property
    def memory(self) -> int:
        """How many past prices the state keeps."""
        return max(self.lags, self.season)

    def start(self, interval_start_us: Stamps, prices: Floats) -> SubHourlyState:
        """The state after a regular series (µs UTC starts, $/MWh) of at least `memory` intervals."""
        starts, values = _regular(interval_start_us, prices, self.interval_us)
        if len(values) < self.memory:
            raise ForecastError(f"prices: need the last {self.memory} intervals, got {len(values)}")
        return SubHourlyState(int(starts[-1]), values[::-1][: self.memory].copy())

    def update(self, state: SubHourlyState, interval_start_us: int, price: float) -> SubHourlyState:
        """The state with one more interval (µs UTC start, $/MWh).

        The newest interval again replaces its price (a revision); an
        interval after a gap carries the last price over the missed ones;
        an older or off-grid interval raises `ForecastError`, as does a
        non-finite price.
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
        missed = min(step - 1, self.memory)
        fill = np.full(missed, state.recent[0]) if missed else np.empty(0)
        recent = np.concatenate(([price], fill, state.recent))[: self.memory]
        return SubHourlyState(interval_start_us, recent)

    def predict(self, state: SubHourlyState) -> SubHourlyForecast:
        """The next `horizons` intervals after the state's newest: starts, point and quantiles ($/MWh)."""
        recent = state.recent
        newest = recent[0]
        features = np.concatenate(([1.0, newest], newest - recent[1 : self.lags]))
        point = newest + self.coef @ features
        if self.season:
            # Yesterday at each target time t + h is `season - h` intervals before the newest.
            point += self.seasonal * (recent[self.season - 1 - np.arange(self.horizons)] - newest)
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


def _design(prices: Floats, rows: npt.NDArray[np.int64], lags: int, season: int, h: int) -> Floats:
    """Inputs of horizon `h` at rows t: 1, price t, its changes since t-1..t-lags+1, yesterday at t+h."""
    newest = prices[rows]
    columns = [np.ones(len(rows)), newest] + [newest - prices[rows - i] for i in range(1, lags)]
    if season:
        columns.append(prices[rows + h - season] - newest)
    return np.column_stack(columns)


def _fit(
    prices: Floats, rows: npt.NDArray[np.int64], lags: int, season: int, horizons: int, clip_quantile: float
) -> Floats:
    """Coefficients (H, inputs) by least squares on winsorized changes, one horizon at a time."""
    solved = []
    for h in range(1, horizons + 1):
        x = _design(prices, rows, lags, season, h)
        change = prices[rows + h] - prices[rows]
        bound = np.quantile(np.abs(change), clip_quantile)
        solved.append(np.linalg.lstsq(x, np.clip(change, -bound, bound), rcond=None)[0])
    return np.vstack(solved)


def fit_subhourly(
    interval_start_us: Stamps,
    prices: Floats,
    *,
    lags: int = 12,
    horizons: int = 12,
    season: int = INTERVALS_PER_DAY,
    levels: tuple[float, ...] = QUANTILE_LEVELS,
    holdout_share: float = 0.2,
    clip_quantile: float = 0.99,
    interval_us: int = FIVE_MINUTES_US,
) -> SubHourlyModel:
    """Fit the per-horizon model on a regular series (µs UTC starts, $/MWh; see the module docstring).

    `season` is the intervals in a day (0: no daily term; else at least
    `horizons`). Raises `ForecastError` for an irregular or short series, or
    parameters out of range.
    """
    if lags < 1 or horizons < 1:
        raise ForecastError(f"lags/horizons: {lags}/{horizons}; both must be at least 1")
    if season and season < horizons:
        raise ForecastError(f"season: {season}; 0 or at least the {horizons} horizons")
    if not 0 < holdout_share < 1:
        raise ForecastError(f"holdout_share: {holdout_share!r} must be in (0, 1)")
    if not 0.5 <= clip_quantile <= 1:
        raise ForecastError(f"clip_quantile: {clip_quantile!r} must be in [0.5, 1]")
    if not levels or list(levels) != sorted(set(levels)) or levels[0] <= 0 or levels[-1] >= 1:
        raise ForecastError(f"levels: {levels!r} must rise strictly within (0, 1)")
    _, p = _regular(interval_start_us, prices, interval_us)
    rows = np.arange(max(lags, season) - 1, len(p) - horizons)
    holdout = int(len(rows) * holdout_share)
    if len(rows) - holdout < 5 * (lags + 2) or holdout < 20:
        raise ForecastError(f"prices: {len(p)} intervals are too few to fit {lags} lags and hold some out")
    head = _fit(p, rows[:-holdout], lags, season, horizons, clip_quantile)
    tail = rows[-holdout:]
    errors = np.column_stack(
        [
            p[tail + h] - p[tail] - _design(p, tail, lags, season, h) @ head[h - 1]
            for h in range(1, horizons + 1)
        ]
    )
    offsets = np.quantile(errors, levels, axis=0)
    coef = _fit(p, rows, lags, season, horizons, clip_quantile)
    seasonal = coef[:, -1].copy() if season else np.zeros(horizons)
    shared = coef[:, :-1] if season else coef
    return SubHourlyModel(
        interval_us, np.ascontiguousarray(shared), seasonal, season, np.asarray(offsets), levels
    )


def regular_series(
    starts: Stamps, prices: Floats, interval_us: int = FIVE_MINUTES_US
) -> tuple[Stamps, Floats]:
    """A series (µs UTC starts in time order, $/MWh) on its regular grid: a missing interval carries the
    last price over (as the live state does), an off-grid or repeated start raises `ForecastError`."""
    s = np.asarray(starts, dtype=np.int64)
    p = np.asarray(prices, dtype=np.float64)
    if len(s) != len(p):
        raise ForecastError(f"interval_start/prices: {len(s)} starts for {len(p)} prices")
    if len(s) == 0:
        return s, p
    offsets = s - s[0]
    if (offsets % interval_us).any() or (np.diff(s) <= 0).any():
        raise ForecastError("interval_start: starts must rise on a regular grid")
    slots = offsets // interval_us
    filled = np.full(int(slots[-1]) + 1, np.nan)
    filled[slots] = p
    # Carry each price forward over the slots after it that have none.
    index = np.where(np.isfinite(filled), np.arange(len(filled)), 0)
    np.maximum.accumulate(index, out=index)
    grid = s[0] + interval_us * np.arange(len(filled), dtype=np.int64)
    return grid, filled[index]
