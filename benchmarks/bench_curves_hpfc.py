"""Building a 10-year hourly price forward curve against a CVXPY formulation of the same HPFC.

An ERCOT hub curve of 120 months (2026-2035, onpeak and offpeak prices with
summer and winter peaks, block hours counted from the market clock) is
shaped by factors estimated from two years of synthetic hourly history (a
morning and an evening peak, weekends and nights lower, seasonal levels,
noise and a few scarcity spikes). `build_hpfc` is timed over at least 20
runs (median). The baseline solves the same problem as an optimisation:
87,648 hourly prices x minimising sum((x - s)^2 / s) over the shaped prices
s = block price x factor, subject to every month x block average equalling
its price. Weighting by 1/s makes its solution the multiplicative rescale
`build_hpfc` computes in closed form (the Lagrange condition gives
x = s (1 + lambda) per block), so the two must agree; it is solved with
CVXPY's default solver, timed once.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import date

import cvxpy as cp
import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from cvxpy.atoms.quad_over_lin import quad_over_lin

from carbon254.curves import MonthlyCurve, ShapeFactors, build_hpfc, estimate_shape
from carbon254.curves.hpfc import base_blocks
from carbon254.curves.shape import hour_calendar
from carbon254.timeseries import block_mask
from carbon254.timeseries._clock import HOUR
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

ISO = "ERCOT"
ZONE = "America/Chicago"
RUNS = 25
FIRST = date(2026, 1, 1)
MONTHS = 120
BLOCKS = (Block.ONPEAK, Block.OFFPEAK)
# $/MWh by month of year: ERCOT-like summer scarcity and a smaller winter hump.
ONPEAK = np.array([48.0, 50.0, 40.0, 38.0, 45.0, 62.0, 85.0, 95.0, 60.0, 42.0, 40.0, 46.0])
OFFPEAK = np.array([36.0, 38.0, 28.0, 25.0, 27.0, 33.0, 40.0, 44.0, 32.0, 27.0, 29.0, 34.0])


def _utc_hours(start: date, end: date) -> pd.DatetimeIndex:
    lo = pd.Timestamp(start, tz=ZONE).tz_convert("UTC")
    hi = pd.Timestamp(end, tz=ZONE).tz_convert("UTC")
    return pd.date_range(lo, hi, freq="h", inclusive="left")


def ten_year_curve() -> MonthlyCurve:
    """120 months of onpeak/offpeak prices with a 2%/year drift and hours from the block classifier."""
    end = date(FIRST.year + MONTHS // 12, 1, 1)
    utc = _utc_hours(FIRST, end)
    starts = pa.array(utc.as_unit("us"), type=pa.timestamp("us", "UTC"))
    local = utc.tz_convert(ZONE)
    month = np.asarray((local.year - FIRST.year) * 12 + local.month - 1)
    hours = np.column_stack(
        [np.bincount(month[np.asarray(block_mask(starts, ISO, b))], minlength=MONTHS) for b in BLOCKS]
    ).astype(np.int64)
    drift = 1.02 ** (np.arange(MONTHS) / 12.0)
    prices = np.column_stack([np.tile(ONPEAK, MONTHS // 12), np.tile(OFFPEAK, MONTHS // 12)]) * drift[:, None]
    months = tuple(date(FIRST.year + i // 12, i % 12 + 1, 1) for i in range(MONTHS))
    return MonthlyCurve(
        iso=ISO,
        hub="HB_NORTH",
        as_of=date(2025, 12, 15),
        months=months,
        blocks=BLOCKS,
        prices=prices,
        hours=hours,
        quoted_through=date(2031, 1, 1),
    )


def synthetic_history(seed: int = 11) -> pa.Table:
    """Two years of hourly hub prices ($/MWh) shaped like a Texas hub, with noise and spikes."""
    rng = np.random.default_rng(seed)
    utc = _utc_hours(date(2023, 1, 1), date(2025, 1, 1))
    local = utc.tz_convert(ZONE)
    hour = np.asarray(local.hour, dtype=np.float64)
    morning = 0.25 * np.exp(-0.5 * ((hour - 7.5) / 1.5) ** 2)
    evening = 0.9 * np.exp(-0.5 * ((hour - 18.0) / 2.5) ** 2)
    daily = 0.7 + morning + evening
    weekend = np.where(np.asarray(local.day_of_week) >= 5, 0.85, 1.0)
    season = ONPEAK[np.asarray(local.month) - 1] * 0.75
    price = season * daily * weekend * rng.lognormal(0.0, 0.15, len(utc))
    spikes = rng.choice(len(utc), 12, replace=False)
    price[spikes] = rng.uniform(1000.0, 5000.0, len(spikes))
    return pa.table(
        {
            "interval_start": pa.array(utc.as_unit("us"), type=pa.timestamp("us", "UTC")),
            "lmp": pa.array(price, type=pa.float64()),
        }
    )


def cvxpy_hpfc(curve: MonthlyCurve, shape: ShapeFactors, starts: np.ndarray) -> tuple[np.ndarray, float]:
    """The same HPFC as a weighted least-squares problem in CVXPY: prices and seconds to solve."""
    base = base_blocks(curve.blocks)
    calendar = hour_calendar(starts, curve.iso)
    month = calendar.month - calendar.month[0]
    which = np.zeros(len(starts), dtype=np.int64)
    for j, block in enumerate(base[1:], start=1):
        which[block_mask_local(calendar.local, block)] = j
    group = month * len(base) + which
    target = curve.prices[:, [curve.blocks.index(b) for b in base]].reshape(-1)
    shaped = target[group] * shape.factors.reshape(-1)[calendar.cell]
    count = np.bincount(group, minlength=len(target))
    average = sp.csr_matrix(
        (1.0 / count[group], (group, np.arange(len(starts)))), shape=(len(target), len(starts))
    )
    t0 = time.perf_counter()
    x = cp.Variable(len(starts))
    # sum((x - s)^2 / s) = ||(x - s) / sqrt(s)||^2, a plain sum of squares for the solver.
    scaled = sp.diags(1.0 / np.sqrt(shaped)) @ x - np.sqrt(shaped)
    problem = cp.Problem(cp.Minimize(quad_over_lin(scaled, 1.0)), [average @ x == target])
    problem.solve()  # type: ignore[no-untyped-call]
    elapsed = time.perf_counter() - t0
    if x.value is None:
        raise RuntimeError(f"CVXPY did not solve the HPFC: {problem.status}")
    return np.asarray(x.value, dtype=np.float64), elapsed


@dataclass(frozen=True, slots=True)
class HpfcTiming:
    """Ten years hourly, ours against CVXPY: median seconds of `build_hpfc`, CVXPY's seconds, the gap."""

    hours: int
    ours_s: float
    cvxpy_s: float
    max_relative_diff: float


def measure() -> HpfcTiming:
    """Median seconds of `build_hpfc` over 10 years and the CVXPY baseline's; raises if they differ."""
    curve = ten_year_curve()
    shape = estimate_shape(synthetic_history(), iso=ISO)
    hpfc = build_hpfc(curve, shape)  # warm the zone and holiday caches, as a service would be
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        hpfc = build_hpfc(curve, shape)
        times.append(time.perf_counter() - t0)
    ours = statistics.median(times)
    baseline, theirs = cvxpy_hpfc(curve, shape, hpfc.starts)
    gap = float(np.max(np.abs(baseline - hpfc.prices) / np.maximum(np.abs(hpfc.prices), 1.0)))
    if gap > 1e-4:
        raise AssertionError(f"build_hpfc and the CVXPY HPFC differ by {gap:.2e} (relative)")
    if not np.all(np.diff(hpfc.starts) == HOUR):
        raise AssertionError("the 10-year HPFC skips or repeats an hour")
    return HpfcTiming(len(hpfc.starts), ours, theirs, gap)
