"""The variance-stabilising transform of LEAR: asinh of median/MAD-scaled values (Uniejewski et al. 2018).

Electricity prices have spikes and negative values; `asinh((x - median) /
MAD)` behaves like a log for large moves and is linear near the median, so
a least-squares fit is not dragged around by a few spikes. The MAD is
scaled by 1.4826 to match a normal distribution's standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbon254.forecast.days import Floats

MAD_TO_SIGMA = 1.482602218505602


@dataclass(frozen=True, slots=True)
class AsinhScaler:
    """Per-column median and scale ($/MWh, or the column's own unit) of the values it was fitted on."""

    median: Floats
    scale: Floats

    @classmethod
    def fit(cls, values: Floats) -> AsinhScaler:
        """Median and MAD (x 1.4826) of each column of `values` (rows are samples).

        A column with no spread around its median takes its standard
        deviation, or 1 when constant, so the transform stays finite.
        """
        median = np.median(values, axis=0)
        scale = np.median(np.abs(values - median), axis=0) * MAD_TO_SIGMA
        flat = ~(scale > 0)
        if flat.any():
            spread = np.std(values, axis=0)
            scale = np.where(flat, np.where(spread > 0, spread, 1.0), scale)
        return cls(median, scale)

    def transform(self, values: Floats) -> Floats:
        """asinh((values - median) / scale), column by column."""
        return np.arcsinh((values - self.median) / self.scale)

    def inverse(self, values: Floats) -> Floats:
        """The values whose transform is `values`."""
        return np.sinh(values) * self.scale + self.median
