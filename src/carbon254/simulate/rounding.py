"""Rounding prices to cents without breaking the identities the data must satisfy.

Two identities survive rounding exactly, because all arithmetic is done on
integer cents:

* lmp = energy + congestion + loss: components are rounded first and the LMP
  is their sum;
* hourly real time = mean of its twelve 5-minute intervals: the hourly value is
  rounded first, then the 5-minute values are rounded and the few cents by
  which their sum misses twelve times the hourly value are handed back one
  cent at a time. No 5-minute value moves by more than one cent from plain
  rounding.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from carbon254.simulate.clock import INTERVALS_PER_HOUR

FloatArray = npt.NDArray[np.float64]


def to_cents(dollars: FloatArray) -> FloatArray:
    """Dollars rounded to whole cents, as integer-valued floats."""
    return np.asarray(np.rint(dollars * 100.0))


def from_cents(cents: FloatArray) -> FloatArray:
    """Whole cents back to dollars: the float nearest each two-decimal price."""
    return np.asarray(cents / 100.0)


def cents_matching_hour(five_minute: FloatArray, hourly_cents: FloatArray) -> FloatArray:
    """Round 5-minute dollars (..., hours, 12) to cents summing to 12 x `hourly_cents` (..., hours).

    `hourly_cents` must be the rounded mean of the same unrounded values, so the
    shortfall is at most 12 cents in either direction.
    """
    cents = np.rint(five_minute * 100.0)
    shortfall = np.clip(
        INTERVALS_PER_HOUR * hourly_cents - cents.sum(axis=-1), -INTERVALS_PER_HOUR, INTERVALS_PER_HOUR
    )
    step = np.arange(INTERVALS_PER_HOUR) < np.abs(shortfall)[..., None]
    return np.asarray(cents + np.sign(shortfall)[..., None] * step)
