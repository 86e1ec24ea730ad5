"""Factor history from forward curves: the daily tenor changes of `carbon254.curves.curve_returns`.

`curve_returns` follows tenors M+1, M+2, ... (constant maturity: the
series of M+1 rolls to the next contract when the month turns). For a
book marked on `as_of`, tenor M+k is the delivery month k months after
as_of's month, so its history is that tenor's changes: the risk factor
of delivery month m is the M+k series with k = m - as_of's month.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from carbon254.curves.returns import CurveReturns
from carbon254.risk.errors import RiskError
from carbon254.risk.factors import FactorHistory, RiskFactor
from carbon254.risk.hours import month_code, month_of


def history_from_curve_returns(
    returns: Sequence[CurveReturns], iso: str, as_of: date | None = None
) -> FactorHistory:
    """The monthly factors (`iso`, hub, block, delivery month) of tenor changes ($/MWh) seen from `as_of`.

    `returns` are one per hub and block, on the same dates; `as_of`
    defaults to their last date. Raises RiskError for no returns, returns
    on different dates, or the same hub and block twice.
    """
    if not returns:
        raise RiskError("returns: no curve returns given")
    dates = returns[0].dates
    when = as_of if as_of is not None else dates[-1]
    factors: list[RiskFactor] = []
    columns = []
    for r in returns:
        if r.dates != dates:
            raise RiskError(f"returns: {r.hub} {r.block.value} are not on the same dates as {returns[0].hub}")
        for k, tenor in enumerate(r.tenors.tolist()):
            factors.append(RiskFactor(iso, r.hub, r.block, month_of(month_code(when) + int(tenor))))
            columns.append(r.absolute[:, k])
    return FactorHistory(tuple(factors), tuple(dates), np.column_stack(columns))
