"""Persistent random processes that still allow random access by day.

A plain AR(1) run over a window depends on where the window starts. Here every
process is a fixed, finite filter of day-keyed innovations instead:

* intraday processes (per hour or per 5 minutes) run an AR(1) from rest at the
  start of the previous day, so a day's values depend only on its own and the
  previous day's innovations, and the memory lost is phi**(steps per day),
  negligible for the coefficients used;
* day-scale processes are a truncated, exponentially weighted sum of the last
  `memory` days' innovations (an MA approximation of an AR(1)).

Both are normalised to unit stationary variance.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@lru_cache(maxsize=64)
def _ar_matrix(phi: float, steps: int) -> FloatArray:
    """Maps two days of innovations (2*steps) to the second day's AR(1) values (steps)."""
    lags = np.arange(steps, 2 * steps)[:, None] - np.arange(2 * steps)[None, :]
    m = np.asarray(np.where(lags >= 0, phi ** np.maximum(lags, 0), 0.0) * np.sqrt(1.0 - phi * phi))
    m.setflags(write=False)
    return m


@lru_cache(maxsize=64)
def _within_day_matrix(phi: float, steps: int) -> FloatArray:
    """Maps one day of innovations (steps) to that day's AR(1) values run from rest, transposed."""
    m = np.ascontiguousarray(_ar_matrix(phi, steps)[:, steps:].T)
    m.setflags(write=False)
    return m


def ar_by_day(innovations: FloatArray, phi: float) -> FloatArray:
    """AR(1) values for each day from innovations of that day and the one before.

    `innovations` has shape (..., days + 1, steps): the first day along the
    second-to-last axis is the extra previous day. Returns (..., days, steps).
    """
    steps = innovations.shape[-1]
    pairs = np.concatenate([innovations[..., :-1, :], innovations[..., 1:, :]], axis=-1)
    return np.asarray(pairs @ _ar_matrix(phi, steps).T, dtype=np.float64)


def ar_within_day(innovations: FloatArray, phi: float) -> FloatArray:
    """AR(1) values of each day run from rest at the day's start, from that day's innovations alone.

    `innovations` has shape (..., days, steps); returns the same shape, scaled
    like `ar_by_day` (unit stationary variance).
    """
    return np.asarray(innovations @ _within_day_matrix(phi, innovations.shape[-1]), dtype=np.float64)


def ma_by_day(innovations: FloatArray, phi: float, memory: int) -> FloatArray:
    """Day-scale persistent factor: weighted sum of the last `memory` + 1 days' innovations.

    `innovations` has shape (..., days + memory); returns (..., days).
    """
    weights = phi ** np.arange(memory + 1)[::-1]
    weights = weights / np.sqrt(np.sum(weights * weights))
    windows = np.lib.stride_tricks.sliding_window_view(innovations, memory + 1, axis=-1)
    return np.asarray(windows @ weights, dtype=np.float64)


def interpolate_days(values: FloatArray, steps: int) -> FloatArray:
    """Spread day values over `steps` sub-day points without a jump at midnight.

    `values` holds one value per day for days [first - 1, last + 1] (so two more
    than the days returned); each day's value sits at its midday, and points in
    between are linearly interpolated. Returns (..., days * steps).
    """
    days = values.shape[-1] - 2
    frac = (np.arange(steps) + 0.5) / steps
    before = frac < 0.5
    # Weight on the neighbouring day: before midday, the previous day; after, the next.
    w = np.where(before, 0.5 - frac, frac - 0.5)
    prev_or_next = np.where(before[None, :], values[..., :days, None], values[..., 2:, None])
    out = (1.0 - w) * values[..., 1:-1, None] + w * prev_or_next
    return np.asarray(out.reshape(*values.shape[:-1], days * steps), dtype=np.float64)
