"""Output fade of a generator: a fixed fraction lost per operating year."""

from __future__ import annotations

import math

import numpy as np

from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import Floats, Stamps, anniversary_index


def degradation_factors(starts: Stamps, rate: float, origin_us: int | None = None) -> Floats:
    """(1 - rate) ** operating year of each hour start (µs UTC), year 0 from `origin_us` (default the first).

    `rate` is the fraction of output lost per year (0.005 = 0.5%/yr), stepping
    on each anniversary of the origin. Raises `PpaError` outside [0, 1).
    """
    if not (math.isfinite(rate) and 0 <= rate < 1):
        raise PpaError(f"degradation: {rate!r} must be a yearly fraction in [0, 1) (0.005 = 0.5%/yr)")
    if rate == 0:
        return np.ones(len(starts))
    origin = int(starts[0]) if origin_us is None else origin_us
    years = np.maximum(anniversary_index(starts, origin), 0)
    return np.asarray(np.power(1.0 - rate, years.astype(np.float64)))
