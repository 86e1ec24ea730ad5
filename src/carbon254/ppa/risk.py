"""Where a PPA's value comes from and how much each source can move it.

The waterfall walks, on the expected prices (the curve) and P50 volume,
from the value of the contract volume delivered as a flat block at the
hub's monthly baseload price to the contract's value, one change at a time:

1. baseload value: each month's contract volume spread flat over its hours
   and priced at the hub's time-weighted mean price of the month;
2. shape: the hourly hub prices and the hourly volume (the capture price
   against the baseload price);
3. basis: the node price (hub + basis) instead of the hub, when the
   contract settles at the node (zero when it settles at the hub);
4. negative-price curtailment: the contract's curtailment clause;
5. RECs: the REC payment.

Every step is the change in NPV ($, the side's view) from the one before,
so the steps sum to the contract's NPV (`value_ppa`).

The risk components are distributions over Monte Carlo paths of each
source's contribution to NPV ($): price (the NPV on a hub price path with
P50 volume, less the NPV on the curve), shape (the shape step on the
path's own prices), basis (settling at the node with monthly basis noise
instead of the hub, on the path's hub prices) and volume (the NPV with the
path's volume factors on the curve, less the NPV with P50 volume).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from carbon254.ppa.book import Book, Progress, SettleAt, check_run, make_book, run_chunks
from carbon254.ppa.contracts import Contract
from carbon254.ppa.discount import DiscountCurve
from carbon254.ppa.distribution import Percentiles
from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import Floats
from carbon254.ppa.montecarlo import DEFAULT_CHUNK, PathSums, volume_factors, volume_uncertainty
from carbon254.ppa.price_paths import Floats32, PathModel, row_generators
from carbon254.ppa.settlement import Side
from carbon254.ppa.uncertainty import VolumeUncertainty
from carbon254.scenarios import PathsStep

DEFAULT_RISK_PATHS = 500


@dataclass(frozen=True, slots=True)
class RiskComponent:
    """One source's contribution to NPV on each path ($), with its summary."""

    name: str
    values: Floats
    mean: float
    sd: float
    percentiles: Percentiles

    @staticmethod
    def of(name: str, values: Floats) -> RiskComponent:
        """The component `name` from its per-path values ($)."""
        return RiskComponent(name, values, float(values.mean()), float(values.std()), Percentiles.of(values))


@dataclass(frozen=True, slots=True)
class WaterfallStep:
    """One step of the waterfall: its change in NPV and the running total after it ($)."""

    label: str
    delta: float
    cumulative: float


@dataclass(frozen=True, slots=True)
class RiskDecomposition:
    """The waterfall from baseload value to contract value, and the four risk distributions (see module)."""

    side: Side
    contract_npv: float
    waterfall: tuple[WaterfallStep, ...]
    shape: RiskComponent
    basis: RiskComponent
    volume: RiskComponent
    price: RiskComponent

    @property
    def components(self) -> tuple[RiskComponent, ...]:
        """shape, basis, volume and price, in that order."""
        return (self.shape, self.basis, self.volume, self.price)


@dataclass(frozen=True, slots=True)
class _Chunk:
    price: Floats
    shape: Floats
    basis: Floats
    sums: PathSums


def risk_decomposition(
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
    basis: float | npt.ArrayLike = 0.0,
    basis_sd: float = 0.0,
    settle_at: SettleAt = "hub",
    side: Side = "buyer",
    valuation_start: int | datetime | date | None = None,
    antithetic: bool = True,
    threads: int = 2,
    chunk_paths: int = DEFAULT_CHUNK,
    on_progress: Progress | None = None,
) -> RiskDecomposition:
    """The waterfall and the shape, basis, volume and price risk of `contract` for `side` (see the module).

    Inputs as `simulate_ppa`: hour starts (µs UTC), the hourly hub `curve`
    ($/MWh), P50 generation `mwh` (MWh/h), `basis` and `basis_sd` ($/MWh),
    the path `model` (default `PathsStep` defaults, 500 paths unless
    `n_paths`), `volume_sd` (fraction of P50 per year, or a
    `VolumeUncertainty`), `antithetic`. Path i of a seed is the same hub
    path as in `simulate_ppa`.
    """
    step = model if model is not None else PathsStep(n_paths=n_paths or DEFAULT_RISK_PATHS)
    paths = n_paths if n_paths is not None else step.n_paths
    check_run(paths, threads, chunk_paths)
    if settle_at not in ("hub", "node"):
        raise PpaError(f"settle_at: {settle_at!r} is not hub or node")
    if not (math.isfinite(basis_sd) and basis_sd >= 0):
        raise PpaError(f"basis_sd: {basis_sd!r} must be >= 0 ($/MWh)")
    uncertainty = volume_uncertainty(volume_sd)
    book = make_book(
        contract, starts, curve, mwh, discount, side=side, basis=basis, valuation_start=valuation_start
    )
    waterfall = _waterfall(book, settle_at)
    contract_npv = waterfall[-1].cumulative
    kernel = PathModel.of(step, book.hub, book.grid.month_of_hour)
    flat_volume = _monthly_flat(book, book.volume[None, :]).astype(np.float32)[0]

    def npv(prices: Floats32, volume: Floats32, work: Floats32, *, curtail: bool, rec: bool) -> Floats:
        cash, _ = book.monthly_cash(prices, volume, work, curtail=curtail, rec=rec)
        return np.asarray(cash @ book.factors)

    def task(first: int, stop: int) -> _Chunk:
        generators = row_generators(seed, first, stop, antithetic)
        work = np.empty((stop - first, book.hours), dtype=np.float32)
        hub = kernel.draw(generators, work, antithetic=antithetic)
        noise = (
            np.stack([basis_sd * g.standard_normal(len(book.grid)) for g in generators])
            if basis_sd > 0
            else None
        )
        hub_value = npv(hub, book.volume32, work, curtail=True, rec=True)
        hourly = npv(hub, book.volume32, work, curtail=False, rec=False)
        flat = npv(_monthly_flat(book, hub).astype(np.float32), flat_volume, work, curtail=False, rec=False)
        settled = book.node_prices(hub, None) if settle_at == "node" else hub
        price_value = (
            npv(settled, book.volume32, work, curtail=True, rec=True) if settle_at == "node" else hub_value
        )
        node = book.node_prices(hub, noise, in_place=True)
        node_value = npv(node, book.volume32, work, curtail=True, rec=True)
        eps = np.stack([g.standard_normal(book.years) for g in generators])
        life = np.array([g.standard_normal() for g in generators])
        empty = np.zeros((stop - first, len(book.grid)))
        return _Chunk(
            price=price_value - contract_npv,
            shape=hourly - flat,
            basis=node_value - hub_value,
            sums=PathSums(empty, empty, empty, empty, eps, life),
        )

    chunk = chunk_paths + chunk_paths % 2 if antithetic else chunk_paths
    chunks = run_chunks(paths, chunk, threads, task, on_progress)
    sums = PathSums(
        cash=np.zeros((paths, len(book.grid))),
        volume=np.zeros((paths, len(book.grid))),
        weighted=np.zeros((paths, len(book.grid))),
        price=np.zeros((paths, len(book.grid))),
        eps=np.concatenate([c.sums.eps for c in chunks]),
        life=np.concatenate([c.sums.life for c in chunks]),
    )
    # Volume alone: prices on the curve, so there is no price for the volume to correlate with.
    factors = volume_factors(book, sums, uncertainty, 0.0)
    settled_curve = (book.hub + book.basis if settle_at == "node" else book.hub)[None, :]
    base_cash, _ = book.monthly_cash(
        settled_curve, book.volume[None, :], np.empty_like(settled_curve), curtail=True, rec=True
    )
    volume_npv = (base_cash * factors[:, book.year_of_month]) @ book.factors
    return RiskDecomposition(
        side=book.side,
        contract_npv=contract_npv,
        waterfall=waterfall,
        shape=RiskComponent.of("shape", np.concatenate([c.shape for c in chunks])),
        basis=RiskComponent.of("basis", np.concatenate([c.basis for c in chunks])),
        volume=RiskComponent.of("volume", volume_npv - contract_npv),
        price=RiskComponent.of("price", np.concatenate([c.price for c in chunks])),
    )


def waterfall(
    contract: Contract,
    starts: npt.ArrayLike,
    curve: npt.ArrayLike,
    mwh: npt.ArrayLike,
    discount: DiscountCurve,
    *,
    basis: float | npt.ArrayLike = 0.0,
    settle_at: SettleAt = "hub",
    side: Side = "buyer",
    valuation_start: int | datetime | date | None = None,
) -> tuple[WaterfallStep, ...]:
    """The deterministic waterfall alone (see the module docstring), $ from `side`'s view."""
    if settle_at not in ("hub", "node"):
        raise PpaError(f"settle_at: {settle_at!r} is not hub or node")
    book = make_book(
        contract, starts, curve, mwh, discount, side=side, basis=basis, valuation_start=valuation_start
    )
    return _waterfall(book, settle_at)


def _waterfall(book: Book, settle_at: SettleAt) -> tuple[WaterfallStep, ...]:
    hub = book.hub[None, :]
    volume = book.volume[None, :]
    settle = (book.hub + book.basis)[None, :] if settle_at == "node" else hub
    work = np.empty_like(hub)

    def npv(prices: Floats, vol: Floats, *, curtail: bool, rec: bool) -> float:
        cash, _ = book.monthly_cash(prices, vol, work, curtail=curtail, rec=rec)
        return float((cash @ book.factors)[0])

    values = [
        (
            "baseload value",
            npv(_monthly_flat(book, hub), _monthly_flat(book, volume), curtail=False, rec=False),
        ),
        ("shape", npv(hub, volume, curtail=False, rec=False)),
        ("basis", npv(settle, volume, curtail=False, rec=False)),
        ("negative-price curtailment", npv(settle, volume, curtail=True, rec=False)),
        ("RECs", npv(settle, volume, curtail=True, rec=True)),
    ]
    steps = []
    before = 0.0
    for label, value in values:
        steps.append(WaterfallStep(label, value - before, value))
        before = value
    return tuple(steps)


def _monthly_flat(book: Book, values: npt.NDArray[np.floating]) -> Floats:
    """Each row's monthly time-weighted mean, repeated over the month's hours (float64)."""
    means = book.grid.sums(values) / book.grid.hours()
    return np.asarray(means[:, book.grid.month_of_hour], dtype=np.float64)
