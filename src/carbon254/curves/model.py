"""The curve domain's data: contracts, quotes, monthly block curves and hourly curves.

Prices are $/MWh. A contract's period is a half-open range of delivery days
`[start, end)` in the ISO's market time; a block (`carbon254.timeseries.Block`)
selects its hours by the ISO's definition (NERC holidays are off-peak).
Monthly curves and hourly curves are plain frozen dataclasses over NumPy
arrays so that scenarios, risk, battery and PPA can consume them without
going through any storage or web layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from carbon254.timeseries.periods import Block

Prices = npt.NDArray[np.float64]


class ContractKind(StrEnum):
    """How a quoted period is named by the market (inferred from its dates when not given)."""

    BALANCE_OF_MONTH = "bom"
    MONTH = "month"
    QUARTER = "quarter"
    SEASON = "season"
    CALENDAR = "calendar"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Contract:
    """A delivery period and block: days `[start, end)` in market time, hours of `block`."""

    start: date
    end: date
    block: Block
    kind: ContractKind = ContractKind.CUSTOM
    label: str = ""

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"contract end {self.end} must be after its start {self.start}")

    @property
    def name(self) -> str:
        """How errors and reports name it: its label, else its dates, with the block."""
        period = self.label or f"{self.start.isoformat()}..{self.end.isoformat()}"
        return f"{period} {self.block.value}"


@dataclass(frozen=True, slots=True)
class Quote:
    """A forward price ($/MWh) for a contract; `line` is its 1-based line in the uploaded file, if any."""

    contract: Contract
    price: float
    line: int | None = None

    @property
    def name(self) -> str:
        """The contract's name, with the file line when the quote came from one."""
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.contract.name} @ {self.price:g}{where}"


@dataclass(frozen=True, slots=True)
class MonthlyCurve:
    """Monthly block prices of one hub as marked on `as_of`.

    `months` are first-of-month dates, ascending and consecutive; `prices`
    has one row per month and one column per block in `blocks` ($/MWh).
    `hours[i, j]` is the number of delivery hours of `blocks[j]` in month
    `i` that the curve covers (a balance-of-month first month covers only
    its remaining days). `quoted_through` is the first day after the last
    quoted delivery day: months from there on are extrapolated.
    """

    iso: str
    hub: str
    as_of: date
    months: tuple[date, ...]
    blocks: tuple[Block, ...]
    prices: Prices
    hours: npt.NDArray[np.int64]
    quoted_through: date
    simulated: bool = False

    def price(self, month: date, block: Block) -> float:
        """The price ($/MWh) of `block` in the month containing `month`; KeyError if not on the curve."""
        first = month.replace(day=1)
        try:
            i = self.months.index(first)
            j = self.blocks.index(block)
        except ValueError:
            raise KeyError(f"{first:%Y-%m} {block.value} is not on the {self.hub} curve") from None
        return float(self.prices[i, j])


@dataclass(frozen=True, slots=True)
class HourlyCurve:
    """An hourly price forward curve (HPFC): one price per delivery hour ($/MWh).

    `starts` are the hours' UTC starts as int64 microseconds since the epoch,
    ascending, one per real hour (a fall-back day has 25, a spring-forward
    day 23). `prices` are aligned with `starts`.
    """

    iso: str
    hub: str
    as_of: date
    starts: npt.NDArray[np.int64]
    prices: Prices
    simulated: bool = False


@dataclass(frozen=True, slots=True)
class CurveSet:
    """The curves one analysis runs on, by hub name: what scenarios transform and engines consume.

    `hourly` holds the HPFC of a hub when one was built; a scenario that
    changes hourly shapes needs it.
    """

    monthly: dict[str, MonthlyCurve] = field(default_factory=dict)
    hourly: dict[str, HourlyCurve] = field(default_factory=dict)
