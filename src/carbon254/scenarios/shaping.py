"""Steps that reshape hours within their blocks: volatility (spread around block means) and solar troughs.

Both act on an hourly curve only; the engine rebuilds the monthly block
prices from the reshaped hours afterwards.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from carbon254.scenarios.frame import HourFrame
from carbon254.scenarios.linear import atom_mask, tenor_mask
from carbon254.scenarios.model import RenewablesStep, VolatilityStep

Floats = npt.NDArray[np.float64]

# The default solar shape over hour-ending 1..24: sin(pi * (HE - 7) / 12) on HE8-HE18, 1 at HE13.
SOLAR_BELL: tuple[float, ...] = tuple(
    math.sin(math.pi * (he - 7) / 12) if 8 <= he <= 18 else 0.0 for he in range(1, 25)
)


def volatility_factors(step: VolatilityStep, frame: HourFrame) -> Floats:
    """The step's factor for each hour it covers (tenor and blocks), 1 elsewhere."""
    covered = tenor_mask(step.start, step.end, frame.months)[:, None] & atom_mask(step.blocks)[None, :]
    per_group = np.where(covered.reshape(-1), step.factor, 1.0)
    factors: Floats = per_group[frame.group]
    return factors


def scale_deviations(prices: Floats, frame: HourFrame, factors: Floats) -> Floats:
    """Hourly prices ($/MWh) with each hour's deviation from its (month, atomic block) mean scaled.

    Means are over onpeak, 2x16 and 7x8 hours of each month separately, so
    every standard block average of every month is unchanged.
    """
    sums = np.bincount(frame.group, weights=prices, minlength=frame.n_groups)
    means = (sums / np.maximum(frame.counts, 1.0))[frame.group]
    scaled: Floats = means + factors * (prices - means)
    return scaled


def solar_factors(step: RenewablesStep, frame: HourFrame) -> Floats:
    """Per-hour multipliers 1 - depth/100 * w(hour-ending) in the step's months and tenor, 1 elsewhere."""
    weights = np.asarray(step.shape if step.shape is not None else SOLAR_BELL, dtype=np.float64)
    active = tenor_mask(step.start, step.end, frame.months)
    if step.months is not None:
        active &= np.isin(frame.months % 12 + 1, step.months)
    factors: Floats = 1.0 - step.depth / 100.0 * weights[frame.hour_of_day] * active[frame.month]
    return factors
