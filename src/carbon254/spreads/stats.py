"""Summary statistics of a spread series, each interval weighing by its duration.

Weighting by duration makes a 5-minute interval count for a twelfth of an
hour and an irregular 2-minute re-run interval for less still, so the
statistics describe time, not rows; for regular intervals they equal the
plain (unweighted) ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.schema import TIMESTAMP

Floats = npt.NDArray[np.float64]

# Percentiles reported, in percent.
PERCENTILES = (5, 25, 50, 75, 95)
_HOUR_MICROS = 3_600_000_000
_DECIMALS = 6


@dataclass(frozen=True, slots=True)
class SpreadStats:
    """Duration-weighted statistics of a spread ($/MWh) over its intervals.

    `intervals` is the number of intervals with a spread and `hours` their
    total length. `mean` and `std` (population) weigh each interval by its
    duration; `p05`..`p95` are duration-weighted percentiles (the smallest
    spread at or below which that share of the hours lies). `share_above` is
    the fraction of hours whose spread exceeds `threshold` and `hours_above`
    those hours. Every price statistic is None when there are no intervals.
    """

    intervals: int
    hours: float
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    p05: float | None
    p25: float | None
    p50: float | None
    p75: float | None
    p95: float | None
    threshold: float
    share_above: float | None
    hours_above: float


def _weighted_percentiles(values: Floats, weights: Floats, percents: tuple[int, ...]) -> list[float]:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    total = cumulative[-1]
    # The inverted-CDF definition: the first value whose cumulative weight
    # reaches the share; for equal weights this is numpy's "inverted_cdf".
    positions = np.searchsorted(cumulative, np.asarray(percents, dtype=np.float64) / 100 * total, "left")
    return [float(values[order][min(p, len(values) - 1)]) for p in positions]


def _rounded(value: float) -> float:
    out = round(value, _DECIMALS)
    return 0.0 if out == 0 else out


def spread_stats(spreads: pa.Table, threshold: float = 0.0, column: str = "spread") -> SpreadStats:
    """Statistics of `column` ($/MWh) of a table with `interval_start`/`interval_end` (UTC intervals).

    Rows whose value is null are left out. `threshold` ($/MWh) sets
    `share_above` and `hours_above`. See `SpreadStats` for each figure.
    """
    values = np.asarray(spreads.column(column).cast(pa.float64()).to_numpy(zero_copy_only=False), np.float64)
    start = spreads.column("interval_start").cast(TIMESTAMP).cast(pa.int64()).to_numpy(zero_copy_only=False)
    end = spreads.column("interval_end").cast(TIMESTAMP).cast(pa.int64()).to_numpy(zero_copy_only=False)
    hours = (np.asarray(end, np.int64) - np.asarray(start, np.int64)) / _HOUR_MICROS
    present = ~np.isnan(values)
    values, hours = values[present], hours[present]
    total = float(hours.sum())
    if len(values) == 0 or total <= 0:
        return SpreadStats(0, 0.0, None, None, None, None, None, None, None, None, None, threshold, None, 0.0)
    mean = float(np.dot(values, hours) / total)
    std = float(np.sqrt(np.dot((values - mean) ** 2, hours) / total))
    p05, p25, p50, p75, p95 = _weighted_percentiles(values, hours, PERCENTILES)
    above = float(hours[values > threshold].sum())
    return SpreadStats(
        intervals=len(values),
        hours=round(total, _DECIMALS),
        mean=_rounded(mean),
        std=_rounded(std),
        min=_rounded(float(values.min())),
        max=_rounded(float(values.max())),
        p05=_rounded(p05),
        p25=_rounded(p25),
        p50=_rounded(p50),
        p75=_rounded(p75),
        p95=_rounded(p95),
        threshold=threshold,
        share_above=round(above / total, _DECIMALS),
        hours_above=round(above, _DECIMALS),
    )
