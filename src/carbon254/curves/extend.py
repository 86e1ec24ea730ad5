"""Carrying a marked curve past its last month, for contracts longer than the traded strip.

Forward markets quote power three to five calendar years out; a 15- or
20-year PPA needs prices for every delivery month of its term. Past the
curve's last month each month repeats the same calendar month of the
curve's last twelve months, escalated by a constant annual rate per year
beyond them: the seasonal and block shape of the last marked year, at a
long-run price trend the caller chooses (0 keeps prices flat in nominal
terms). This is a stated assumption, not a market view, so the extended
curve moves `quoted_through` nowhere: every extended month reads as
extrapolated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np

from carbon254.curves.hours import day_hours
from carbon254.curves.model import MonthlyCurve

MONTHS_PER_YEAR = 12


def _month_index(month: date) -> int:
    return month.year * MONTHS_PER_YEAR + month.month - 1


def _month_of(index: int) -> date:
    return date(index // MONTHS_PER_YEAR, index % MONTHS_PER_YEAR + 1, 1)


def extend_curve(curve: MonthlyCurve, through: date, *, escalation: float = 0.0) -> MonthlyCurve:
    """`curve` with months added up to and including the month of `through` ($/MWh).

    A new month's block prices are those of the same calendar month in the
    curve's last twelve months times (1 + escalation) ** k, k the number of
    years it lies beyond that month; its hours are the real block hours of
    the ISO's market clock. Returns `curve` itself when it already reaches
    `through`. Raises ValueError when the curve has fewer than twelve months
    (no full year to repeat) or `escalation` is not above -1.
    """
    if escalation <= -1.0 or not np.isfinite(escalation):
        raise ValueError(f"escalation must be a finite annual rate above -1, got {escalation}")
    last = _month_index(curve.months[-1])
    target = _month_index(through.replace(day=1))
    if target <= last:
        return curve
    if len(curve.months) < MONTHS_PER_YEAR:
        raise ValueError(
            f"the {curve.hub} curve has {len(curve.months)} months: extending it needs a full year to repeat"
        )
    new = np.arange(last + 1, target + 1)
    # The source month is the same calendar month within the curve's last twelve.
    years_beyond = (new - (last - MONTHS_PER_YEAR + 1)) // MONTHS_PER_YEAR
    source = new - MONTHS_PER_YEAR * years_beyond - (last - len(curve.months) + 1)
    growth = (1.0 + escalation) ** years_beyond.astype(np.float64)
    prices = curve.prices[source] * growth[:, None]
    first_new, end_new = _month_of(int(new[0])), _month_of(int(new[-1]) + 1)
    hours = day_hours(curve.iso, first_new, end_new)
    # Each new month's first day, as an offset into the days counted above.
    bounds = [(_month_of(int(m)) - first_new).days for m in new]
    new_hours = np.array([np.add.reduceat(hours.of(b), bounds) for b in curve.blocks]).T.astype(np.int64)
    return replace(
        curve,
        months=curve.months + tuple(_month_of(int(m)) for m in new),
        prices=np.vstack([curve.prices, prices]),
        hours=np.vstack([curve.hours, new_hours]),
    )
