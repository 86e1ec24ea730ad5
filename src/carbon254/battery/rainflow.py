"""Rainflow cycle counting (ASTM E1049-85, section 5.4.4) of a state-of-charge path.

Batteries age by the depth of their cycles, not just by the energy through
them: two half-depth cycles wear a cell differently from one full one.
Rainflow counting turns an irregular SOC path into full and half cycles,
each with its range (depth, MWh or fraction of capacity) and mean, which a
cycle-depth degradation curve then prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Indexes = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Cycle:
    """A counted cycle: its range and mean (the series' units), 1.0 (full) or 0.5 (half), where it runs."""

    range: float
    mean: float
    count: float
    start: int
    end: int


def reversals(
    series: Sequence[float] | npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The turning points of `series` (first and last included, plateaus collapsed) and their indexes."""
    values = np.asarray(series, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("rainflow: the series must be one-dimensional")
    if not np.isfinite(values).all():
        raise ValueError("rainflow: the series holds a value that is not finite")
    if len(values) < 2:
        return values.copy(), np.arange(len(values), dtype=np.int64)
    keep = np.flatnonzero(np.diff(values) != 0)
    index = np.append(keep, keep[-1] + 1) if len(keep) else np.array([0], dtype=np.int64)
    points = values[index]
    if len(points) < 3:
        return points, index.astype(np.int64)
    slope = np.sign(np.diff(points))
    turning = np.flatnonzero(slope[1:] != slope[:-1]) + 1
    chosen = np.concatenate([[0], turning, [len(points) - 1]])
    return points[chosen], index[chosen].astype(np.int64)


def count_cycles(series: Sequence[float] | Floats) -> list[Cycle]:
    """Full and half cycles of `series` by the ASTM E1049 rainflow rules, in the order they close.

    A range is counted as a full cycle when a later, at least as large range
    closes it; what remains on the stack at the end is counted as half cycles.
    """
    points, index = reversals(series)
    stack: list[int] = []
    cycles: list[Cycle] = []
    for i in range(len(points)):
        stack.append(i)
        while len(stack) >= 3:
            x = abs(points[stack[-1]] - points[stack[-2]])
            y = abs(points[stack[-2]] - points[stack[-3]])
            if x < y:
                break
            a, b = stack[-3], stack[-2]
            if len(stack) == 3:
                # Y holds the starting point: a half cycle, and the start moves on.
                cycles.append(_cycle(points, index, a, b, 0.5))
                stack.pop(0)
            else:
                cycles.append(_cycle(points, index, a, b, 1.0))
                del stack[-3:-1]
    for a, b in pairwise(stack):
        cycles.append(_cycle(points, index, a, b, 0.5))
    return cycles


def _cycle(
    points: npt.NDArray[np.float64], index: npt.NDArray[np.int64], a: int, b: int, count: float
) -> Cycle:
    low, high = sorted((float(points[a]), float(points[b])))
    return Cycle(high - low, (high + low) / 2, count, int(index[a]), int(index[b]))


def equivalent_full_cycles(cycles: Sequence[Cycle], depth: float) -> float:
    """Cycles weighted by their range over `depth` (e.g. the battery's MWh): throughput in full cycles."""
    if depth <= 0:
        raise ValueError("equivalent_full_cycles: depth must be positive")
    return float(sum(c.count * c.range for c in cycles) / depth)
