"""(p) PPA valuation: a 20-year hourly solar virtual PPA valued on 1,000 Monte Carlo price paths.

The case: a 200 MW single-axis solar plant in West Texas (`solar_profile`,
clear sky dimmed by the site's default cloudiness, 0.5%/yr degradation)
selling under a 20-year virtual collar (floor 22, cap 48 $/MWh, 7%
discount rate) settled at a synthetic ERCOT West hub curve of 2026-2045
(175,320 hours: seasonal level, a midday solar trough, an evening peak, 2%
a year of drift). Price paths follow the scenario engine's model
(`PathsStep`: kappa 0.5/day, sigma 4, 6 jumps a year of log size N(0.3,
0.3)); annual volume varies 5% a year, correlated -0.3 with price.

- Monte Carlo: `simulate_ppa` of the case with 1,000 paths on 2 threads,
  median of `RUNS` in a spawned process (target <= 5 s); the same process's
  peak resident memory (target <= 2 GB), against its memory before the
  first run (interpreter, imports and the inputs).
- Baseline: a straightforward pandas loop: per path, one path drawn by the
  scenario engine (`carbon254.scenarios.paths.simulate`, float64), an hourly
  DataFrame of price and volume, the collar settled column-wise, grouped by
  month, discounted and summed; `BASELINE_PATHS` paths timed and the time
  scaled to 1,000 paths (it is linear in paths), and checked on the
  zero-volatility case against the deterministic value.
"""

from __future__ import annotations

import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from carbon254.ppa import DiscountCurve, SolarSite, parse_contract, simulate_ppa, solar_profile
from carbon254.ppa.hourly import MonthGrid
from carbon254.scenarios import PathsStep
from carbon254.scenarios.paths import simulate
from dataset import Context
from measure import Outcome, Result, Target, log

Floats = npt.NDArray[np.float64]

NAME = "ppa"
TARGET_S = 5.0
TARGET_BYTES = 2 * 10**9
PATHS = 1000
RUNS = 3
THREADS = 2
BASELINE_PATHS = 5
FIRST_YEAR, YEARS = 2026, 20
FLOOR, CAP, RATE = 22.0, 48.0, 0.07
SITE = SolarSite(latitude=31.9, longitude=-102.1, capacity_mw=200.0, tracking="single_axis")
MODEL = PathsStep(n_paths=PATHS, kappa=0.5, sigma=4.0, jump_intensity=6.0, jump_mean=0.3, jump_sd=0.3)
US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True, slots=True)
class Case:
    """The benchmark's hours (µs UTC), hub curve ($/MWh) and P50 solar generation (MWh/h)."""

    starts: npt.NDArray[np.int64]
    curve: Floats
    solar: Floats


@dataclass(frozen=True, slots=True)
class Measured:
    """What the spawned process measured."""

    hours: int
    run_s: list[float]
    one_thread_s: float
    rss_before: int
    rss_peak: int
    mean_npv: float
    p10_npv: float
    p90_npv: float
    deterministic_npv: float
    baseline_per_path_s: float
    baseline_flat_npv: float


def build_case() -> Case:
    """The 20-year hub curve and the solar plant's generation (see the module docstring)."""
    begin = np.datetime64(f"{FIRST_YEAR}-01-01T00:00", "us").astype(np.int64)
    end = np.datetime64(f"{FIRST_YEAR + YEARS}-01-01T00:00", "us").astype(np.int64)
    starts = np.arange(begin, end, US_PER_HOUR, dtype=np.int64)
    hours = np.arange(len(starts))
    local_hour = ((starts // US_PER_HOUR) - 6) % 24  # US Central standard time
    season = 1.0 + 0.25 * np.cos(2 * np.pi * (hours / 8766.0 - 0.55))  # a summer peak
    trough = -14.0 * np.clip(np.sin(np.pi * (local_hour - 7) / 11), 0, None)  # solar hours
    evening = 22.0 * np.exp(-0.5 * ((local_hour - 19.5) / 1.6) ** 2)
    drift = 1.02 ** (hours / 8766.0)
    curve = (34.0 + trough + evening) * season * drift
    solar = solar_profile(SITE, starts, degradation=0.005)
    return Case(starts, np.asarray(curve, dtype=np.float64), solar)


def _value(case: Case, threads: int) -> tuple[float, float, float, float, float]:
    contract = parse_contract({"type": "collar", "floor": FLOOR, "cap": CAP, "term_years": YEARS})
    t0 = time.perf_counter()
    run = simulate_ppa(
        contract,
        case.starts,
        case.curve,
        case.solar,
        DiscountCurve.flat(RATE),
        model=MODEL,
        seed=254,
        volume_sd=0.05,
        price_volume_correlation=-0.3,
        threads=threads,
    )
    seconds = time.perf_counter() - t0
    spread = run.percentiles
    return seconds, run.mean, spread.p10, spread.p90, run.deterministic.npv


def pandas_path(case: Case, step: PathsStep, rng: np.random.Generator) -> float:
    """One path the straightforward way: the engine draws it, pandas settles, groups by month, discounts."""
    grid = MonthGrid.of(case.starts)
    price = simulate(
        step.model_copy(update={"n_paths": 1}), case.curve, grid.month_of_hour, np.ones(len(case.curve)), rng
    )[0]
    index = pd.DatetimeIndex(case.starts.astype("datetime64[us]"))
    frame = pd.DataFrame({"price": price, "mwh": case.solar}, index=index)
    frame["cash"] = frame["mwh"] * (
        (frame["price"] - CAP).clip(lower=0.0) - (FLOOR - frame["price"]).clip(lower=0.0)
    )
    monthly = frame["cash"].groupby(frame.index.to_period("M")).sum()
    paid = (monthly.index.to_timestamp() + pd.offsets.MonthBegin(1)) - frame.index[0]
    years = paid / pd.Timedelta(days=365.25)
    return float((monthly.to_numpy() * (1.0 + RATE) ** (-years.to_numpy())).sum())


def _peak_rss() -> int:
    """This process's peak resident memory (bytes): VmHWM, which exec resets. Not `ru_maxrss`: on Linux a
    spawned child inherits its parent's high-water mark there, so after the other benchmarks had grown
    the runner it reported the runner's size, not the child's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: no such file


def measure_in_child() -> Measured:
    """Build the case, time the Monte Carlo and the pandas loop; runs in a fresh spawned process."""
    case = build_case()
    rss_before = _peak_rss()
    runs = [_value(case, THREADS) for _ in range(RUNS)]
    rss_peak = _peak_rss()
    one_thread_s = _value(case, 1)[0]
    rng = np.random.default_rng(1)
    flat = pandas_path(case, MODEL.model_copy(update={"sigma": 0.0, "jump_intensity": 0.0}), rng)
    t0 = time.perf_counter()
    for _ in range(BASELINE_PATHS):
        pandas_path(case, MODEL, rng)
    per_path = (time.perf_counter() - t0) / BASELINE_PATHS
    _, mean, p10, p90, deterministic = runs[-1]
    return Measured(
        hours=len(case.starts),
        run_s=[r[0] for r in runs],
        one_thread_s=one_thread_s,
        rss_before=rss_before,
        rss_peak=rss_peak,
        mean_npv=mean,
        p10_npv=p10,
        p90_npv=p90,
        deterministic_npv=deterministic,
        baseline_per_path_s=per_path,
        baseline_flat_npv=flat,
    )


def run(ctx: Context) -> Outcome:
    """The Monte Carlo time and peak memory rows, each against its baseline (see the module docstring)."""
    out = Outcome()
    log(
        f"ppa: {YEARS}-year hourly solar collar, {PATHS:,} paths x {RUNS} runs in a spawned process, "
        "then the pandas loop"
    )
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        measured = pool.submit(measure_in_child).result()
    if abs(measured.baseline_flat_npv / measured.deterministic_npv - 1) > 1e-6:
        raise RuntimeError(
            f"the pandas loop values the flat path at {measured.baseline_flat_npv:,.0f} $, "
            f"the deterministic valuation at {measured.deterministic_npv:,.0f} $"
        )
    median = statistics.median(measured.run_s)
    label = (
        f"(p) {YEARS}-year hourly solar virtual PPA (collar, {measured.hours:,} hours) x {PATHS:,} "
        f"Monte Carlo paths, {THREADS} threads"
    )
    out.results.append(
        Result(
            NAME,
            label,
            f"median of {RUNS}",
            median,
            "s",
            f"a pandas loop per path (engine path, DataFrame, settle, group by month, discount; "
            f"{BASELINE_PATHS} paths timed, × {PATHS:,})",
            measured.baseline_per_path_s * PATHS,
            "× the pandas loop's time",
            target=Target("<=", TARGET_S),
        )
    )
    out.results.append(
        Result(
            NAME,
            "(p) the same Monte Carlo: peak resident memory of its process",
            f"max over {RUNS} runs",
            measured.rss_peak / 2**20,
            "MiB",
            "the process before the first run (interpreter, imports, 20-year inputs)",
            measured.rss_before / 2**20,
            "× the memory before",
            target=Target("<=", TARGET_BYTES / 2**20),
        )
    )
    out.note(
        NAME,
        "",
        f"PPA: on one thread the 1,000 paths took {measured.one_thread_s:.2f} s. Buyer's NPV: mean "
        f"{measured.mean_npv / 1e6:,.2f} M$, P90 {measured.p10_npv / 1e6:,.2f} M$, P10 "
        f"{measured.p90_npv / 1e6:,.2f} M$, on the curve {measured.deterministic_npv / 1e6:,.2f} M$.",
    )
    return out
