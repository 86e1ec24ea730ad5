"""Uncertainty of a plant's annual energy: P50 to P90 through a normal distribution.

Two parts, each a standard deviation as a fraction of the P50 energy:
`interannual_sd`, the weather of one year against another (independent
from year to year, so it averages out over many years), and `long_term_sd`,
what the resource assessment itself may have got wrong (the same in every
year of the plant's life). Over n years the average energy has standard
deviation sqrt(long_term_sd² + interannual_sd² / n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtri

from carbon254.ppa.errors import PpaError


@dataclass(frozen=True, slots=True)
class VolumeUncertainty:
    """Standard deviations of annual energy as fractions of P50: year to year, and for the plant's life."""

    interannual_sd: float
    long_term_sd: float = 0.0

    def __post_init__(self) -> None:
        for name in ("interannual_sd", "long_term_sd"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value < 1):
                raise PpaError(f"{name}: {value!r} must be a fraction of P50 energy in [0, 1)")

    def sd(self, years: int = 1) -> float:
        """Standard deviation of the average annual energy over `years` years, a fraction of P50."""
        if years < 1:
            raise PpaError(f"years: {years!r} must be 1 or more")
        return math.sqrt(self.long_term_sd**2 + self.interannual_sd**2 / years)

    def p_level(self, exceedance: float, years: int = 1) -> float:
        """The energy exceeded with probability `exceedance` over `years` years, as a factor of P50.

        `p_level(0.9)` is the one-year P90 factor, 1 - 1.2816 * sd; P50 is 1.
        Floored at 0. Raises `PpaError` unless 0 < exceedance < 1.
        """
        if not (math.isfinite(exceedance) and 0 < exceedance < 1):
            raise PpaError(f"exceedance: {exceedance!r} must be a probability strictly between 0 and 1")
        return max(0.0, 1.0 + self.sd(years) * float(ndtri(1.0 - exceedance)))
