"""Risk engine: Monte Carlo VaR+ES of a 1,000-position book and historical VaR of a 10,000-position book.

Books and histories are synthetic and seeded: hub forwards (ERCOT and PJM
hubs, onpeak, offpeak or atc, one to three delivery months, -50 to +50
MW) over monthly block factors, whose daily changes ($/MWh) come from a
five-driver factor model plus noise (a full-rank covariance, as real
curves have). Exposures (`carbon254.risk.exposures`) are built once,
outside the timings.

- Monte Carlo: `monte_carlo_var` of 1,000 positions over 50 factors (5
  hubs x 5 months x onpeak/offpeak), Gaussian copula, sample covariance of
  500 days, 100,000 paths, 99%, VaR and ES; median of `MC_RUNS` after a
  warm-up (target <= 1 s). Baseline: the same in a straightforward pandas
  way: the factors' sample covariance (`DataFrame.cov`), 100,000
  multivariate normal draws (`Generator.multivariate_normal`) in a
  DataFrame, each position's P&L (`draws @ exposures.T`, a paths x
  positions frame), summed per path, `quantile(0.01)` and the tail mean;
  median of `BASELINE_RUNS`. Different random numbers: the two VaRs must
  agree within 3%.
- Historical: `historical_var` of 10,000 positions over 100 factors (10
  hubs x 5 months x onpeak/offpeak) and 1,250 days, 99%, VaR and ES;
  median of `HS_RUNS` after a warm-up (target <= 0.2 s). Baseline: each
  position's P&L per day in pandas (`changes @ exposures.T`, a days x
  positions frame), summed per day, `quantile(0.01)` and the tail mean;
  the two must agree to 1e-9.
- Peak memory: the largest allocation (tracemalloc, NumPy arrays
  included) during one more call of each, above what was allocated before
  it (the inputs: history and exposures); target < 2 GB for ours.
"""

from __future__ import annotations

import math
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from carbon254.risk import (
    CovarianceMethod,
    ExposureMatrix,
    FactorHistory,
    ForwardPosition,
    Portfolio,
    RiskFactor,
    exposures,
    historical_var,
    monte_carlo_var,
)
from carbon254.timeseries.periods import Block
from dataset import Context
from measure import Outcome, Result, Target, log

Floats = npt.NDArray[np.float64]
T = TypeVar("T")

NAME = "risk"
MC_TARGET_S = 1.0
HS_TARGET_S = 0.2
MEMORY_TARGET_MIB = 2048.0
MC_RUNS = 5
HS_RUNS = 9
BASELINE_RUNS = 3
PATHS = 100_000
CONFIDENCE = 0.99
SEED = 254
FIRST_MONTH = date(2026, 1, 1)
MONTHS = 5
HUBS = (
    ("ERCOT", "HB_NORTH"),
    ("ERCOT", "HB_HOUSTON"),
    ("ERCOT", "HB_WEST"),
    ("ERCOT", "HB_SOUTH"),
    ("PJM", "WESTERN HUB"),
    ("PJM", "EASTERN HUB"),
    ("PJM", "AEP-DAYTON HUB"),
    ("MISO", "INDIANA.HUB"),
    ("NYISO", "ZONE J"),
    ("ISONE", ".H.INTERNAL_HUB"),
)


@dataclass(frozen=True, slots=True)
class Case:
    """A synthetic book's exposures and its factors' history."""

    exposure: ExposureMatrix
    history: FactorHistory
    build_s: float


def _month(k: int) -> date:
    index = FIRST_MONTH.year * 12 + FIRST_MONTH.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)


def case(positions: int, hubs: int, days: int, rng: np.random.Generator) -> Case:
    """`positions` forwards on the first `hubs` hubs and their factors' `days` daily changes."""
    chosen = HUBS[:hubs]
    factors = tuple(
        RiskFactor(iso, hub, block, _month(m))
        for iso, hub in chosen
        for m in range(MONTHS)
        for block in (Block.ONPEAK, Block.OFFPEAK)
    )
    drivers = rng.normal(0.0, 1.0, (days, 5))
    loadings = rng.normal(0.0, 2.0, (5, len(factors)))
    changes = drivers @ loadings + rng.normal(0.0, 1.0, (days, len(factors)))
    first = date(2021, 1, 4)
    history = FactorHistory(factors, tuple(first + timedelta(days=i) for i in range(days)), changes)
    book = []
    for i in range(positions):
        iso, hub = chosen[int(rng.integers(len(chosen)))]
        start = int(rng.integers(MONTHS))
        end = min(MONTHS - 1, start + int(rng.integers(3)))
        block = (Block.ONPEAK, Block.OFFPEAK, Block.ATC)[int(rng.integers(3))]
        mw = float(rng.uniform(-50.0, 50.0))
        book.append(
            ForwardPosition(f"p{i}", f"Power/{iso}/{hub}", iso, hub, block, _month(start), _month(end), mw)
        )
    t0 = time.perf_counter()
    exposure = exposures(Portfolio("bench", tuple(book)), factors)
    return Case(exposure, history, time.perf_counter() - t0)


def _frames(c: Case) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The history (days x factor labels) and exposures (position ids x factor labels) as DataFrames."""
    labels = [f.label for f in c.history.factors]
    changes = pd.DataFrame(c.history.changes, columns=labels)
    position_exposures = pd.DataFrame(
        c.exposure.on(c.history.factors), index=list(c.exposure.ids), columns=labels
    )
    return changes, position_exposures


def _var_es(pnl: pd.Series) -> tuple[float, float]:
    q = float(pnl.quantile(1 - CONFIDENCE))
    return -q, -float(pnl[pnl <= q].mean())


def pandas_monte_carlo(
    changes: pd.DataFrame, position_exposures: pd.DataFrame, seed: int
) -> tuple[float, float]:
    """VaR and ES ($) by simulating factor changes and every position's P&L in pandas."""
    covariance = changes.cov()
    draws = np.random.default_rng(seed).multivariate_normal(
        np.zeros(len(covariance)), covariance.to_numpy(), PATHS
    )
    paths = pd.DataFrame(draws, columns=covariance.columns)
    pnl = paths @ position_exposures.T
    return _var_es(pnl.sum(axis=1))


def pandas_historical(changes: pd.DataFrame, position_exposures: pd.DataFrame) -> tuple[float, float]:
    """VaR and ES ($) from every position's P&L on every past day in pandas."""
    pnl = changes @ position_exposures.T
    return _var_es(pnl.sum(axis=1))


def _timed(run: Callable[[], T], runs: int) -> tuple[float, T]:
    """The median seconds of `runs` calls of `run` (after one untimed warm-up) and the last result."""
    result = run()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _peak_mib(run: Callable[[], object]) -> float:
    """MiB allocated at the peak of one call of `run`, above what was allocated before it."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - before) / 2**20


def run(ctx: Context) -> Outcome:
    """The Monte Carlo, historical and memory rows (see the module docstring)."""
    out = Outcome()
    rng = np.random.default_rng(SEED)

    log(f"risk: Monte Carlo VaR+ES, {PATHS:,} paths, 1,000 positions over 50 factors, ours and pandas")
    mc = case(1_000, 5, 500, rng)
    mc_changes, mc_exposures = _frames(mc)

    def ours_mc() -> tuple[float, float]:
        r = monte_carlo_var(
            mc.exposure,
            mc.history,
            confidence=CONFIDENCE,
            paths=PATHS,
            covariance=CovarianceMethod.SAMPLE,
            seed=SEED,
        )
        return r.var, r.es

    mc_s, (mc_var, mc_es) = _timed(ours_mc, MC_RUNS)
    pandas_mc_s, (pandas_mc_var, _) = _timed(
        lambda: pandas_monte_carlo(mc_changes, mc_exposures, SEED), BASELINE_RUNS
    )
    if not math.isclose(mc_var, pandas_mc_var, rel_tol=0.03):
        raise RuntimeError(
            f"Monte Carlo VaR {mc_var:,.0f} $ and pandas' {pandas_mc_var:,.0f} $ differ by over 3%"
        )
    out.results.append(
        Result(
            NAME,
            f"Monte Carlo VaR+ES, {PATHS:,} paths, 1,000 positions over 50 factors (Gaussian copula, 99%)",
            f"median of {MC_RUNS}",
            mc_s,
            "s",
            f"pandas: multivariate normal draws, paths x positions P&L, quantile (median of {BASELINE_RUNS})",
            pandas_mc_s,
            "× pandas' time",
            target=Target("<=", MC_TARGET_S),
        )
    )

    log("risk: historical VaR+ES, 10,000 positions x 1,250 days over 100 factors, ours and pandas")
    hs = case(10_000, 10, 1_250, rng)
    hs_changes, hs_exposures = _frames(hs)

    def ours_hs() -> tuple[float, float]:
        r = historical_var(hs.exposure, hs.history, confidence=CONFIDENCE)
        return r.var, r.es

    hs_s, (hs_var, hs_es) = _timed(ours_hs, HS_RUNS)
    pandas_hs_s, (pandas_hs_var, pandas_hs_es) = _timed(
        lambda: pandas_historical(hs_changes, hs_exposures), BASELINE_RUNS
    )
    if not (
        math.isclose(hs_var, pandas_hs_var, rel_tol=1e-9) and math.isclose(hs_es, pandas_hs_es, rel_tol=1e-9)
    ):
        raise RuntimeError(f"historical VaR {hs_var:,.2f} $ and pandas' {pandas_hs_var:,.2f} $ differ")
    out.results.append(
        Result(
            NAME,
            "historical VaR+ES, 10,000 positions x 1,250 days over 100 factors (99%)",
            f"median of {HS_RUNS}",
            hs_s * 1e3,
            "ms",
            f"pandas: days x positions P&L frame, summed, quantile (median of {BASELINE_RUNS})",
            pandas_hs_s * 1e3,
            "× pandas' time",
            target=Target("<=", HS_TARGET_S * 1e3),
        )
    )

    log("risk: peak memory of one call each, ours and pandas")
    memory = (
        (
            "Monte Carlo",
            _peak_mib(ours_mc),
            _peak_mib(lambda: pandas_monte_carlo(mc_changes, mc_exposures, SEED)),
        ),
        ("historical", _peak_mib(ours_hs), _peak_mib(lambda: pandas_historical(hs_changes, hs_exposures))),
    )
    for what, ours_mib, pandas_mib in memory:
        out.results.append(
            Result(
                NAME,
                f"peak memory of one {what} VaR+ES call above its inputs (tracemalloc)",
                "one call",
                ours_mib,
                "MiB",
                "the pandas baseline, same measure",
                pandas_mib,
                "× pandas' memory",
                target=Target("<=", MEMORY_TARGET_MIB),
            )
        )
    out.note(
        NAME,
        "",
        f"Risk: Monte Carlo 99% VaR {mc_var:,.0f} $ / ES {mc_es:,.0f} $ (pandas VaR {pandas_mc_var:,.0f} $); "
        f"historical 99% VaR {hs_var:,.0f} $ / ES {hs_es:,.0f} $, equal to pandas'. Building the exposures "
        f"(outside the timings): {mc.build_s:.2f} s for 1,000 positions, {hs.build_s:.2f} s for 10,000.",
    )
    return out
