"""A seasonal prior from history: how each block's price moves through the year, relative to its mean.

The curve fit extrapolates past its last quote and fills unquoted months with
a seasonal pattern; this module measures that pattern from a price history.
For each block, hours are averaged per calendar month (after clipping each
month's spikes to its 1st/99th percentile, as the shape does, so one
scarcity event does not make its month look expensive every year), the
calendar months of the same month of year are averaged across years, and the
12 levels are expressed relative to their mean ($/MWh). A month of year the
history never covers gets level 0 (no evidence of a seasonal deviation),
and the others are centred on their own mean.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from carbon254.curves.shape import MONTHS, hour_calendar, hourly_history, winsorize_by_month
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block


class PriorError(ValueError):
    """A history that gives no seasonal prior for a block; names the block."""


def seasonal_prior(
    history: pa.Table, *, iso: str, blocks: tuple[Block, ...]
) -> dict[Block, tuple[float, ...]]:
    """Twelve additive month-of-year levels ($/MWh, January first) per block, centred on their mean.

    `history` has `interval_start` (UTC) and `lmp` ($/MWh) of one location
    and market at any interval length (averaged into hours first); blocks
    are read on `iso`'s market clock. A level is the mean over years of the
    block's calendar-month mean price, minus the mean of those levels over
    the months of year the history covers; uncovered months get 0. Raises
    PriorError when `blocks` is empty or a block has no history hour,
    HistoryError for a bad table.
    """
    if not blocks:
        raise PriorError("seasonal prior needs at least one block")
    hourly = hourly_history(history)
    calendar = hour_calendar(hourly.starts, iso)
    prices = winsorize_by_month(hourly.prices, calendar.month)
    first_month = int(calendar.month.min())
    months = int(calendar.month.max()) - first_month + 1
    prior: dict[Block, tuple[float, ...]] = {}
    for block in blocks:
        inside = block_mask_local(calendar.local, block)
        if not inside.any():
            raise PriorError(f"seasonal prior: the history has no {block.value} hour")
        calendar_month = calendar.month[inside] - first_month
        hours = np.bincount(calendar_month, minlength=months)
        sums = np.bincount(calendar_month, prices[inside], minlength=months)
        seen = hours > 0
        month_mean = sums[seen] / hours[seen]
        month_of_year = (np.flatnonzero(seen) + first_month) % MONTHS
        years = np.bincount(month_of_year, minlength=MONTHS)
        covered = years > 0
        level = np.bincount(month_of_year, month_mean, minlength=MONTHS) / np.maximum(years, 1)
        centred = np.where(covered, level - level[covered].mean(), 0.0)
        prior[block] = tuple(float(v) for v in centred)
    return prior
