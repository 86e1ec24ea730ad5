"""Steps that move each price by a multiplier and an amount per (month, block): shift, gas, load growth.

Such a step is a pair of tables over months x atomic blocks (onpeak, 2x16,
7x8): P' = P * mult + add, with add in $/MWh. Consecutive linear steps
compose into one pair, so a hub's hours are touched once for all of them.
A monthly curve without hours takes the tables directly; a block column
whose atoms move differently (atc when only onpeak is shifted) is rebuilt
as the hour-weighted average of its parts (onpeak and offpeak, or 2x16 and
7x8) when the curve has them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.curves.model import MonthlyCurve
from carbon254.scenarios.errors import ScenarioError
from carbon254.scenarios.frame import ATOMS, BLOCK_ATOMS, Ints, month_code
from carbon254.scenarios.model import GasStep, LoadGrowthStep, ShiftStep, month_start
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]
LinearStep = ShiftStep | GasStep | LoadGrowthStep
_PARTS: dict[Block, tuple[tuple[Block, ...], ...]] = {
    Block.OFFPEAK: ((Block.TWO_BY_16, Block.SEVEN_BY_8),),
    Block.ATC: ((Block.ONPEAK, Block.OFFPEAK), (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)),
}


@dataclass(frozen=True, slots=True)
class Linear:
    """P' = P * mult + add per (month, atomic block); both (n_months, 3), add in $/MWh."""

    mult: Floats
    add: Floats

    def then(self, other: Linear) -> Linear:
        """This move followed by `other`."""
        return Linear(self.mult * other.mult, self.add * other.mult + other.add)


def tenor_mask(start: str | None, end: str | None, months: Ints) -> npt.NDArray[np.bool_]:
    """Which of `months` (month codes) lie in the inclusive `YYYY-MM` range (open ends unbounded)."""
    mask = np.ones(len(months), dtype=np.bool_)
    if start is not None:
        mask &= months >= month_code(month_start(start))
    if end is not None:
        mask &= months <= month_code(month_start(end))
    return mask


def atom_mask(blocks: list[Block] | None) -> npt.NDArray[np.bool_]:
    """Which atomic blocks (onpeak, 2x16, 7x8) the union of `blocks` covers (all when None)."""
    mask = np.zeros(ATOMS, dtype=np.bool_)
    for block in blocks if blocks is not None else [Block.ATC]:
        mask[list(BLOCK_ATOMS[block])] = True
    return mask


def linear_move(step: LinearStep, months: Ints) -> Linear:
    """The step as multiplier and amount tables over `months` (month codes) x atomic blocks."""
    where = tenor_mask(step.start, step.end, months)[:, None] & atom_mask(step.blocks)[None, :]
    zero = np.zeros(ATOMS)
    if isinstance(step, ShiftStep):
        rel = zero + (step.percent or 0.0) / 100.0
        amount = zero + (step.absolute or 0.0)
    elif isinstance(step, GasStep):
        rates = np.array([step.heat_rates.onpeak, step.heat_rates.offpeak, step.heat_rates.offpeak])
        rel, amount = zero, rates * step.gas_delta
    else:
        e = np.array([step.elasticity.onpeak, step.elasticity.offpeak, step.elasticity.offpeak])
        rel, amount = e * step.percent / 100.0, zero
    mult = np.where(where, 1.0 + rel[None, :], 1.0)
    add = np.where(where, amount[None, :], 0.0)
    return Linear(mult, add)


def apply_to_monthly(
    curve: MonthlyCurve, prices: Floats, move: Linear, rows: npt.NDArray[np.bool_], step: str
) -> Floats:
    """`prices` (months x curve.blocks, $/MWh) moved by `move` (one row per curve month) in `rows`.

    A column whose atomic blocks all move alike takes the move directly;
    one whose atoms move differently is rebuilt from its parts' new prices,
    weighted by the curve's hours. Raises ScenarioError naming the step,
    hub and block when the curve lacks the parts to do that.
    """
    out = prices.copy()
    order = sorted(range(len(curve.blocks)), key=lambda j: len(BLOCK_ATOMS[curve.blocks[j]]))
    column = {block: j for j, block in enumerate(curve.blocks)}
    for j in order:
        atoms = list(BLOCK_ATOMS[curve.blocks[j]])
        mult, add = move.mult[:, atoms], move.add[:, atoms]
        alike = (mult == mult[:, :1]).all(axis=1) & (add == add[:, :1]).all(axis=1)
        direct = rows & alike
        out[direct, j] = prices[direct, j] * mult[direct, 0] + add[direct, 0]
        mixed = rows & ~alike
        if not mixed.any():
            continue
        parts = next(
            (p for p in _PARTS.get(curve.blocks[j], ()) if all(b in column for b in p)),
            None,
        )
        if parts is None:
            raise ScenarioError(
                f"{step}: hub {curve.hub} has a monthly {curve.blocks[j].value} price whose hours move "
                f"unevenly and no finer block prices to rebuild it from; give an hourly curve or "
                f"onpeak/offpeak prices"
            )
        weights = np.stack([curve.hours[:, column[b]] for b in parts], axis=1).astype(np.float64)
        values = np.stack([out[:, column[b]] for b in parts], axis=1)
        total = weights.sum(axis=1)
        rebuilt = (values * weights).sum(axis=1) / np.where(total > 0, total, 1.0)
        out[mixed, j] = rebuilt[mixed]
    return out
