"""Overlapping quotes: keep the independent ones, check the redundant ones against what the rest imply.

Each quote is a linear constraint on the curve: the hours-weighted average
of the curve over its contract's block hours equals its price. A quote whose
constraint is a linear combination of constraints already kept (a quarter
after its three months, ATC after onpeak and offpeak of the same month) adds
nothing but a price the kept quotes already fix. Quotes are taken shortest
contract first, then by start, block and line, so which one of a redundant
set is reported as implied does not depend on the file's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.curves.errors import ContradictoryQuotes
from carbon254.curves.model import Quote
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]

DEFAULT_TOLERANCE = 0.005  # $/MWh
# A row whose part outside the kept rows' span is below this (relative) is in their span; rows
# are hour shares in [0, 1], so genuine independence is many orders of magnitude above it.
_SPAN = 1e-9
_BLOCK_ORDER = {b: i for i, b in enumerate((Block.ONPEAK, Block.OFFPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8))}


@dataclass(frozen=True, slots=True)
class ImpliedQuote:
    """A redundant quote, dropped because the kept quotes imply its price ($/MWh) within tolerance."""

    quote: Quote
    implied_price: float


@dataclass(frozen=True, slots=True)
class Reconciled:
    """Which quotes constrain the fit (`kept`, indices into the input in processing order) and the implied."""

    kept: tuple[int, ...]
    implied: tuple[ImpliedQuote, ...]


def processing_order(quotes: Sequence[Quote]) -> list[int]:
    """Indices of `quotes`: shorter contracts first, then earlier start, block, line and input position."""

    def key(i: int) -> tuple[int, int, int, int, int]:
        c = quotes[i].contract
        line = quotes[i].line or 0
        return ((c.end - c.start).days, c.start.toordinal(), _BLOCK_ORDER.get(c.block, 4), line, i)

    return sorted(range(len(quotes)), key=key)


def reconcile(quotes: Sequence[Quote], rows: Floats, *, tolerance: float = DEFAULT_TOLERANCE) -> Reconciled:
    """Split quotes into independent constraints and redundant ones, checking the latter's prices.

    `rows[i]` is quote i's constraint on the curve (any fixed coordinates:
    the fit uses hour shares per curve piece and base block). A quote in the
    span of the rows kept so far has implied price `sum_k lambda_k p_k` for
    `row = sum_k lambda_k row_k`; if it differs from its own price by more
    than `tolerance` ($/MWh) this raises `ContradictoryQuotes` naming the
    quote and every kept quote with a nonzero lambda, with both prices.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 $/MWh, got {tolerance}")
    kept: list[int] = []
    implied: list[ImpliedQuote] = []
    basis = np.zeros((0, rows.shape[1]))  # orthonormal rows spanning the kept rows
    to_kept = np.zeros((0, 0))  # basis = to_kept @ rows[kept]
    for i in processing_order(quotes):
        row = rows[i]
        norm = float(np.linalg.norm(row))
        residual = row.copy()
        coefficients = np.zeros(len(kept))
        for _ in range(2):  # Gram-Schmidt twice: one pass loses orthogonality in floating point
            c = basis @ residual
            residual -= basis.T @ c
            coefficients += c
        rest = float(np.linalg.norm(residual))
        if rest > _SPAN * max(norm, 1.0):
            kept.append(i)
            grown = np.zeros((len(kept), len(kept)))
            grown[:-1, :-1] = to_kept
            grown[-1, :-1] = -coefficients @ to_kept
            grown[-1, -1] = 1.0
            to_kept = grown
            to_kept[-1] /= rest
            basis = np.vstack([basis, residual / rest])
            continue
        weights = coefficients @ to_kept  # row = sum_k weights[k] * rows[kept[k]]
        prices = np.array([quotes[k].price for k in kept])
        price = float(weights @ prices)
        quote = quotes[i]
        if abs(price - quote.price) > tolerance:
            used = [quotes[k] for k, w in zip(kept, weights, strict=True) if abs(w) > 1e-8]
            used.sort(key=lambda u: (u.contract.start, _BLOCK_ORDER.get(u.contract.block, 4), u.line or 0))
            raise ContradictoryQuotes(
                f"{quote.name} contradicts {', '.join(u.name for u in used)}, which imply {price:.3f} "
                f"(differs by {quote.price - price:+.3f} $/MWh, tolerance {tolerance:g})"
            )
        implied.append(ImpliedQuote(quote, price))
    return Reconciled(tuple(kept), tuple(implied))
