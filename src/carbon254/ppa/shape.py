"""Generation from an uploaded shape: an hourly series on the same hours, or an 8,760-hour typical year."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from carbon254.ppa.degradation import degradation_factors
from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import Floats, check_starts, check_values
from carbon254.ppa.typical_year import HOURS_TYPICAL, typical_hour


def shape_profile(
    shape: npt.ArrayLike,
    starts: npt.ArrayLike,
    *,
    scale: float = 1.0,
    utc_offset_hours: int = 0,
    degradation: float = 0.0,
) -> Floats:
    """Hourly generation (MWh per hour) at hour starts (µs UTC) from an uploaded shape, times `scale`.

    A shape as long as `starts` is taken hour for hour. An 8,760-value shape
    is a typical year starting 1 January 00:00 on the clock UTC +
    `utc_offset_hours` (a shape in US Central standard time: -6), laid on
    every year of `starts` (29 February repeats the 28th). Values must be
    finite and >= 0; `scale` turns a per-MW shape into a plant's MWh.
    Output fades by `degradation` per year from the first hour.
    """
    stamps = check_starts(starts)
    values = np.asarray(shape, dtype=np.float64)
    if values.ndim != 1:
        raise PpaError(f"shape: expected one value per hour, got shape {values.shape}")
    values = check_values("shape", values, len(values), nonnegative=True)
    if not (math.isfinite(scale) and scale >= 0):
        raise PpaError(f"scale: {scale!r} must be >= 0")
    if len(values) == len(stamps):
        hourly = values
    elif len(values) == HOURS_TYPICAL:
        hourly = values[typical_hour(stamps, utc_offset_hours)]
    else:
        raise PpaError(
            f"shape: {len(values)} values; need one per hour start ({len(stamps)}) "
            "or an 8,760-hour typical year"
        )
    return np.asarray(hourly * scale * degradation_factors(stamps, degradation), dtype=np.float64)
