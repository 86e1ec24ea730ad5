"""Stress tests: the book's P&L under given factor moves, per position, per book node and per factor.

Shocks are factor moves in $/MWh (`FactorShocks`), made from

- rules (`ShockRule`): a location's block prices over a range of delivery
  months moved by $/MWh or by a percentage of the factors' price levels;
  a rule's block selects the factors whose hours it contains (atc: every
  factor of the location; offpeak: offpeak, 2x16 and 7x8), and spot
  factors only when the rule names no months; rules add up;
- a named historical event (`historical_shocks`): the sum of the daily
  changes the caller's history holds for the event's dates (e.g. Winter
  Storm Uri, 2021-02-13 to 2021-02-19);
- a hypothetical scenario of `carbon254.scenarios` (`shocks_from_curves`):
  shocked minus base curve prices, per factor's hub, month and block (a
  spot factor moves with the curve's first, prompt, month).

P&L is exposure (MWh) x move ($/MWh): positions are linear in prices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from carbon254.curves.model import CurveSet, MonthlyCurve
from carbon254.risk.errors import MissingHistory, RiskError, UnknownFactor
from carbon254.risk.exposure import ExposureMatrix, exposures
from carbon254.risk.factors import FactorHistory, RiskFactor, base_blocks, month_label, normalize_iso
from carbon254.risk.positions import Portfolio, book_ancestors, book_nodes
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class FactorShocks:
    """A named set of factor moves ($/MWh), one per factor."""

    name: str
    factors: tuple[RiskFactor, ...]
    moves: Floats

    def __post_init__(self) -> None:
        moves = np.asarray(self.moves, dtype=np.float64)
        if moves.shape != (len(self.factors),):
            raise RiskError(f"moves: {moves.shape} values for {len(self.factors)} factors")
        if not np.isfinite(moves).all():
            bad = self.factors[int(np.flatnonzero(~np.isfinite(moves))[0])]
            raise RiskError(f"moves: the move of {bad.label} is not a finite number")
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "moves", moves)


@dataclass(frozen=True, slots=True)
class ShockRule:
    """Move `location`'s `block` prices in months `start`..`end` (inclusive; None: open) by `change` $/MWh
    or by `percent` of their level (exactly one of the two)."""

    iso: str
    location: str
    block: Block = Block.ATC
    start: date | None = None
    end: date | None = None
    change: float | None = None
    percent: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "iso", normalize_iso(self.iso))
        if (self.change is None) == (self.percent is None):
            raise RiskError(f"shock on {self.location}: give exactly one of change ($/MWh) or percent")
        amount = self.change if self.change is not None else self.percent
        if amount is None or not math.isfinite(amount):
            raise RiskError(f"shock on {self.location}: the amount must be a finite number")
        for name, month in (("start", self.start), ("end", self.end)):
            if month is not None and month.day != 1:
                raise RiskError(f"shock on {self.location}: {name} {month} must be the first of a month")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise RiskError(
                f"shock on {self.location}: end {self.end:%Y-%m} is before start {self.start:%Y-%m}"
            )

    def selects(self, factor: RiskFactor) -> bool:
        """Whether the rule moves `factor` (module docstring)."""
        if (factor.iso, factor.location) != (self.iso, self.location):
            return False
        if not set(base_blocks(factor.block)) <= set(base_blocks(self.block)):
            return False
        if factor.month is None:
            return self.start is None and self.end is None
        return (self.start is None or factor.month >= self.start) and (
            self.end is None or factor.month <= self.end
        )


def shocks_from_rules(
    name: str, factors: Sequence[RiskFactor], rules: Sequence[ShockRule], levels: Floats | None = None
) -> FactorShocks:
    """Moves ($/MWh) of `factors` under `rules` (added up); `levels` ($/MWh, per factor) for percent rules.

    Raises UnknownFactor for a rule that selects no factor (a misspelt
    location, months outside the book) and RiskError for a percent rule
    without levels.
    """
    chosen = tuple(factors)
    moves = np.zeros(len(chosen))
    if levels is not None:
        levels = np.asarray(levels, dtype=np.float64)
        if levels.shape != (len(chosen),):
            raise RiskError(f"levels: {levels.shape} prices for {len(chosen)} factors")
    for rule in rules:
        hit = np.array([rule.selects(f) for f in chosen], dtype=np.bool_)
        if not hit.any():
            raise UnknownFactor(
                f"shock on {rule.iso} {rule.location} {rule.block.value} selects no factor of the book"
            )
        if rule.change is not None:
            moves[hit] += rule.change
        else:
            if levels is None:
                raise RiskError(f"shock on {rule.location}: a percent shock needs the factors' price levels")
            assert rule.percent is not None
            moves[hit] += levels[hit] * rule.percent / 100.0
    return FactorShocks(name, chosen, moves)


def historical_shocks(
    name: str, history: FactorHistory, start: date, end: date, factors: Sequence[RiskFactor] | None = None
) -> FactorShocks:
    """The moves ($/MWh) of a past event: the sum of the daily changes dated `start`..`end` (inclusive).

    `factors` defaults to all of the history's. Raises MissingHistory when
    the history has no day in the range or a change of a factor is missing.
    """
    if end < start:
        raise RiskError(f"end {end} is before start {start}")
    chosen = tuple(history.factors if factors is None else factors)
    inside = np.array([start <= d <= end for d in history.dates], dtype=np.bool_)
    if not inside.any():
        span = f"{history.dates[0]}..{history.dates[-1]}" if history.dates else "no days"
        raise MissingHistory(f"{name}: the history ({span}) has no change from {start} to {end}")
    picked = FactorHistory(
        history.factors,
        tuple(d for d, keep in zip(history.dates, inside, strict=True) if keep),
        history.changes[inside],
    )
    return FactorShocks(name, chosen, picked.columns(chosen).sum(axis=0))


def _curve(curves: CurveSet, factor: RiskFactor, which: str) -> MonthlyCurve:
    curve = curves.monthly.get(factor.location)
    if curve is None:
        raise UnknownFactor(
            f"the {which} curve set has no monthly curve for {factor.location} ({factor.label})"
        )
    if normalize_iso(curve.iso) != factor.iso:
        raise UnknownFactor(
            f"the {which} curve of {factor.location} is {curve.iso}'s, the factor {factor.label}"
        )
    return curve


def _block_price(curve: MonthlyCurve, month: date, block: Block, label: str) -> float:
    """The curve's `block` price in `month`, hour-weighted from finer blocks when it lacks `block`."""
    first = month.replace(day=1)
    if first not in curve.months:
        span = f"{month_label(curve.months[0])}..{month_label(curve.months[-1])}"
        raise UnknownFactor(f"{label}: {first:%Y-%m} is not on the {curve.hub} curve ({span})")
    i = curve.months.index(first)
    if block in curve.blocks:
        return float(curve.prices[i, curve.blocks.index(block)])
    for parts in ((Block.ONPEAK, Block.OFFPEAK), base_blocks(block)):
        if set(base_blocks(block)) == {b for p in parts for b in base_blocks(p)} and set(parts) <= set(
            curve.blocks
        ):
            cols = [curve.blocks.index(p) for p in parts]
            hours = curve.hours[i, cols].astype(np.float64)
            if hours.sum() > 0:
                return float(hours @ curve.prices[i, cols] / hours.sum())
    raise UnknownFactor(
        f"{label}: the {curve.hub} curve has no {block.value} prices nor blocks that make them up"
    )


def shocks_from_curves(
    name: str, base: CurveSet, shocked: CurveSet, factors: Sequence[RiskFactor]
) -> FactorShocks:
    """Moves ($/MWh) of `factors` from `base` to `shocked` curves (e.g. `apply_scenario(s, base).curves`).

    A factor's hub is its location's monthly curve in each set; spot
    factors take the prompt (first) month's move. Raises UnknownFactor for
    a hub, month or block the curves lack.
    """
    chosen = tuple(factors)
    moves = np.zeros(len(chosen))
    for k, factor in enumerate(chosen):
        before, after = _curve(base, factor, "base"), _curve(shocked, factor, "shocked")
        month = factor.month if factor.month is not None else before.months[0]
        moves[k] = _block_price(after, month, factor.block, factor.label) - _block_price(
            before, month, factor.block, factor.label
        )
    return FactorShocks(name, chosen, moves)


@dataclass(frozen=True, slots=True, eq=False)
class StressResult:
    """A stress's P&L ($): total, per position, per book node (`""` the portfolio) and per factor."""

    name: str
    pnl: float
    ids: tuple[str, ...]
    books: tuple[str, ...]
    position_pnl: Floats
    book_nodes: tuple[str, ...]
    book_pnl: Floats
    factors: tuple[RiskFactor, ...]
    factor_pnl: Floats

    def positions_frame(self) -> pl.DataFrame:
        """id, book, pnl per position."""
        return pl.DataFrame({"id": list(self.ids), "book": list(self.books), "pnl": self.position_pnl})

    def books_frame(self) -> pl.DataFrame:
        """book, pnl per node, parents first."""
        return pl.DataFrame({"book": list(self.book_nodes), "pnl": self.book_pnl})


def stress(
    book: Portfolio | ExposureMatrix, shocks: FactorShocks, *, as_of: date | None = None
) -> StressResult:
    """The P&L ($) of `book` when its factors move by `shocks` ($/MWh), delivery from `as_of` on.

    A portfolio is mapped onto the shocks' factors (`exposures`); given
    exposures must be on factors the shocks all move. Raises UnknownFactor
    for a position exposed to a factor the shocks do not cover.
    """
    exposure = exposures(book, shocks.factors, as_of=as_of) if isinstance(book, Portfolio) else book
    moves = dict(zip(shocks.factors, shocks.moves.tolist(), strict=True))
    factors = exposure.exposed
    unshocked = [f.label for f in factors if f not in moves]
    if unshocked:
        raise UnknownFactor(f"{shocks.name}: no move given for factor(s) {', '.join(unshocked)}")
    x = exposure.on(factors)
    move = np.array([moves[f] for f in factors])
    position_pnl = x @ move
    nodes = book_nodes(exposure.books)
    index = {n: i for i, n in enumerate(nodes)}
    book_pnl = np.zeros(len(nodes))
    for j, path in enumerate(exposure.books):
        for node in book_ancestors(path):
            book_pnl[index[node]] += position_pnl[j]
    return StressResult(
        name=shocks.name,
        pnl=float(position_pnl.sum()),
        ids=exposure.ids,
        books=exposure.books,
        position_pnl=position_pnl,
        book_nodes=nodes,
        book_pnl=book_pnl,
        factors=factors,
        factor_pnl=x.sum(axis=0) * move,
    )
