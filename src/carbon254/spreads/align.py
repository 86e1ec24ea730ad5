"""Two price series on common intervals, and their difference.

A spread is only meaningful over the same stretch of time. When both series
have the same intervals (node and hub of one market) they are matched one to
one. When their granularities differ (day-ahead hourly minus real-time
5-minute, the DA-RT spread), the finer series is averaged onto the coarser
one's intervals, each finer interval weighing by the time it shares with the
coarser one, which is how an ISO's own hourly real-time average is formed.
An interval straddling a boundary (an irregular re-run interval) counts in
each interval it overlaps, for the part it overlaps. Only intervals where
both series have a price are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.schema import TIMESTAMP

Micros = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Component columns of the canonical LMP table, subtracted one by one.
PRICE_COLUMNS = ("lmp", "energy", "congestion", "loss")

# Differences of prices published to at most five decimals; six keeps float
# noise (3.3499999999999996) out of answers without changing any real digit.
SPREAD_DECIMALS = 6

SPREAD_SCHEMA = pa.schema(
    [
        pa.field("interval_start", TIMESTAMP, nullable=False),
        pa.field("interval_end", TIMESTAMP, nullable=False),
        pa.field("spread", pa.float64()),
        pa.field("energy_spread", pa.float64()),
        pa.field("congestion_spread", pa.float64()),
        pa.field("loss_spread", pa.float64()),
        pa.field("location_lmp", pa.float64()),
        pa.field("minus_lmp", pa.float64()),
    ]
)


@dataclass(frozen=True, slots=True)
class _Series:
    """One location's prices as arrays, sorted by interval start; NaN where a component is null."""

    start: Micros
    end: Micros
    prices: dict[str, Floats]

    @staticmethod
    def of(table: pa.Table) -> _Series:
        order = np.argsort(_micros(table.column("interval_start")), kind="stable")
        start = _micros(table.column("interval_start"))[order]
        end = _micros(table.column("interval_end"))[order]
        prices = {name: _floats(table.column(name))[order] for name in PRICE_COLUMNS}
        return _Series(start, end, prices)

    def typical_duration(self) -> float:
        """The median interval length in microseconds (what "finer" and "coarser" compare)."""
        return float(np.median(self.end - self.start))


def _micros(column: pa.ChunkedArray | pa.Array) -> Micros:
    return np.asarray(column.cast(TIMESTAMP).cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _floats(column: pa.ChunkedArray | pa.Array) -> Floats:
    return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _onto(grid: _Series, series: _Series) -> tuple[Floats, dict[str, Floats]]:
    """`series` averaged onto the intervals of `grid`: (covered microseconds, mean price per column).

    Each interval of `series` is split over the grid intervals it overlaps;
    a column's mean over a grid interval weighs each part by its overlap and
    ignores parts where that column is null (NaN where nothing is left).
    """
    n = len(grid.start)
    covered = np.zeros(n, dtype=np.float64)
    sums = {name: np.zeros(n) for name in PRICE_COLUMNS}
    weights = {name: np.zeros(n) for name in PRICE_COLUMNS}
    # The first grid interval ending after each series interval starts; then
    # walk right while the series interval still reaches into the next one.
    first = np.searchsorted(grid.end, series.start, side="right")
    step = 0
    while True:
        j = first + step
        inside = j < n
        reaching = np.zeros(len(j), dtype=np.bool_)
        reaching[inside] = grid.start[j[inside]] < series.end[inside]
        if not reaching.any():
            break
        rows = np.flatnonzero(reaching)
        cells = j[rows]
        overlap = (
            np.minimum(series.end[rows], grid.end[cells]) - np.maximum(series.start[rows], grid.start[cells])
        ).astype(np.float64)
        positive = overlap > 0
        rows, cells, overlap = rows[positive], cells[positive], overlap[positive]
        covered += np.bincount(cells, weights=overlap, minlength=n)
        for name in PRICE_COLUMNS:
            values = series.prices[name][rows]
            seen = ~np.isnan(values)
            sums[name] += np.bincount(cells[seen], weights=overlap[seen] * values[seen], minlength=n)
            weights[name] += np.bincount(cells[seen], weights=overlap[seen], minlength=n)
        step += 1
    means = {}
    for name in PRICE_COLUMNS:
        with np.errstate(invalid="ignore", divide="ignore"):
            means[name] = np.where(weights[name] > 0, sums[name] / weights[name], np.nan)
    return covered, means


def _column(values: Floats) -> pa.Array:
    rounded = np.round(values, SPREAD_DECIMALS)
    # -0.0 is a float artefact of subtracting equal prices, never a price.
    rounded[rounded == 0] = 0.0
    return pa.array(rounded, type=pa.float64(), mask=np.isnan(rounded))


def spread_intervals(location: pa.Table, minus: pa.Table) -> pa.Table:
    """`location` minus `minus`, interval by interval, in `SPREAD_SCHEMA` ($/MWh, UTC intervals).

    Both tables hold one location's canonical LMP rows (`interval_start`,
    `interval_end`, `lmp`, `energy`, `congestion`, `loss`) with
    non-overlapping intervals. The answer's intervals are those of the
    coarser series (by median interval length; `location`'s when equal),
    with the finer series averaged onto them by overlap (see the module
    docstring), kept where both have an LMP. `spread` is the LMP
    difference, `energy_spread`, `congestion_spread` and `loss_spread` the
    components' (null where either side lacks the component), and
    `location_lmp`/`minus_lmp` the two prices subtracted. Sorted by time.
    """
    if location.num_rows == 0 or minus.num_rows == 0:
        return SPREAD_SCHEMA.empty_table()
    first, second = _Series.of(location), _Series.of(minus)
    location_is_grid = first.typical_duration() >= second.typical_duration()
    grid, other = (first, second) if location_is_grid else (second, first)
    covered, other_prices = _onto(grid, other)
    near, far = (grid.prices, other_prices) if location_is_grid else (other_prices, grid.prices)
    keep = (covered > 0) & ~np.isnan(near["lmp"]) & ~np.isnan(far["lmp"])
    differences = {name: (near[name] - far[name])[keep] for name in PRICE_COLUMNS}
    return pa.Table.from_arrays(
        [
            pa.array(grid.start[keep], type=TIMESTAMP),
            pa.array(grid.end[keep], type=TIMESTAMP),
            _column(differences["lmp"]),
            _column(differences["energy"]),
            _column(differences["congestion"]),
            _column(differences["loss"]),
            _column(near["lmp"][keep]),
            _column(far["lmp"][keep]),
        ],
        schema=SPREAD_SCHEMA,
    )
