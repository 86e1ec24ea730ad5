"""Daily changes of a hub's curve by relative tenor, the risk factors VaR is estimated from.

Tenor M+k on an as-of date is the month k months after the as-of's month
(M+1 is next month). A tenor's series follows that relative position, not a
fixed contract: when the as-of date moves into a new month, M+1 moves to the
following delivery month, so the change on that day includes the roll from
one contract to the next (the constant-maturity view risk models use).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from carbon254.curves.model import MonthlyCurve
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CurveReturns:
    """Changes of one hub's `block` prices by tenor between consecutive as-of dates.

    `dates[i]` is the later as-of date of change i; `tenors[k]` is the
    number of months ahead (1 = M+1). `absolute[i, k]` is the change in
    $/MWh, `log[i, k]` the log return, NaN where either price is not
    positive (power prices can be zero or negative; a log return is then
    undefined, the absolute change is still there).
    """

    hub: str
    block: Block
    dates: tuple[date, ...]
    tenors: npt.NDArray[np.int64]
    absolute: Floats
    log: Floats


def _tenor_prices(curve: MonthlyCurve, block: Block, tenors: int) -> Floats:
    index = curve.as_of.year * 12 + curve.as_of.month - 1
    j = curve.blocks.index(block)
    first = curve.months[0].year * 12 + curve.months[0].month - 1
    rows = index + np.arange(1, tenors + 1) - first
    result: Floats = curve.prices[rows, j]
    return result


def curve_returns(curves: Sequence[MonthlyCurve], block: Block) -> CurveReturns:
    """Absolute ($/MWh) and log returns of tenors M+1..M+K of one hub's `block` curve, day over day.

    `curves` are one hub's monthly curves on increasing as-of dates
    (consecutive marking days; gaps are taken as they come). K is the
    largest tenor every curve reaches. Raises ValueError naming the problem
    for fewer than two curves, mixed hubs, as-of dates not increasing, a
    block a curve lacks, or a curve that does not reach M+1.
    """
    if len(curves) < 2:
        raise ValueError(f"curve returns need at least two curves, got {len(curves)}")
    hubs = {(c.iso, c.hub) for c in curves}
    if len(hubs) > 1:
        raise ValueError(f"curve returns need one hub's curves, got {sorted(hubs)}")
    for before, after in pairwise(curves):
        if after.as_of <= before.as_of:
            raise ValueError(f"as-of dates must increase: {after.as_of} follows {before.as_of}")
    reach = []
    for c in curves:
        if block not in c.blocks:
            raise ValueError(f"the {c.hub} curve of {c.as_of} has no {block.value} prices")
        last = c.months[-1].year * 12 + c.months[-1].month - 1
        first = c.months[0].year * 12 + c.months[0].month - 1
        here = c.as_of.year * 12 + c.as_of.month - 1
        if first > here + 1 or last < here + 1:
            span = f"{c.months[0]}..{c.months[-1]}"
            raise ValueError(f"the {c.hub} curve of {c.as_of} does not cover M+1 ({span})")
        reach.append(last - here)
    tenors = min(reach)
    prices = np.array([_tenor_prices(c, block, tenors) for c in curves])
    absolute = np.diff(prices, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = (prices[1:] > 0) & (prices[:-1] > 0)
        log = np.where(positive, np.log(np.where(positive, prices[1:] / prices[:-1], 1.0)), np.nan)
    return CurveReturns(
        hub=curves[0].hub,
        block=block,
        dates=tuple(c.as_of for c in curves[1:]),
        tenors=np.arange(1, tenors + 1, dtype=np.int64),
        absolute=absolute,
        log=log,
    )
