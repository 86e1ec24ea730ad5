"""Hourly settlement of a PPA: the settled volume and the cash each hour, from the buyer's or seller's view.

Virtual PPA, buyer's view (the external contract): each hour the buyer
receives mwh * (p - c) - rec_price * mwh, where c is the contract price of
the hour (see `carbon254.ppa.contracts`); the seller's cash is the opposite.
Physical PPA: the seller receives c * mwh + rec_price * mwh for the energy
and RECs it delivers, and the buyer pays it. With `negative_price =
"curtail"` no volume settles in hours whose price is below zero; hours
outside the delivery term settle nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from carbon254.ppa.contracts import Contract
from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import Floats, Stamps, check_hourly
from carbon254.ppa.terms import ContractHours, PriceFormula, lay_out

Side = Literal["buyer", "seller"]
SIDES = ("buyer", "seller")


@dataclass(frozen=True, slots=True)
class Settlement:
    """A PPA settled hour by hour.

    `starts` (µs UTC) and `price` ($/MWh) are the inputs; `mwh` the volume
    settled each hour after the volume rule, the term and any negative-price
    curtailment (MWh); `contract_price` the escalated contract price c
    ($/MWh); `cash` the side's cash each hour ($, positive received);
    `generation` the generation inside the term (MWh).
    """

    starts: Stamps
    price: Floats
    mwh: Floats
    contract_price: Floats
    cash: Floats
    generation: Floats
    side: Side
    hours: ContractHours

    @property
    def total(self) -> float:
        """Σ cash, $."""
        return float(self.cash.sum())


def check_side(side: str) -> Side:
    """`side` checked to be "buyer" or "seller"."""
    if side not in SIDES:
        raise PpaError(f"side: {side!r} is not buyer or seller")
    return "buyer" if side == "buyer" else "seller"


def side_sign(contract: Contract, side: Side) -> float:
    """+1 when `side` receives the contract's basic cash flow, -1 when it pays it.

    The basic flow is the virtual buyer's difference, and the physical
    seller's revenue.
    """
    receives = "buyer" if contract.settlement == "virtual" else "seller"
    return 1.0 if side == receives else -1.0


def settled_volume(contract: Contract, hours: ContractHours, price: Floats) -> Floats:
    """The contract volume after negative-price curtailment (MWh per hour)."""
    if contract.negative_price == "curtail":
        return np.where(price < 0, 0.0, hours.volume)
    return hours.volume


def hourly_cash(
    contract: Contract, formula: PriceFormula, price: Floats, volume: Floats, side: Side
) -> Floats:
    """The side's cash each hour ($) at prices `price` ($/MWh) and settled `volume` (MWh)."""
    if contract.settlement == "virtual":
        basic = volume * formula.difference(price) - contract.rec_price * volume
    else:
        basic = volume * formula.contract_price(price) + contract.rec_price * volume
    return np.asarray(side_sign(contract, side) * basic, dtype=np.float64)


def settle(
    contract: Contract,
    starts: npt.ArrayLike,
    price: npt.ArrayLike,
    mwh: npt.ArrayLike,
    *,
    side: Side = "buyer",
) -> Settlement:
    """Settle `contract` hour by hour: hour starts (µs UTC), market price ($/MWh), generation (MWh/h).

    `price` is the price at the contract's settlement point (hub or node);
    `mwh` the generation (or the proxy generation of a proxy contract).
    Returns the settled volume, contract price and cash of each hour from
    `side`'s view. For a virtual fixed-price contract the buyer's total is
    Σ mwh * (price - strike); for a virtual collar Σ mwh * (max(price - cap,
    0) - max(floor - price, 0)). Raises `PpaError` naming a bad input.
    """
    who = check_side(side)
    stamps, prices, generation = check_hourly(starts, price, mwh)
    hours = lay_out(contract, stamps, generation)
    formula = PriceFormula.of(contract, hours.escalation)
    volume = settled_volume(contract, hours, prices)
    cash = hourly_cash(contract, formula, prices, volume, who)
    return Settlement(
        starts=stamps,
        price=prices,
        mwh=volume,
        contract_price=np.asarray(formula.contract_price(prices), dtype=np.float64),
        cash=cash,
        generation=hours.generation,
        side=who,
        hours=hours,
    )
