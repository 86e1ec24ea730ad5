"""A PPA's value over Monte Carlo paths: per-path arrays and their summaries.

Percentiles are of the distribution itself: `p10` is the value 10% of paths
fall below, which is the value exceeded with 90% probability; an energy
analyst's "P90 NPV" is therefore `p10` (see `PpaDistribution.exceedance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import Floats
from carbon254.ppa.settlement import Side
from carbon254.ppa.valuation import Valuation

PERCENTILES = (5, 10, 25, 50, 75, 90, 95)


@dataclass(frozen=True, slots=True)
class Percentiles:
    """The 5th to 95th percentiles of a distribution (same unit as its values)."""

    p5: float
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    p95: float

    @staticmethod
    def of(values: Floats) -> Percentiles:
        """Percentiles of `values` (NumPy's linear interpolation)."""
        if len(values) == 0:
            raise PpaError("percentiles: no values")
        p5, p10, p25, p50, p75, p90, p95 = (float(v) for v in np.percentile(values, PERCENTILES))
        return Percentiles(p5, p10, p25, p50, p75, p90, p95)


@dataclass(frozen=True, slots=True)
class PpaDistribution:
    """A PPA valued on `n_paths` Monte Carlo paths, from `side`'s view.

    Per path: `npv` and `settlement` ($), `annual_settlement` ($/yr over the
    term), `volume_mwh`, `capture_price` (generation-weighted settlement
    price, $/MWh) and `baseload_price` (time-weighted, $/MWh). `annual`
    holds per calendar year (UTC) period_start, the mean volume_mwh and the
    settlement's mean, p5, p50 and p95 across paths ($). `deterministic` is
    the contract valued on the curve itself with P50 volume.
    """

    side: Side
    n_paths: int
    seed: int
    npv: Floats
    settlement: Floats
    annual_settlement: Floats
    volume_mwh: Floats
    capture_price: Floats
    baseload_price: Floats
    annual: pl.DataFrame
    deterministic: Valuation

    @property
    def mean(self) -> float:
        """Mean NPV over the paths, $."""
        return float(self.npv.mean())

    @property
    def percentiles(self) -> Percentiles:
        """Percentiles of the NPV, $."""
        return Percentiles.of(self.npv)

    @property
    def expected_annual_settlement(self) -> float:
        """Mean over paths of the settlement per year of term, $/yr."""
        return float(self.annual_settlement.mean())

    @property
    def capture_rate(self) -> Floats:
        """Per path: capture price over baseload price (NaN where the baseload price is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.baseload_price != 0, self.capture_price / self.baseload_price, np.nan)

    def exceedance(self, probability: float) -> float:
        """The NPV ($) exceeded on `probability` of paths: `exceedance(0.9)` is the P90 (10th percentile)."""
        if not 0 < probability < 1:
            raise PpaError(f"probability: {probability!r} must be strictly between 0 and 1")
        return float(np.percentile(self.npv, 100.0 * (1.0 - probability)))
