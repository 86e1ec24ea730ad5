"""Factor history from forward curves: the daily tenor changes of `carbon254.curves.curve_returns`.

`curve_returns` follows tenors M+1, M+2, ... (constant maturity: the
series of M+1 rolls to the next contract when the month turns). For a
book marked on `as_of`, tenor M+k is the delivery month k months after
as_of's month, so its history is that tenor's changes: the risk factor
of delivery month m is the M+k series with k = m - as_of's month.

Curves are marked on trading days only, while spot factors change every
calendar day. `calendar_curve_history` puts a hub's tenor changes on the
calendar: a day without a mark is a zero change (the curve stands as last
marked), and the first mark after a gap carries the whole move since the
previous one, as a weekend's onpeak spot price is carried over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise

import numpy as np

from carbon254.curves.model import MonthlyCurve
from carbon254.curves.returns import CurveReturns, curve_returns
from carbon254.risk.errors import MissingHistory, RiskError
from carbon254.risk.factors import FactorHistory, RiskFactor
from carbon254.risk.hours import month_code, month_of
from carbon254.timeseries.periods import Block


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


def calendar_curve_history(
    curves: Sequence[MonthlyCurve],
    blocks: Sequence[Block],
    dates: Sequence[date],
    *,
    location: str | None = None,
    as_of: date | None = None,
) -> FactorHistory:
    """One hub's tenor factors ($/MWh changes) on every calendar day of `dates`, seen from `as_of`.

    `curves` are the hub's marks on increasing as-of days, the first on or
    before the day before `dates[0]` (so every change in `dates` has a
    previous mark) and none after `dates[-1]`; `dates` are consecutive
    calendar days. The change on a mark's day is the tenor change from the
    previous mark (`curve_returns`), every other day's is zero. Factors are
    (iso, `location` or the curves' hub, block, delivery month) for tenors
    M+1..M+K every mark reaches, months counted from `as_of` (default
    `dates[-1]`; a past event's tenor moves apply to today's book); `levels`
    are the last mark's prices of those months ($/MWh; NaN for a month it
    lacks). Raises MissingHistory when the marks start too late, RiskError
    for marks after the last day, days that are not consecutive, or curves
    `curve_returns` refuses (mixed hubs, a block missing, M+1 not covered).
    """
    if not curves:
        raise MissingHistory("curves: no marked curve")
    if not dates:
        raise RiskError("dates: no days")
    first, last = dates[0], dates[-1]
    if any((b - a).days != 1 for a, b in pairwise(dates)):
        raise RiskError("dates: must be consecutive calendar days")
    if curves[0].as_of >= first:
        raise MissingHistory(
            f"{curves[0].iso}:{curves[0].hub}: the first mark is on {curves[0].as_of}; the history from "
            f"{first} needs one before it"
        )
    if curves[-1].as_of > last:
        raise RiskError(f"curves: a mark on {curves[-1].as_of} is after the history's last day {last}")
    try:
        returns = [curve_returns(curves, block) for block in blocks]
    except ValueError as error:
        raise RiskError(f"curves: {error}") from None
    on_marks = history_from_curve_returns(returns, curves[0].iso, as_of or last)
    changes = np.zeros((len(dates), len(on_marks.factors)))
    row = {d: i for i, d in enumerate(dates)}
    for k, day in enumerate(on_marks.dates):
        if day in row:
            changes[row[day]] = on_marks.changes[k]
    name = location if location is not None else curves[0].hub
    factors = tuple(RiskFactor(f.iso, name, f.block, f.month) for f in on_marks.factors)
    latest = curves[-1]
    levels = np.array(
        [
            latest.price(f.month, f.block) if f.month is not None and f.month in latest.months else np.nan
            for f in factors
        ]
    )
    return FactorHistory(factors, tuple(dates), changes, levels)
