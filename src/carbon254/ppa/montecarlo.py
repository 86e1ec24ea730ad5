"""Monte Carlo valuation of a PPA: hub price paths, node basis and volume uncertainty on the contract's hours.

Sources of uncertainty, each switched on by its parameter:

- hub prices: paths of the scenario engine's model (`PathsStep`: mean
  reversion, volatility, jumps) around the hourly forward curve;
- basis: the node price is hub + `basis` (expected spread, $/MWh, a number
  or one per hour) + a noise drawn per path and calendar month, N(0,
  `basis_sd`), the same in every hour of the month (congestion comes in
  spells, not hour by hour); it matters when the contract settles at the
  node (`settle_at="node"`);
- volume: each path and calendar year scales the P50 generation by
  1 + long_term_sd * z_life + interannual_sd * z_year (floored at 0), with
  z_year correlated `price_volume_correlation` with the year's average
  settlement price on that path (a Gaussian copula on the price's rank among
  the paths, so it holds whatever the price distribution).

Volume scales a year's settlement linearly (every volume rule is linear in
the generation), so the volume factors are applied to per-path, per-month
sums after the prices have been settled, which is what keeps a 20-year
hourly run of 1,000 paths to seconds: paths are drawn (by default in
antithetic pairs) and settled in chunks on `threads` threads, and only
monthly sums are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.special import ndtri

from carbon254.ppa.book import Book, Progress, SettleAt, check_run, make_book, run_chunks
from carbon254.ppa.contracts import Contract
from carbon254.ppa.discount import DiscountCurve
from carbon254.ppa.distribution import PpaDistribution
from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import HOURS_PER_YEAR, Floats
from carbon254.ppa.price_paths import Floats32, PathModel, row_generators
from carbon254.ppa.settlement import Side
from carbon254.ppa.uncertainty import VolumeUncertainty
from carbon254.ppa.valuation import Valuation, value_ppa
from carbon254.scenarios import PathsStep, PricePaths

DEFAULT_PATHS = 1000
DEFAULT_CHUNK = 50


@dataclass(frozen=True, slots=True)
class PathSums:
    """Monthly sums of a chunk of paths (rows) and the draws the volume factors need.

    cash: the side's cash ($); volume: settled MWh; weighted: Σ generation ×
    price ($); price: Σ price ($/MWh × hours), all per path and month;
    eps: each path's yearly volume shocks, life: its life-of-plant shock.
    """

    cash: Floats
    volume: Floats
    weighted: Floats
    price: Floats
    eps: Floats
    life: Floats


def simulate_ppa(
    contract: Contract,
    starts: npt.ArrayLike,
    curve: npt.ArrayLike,
    mwh: npt.ArrayLike,
    discount: DiscountCurve,
    *,
    model: PathsStep | None = None,
    n_paths: int | None = None,
    seed: int = 0,
    volume_sd: float | VolumeUncertainty = 0.0,
    price_volume_correlation: float = 0.0,
    basis: float | npt.ArrayLike = 0.0,
    basis_sd: float = 0.0,
    settle_at: SettleAt = "hub",
    side: Side = "buyer",
    valuation_start: int | datetime | date | None = None,
    antithetic: bool = True,
    threads: int = 2,
    chunk_paths: int = DEFAULT_CHUNK,
    on_progress: Progress | None = None,
) -> PpaDistribution:
    """Value `contract` on Monte Carlo paths around the hourly hub `curve` ($/MWh) at hour starts (µs UTC).

    `mwh` is the P50 generation (MWh per hour). `model` is the scenario
    engine's `PathsStep` (default its defaults); `n_paths` overrides its
    path count (default the model's, else 1,000). `volume_sd` is a
    `VolumeUncertainty` or the year-to-year standard deviation of annual
    energy as a fraction of P50; `price_volume_correlation` in [-1, 1]
    (negative: windy or sunny years are cheap years). `basis` and
    `basis_sd` ($/MWh) make the node price; `settle_at` says which price the
    contract settles at. `antithetic` pairs paths 2k and 2k + 1 on opposite
    diffusion shocks (each path still follows the model; half the normal
    draws, and a steadier mean). The same `seed` gives the same paths
    whatever `threads` and `chunk_paths`. `on_progress(done_paths, n_paths)` is called
    as chunks finish. See the module docstring for the models.
    """
    step = model if model is not None else PathsStep(n_paths=n_paths or DEFAULT_PATHS)
    paths = n_paths if n_paths is not None else step.n_paths
    check_run(paths, threads, chunk_paths)
    uncertainty = volume_uncertainty(volume_sd)
    if not (math.isfinite(price_volume_correlation) and -1 <= price_volume_correlation <= 1):
        raise PpaError(f"price_volume_correlation: {price_volume_correlation!r} must be in [-1, 1]")
    if not (math.isfinite(basis_sd) and basis_sd >= 0):
        raise PpaError(f"basis_sd: {basis_sd!r} must be >= 0 ($/MWh)")
    if settle_at not in ("hub", "node"):
        raise PpaError(f"settle_at: {settle_at!r} is not hub or node")
    book = make_book(
        contract, starts, curve, mwh, discount, side=side, basis=basis, valuation_start=valuation_start
    )
    kernel = PathModel.of(step, book.hub, book.grid.month_of_hour)
    noisy_basis = settle_at == "node" and basis_sd > 0

    def task(first: int, stop: int) -> PathSums:
        generators = row_generators(seed, first, stop, antithetic)
        work = np.empty((stop - first, book.hours), dtype=np.float32)
        prices = kernel.draw(generators, work, antithetic=antithetic)
        noise = _basis_noise(generators, len(book.grid), basis_sd) if noisy_basis else None
        settle_prices = book.node_prices(prices, noise, in_place=True) if settle_at == "node" else prices
        return _sums(book, settle_prices, work, generators)

    chunk = chunk_paths + chunk_paths % 2 if antithetic else chunk_paths
    sums = _stack(run_chunks(paths, chunk, threads, task, on_progress))
    node = book.hub + book.basis if settle_at == "node" else book.hub
    deterministic = value_ppa(
        contract, book.starts, node, book.generation, discount, side=book.side, valuation_start=book.origin_us
    )
    factors = volume_factors(book, sums, uncertainty, price_volume_correlation)
    return _distribution(book, sums, factors, paths, seed, deterministic)


def value_paths(
    contract: Contract,
    paths: PricePaths,
    mwh: npt.ArrayLike,
    discount: DiscountCurve,
    *,
    side: Side = "buyer",
    valuation_start: int | datetime | date | None = None,
    threads: int = 2,
    chunk_paths: int = DEFAULT_CHUNK,
    on_progress: Progress | None = None,
) -> PpaDistribution:
    """Value `contract` on price paths drawn elsewhere, e.g. a scenario's `PricePaths` ($/MWh, µs UTC starts).

    Each path is settled at its own prices with generation `mwh` (MWh per
    hour on the paths' hours); the deterministic valuation is on the mean path.
    """
    values = np.asarray(paths.values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(paths.starts):
        raise PpaError(f"paths: values of shape {values.shape} for {len(paths.starts)} hour starts")
    count = values.shape[0]
    check_run(count, threads, chunk_paths)
    if not np.isfinite(values).all():
        raise PpaError("paths: every price must be finite")
    mean = values.mean(axis=0)
    book = make_book(contract, paths.starts, mean, mwh, discount, side=side, valuation_start=valuation_start)
    first_hour = int(np.searchsorted(paths.starts, book.starts[0]))
    term = slice(first_hour, first_hour + book.hours)

    def task(first: int, stop: int) -> PathSums:
        prices = np.ascontiguousarray(values[first:stop, term], dtype=np.float32)
        return _sums(book, prices, np.empty_like(prices), [])

    sums = _stack(run_chunks(count, chunk_paths, threads, task, on_progress))
    deterministic = value_ppa(
        contract,
        book.starts,
        book.hub,
        book.generation,
        discount,
        side=book.side,
        valuation_start=book.origin_us,
    )
    factors = np.ones((count, book.years))
    return _distribution(book, sums, factors, count, 0, deterministic)


def volume_uncertainty(volume_sd: float | VolumeUncertainty) -> VolumeUncertainty:
    """`volume_sd` as a `VolumeUncertainty` (a number is the year-to-year sd, a fraction of P50)."""
    if isinstance(volume_sd, VolumeUncertainty):
        return volume_sd
    try:
        return VolumeUncertainty(interannual_sd=float(volume_sd))
    except PpaError as error:
        raise PpaError(f"volume_sd: {error}") from None


def _basis_noise(generators: list[np.random.Generator], months: int, sd: float) -> Floats:
    """Each path's basis noise per calendar month ($/MWh), N(0, sd), from the path's own stream."""
    return np.stack([sd * g.standard_normal(months) for g in generators])


def _sums(book: Book, prices: Floats32, work: Floats32, generators: list[np.random.Generator]) -> PathSums:
    """Settle a chunk of price paths and keep the monthly sums; draw each path's volume shocks."""
    cash, volume = book.monthly_cash(prices, book.volume32, work)
    np.multiply(prices, book.generation32, out=work)
    weighted = book.grid.sums(work)
    price = book.grid.sums(prices)
    rows = len(prices)
    if generators:
        eps = np.stack([g.standard_normal(book.years) for g in generators])
        life = np.array([g.standard_normal() for g in generators])
    else:
        eps, life = np.zeros((rows, book.years)), np.zeros(rows)
    return PathSums(cash, volume, weighted, price, eps, life)


def _stack(parts: list[PathSums]) -> PathSums:
    return PathSums(
        cash=np.concatenate([p.cash for p in parts]),
        volume=np.concatenate([p.volume for p in parts]),
        weighted=np.concatenate([p.weighted for p in parts]),
        price=np.concatenate([p.price for p in parts]),
        eps=np.concatenate([p.eps for p in parts]),
        life=np.concatenate([p.life for p in parts]),
    )


def volume_factors(book: Book, sums: PathSums, uncertainty: VolumeUncertainty, correlation: float) -> Floats:
    """Each path's factor on P50 energy per calendar year: 1 + long-term + correlated interannual shock."""
    paths = len(sums.cash)
    if uncertainty.interannual_sd == 0 and uncertainty.long_term_sd == 0:
        return np.ones((paths, book.years))
    yearly_price = np.zeros((paths, book.years))
    np.add.at(yearly_price.T, book.year_of_month, sums.price.T)
    price_z = _normal_scores(yearly_price)
    year_z = correlation * price_z + math.sqrt(1.0 - correlation * correlation) * sums.eps
    factor = 1.0 + uncertainty.long_term_sd * sums.life[:, None] + uncertainty.interannual_sd * year_z
    return np.maximum(factor, 0.0)


def _normal_scores(values: Floats) -> Floats:
    """Per column, each value's rank among the rows as a standard normal score (0 for a constant column)."""
    rows = values.shape[0]
    scores = np.zeros_like(values)
    if rows < 2:
        return scores
    for column in range(values.shape[1]):
        series = values[:, column]
        if np.ptp(series) <= 1e-9 * max(1.0, float(np.abs(series).max())):
            continue
        ranks = np.empty(rows)
        ranks[np.argsort(series, kind="stable")] = np.arange(rows)
        scores[:, column] = ndtri((ranks + 0.5) / rows)
    return scores


def _distribution(
    book: Book,
    sums: PathSums,
    factors: Floats,
    n_paths: int,
    seed: int,
    deterministic: Valuation,
) -> PpaDistribution:
    monthly_factor = factors[:, book.year_of_month]
    cash = sums.cash * monthly_factor
    settlement = cash.sum(axis=1)
    npv = cash @ book.factors
    volume = (sums.volume * monthly_factor).sum(axis=1)
    generation = book.grid.sums(book.generation)[None, :] * monthly_factor
    generated = generation.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        capture = np.where(generated > 0, (sums.weighted * monthly_factor).sum(axis=1) / generated, np.nan)
    baseload = sums.price.sum(axis=1) / book.hours
    yearly_cash = np.zeros((n_paths, book.years))
    np.add.at(yearly_cash.T, book.year_of_month, cash.T)
    yearly_volume = np.zeros((n_paths, book.years))
    np.add.at(yearly_volume.T, book.year_of_month, (sums.volume * monthly_factor).T)
    p5, p50, p95 = np.percentile(yearly_cash, (5, 50, 95), axis=0)
    annual = pl.DataFrame(
        {
            "period_start": pl.Series(book.year_start, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            "volume_mwh": yearly_volume.mean(axis=0),
            "settlement_mean": yearly_cash.mean(axis=0),
            "settlement_p5": p5,
            "settlement_p50": p50,
            "settlement_p95": p95,
        }
    )
    return PpaDistribution(
        side=book.side,
        n_paths=n_paths,
        seed=seed,
        npv=npv,
        settlement=settlement,
        annual_settlement=settlement * HOURS_PER_YEAR / book.hours,
        volume_mwh=volume,
        capture_price=capture,
        baseload_price=baseload,
        annual=annual,
        deterministic=deterministic,
    )
