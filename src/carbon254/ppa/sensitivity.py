"""How a PPA's value moves with one input at a time: a table per axis.

Axes:

- contract terms: `strike` (fixed), `floor` and `cap` (collar; `floor`
  also of a floating discount), `adder` (hub-plus), `discount` (floating
  discount), `escalator`, `rec_price`: the contract with that term set to
  each value, valued on the prices;
- `basis`: the contract settled at a node priced hub + value ($/MWh);
- `p_level`: the generation scaled to the P-level of each exceedance
  probability (0.9 = P90) of a `VolumeUncertainty` over `years`;
- `volatility`: Monte Carlo with the path model's sigma set to each value,
  reporting the mean NPV and its 10th and 90th percentiles.

Every table has the columns axis, value, npv, settlement, breakeven ($,
$, $/MWh; the mean over paths for volatility), npv_p10 and npv_p90 (null
but for volatility).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import ValidationError

from carbon254.ppa.contracts import Contract, parse_contract
from carbon254.ppa.discount import DiscountCurve
from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import check_hourly
from carbon254.ppa.montecarlo import simulate_ppa
from carbon254.ppa.settlement import Side
from carbon254.ppa.uncertainty import VolumeUncertainty
from carbon254.ppa.valuation import value_ppa
from carbon254.scenarios import PathsStep

Axis = Literal[
    "strike", "floor", "cap", "adder", "discount", "escalator", "rec_price", "basis", "volatility", "p_level"
]
CONTRACT_AXES = ("strike", "floor", "cap", "adder", "discount", "escalator", "rec_price")
AXES = (*CONTRACT_AXES, "basis", "volatility", "p_level")

SCHEMA: dict[str, pl.DataType] = {
    "axis": pl.String(),
    "value": pl.Float64(),
    "npv": pl.Float64(),
    "settlement": pl.Float64(),
    "breakeven": pl.Float64(),
    "npv_p10": pl.Float64(),
    "npv_p90": pl.Float64(),
}


def sensitivity(
    contract: Contract,
    starts: npt.ArrayLike,
    price: npt.ArrayLike,
    mwh: npt.ArrayLike,
    discount: DiscountCurve,
    *,
    axis: Axis,
    values: Sequence[float],
    side: Side = "buyer",
    uncertainty: VolumeUncertainty | None = None,
    years: int = 1,
    model: PathsStep | None = None,
    n_paths: int = 200,
    seed: int = 0,
    valuation_start: int | datetime | date | None = None,
    threads: int = 2,
) -> pl.DataFrame:
    """One row per value of `axis`: the contract's NPV and settlement ($) and breakeven ($/MWh) as it varies.

    `price` is the hourly price ($/MWh; the hub price for `basis`, the curve
    for `volatility`) and `mwh` the P50 generation (MWh/h) at hour starts
    (µs UTC). `p_level` needs `uncertainty` (and `years` for a multi-year
    P-level); `volatility` runs `n_paths` paths of `model` (default
    `PathsStep` defaults) with `seed`. Raises `PpaError` for an axis that
    does not apply to the contract or a value the contract cannot take.
    """
    if axis not in AXES:
        raise PpaError(f"axis: {axis!r} is not one of {', '.join(AXES)}")
    if len(values) == 0:
        raise PpaError("values: need at least one value")
    stamps, prices, generation = check_hourly(starts, price, mwh)
    rows: list[dict[str, object]] = []
    for value in values:
        point = float(value)
        if not np.isfinite(point):
            raise PpaError(f"values: {value!r} is not a finite number")
        if axis == "volatility":
            if point < 0:
                raise PpaError(f"values: volatility {point:g} must be >= 0")
            step = (model if model is not None else PathsStep(n_paths=n_paths)).model_copy(
                update={"sigma": point}
            )
            run = simulate_ppa(
                contract,
                stamps,
                prices,
                generation,
                discount,
                model=step,
                n_paths=n_paths,
                seed=seed,
                side=side,
                valuation_start=valuation_start,
                threads=threads,
            )
            spread = run.percentiles
            rows.append(
                _row(axis, point, run.mean, float(run.settlement.mean()), run.deterministic.breakeven)
                | {"npv_p10": spread.p10, "npv_p90": spread.p90}
            )
            continue
        terms, prices_at, volume = contract, prices, generation
        if axis in CONTRACT_AXES:
            terms = _with_term(contract, axis, point)
        elif axis == "basis":
            prices_at = prices + point
        else:
            if uncertainty is None:
                raise PpaError("uncertainty: the p_level axis needs a VolumeUncertainty")
            volume = generation * uncertainty.p_level(point, years)
        result = value_ppa(
            terms, stamps, prices_at, volume, discount, side=side, valuation_start=valuation_start
        )
        rows.append(_row(axis, point, result.npv, result.settlement, result.breakeven))
    return pl.DataFrame(rows, schema=SCHEMA)


def _row(axis: str, value: float, npv: float, settlement: float, breakeven: float) -> dict[str, object]:
    return {
        "axis": axis,
        "value": value,
        "npv": npv,
        "settlement": settlement,
        "breakeven": breakeven,
        "npv_p10": None,
        "npv_p90": None,
    }


def _with_term(contract: Contract, field: str, value: float) -> Contract:
    """`contract` with one numeric term replaced, validated again."""
    data = contract.model_dump()
    if field not in data:
        raise PpaError(f"axis: {field} does not apply to a {contract.type} contract")
    data[field] = value
    try:
        return parse_contract(data)
    except (PpaError, ValidationError) as error:
        raise PpaError(f"values: {field} = {value:g}: {error}") from None
