"""One node's prices on the screen's grid, and what its optimal schedule earned.

Pure functions over arrays: the job kind reads the rows and runs the
optimizer; this module decides whether a node's series is whole (every
interval of the window present, one interval length) and reduces a
schedule to the figures the ranking shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Stamps = npt.NDArray[np.int64]

US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True, slots=True)
class NodeSeries:
    """A node's prices ($/MWh) on a regular grid, or why it has none.

    `intervals` is how many intervals of its length the window holds and
    `missing` how many of them have no price; `reason` is None exactly when
    the series is whole and `prices` holds one price per interval in time
    order (`interval_hours` long each, the first starting at
    `first_start_us`, µs UTC).
    """

    intervals: int
    missing: int
    interval_hours: float
    prices: Floats
    reason: str | None
    first_start_us: int = 0


@dataclass(frozen=True, slots=True)
class NodeFigures:
    """What a node's perfect-foresight schedule earned and did.

    `energy_revenue` is sum price x (discharge - charge) x hours ($),
    `degradation_cost` the throughput cost of the discharged energy ($,
    positive), `net_revenue` the first less the second ($). `cycles` are
    equivalent full cycles (discharged MWh over the energy capacity).
    `spread_captured` is the average price of the discharged energy less
    that of the charged energy ($/MWh, each weighted by its MWh); None when
    the battery never traded.
    """

    net_revenue: float
    energy_revenue: float
    degradation_cost: float
    cycles: float
    discharged_mwh: float
    charged_mwh: float
    spread_captured: float | None


def node_series(starts_us: Stamps, ends_us: Stamps, prices: Floats, start_us: int, end_us: int) -> NodeSeries:
    """A node's rows (interval starts and ends in µs UTC, prices in $/MWh) checked against `[start, end)`.

    The interval length is the node's own (every row must have the same);
    the grid is every interval of that length in the window, aligned to the
    epoch as market intervals are. Rows must be sorted by start, one per
    interval (the store returns the latest version of each). A node with no
    rows, rows of mixed lengths or off the grid, or intervals missing gets a
    `reason` instead of prices.
    """
    if len(starts_us) == 0:
        return NodeSeries(0, 0, 0.0, np.empty(0), "no prices in the window")
    lengths = np.unique(ends_us - starts_us)
    if len(lengths) != 1 or lengths[0] <= 0:
        shown = ", ".join(f"{length / 60e6:g}" for length in lengths[:4])
        return NodeSeries(0, 0, 0.0, np.empty(0), f"intervals of different lengths ({shown} minutes)")
    step = int(lengths[0])
    hours = step / US_PER_HOUR
    first = -(-start_us // step) * step  # the first grid point at or after the window's start
    intervals = max(0, -(-(end_us - first) // step))
    offsets = starts_us - first
    if (offsets % step != 0).any():
        return NodeSeries(intervals, 0, hours, np.empty(0), "intervals off the market's grid")
    present = len(np.unique(offsets // step))
    missing = intervals - present
    if missing > 0:
        slots = np.ones(intervals, dtype=bool)
        slots[offsets // step] = False
        gap = first + int(np.argmax(slots)) * step
        stamp = np.datetime64(gap, "us").astype("datetime64[s]")
        reason = f"{missing:,} of {intervals:,} intervals have no price (the first at {stamp}Z)"
        return NodeSeries(intervals, missing, hours, np.empty(0), reason)
    if present != len(starts_us):
        return NodeSeries(intervals, 0, hours, np.empty(0), "more than one price for an interval")
    return NodeSeries(intervals, 0, hours, np.asarray(prices, dtype=np.float64), None, first)


def node_figures(
    prices: Floats,
    interval_hours: float,
    charge_mw: Floats,
    discharge_mw: Floats,
    energy_mwh: float,
    degradation_cost: float,
) -> NodeFigures:
    """The ranking's figures of a schedule (MW per interval) at `prices` ($/MWh).

    `energy_mwh` is the battery's capacity (for cycles) and
    `degradation_cost` its $/MWh discharged. Recomputed from the dispatch
    here rather than taken from the optimizer, so every optimizer's
    schedule is summed the same way.
    """
    charged = charge_mw * interval_hours
    discharged = discharge_mw * interval_hours
    energy = float(np.dot(prices, discharged - charged))
    out, into = float(discharged.sum()), float(charged.sum())
    degradation = degradation_cost * out
    spread = None
    if out > 0 and into > 0:
        spread = float(np.dot(prices, discharged)) / out - float(np.dot(prices, charged)) / into
    return NodeFigures(
        net_revenue=energy - degradation,
        energy_revenue=energy,
        degradation_cost=degradation,
        cycles=out / energy_mwh,
        discharged_mwh=out,
        charged_mwh=into,
        spread_captured=spread,
    )
