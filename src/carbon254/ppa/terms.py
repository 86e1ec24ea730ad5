"""A contract laid on hours: its term, its escalation, its volume rule and its price formula.

`lay_out` says, for each hour start, whether it is in the delivery term, the
escalation factor of its contract year and the contract volume (MWh) the
volume rule makes of the generation. `PriceFormula` evaluates the contract
price c(p) and the buyer's per-MWh difference p - c(p) on one price series
or on a matrix of price paths (paths x hours) in its own float precision,
which is what both the deterministic settlement and the Monte Carlo use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.ppa.contracts import Collar, Contract, FixedPrice, FloatingDiscount, IndexPlus
from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import (
    US_PER_HOUR,
    Bools,
    Floats,
    Stamps,
    add_years_us,
    anniversary_index,
    to_micros,
)

Real = npt.NDArray[np.floating]


@dataclass(frozen=True, slots=True)
class ContractHours:
    """A contract's terms on an hourly grid.

    `in_term` marks the hours of the delivery term (a contiguous run from
    `first` to `stop`, exclusive), `escalation` is (1 + escalator) ** contract
    year of each hour, `volume` the contract volume before any negative-price
    curtailment and `generation` the generation, both MWh per hour and zero
    outside the term.
    """

    in_term: Bools
    first: int
    stop: int
    escalation: Floats
    volume: Floats
    generation: Floats


def term_bounds(contract: Contract, starts: Stamps) -> tuple[int, int]:
    """Positions [first, stop) of the hour starts inside the contract's delivery term.

    The term opens at `contract.start` (UTC midnight) or the first hour and
    runs `term_years` whole years (or to the last hour). Raises `PpaError`
    when no hour falls inside it.
    """
    opening = to_micros(contract.start) if contract.start is not None else int(starts[0])
    closing = (
        add_years_us(opening, contract.term_years)
        if contract.term_years is not None
        else int(starts[-1]) + US_PER_HOUR
    )
    first = int(np.searchsorted(starts, opening, side="left"))
    stop = int(np.searchsorted(starts, closing, side="left"))
    if stop <= first:
        raise PpaError(
            "start/term_years: no hour of the series falls inside the contract's delivery term "
            f"(start {contract.start}, term {contract.term_years} years)"
        )
    return first, stop


def lay_out(contract: Contract, starts: Stamps, generation: Floats) -> ContractHours:
    """The contract's term, escalation and volume on validated hour starts (µs UTC) and generation (MWh/h).

    Volume rules: `as_generated` and `proxy` settle the series as given;
    `baseload` a flat volume equal to the mean generation over the term;
    `shaped` the mean generation of each (calendar month, UTC hour of day)
    cell over the term, repeated in every hour of that cell.
    """
    first, stop = term_bounds(contract, starts)
    in_term = np.zeros(len(starts), dtype=np.bool_)
    in_term[first:stop] = True
    opening = to_micros(contract.start) if contract.start is not None else int(starts[0])
    years = np.maximum(anniversary_index(starts, opening), 0)
    escalation = np.power(1.0 + contract.escalator, years.astype(np.float64))
    gen = np.where(in_term, generation, 0.0)
    volume = np.zeros(len(starts))
    window = generation[first:stop]
    if contract.volume == "baseload":
        volume[first:stop] = window.mean()
    elif contract.volume == "shaped":
        volume[first:stop] = _shape(starts[first:stop], window)
    else:
        volume[first:stop] = window
    return ContractHours(in_term, first, stop, escalation, volume, gen)


def _shape(starts: Stamps, generation: Floats) -> Floats:
    """Each hour's (calendar month, UTC hour of day) mean generation, MWh."""
    stamps = starts.astype("datetime64[us]")
    month = (stamps.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)
    hour = ((starts // US_PER_HOUR) % 24).astype(np.int64)
    cell = month * 24 + hour
    total = np.bincount(cell, weights=generation, minlength=288)
    count = np.bincount(cell, minlength=288)
    mean = total / np.maximum(count, 1)
    return np.asarray(mean[cell], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class PriceFormula:
    """A contract's price formula with its escalated parameters laid on hours, in one float precision.

    `low`/`high` are the floor and cap (collar, floor of a floating discount),
    `fixed` the strike, `adder` the hub-plus adder, all $/MWh per hour;
    `discount` the floating discount fraction. Unused ones are None.
    """

    kind: str
    fixed: Real | None = None
    low: Real | None = None
    high: Real | None = None
    adder: Real | None = None
    discount: float = 0.0

    @staticmethod
    def of(contract: Contract, escalation: Floats, dtype: type[np.floating] = np.float64) -> PriceFormula:
        """The formula of `contract` with each hour's escalation factor applied, as `dtype` arrays."""

        def laid(value: float) -> Real:
            return np.asarray(value * escalation, dtype=dtype)

        if isinstance(contract, FixedPrice):
            return PriceFormula("fixed", fixed=laid(contract.strike))
        if isinstance(contract, Collar):
            return PriceFormula("collar", low=laid(contract.floor), high=laid(contract.cap))
        if isinstance(contract, IndexPlus):
            return PriceFormula("index_plus", adder=laid(contract.adder))
        assert isinstance(contract, FloatingDiscount)
        low = laid(contract.floor) if contract.floor is not None else None
        return PriceFormula("floating_discount", low=low, discount=contract.discount)

    def contract_price(self, price: Real, out: Real | None = None) -> Real:
        """c(p), $/MWh: what the seller is paid per MWh at market prices `price` (hours on the last axis)."""
        target = np.empty_like(price) if out is None else out
        if self.fixed is not None:
            target[...] = self.fixed
        elif self.kind == "collar":
            assert self.low is not None and self.high is not None
            # Two plain passes beat np.clip with array bounds; the same numbers since low <= high.
            np.minimum(price, self.high, out=target)
            np.maximum(target, self.low, out=target)
        elif self.adder is not None:
            np.add(price, self.adder, out=target)
        else:
            np.multiply(price, price.dtype.type(1.0 - self.discount), out=target)
            if self.low is not None:
                np.maximum(target, self.low, out=target)
        return target

    def difference(self, price: Real, out: Real | None = None) -> Real:
        """p - c(p), $/MWh: what a virtual buyer receives per MWh (hours on the last axis).

        Fixed: p - strike; collar: max(p - cap, 0) - max(floor - p, 0) (the
        same numbers as p - clip(p, floor, cap)); hub-plus: -adder.
        """
        target = np.empty_like(price) if out is None else out
        if self.fixed is not None:
            np.subtract(price, self.fixed, out=target)
        elif self.adder is not None:
            np.negative(np.broadcast_to(self.adder, price.shape), out=target)
        else:
            self.contract_price(price, out=target)
            np.subtract(price, target, out=target)
        return target
