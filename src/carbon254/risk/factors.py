"""Risk factors and their history: the prices a book's value moves with, and how they moved.

A factor is one price series: a location's (hub or node) forward price for
one delivery month and block, or its spot price (the daily average of
day-ahead prices in the block) when `month` is None. Its label reads
`ISO:LOCATION:BLOCK:YYYY-MM` or `ISO:LOCATION:BLOCK:spot`.

History is daily price CHANGES in $/MWh (not log returns: power prices
reach zero and go negative, where a log return means nothing). A P&L
scenario is then exposure (MWh, $ per $/MWh) times change ($/MWh).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from carbon254.isos import iso_info
from carbon254.risk.errors import MissingHistory, RiskError, UnknownFactor
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]

# Names traders also use for the standard blocks: 5x16 is the weekday peak, 7x24 around the clock.
BLOCK_ALIASES = {"5x16": Block.ONPEAK, "7x24": Block.ATC}
BASE_BLOCKS = (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)


def parse_block(text: str) -> Block:
    """The block a name means: onpeak, offpeak, atc, 2x16, 7x8, or 5x16 (onpeak) and 7x24 (atc).

    Case-insensitive; raises RiskError listing the accepted names otherwise.
    """
    folded = text.strip().lower()
    if folded in BLOCK_ALIASES:
        return BLOCK_ALIASES[folded]
    try:
        return Block(folded)
    except ValueError:
        names = ", ".join([*(b.value for b in Block), *BLOCK_ALIASES])
        raise RiskError(f"unknown block {text!r}; expected one of {names}") from None


def base_blocks(block: Block) -> tuple[Block, ...]:
    """The base blocks (onpeak, 2x16, 7x8), which partition every day, whose hours make up `block`."""
    if block is Block.ATC:
        return BASE_BLOCKS
    if block is Block.OFFPEAK:
        return (Block.TWO_BY_16, Block.SEVEN_BY_8)
    return (block,)


def normalize_iso(iso: str) -> str:
    """The stored name of an ISO given in any case; RiskError naming the valid ones otherwise."""
    try:
        return iso_info(iso.strip()).iso.value
    except KeyError as error:
        raise RiskError(str(error.args[0])) from None


def month_label(month: date) -> str:
    """`YYYY-MM` of a first-of-month date."""
    return f"{month.year:04d}-{month.month:02d}"


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """One price a position is exposed to: `location`'s `block` price for delivery `month`, or spot.

    `iso` is stored upper case (as in the `iso` column); `month` is a
    first-of-month date, or None for the spot factor.
    """

    iso: str
    location: str
    block: Block
    month: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "iso", normalize_iso(self.iso))
        if not self.location.strip():
            raise RiskError("factor location must not be empty")
        if self.month is not None and self.month.day != 1:
            raise RiskError(f"factor month {self.month} must be the first of a month")

    @property
    def label(self) -> str:
        """`ISO:LOCATION:BLOCK:YYYY-MM`, or `...:spot` for a spot factor."""
        when = "spot" if self.month is None else month_label(self.month)
        return f"{self.iso}:{self.location}:{self.block.value}:{when}"

    @property
    def is_spot(self) -> bool:
        """Whether this is a spot factor (no delivery month)."""
        return self.month is None

    def __str__(self) -> str:
        return self.label


def parse_factor(label: str) -> RiskFactor:
    """The factor a label names (`ERCOT:HB_NORTH:onpeak:2026-07`, `ERCOT:HB_SOUTH:atc:spot`).

    Raises RiskError naming the part that is wrong.
    """
    parts = label.split(":")
    if len(parts) != 4:
        raise RiskError(
            f"factor label {label!r} must read ISO:LOCATION:BLOCK:YYYY-MM or ISO:LOCATION:BLOCK:spot"
        )
    iso, location, block, when = (p.strip() for p in parts)
    month: date | None = None
    if when.lower() != "spot":
        try:
            year, mon = when.split("-")
            month = date(int(year), int(mon), 1)
        except ValueError:
            raise RiskError(f"factor label {label!r}: {when!r} is neither YYYY-MM nor spot") from None
    return RiskFactor(iso, location, parse_block(block), month)


@dataclass(frozen=True, slots=True, eq=False)
class FactorHistory:
    """Daily changes of factor prices: `changes[day, factor]` in $/MWh on `dates` (the later mark).

    `levels`, when given, are the factors' latest prices ($/MWh), which
    percentage shocks are taken of. Dates must increase; gaps (weekends,
    holidays, days an ISO file is missing) are taken as they come, so a
    change over a gap spans it. NaN marks a missing change: a measure that
    needs that factor refuses it (`MissingHistory`), others ignore it.
    """

    factors: tuple[RiskFactor, ...]
    dates: tuple[date, ...]
    changes: Floats
    levels: Floats | None = None

    def __post_init__(self) -> None:
        changes = np.asarray(self.changes, dtype=np.float64)
        if changes.ndim != 2 or changes.shape != (len(self.dates), len(self.factors)):
            raise RiskError(
                f"changes: shape {changes.shape} is not days x factors "
                f"({len(self.dates)}, {len(self.factors)})"
            )
        for before, after in pairwise(self.dates):
            if after <= before:
                raise RiskError(f"dates: {after} follows {before}; dates must increase")
        seen: set[RiskFactor] = set()
        for factor in self.factors:
            if factor in seen:
                raise RiskError(f"factors: {factor.label} appears twice")
            seen.add(factor)
        if self.levels is not None:
            levels = np.asarray(self.levels, dtype=np.float64)
            if levels.shape != (len(self.factors),):
                raise RiskError(
                    f"levels: shape {levels.shape} is not one price per factor ({len(self.factors)})"
                )
            object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "changes", changes)

    @classmethod
    def from_levels(
        cls, factors: Sequence[RiskFactor], dates: Sequence[date], levels: Floats
    ) -> FactorHistory:
        """History from daily price levels ($/MWh, days x factors): changes day over day.

        The first date has no change; the last row becomes `levels`.
        """
        prices = np.asarray(levels, dtype=np.float64)
        if prices.ndim != 2 or prices.shape != (len(dates), len(factors)):
            raise RiskError(
                f"levels: shape {prices.shape} is not days x factors ({len(dates)}, {len(factors)})"
            )
        if len(dates) < 2:
            raise MissingHistory(f"levels: {len(dates)} day(s) of prices give no change; need at least 2")
        return cls(tuple(factors), tuple(dates[1:]), np.diff(prices, axis=0), prices[-1].copy())

    @property
    def days(self) -> int:
        """Number of daily changes."""
        return len(self.dates)

    def index(self, factor: RiskFactor) -> int:
        """The column of `factor`; UnknownFactor when the history has none."""
        try:
            return self.factors.index(factor)
        except ValueError:
            raise UnknownFactor(f"no history for factor {factor.label}") from None

    def last(self, days: int | None) -> FactorHistory:
        """The most recent `days` changes (all of them for None); MissingHistory when there are fewer."""
        if days is None:
            return self
        if days < 1:
            raise RiskError(f"window: must be at least 1 day, got {days}")
        if days > self.days:
            raise MissingHistory(f"window: {days} days asked for, the history has {self.days}")
        return FactorHistory(self.factors, self.dates[-days:], self.changes[-days:], self.levels)

    def columns(self, factors: Sequence[RiskFactor]) -> Floats:
        """The changes of `factors` (days x len(factors)), refusing any NaN among them.

        Raises UnknownFactor for a factor without history and MissingHistory
        naming the factor and the first date whose change is missing.
        """
        where = {f: i for i, f in enumerate(self.factors)}
        missing = [f.label for f in factors if f not in where]
        if missing:
            raise UnknownFactor(f"no history for factor(s) {', '.join(missing)}")
        picked: Floats = self.changes[:, [where[f] for f in factors]]
        bad = ~np.isfinite(picked)
        if bad.any():
            day, col = np.argwhere(bad)[0]
            raise MissingHistory(
                f"history of {factors[int(col)].label} is missing on {self.dates[int(day)]} "
                f"({int(bad[:, col].sum())} missing day(s) in the window)"
            )
        return picked
