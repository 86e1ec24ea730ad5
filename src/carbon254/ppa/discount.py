"""Discounting PPA cash: zero rates by tenor, annual compounding, cash paid at the end of its month.

A PPA settles monthly: the cash of every hour of a calendar month (UTC) is
taken to be paid at the first instant of the next month, and discounted
from there to the valuation start with the zero rate of that tenor,
DF = (1 + r(t)) ** -t, t in years of 365.25 days. Zero rates between the
tenor points are interpolated linearly and held flat beyond them. Cash paid
before the valuation start is not discounted (DF = 1). A zero rate gives
DF = 1 exactly, so the NPV equals the undiscounted settlement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import US_PER_YEAR, Floats, MonthGrid, Stamps, check_starts, to_micros


@dataclass(frozen=True, slots=True)
class DiscountCurve:
    """Zero rates (annual compounding, a fraction: 0.07 = 7%) at tenors in years from the valuation start.

    Build one with `DiscountCurve.flat(rate)` or `DiscountCurve.from_points`;
    tenors must be >= 0 and strictly increasing, rates finite and > -1.
    """

    tenors: Floats
    rates: Floats

    def __post_init__(self) -> None:
        tenors = np.asarray(self.tenors, dtype=np.float64)
        rates = np.asarray(self.rates, dtype=np.float64)
        if tenors.ndim != 1 or len(tenors) == 0 or len(tenors) != len(rates):
            raise PpaError(f"discount: {len(tenors)} tenors for {len(rates)} rates; need one rate per tenor")
        if not (np.isfinite(tenors).all() and (tenors >= 0).all()):
            raise PpaError("discount tenors: every tenor must be a finite number of years >= 0")
        if (np.diff(tenors) <= 0).any():
            raise PpaError("discount tenors: must be strictly increasing")
        if not (np.isfinite(rates).all() and (rates > -1).all()):
            raise PpaError("discount rates: every rate must be finite and above -1 (a fraction, 0.07 = 7%)")
        object.__setattr__(self, "tenors", tenors)
        object.__setattr__(self, "rates", rates)

    @classmethod
    def flat(cls, rate: float) -> DiscountCurve:
        """One zero rate for every tenor (annual compounding, a fraction per year)."""
        return cls(np.array([0.0]), np.array([float(rate)]))

    @classmethod
    def from_points(cls, points: Sequence[tuple[float, float]]) -> DiscountCurve:
        """Zero rates from (tenor years, rate) points, interpolated linearly in between."""
        if len(points) == 0:
            raise PpaError("discount: need at least one (years, rate) point")
        ordered = sorted((float(t), float(r)) for t, r in points)
        return cls(np.array([t for t, _ in ordered]), np.array([r for _, r in ordered]))

    def rate(self, years: npt.ArrayLike) -> Floats:
        """The zero rate at each tenor in `years` (a fraction per year)."""
        return np.asarray(np.interp(np.asarray(years, dtype=np.float64), self.tenors, self.rates))

    def factor(self, years: npt.ArrayLike) -> Floats:
        """Discount factors (1 + r(t)) ** -t for tenors `years` (negative tenors: 1)."""
        t = np.maximum(np.asarray(years, dtype=np.float64), 0.0)
        return np.asarray(np.power(1.0 + self.rate(t), -t))

    def month_factors(self, grid: MonthGrid, valuation_start_us: int) -> Floats:
        """The discount factor of each month of `grid`, its cash paid at the month's end (µs UTC start)."""
        return self.factor((grid.paid - valuation_start_us) / US_PER_YEAR)

    def factors(self, starts: npt.ArrayLike, valuation_start: int | datetime | date) -> Floats:
        """Each hour's discount factor: that of its month's payment at the month end (hour starts µs UTC).

        `valuation_start` is µs UTC, a datetime (naive: UTC) or a date (UTC midnight).
        """
        stamps: Stamps = check_starts(starts)
        grid = MonthGrid.of(stamps)
        return self.month_factors(grid, to_micros(valuation_start))[grid.month_of_hour]
