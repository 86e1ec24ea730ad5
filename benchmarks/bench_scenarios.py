"""A 1,000-scenario sweep (shift percent x gas change x volatility factor) on a 10-year hourly hub curve.

The curve is built here: ERCOT HB_NORTH, 2026-2035 (87,648 hours on the
market clock), with a seasonal level, a daily shape that differs by season,
weekend discounts and AR(1) noise, as an HPFC has. Every scenario is applied
(hours transformed, monthly blocks rebuilt) and summarized per year, timed
(a) in one process and (b) split over 2 spawned worker processes (each
builds its own curve once, before the clock starts). Target: <= 10 s on 2
cores. The baseline re-fits each point's HPFC with CVXPY (see `_cvxpy_point`).
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing import get_context
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from bench_curves_hpfc import cvxpy_hpfc
from carbon254.curves import ShapeFactors, estimate_shape
from carbon254.curves.model import CurveSet, HourlyCurve, MonthlyCurve
from carbon254.isos import iso_info
from carbon254.scenarios import Scenario, apply_scenario, expand_sweep, load_scenario, summarize
from carbon254.timeseries._clock import DAY, HOUR, SECOND, clock_for
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

ISO, HUB = "ERCOT", "HB_NORTH"
FIRST_YEAR, YEARS = 2026, 10
TARGET_S = 10.0
# Points the CVXPY baseline solves (about half a second each); its per-point time is what compares.
CVXPY_POINTS = 5
AS_OF = date(2025, 12, 15)
SWEEP = """\
name: sweep
seed: 1
steps:
  - {type: shift, percent: 0}
  - {type: gas, gas_change: 0}
  - {type: volatility, factor: 1}
sweep:
  - {step: 0, parameter: percent, range: {start: -20, stop: 25, step: 5}}
  - {step: 1, parameter: gas_change, range: {start: -2, stop: 2.5, step: 0.5}}
  - {step: 2, parameter: factor, range: {start: 0.5, stop: 1.4, step: 0.1}}
"""

_base: CurveSet | None = None


def build_curves() -> CurveSet:
    """The benchmark's 10-year hourly curve of one hub and its monthly onpeak/offpeak/atc curve ($/MWh)."""
    zone = iso_info(ISO).timezone
    begin = datetime(FIRST_YEAR, 1, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    end = datetime(FIRST_YEAR + YEARS, 1, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    starts = np.arange(int(begin.timestamp()) * SECOND, int(end.timestamp()) * SECOND, HOUR, dtype=np.int64)
    local = clock_for(zone, starts).to_local(starts)
    day = local // DAY
    hour = (local // HOUR) % 24
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    season = np.cos(2 * np.pi * ((month % 12) - 6.5) / 12)  # +1 in July, -1 in January
    summer_peak = np.exp(-(((hour - 17) / 3.0) ** 2))
    winter_peaks = 0.6 * np.exp(-(((hour - 8) / 2.0) ** 2)) + 0.7 * np.exp(-(((hour - 19) / 2.5) ** 2))
    shape = np.where(season > 0, season * summer_peak, -season * winter_peaks) - 0.25 * (hour < 6)
    weekend = ((day + 3) % 7) >= 5
    growth = 1.0 + 0.02 * (month - month[0]) / 12
    rng = np.random.default_rng(7)
    noise = np.empty(len(starts))
    noise[0] = 0.0
    shocks = rng.normal(0, 0.06, len(starts))
    for i in range(1, len(starts)):  # once per benchmark: a realistic curve, not a timed path
        noise[i] = 0.9 * noise[i - 1] + shocks[i]
    prices = 42.0 * growth * (1 + 0.25 * season**2 + 0.8 * shape - 0.12 * weekend) * np.exp(noise)
    hourly = HourlyCurve(ISO, HUB, AS_OF, starts, prices)
    blocks = (Block.ONPEAK, Block.OFFPEAK, Block.ATC)
    codes, inverse = np.unique(month, return_inverse=True)
    block_prices = np.zeros((len(codes), len(blocks)))
    block_hours = np.zeros((len(codes), len(blocks)), dtype=np.int64)
    for j, block in enumerate(blocks):
        inside = block_mask_local(local, block)
        block_hours[:, j] = np.bincount(inverse[inside], minlength=len(codes))
        block_prices[:, j] = np.bincount(inverse[inside], prices[inside], len(codes)) / block_hours[:, j]
    months = tuple(date(1970 + int(c) // 12, int(c) % 12 + 1, 1) for c in codes)
    monthly = MonthlyCurve(
        ISO, HUB, AS_OF, months, blocks, block_prices, block_hours, date(FIRST_YEAR + YEARS, 1, 1)
    )
    return CurveSet(monthly={HUB: monthly}, hourly={HUB: hourly})


def _init_worker() -> None:
    global _base
    _base = build_curves()
    apply_scenario(expand_sweep(load_scenario(SWEEP))[0], _base)  # warm the hour frame and curve digest


def run_chunk(scenarios: list[Scenario]) -> list[float]:
    """Apply and summarize each scenario on the worker's curve; the first year's atc mean of each."""
    assert _base is not None
    return [summarize(apply_scenario(s, _base)).rows[0].atc for s in scenarios]


def _one_process(scenarios: list[Scenario]) -> tuple[float, list[float]]:
    _init_worker()
    t0 = time.perf_counter()
    out = run_chunk(scenarios)
    return time.perf_counter() - t0, out


def _two_processes(scenarios: list[Scenario]) -> tuple[float, float, list[float]]:
    half = len(scenarios) // 2
    t_start = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=get_context("spawn"), initializer=_init_worker) as pool:
        list(pool.map(run_chunk, [[], []]))  # both workers up and warm before timing
        t0 = time.perf_counter()
        parts = list(pool.map(run_chunk, [scenarios[:half], scenarios[half:]]))
        elapsed = time.perf_counter() - t0
    return elapsed, time.perf_counter() - t_start, parts[0] + parts[1]


def _cvxpy_point(scenario: Scenario, base: CurveSet, shape: ShapeFactors) -> float:
    """The straightforward way to one point: shock the monthly marks, re-fit the HPFC with CVXPY.

    The shift and gas steps move the monthly block prices (the engine's own
    monthly arithmetic, microseconds), and the hourly curve is re-solved as the
    weighted least-squares HPFC of `bench_curves_hpfc.cvxpy_hpfc` against the
    shocked months. The volatility step is left out: in this formulation it
    only rescales the target, at no cost. Returns the solve's seconds.
    """
    monthly_steps = [step for step in scenario.steps if step.type != "volatility"]
    shocked = apply_scenario(
        scenario.model_copy(update={"steps": monthly_steps}), CurveSet(monthly=base.monthly)
    )
    _, seconds = cvxpy_hpfc(shocked.curves.monthly[HUB], shape, base.hourly[HUB].starts)
    return seconds


@dataclass(frozen=True, slots=True)
class SweepTiming:
    """The 1,000-point sweep: seconds in one process and in two, and the CVXPY re-fit per point."""

    points: int
    hours: int
    one_process_s: float
    two_processes_s: float
    two_processes_with_start_s: float
    cvxpy_points: int
    cvxpy_per_point_s: float


def measure() -> SweepTiming:
    """Time the sweep in one process and in two, and the CVXPY baseline on `CVXPY_POINTS` points."""
    scenarios = expand_sweep(load_scenario(SWEEP))
    one, single = _one_process(scenarios)
    two, two_total, pooled = _two_processes(scenarios)
    if not np.allclose(single, pooled):
        raise RuntimeError("the one- and two-process sweeps disagree")
    base = build_curves()
    hourly = base.hourly[HUB]
    history = pa.table(
        {
            "interval_start": pa.array(hourly.starts, pa.timestamp("us", "UTC")),
            "lmp": pa.array(hourly.prices, pa.float64()),
        }
    )
    shape = estimate_shape(history.slice(0, 2 * 8_784), iso=ISO)
    sample = scenarios[:: len(scenarios) // CVXPY_POINTS][:CVXPY_POINTS]
    per_point = statistics.median(_cvxpy_point(s, base, shape) for s in sample)
    return SweepTiming(len(scenarios), len(hourly.starts), one, two, two_total, len(sample), per_point)
