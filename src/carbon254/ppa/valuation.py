"""A PPA valued on one price series: settlement, NPV, capture price and rate, breakeven, monthly/annual cash.

Cash is aggregated by calendar month (UTC), discounted from each month's
end (see `carbon254.ppa.discount`) and summed; the settlement is the same
sum undiscounted, so a zero discount rate gives NPV == settlement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from carbon254.ppa.contracts import Contract
from carbon254.ppa.discount import DiscountCurve
from carbon254.ppa.hourly import HOURS_PER_YEAR, Floats, MonthGrid, check_hourly, to_micros
from carbon254.ppa.settlement import Settlement, Side, settle

PERIOD_SCHEMA: dict[str, pl.DataType] = {
    "period_start": pl.Datetime("us", "UTC"),
    "volume_mwh": pl.Float64(),
    "settlement": pl.Float64(),
    "discounted": pl.Float64(),
}


@dataclass(frozen=True, slots=True)
class Valuation:
    """What a PPA is worth to `side` on one price series.

    settlement: Σ cash ($, undiscounted); npv: Σ discounted cash ($);
    volume_mwh: settled volume; generation_mwh: generation in the term;
    capture_price: generation-weighted price ($/MWh); baseload_price: the
    time-weighted mean price over the term ($/MWh); capture_rate: their
    ratio (NaN when the baseload price is 0); breakeven: the first-year
    fixed strike ($/MWh) that makes a fixed-price PPA on the same terms
    (volume rule, curtailment, escalator, RECs) worth zero, i.e. a fair fixed
    price for this volume and these prices; fixed_equivalent: the first-year
    fixed strike worth the same as this contract (the strike itself for a
    fixed-price PPA); mark_to_market: the side's NPV relative to trading the
    settled volume at the market price instead (equal to npv for a virtual
    PPA; for a physical one what the contract adds to, or takes from, a
    merchant position); annual_settlement: settlement per year of term
    (Σ cash × 8,760 / term hours, $/yr). `monthly` and `annual` hold, per
    calendar month and year (UTC) of the term, period_start, volume_mwh,
    settlement and discounted ($).
    """

    side: Side
    settlement: float
    npv: float
    volume_mwh: float
    generation_mwh: float
    capture_price: float
    baseload_price: float
    capture_rate: float
    breakeven: float
    fixed_equivalent: float
    mark_to_market: float
    annual_settlement: float
    monthly: pl.DataFrame
    annual: pl.DataFrame


def value_ppa(
    contract: Contract,
    starts: npt.ArrayLike,
    price: npt.ArrayLike,
    mwh: npt.ArrayLike,
    discount: DiscountCurve,
    *,
    side: Side = "buyer",
    valuation_start: int | datetime | date | None = None,
) -> Valuation:
    """Value `contract` for `side` on hourly prices ($/MWh) and generation (MWh/h) at hour starts (µs UTC).

    Cash is settled hour by hour (`settle`), summed per calendar month and
    discounted from each month's end to `valuation_start` (default: the first
    hour start). Returns settlement, NPV, capture price and rate, breakeven
    fixed price and the monthly and annual tables (see `Valuation`).
    """
    settled = settle(contract, starts, price, mwh, side=side)
    origin = int(settled.starts[0]) if valuation_start is None else to_micros(valuation_start)
    return valuation_of(contract, settled, discount, origin)


def valuation_of(
    contract: Contract, settled: Settlement, discount: DiscountCurve, origin_us: int
) -> Valuation:
    """The `Valuation` of an hourly settlement, discounted to `origin_us` (µs UTC)."""
    hours = settled.hours
    window = slice(hours.first, hours.stop)
    grid = MonthGrid.of(settled.starts[window])
    factors = discount.month_factors(grid, origin_us)
    monthly_cash = grid.sums(settled.cash[window])
    monthly_volume = grid.sums(settled.mwh[window])
    discounted = monthly_cash * factors
    price = settled.price[window]
    generation = settled.generation[window]
    volume = settled.mwh[window]
    escalation = hours.escalation[window]
    weights = factors[grid.month_of_hour] * volume
    # A fixed-price contract on these terms is worth Σ w (p - K e - rec) to its virtual buyer.
    scaled = float(np.dot(weights, escalation))
    breakeven = float(np.dot(weights, price - contract.rec_price)) / scaled if scaled else float("nan")
    equivalent = float(np.dot(weights, settled.contract_price[window])) / scaled if scaled else float("nan")
    market_sign = 1.0 if settled.side == "buyer" else -1.0
    mark = market_sign * float(np.dot(weights, price - settled.contract_price[window] - contract.rec_price))
    gen_total = float(generation.sum())
    capture = float(np.dot(generation, price)) / gen_total if gen_total > 0 else float("nan")
    baseload = float(price.mean())
    total = float(monthly_cash.sum())
    monthly = _periods(grid.month_start, monthly_volume, monthly_cash, discounted)
    year_of_month, year_start = grid.years()
    annual = _periods(
        year_start,
        np.bincount(year_of_month, weights=monthly_volume).astype(np.float64),
        np.bincount(year_of_month, weights=monthly_cash).astype(np.float64),
        np.bincount(year_of_month, weights=discounted).astype(np.float64),
    )
    return Valuation(
        side=settled.side,
        settlement=total,
        npv=float(discounted.sum()),
        volume_mwh=float(volume.sum()),
        generation_mwh=gen_total,
        capture_price=capture,
        baseload_price=baseload,
        capture_rate=capture / baseload if baseload != 0 else float("nan"),
        breakeven=breakeven,
        fixed_equivalent=equivalent,
        mark_to_market=mark,
        annual_settlement=total * HOURS_PER_YEAR / len(price),
        monthly=monthly,
        annual=annual,
    )


def _periods(start: npt.NDArray[np.int64], volume: Floats, cash: Floats, discounted: Floats) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "period_start": pl.Series(start, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            "volume_mwh": volume,
            "settlement": cash,
            "discounted": discounted,
        },
        schema=PERIOD_SCHEMA,
    )


def breakeven_price(
    starts: npt.ArrayLike,
    price: npt.ArrayLike,
    mwh: npt.ArrayLike,
    discount: DiscountCurve,
    *,
    valuation_start: int | datetime | date | None = None,
) -> float:
    """The fixed strike ($/MWh) that makes a plain virtual fixed-price PPA on this volume worth zero.

    Σ DF·mwh·price / Σ DF·mwh over the hours (µs UTC starts), each hour
    discounted from its month's end: the discounted generation-weighted
    price. NaN when there is no volume.
    """
    stamps, prices, volume = check_hourly(starts, price, mwh)
    origin = int(stamps[0]) if valuation_start is None else to_micros(valuation_start)
    grid = MonthGrid.of(stamps)
    weights = discount.month_factors(grid, origin)[grid.month_of_hour] * volume
    total = float(weights.sum())
    return float(np.dot(weights, prices)) / total if total > 0 else float("nan")
