"""PPA valuation: what a power purchase agreement is worth to each side.

Contracts (`FixedPrice`, `Collar`, `IndexPlus`, `FloatingDiscount`, parsed
from JSON by `parse_contract`) settle hour by hour on UTC hour starts
(`settle`) and are valued with a `DiscountCurve` (`value_ppa`,
`breakeven_price`). No I/O: arrays in, typed results out.
"""

from carbon254.ppa.contracts import (
    Collar,
    Contract,
    FixedPrice,
    FloatingDiscount,
    IndexPlus,
    parse_contract,
)
from carbon254.ppa.discount import DiscountCurve
from carbon254.ppa.errors import PpaError
from carbon254.ppa.settlement import Settlement, Side, settle
from carbon254.ppa.valuation import Valuation, breakeven_price, value_ppa

__all__ = [
    "Collar",
    "Contract",
    "DiscountCurve",
    "FixedPrice",
    "FloatingDiscount",
    "IndexPlus",
    "PpaError",
    "Settlement",
    "Side",
    "Valuation",
    "breakeven_price",
    "parse_contract",
    "settle",
    "value_ppa",
]
