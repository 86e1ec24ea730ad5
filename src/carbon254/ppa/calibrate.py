"""Fitting the price-path model (`PathsStep`) to an hourly price history.

The history is compared with its own expected shape: the mean price of
each (calendar month, UTC hour of day) cell, which is what a forward curve
would carry. Daily log deviations x_d = log(daily mean price / daily mean
of that shape) then give:

- mean reversion: the lag-one correlation of x_d, turned into kappa (per
  day) through the exact correlation of 24-hour means of the hourly model
  (a day's mean remembers more of yesterday than exp(-kappa) suggests);
- jumps: residuals e_d further than `jump_threshold` robust standard
  deviations (1.4826 × MAD) from their median, counted per year, with
  their mean and standard deviation as log jump sizes;
- volatility: the robust standard deviation of the other residuals, scaled
  from a daily-mean AR(1) to the model's hourly shocks (the stationary
  variance of the hourly process, less what averaging 24 hours removes).

Days whose mean price or shape is not positive are left out (a log ratio
means nothing there); so are days with fewer than 20 hours.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import HOURS_PER_YEAR, US_PER_HOUR, check_starts, check_values
from carbon254.scenarios import PathsStep

MIN_DAYS = 60
_MAD_TO_SD = 1.4826


def calibrate_paths(
    starts: npt.ArrayLike,
    prices: npt.ArrayLike,
    *,
    n_paths: int = 1000,
    jump_threshold: float = 3.0,
) -> PathsStep:
    """A `PathsStep` (kappa per day, annualized sigma, jumps per year and log sizes) fitted to hourly prices.

    `starts` are hour starts (µs UTC) and `prices` $/MWh; at least 60 usable
    days are needed. `n_paths` is carried into the step. Raises `PpaError`
    naming the input when the history is too short or never positive.
    """
    stamps = check_starts(starts)
    price = check_values("prices", prices, len(stamps))
    if not (math.isfinite(jump_threshold) and jump_threshold > 0):
        raise PpaError(f"jump_threshold: {jump_threshold!r} must be a positive number of standard deviations")
    months = stamps.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64) % 12
    hour = (stamps // US_PER_HOUR) % 24
    cell = (months * 24 + hour).astype(np.int64)
    shape = np.bincount(cell, weights=price, minlength=288) / np.maximum(np.bincount(cell, minlength=288), 1)
    day = stamps // (24 * US_PER_HOUR)
    days, which = np.unique(day, return_inverse=True)
    count = np.bincount(which)
    daily_price = np.bincount(which, weights=price) / count
    daily_shape = np.bincount(which, weights=shape[cell]) / count
    usable = (count >= 20) & (daily_price > 0) & (daily_shape > 0)
    if usable.sum() < MIN_DAYS:
        raise PpaError(
            f"prices: {int(usable.sum())} usable days (>= 20 hours, positive daily mean); need {MIN_DAYS}"
        )
    x = np.full(len(days), np.nan)
    x[usable] = np.log(daily_price[usable] / daily_shape[usable])
    x[usable] -= x[usable].mean()
    # Pairs of consecutive calendar days both usable.
    pair = usable[:-1] & usable[1:] & (np.diff(days) == 1)
    today, tomorrow = x[:-1][pair], x[1:][pair]
    if len(today) < MIN_DAYS // 2:
        raise PpaError(f"prices: {len(today)} pairs of consecutive usable days; need {MIN_DAYS // 2}")
    phi = float(np.dot(today, tomorrow) / np.dot(today, today)) if np.dot(today, today) > 0 else 0.0
    phi = min(max(phi, 0.01), 0.99)
    residual = tomorrow - phi * today
    centre = float(np.median(residual))
    spread = _MAD_TO_SD * float(np.median(np.abs(residual - centre)))
    jumps = (
        np.abs(residual - centre) > jump_threshold * spread if spread > 0 else np.zeros(len(residual), bool)
    )
    # The diffusion from the calm pairs: their lag-one correlation and residual spread.
    calm_today, calm_tomorrow = today[~jumps], tomorrow[~jumps]
    calm_phi = float(np.dot(calm_today, calm_tomorrow) / max(float(np.dot(calm_today, calm_today)), 1e-300))
    calm_phi = min(max(calm_phi, 0.01), 0.99)
    kappa = _kappa(calm_phi)
    calm = calm_tomorrow - calm_phi * calm_today
    daily_sd = float(calm.std()) if len(calm) > 1 else 0.0
    years = len(residual) / 365.25
    jump_sizes = residual[jumps]
    return PathsStep(
        n_paths=n_paths,
        kappa=kappa,
        sigma=_hourly_sigma(daily_sd, calm_phi, kappa),
        jump_intensity=len(jump_sizes) / years,
        jump_mean=float(jump_sizes.mean()) if len(jump_sizes) else 0.0,
        jump_sd=float(jump_sizes.std()) if len(jump_sizes) > 1 else 0.0,
    )


def _lag_one(kappa: float) -> float:
    """Lag-one correlation of consecutive 24-hour means of the hourly AR(1) with decay exp(-kappa / 24)."""
    decay = math.exp(-kappa / 24.0)
    lags = np.arange(-23, 24)
    weight = 24 - np.abs(lags)
    return float((weight * decay ** (24 + lags)).sum() / (weight * decay ** np.abs(lags)).sum())


def _kappa(correlation: float) -> float:
    """The kappa (per day) whose daily means have lag-one `correlation` (bisection; the map is monotone)."""
    low, high = 1e-3, 50.0
    if correlation >= _lag_one(low):
        return low
    if correlation <= _lag_one(high):
        return high
    for _ in range(80):
        mid = math.sqrt(low * high)
        if _lag_one(mid) > correlation:
            low = mid
        else:
            high = mid
    return math.sqrt(low * high)


def _hourly_sigma(daily_sd: float, phi: float, kappa: float) -> float:
    """Annualized sigma of the hourly model whose daily means leave AR(1) residuals of sd `daily_sd`."""
    if daily_sd == 0:
        return 0.0
    stationary_daily = daily_sd**2 / (1.0 - phi * phi)
    decay = math.exp(-kappa / 24.0)
    lags = np.arange(-23, 24)
    # Variance of a 24-hour mean of a stationary AR(1) with unit variance.
    averaging = float(((24 - np.abs(lags)) * decay ** np.abs(lags)).sum()) / 24.0**2
    stationary_hourly = stationary_daily / averaging
    sigma_h = math.sqrt(stationary_hourly * (1.0 - decay * decay))
    return sigma_h * math.sqrt(HOURS_PER_YEAR)
