"""Node basis: how a node's price differs from its hub's, by month of year and block, and node curves.

The basis of a (month of year, block) cell is the median (or mean) of node
minus hub over the hours both series have in the last `window_days` of
history. The median is the default because basis is congestion: most hours
it is a few $/MWh, and a handful of binding-constraint hours reach hundreds;
a mean lets those few hours set the basis of the whole month, a median marks
the typical hour, which is what a monthly forward basis trades. The two-year
default window sees every month of year twice while staying close to the
current grid (new lines and generation change congestion within a few
years).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.curves.model import MonthlyCurve
from carbon254.curves.shape import MONTHS, hour_calendar, hourly_history
from carbon254.timeseries._clock import DAY, SECOND
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

Estimator = Literal["mean", "median"]

BASIS_BLOCKS = (Block.ONPEAK, Block.OFFPEAK, Block.ATC, Block.TWO_BY_16, Block.SEVEN_BY_8)


class BasisError(ValueError):
    """Histories that give no basis, or a curve the basis does not cover; names what is missing."""


@dataclass(frozen=True, slots=True)
class BasisCurve:
    """Node minus hub ($/MWh) by month of year (row 0 = January) x block (columns in `blocks` order).

    `counts[m, j]` are the hours behind each value; `fell_back[m, j]` marks
    cells that had none and carry the block's all-months value instead.
    `first_hour` and `last_hour` are the UTC starts of the first and last
    hours used, `estimator` and `window_days` how the values were taken.
    """

    iso: str
    blocks: tuple[Block, ...]
    values: npt.NDArray[np.float64]
    counts: npt.NDArray[np.int64]
    fell_back: npt.NDArray[np.bool_]
    estimator: Estimator
    window_days: int
    first_hour: datetime
    last_hour: datetime

    def value(self, month: int, block: Block) -> float:
        """The basis ($/MWh) of `block` in month of year `month` (1 = January); KeyError if absent."""
        if block not in self.blocks:
            raise KeyError(f"the basis has no {block.value} block")
        return float(self.values[month - 1, self.blocks.index(block)])


def _statistic(values: npt.NDArray[np.float64], estimator: Estimator) -> float:
    return float(np.median(values) if estimator == "median" else np.mean(values))


def estimate_basis(
    node: pa.Table,
    hub: pa.Table,
    *,
    iso: str,
    window_days: int = 365 * 2,
    estimator: Estimator = "median",
) -> BasisCurve:
    """The node's basis to its hub ($/MWh) by month of year x block from two price histories.

    Both tables have `interval_start` (UTC) and `lmp` ($/MWh) at any
    interval length; they are averaged into hours first. Only hours priced in
    both series count, and only those within `window_days` days before the
    last common hour. Blocks are onpeak, offpeak, atc, 2x16 and 7x8 on
    `iso`'s market clock. A cell without hours takes its block's value over
    all months of the window and is marked in `fell_back`. Raises BasisError
    when the series share no hours or a block has none in the window,
    ValueError for a bad estimator or window, HistoryError for a bad table.
    """
    if estimator not in ("mean", "median"):
        raise ValueError(f"basis estimator must be 'mean' or 'median', got {estimator!r}")
    if window_days < 1:
        raise ValueError(f"basis window_days must be at least 1, got {window_days}")
    node_hours, hub_hours = hourly_history(node), hourly_history(hub)
    starts, at_node, at_hub = np.intersect1d(node_hours.starts, hub_hours.starts, return_indices=True)
    if len(starts) == 0:
        raise BasisError("the node and hub histories have no hour in common")
    recent = starts > starts[-1] - window_days * DAY
    starts = starts[recent]
    spread = (node_hours.prices[at_node] - hub_hours.prices[at_hub])[recent]
    calendar = hour_calendar(starts, iso)
    month = calendar.month_of_year
    values = np.zeros((MONTHS, len(BASIS_BLOCKS)))
    counts = np.zeros((MONTHS, len(BASIS_BLOCKS)), dtype=np.int64)
    fell_back = np.zeros((MONTHS, len(BASIS_BLOCKS)), dtype=np.bool_)
    for j, block in enumerate(BASIS_BLOCKS):
        inside = block_mask_local(calendar.local, block)
        if not inside.any():
            raise BasisError(f"no {block.value} hour in both series in the last {window_days} days")
        overall = _statistic(spread[inside], estimator)
        for m in range(MONTHS):
            cell = spread[inside & (month == m)]
            counts[m, j] = len(cell)
            fell_back[m, j] = len(cell) == 0
            values[m, j] = _statistic(cell, estimator) if len(cell) else overall
    return BasisCurve(
        iso=iso.upper(),
        blocks=BASIS_BLOCKS,
        values=values,
        counts=counts,
        fell_back=fell_back,
        estimator=estimator,
        window_days=window_days,
        first_hour=datetime.fromtimestamp(int(starts[0]) // SECOND, UTC),
        last_hour=datetime.fromtimestamp(int(starts[-1]) // SECOND, UTC),
    )


def node_curve(hub_curve: MonthlyCurve, basis: BasisCurve, node: str) -> MonthlyCurve:
    """The node's monthly block curve: the hub's price plus the basis of each month of year ($/MWh).

    Months, blocks, hours, as-of and quoted-through are the hub curve's; the
    `hub` field names the node. Each block gets its own basis, so a curve
    with both offpeak and 2x16/7x8 keeps the basis of each as estimated
    (with medians the offpeak basis need not be the hour-weighted average of
    the other two). Raises BasisError when the basis lacks a curve block or
    is for another ISO.
    """
    if basis.iso.upper() != hub_curve.iso.upper():
        raise BasisError(f"the basis is for {basis.iso} but the {hub_curve.hub} curve is {hub_curve.iso}")
    missing = [b.value for b in hub_curve.blocks if b not in basis.blocks]
    if missing:
        raise BasisError(f"the basis has no {', '.join(missing)} block for the {hub_curve.hub} curve")
    rows = np.array([m.month - 1 for m in hub_curve.months], dtype=np.int64)
    columns = np.array([basis.blocks.index(b) for b in hub_curve.blocks], dtype=np.int64)
    return MonthlyCurve(
        iso=hub_curve.iso,
        hub=node,
        as_of=hub_curve.as_of,
        months=hub_curve.months,
        blocks=hub_curve.blocks,
        prices=hub_curve.prices + basis.values[rows[:, None], columns[None, :]],
        hours=hub_curve.hours.copy(),
        quoted_through=hub_curve.quoted_through,
        simulated=hub_curve.simulated,
    )
