"""A scenario run per hub and calendar year: block averages and path percentiles, for sweep tables."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from carbon254.curves.model import HourlyCurve, MonthlyCurve
from carbon254.scenarios.engine import ScenarioResult
from carbon254.scenarios.frame import ATOMS, ONPEAK, hour_frame
from carbon254.scenarios.paths import PricePaths
from carbon254.timeseries.periods import Block


@dataclass(frozen=True, slots=True)
class YearSummary:
    """A hub's calendar year (market time): mean onpeak, offpeak and atc prices ($/MWh, hour-weighted).

    For a hub with price paths, p5/p50/p95 are percentiles across paths of
    each path's annual atc mean ($/MWh); None without paths. A block the
    curve does not price is NaN.
    """

    hub: str
    year: int
    onpeak: float
    offpeak: float
    atc: float
    p5: float | None = None
    p50: float | None = None
    p95: float | None = None


@dataclass(frozen=True, slots=True)
class ScenarioSummary:
    """The summary of one scenario run: its name, fingerprint and rows by hub then year."""

    scenario: str
    fingerprint: str
    rows: tuple[YearSummary, ...]


def _from_hours(hub: str, curve: HourlyCurve, paths: PricePaths | None) -> list[YearSummary]:
    frame = hour_frame(curve.iso, curve.starts)
    first = int(frame.year[0])
    n_years = int(frame.year[-1]) - first + 1
    key = (frame.year - first) * ATOMS + frame.atom
    sums = np.bincount(key, weights=curve.prices, minlength=n_years * ATOMS).reshape(n_years, ATOMS)
    counts = np.bincount(key, minlength=n_years * ATOMS).reshape(n_years, ATOMS).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        onpeak = sums[:, ONPEAK] / counts[:, ONPEAK]
        offpeak = (sums.sum(axis=1) - sums[:, ONPEAK]) / (counts.sum(axis=1) - counts[:, ONPEAK])
        atc = sums.sum(axis=1) / counts.sum(axis=1)
    bands: dict[int, tuple[float, float, float]] = {}
    if paths is not None and paths.values.shape[1]:
        years = hour_frame(paths.iso, paths.starts).year
        cuts = np.flatnonzero(np.diff(years)) + 1
        edges = np.concatenate([[0], cuts])
        means = np.add.reduceat(paths.values, edges, axis=1) / np.diff(np.append(edges, len(years)))
        for j, year in enumerate(years[edges]):
            p5, p50, p95 = np.percentile(means[:, j], [5, 50, 95])
            bands[int(year)] = (float(p5), float(p50), float(p95))
    rows = []
    for y in range(n_years):
        if counts[y].sum() == 0:
            continue
        band = bands.get(first + y)
        rows.append(
            YearSummary(
                hub,
                first + y,
                float(onpeak[y]),
                float(offpeak[y]),
                float(atc[y]),
                *(band if band is not None else (None, None, None)),
            )
        )
    return rows


def _from_months(hub: str, curve: MonthlyCurve) -> list[YearSummary]:
    years = np.array([m.year for m in curve.months])
    rows = []
    for year in np.unique(years):
        here = years == year
        means = []
        for block in (Block.ONPEAK, Block.OFFPEAK, Block.ATC):
            if block not in curve.blocks:
                means.append(math.nan)
                continue
            j = curve.blocks.index(block)
            weights = curve.hours[here, j].astype(np.float64)
            total = weights.sum()
            means.append(float((curve.prices[here, j] * weights).sum() / total) if total > 0 else math.nan)
        rows.append(YearSummary(hub, int(year), means[0], means[1], means[2]))
    return rows


def summarize(result: ScenarioResult) -> ScenarioSummary:
    """Per hub and calendar year: mean onpeak/offpeak/atc ($/MWh) and, with paths, P5/P50/P95 of annual means.

    Hours decide when a hub has an hourly curve; otherwise the monthly block
    prices are averaged with their hours as weights.
    """
    rows: list[YearSummary] = []
    hubs = sorted(set(result.curves.monthly) | set(result.curves.hourly))
    for hub in hubs:
        hourly = result.curves.hourly.get(hub)
        if hourly is not None and len(hourly.starts):
            rows += _from_hours(hub, hourly, result.paths.get(hub))
        elif hub in result.curves.monthly:
            rows += _from_months(hub, result.curves.monthly[hub])
    return ScenarioSummary(result.scenario.name, result.fingerprint, tuple(rows))
