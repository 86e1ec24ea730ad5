"""Piecewise quartic splines of maximum smoothness: the pieces the BKO forward curve is built from.

A spline lives on knots `0 = t_0 < t_1 < ... < t_n = T` (days). On piece j
it is `sum_k c[j, k] u^k` with `u = (t - t_j) / h_j` in [0, 1] and
`h_j = t_{j+1} - t_j`: the scaled local basis keeps every coefficient of
the order of the curve's level, whatever the piece length, so the linear
systems built from it are well conditioned. Several splines (one per base
block) are stacked in one coefficient vector, curve c's piece j's k-th
coefficient at `(c * n + j) * 5 + k`.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

DEGREE = 4
TERMS = DEGREE + 1

# d^m/du^m u^k at u = 1 is k!/(k-m)!; row m of this table, column k.
_FALLING = np.array(
    [[factorial(k) / factorial(k - m) if k >= m else 0.0 for k in range(TERMS)] for m in range(DEGREE + 1)]
)


@dataclass(frozen=True, slots=True)
class QuarticSpline:
    """One fitted piecewise quartic: `knots` (days, ascending) and its `coefficients` (pieces x 5)."""

    knots: Floats
    coefficients: Floats

    def __call__(self, t: Floats, *, derivative: int = 0, side: str = "right") -> Floats:
        """Value (or derivative 1..4, per day^m) at days `t` from the first knot.

        At a knot, `side="right"` evaluates the piece that starts there and
        `side="left"` the piece that ends there, so tests can compare the two
        one-sided limits. Points outside the knots use the nearest piece.
        """
        if side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', got {side!r}")
        if not 0 <= derivative <= DEGREE:
            raise ValueError(f"derivative must be 0..{DEGREE}, got {derivative}")
        t = np.asarray(t, dtype=np.float64)
        piece = np.searchsorted(self.knots, t, side=side) - 1  # type: ignore[call-overload]
        piece = np.clip(piece, 0, len(self.knots) - 2)
        h = np.diff(self.knots)[piece]
        u = (t - self.knots[piece]) / h
        total = np.zeros_like(u)
        for k in range(derivative, TERMS):
            total += self.coefficients[piece, k] * _FALLING[derivative, k] * u ** (k - derivative)
        result: Floats = total / h**derivative
        return result


def roughness_matrix(knots: Floats, curves: int) -> sp.csc_matrix:
    """The matrix G with x'Gx = sum over curves of the integral of the spline's f''(t)^2 dt (per day^3).

    On a piece of length h the integral is
    `sum_{k,l>=2} c_k c_l k(k-1) l(l-1) / ((k+l-3) h^3)`.
    """
    h = np.diff(knots)
    k = np.arange(TERMS, dtype=np.float64)
    kk = k * (k - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        local = np.where(
            (k[:, None] >= 2) & (k[None, :] >= 2), np.outer(kk, kk) / (k[:, None] + k[None, :] - 3), 0.0
        )
    blocks = np.tile(local[None, :, :] / (h**3)[:, None, None], (curves, 1, 1))
    matrix: sp.csc_matrix = sp.block_diag(list(blocks), format="csc")
    return matrix


def smoothness_rows(knots: Floats, curves: int) -> sp.coo_matrix:
    """Rows that make each spline C2 at interior knots and flat at the end (f'(T) = 0), right side 0.

    Row for derivative m at knot j+1 is scaled by h_j^m so that all its
    entries are of order one: `sum_k c[j,k] k!/(k-m)! - m! (h_j/h_{j+1})^m c[j+1,m] = 0`.
    """
    n = len(knots) - 1
    h = np.diff(knots)
    rows: list[Ints] = []
    cols: list[Ints] = []
    vals: list[Floats] = []
    row = 0
    for c in range(curves):
        base = c * n * TERMS
        for m in range(3):
            left = np.arange(n - 1)
            ks = np.arange(m, TERMS)
            r = row + left
            rows += [np.repeat(r, len(ks)), r]
            cols += [(base + left[:, None] * TERMS + ks[None, :]).ravel(), base + (left + 1) * TERMS + m]
            vals += [
                np.tile(_FALLING[m, ks], n - 1),
                -factorial(m) * (h[:-1] / h[1:]) ** m,
            ]
            row += n - 1
        ks = np.arange(1, TERMS)
        rows.append(np.full(len(ks), row))
        cols.append(base + (n - 1) * TERMS + ks)
        vals.append(_FALLING[1, ks])
        row += 1
    matrix = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row, curves * n * TERMS)
    )
    return matrix


def day_integrals(knots: Ints) -> Floats:
    """For each whole day d in [0, T): the integrals of u^0..u^4 over the day (per day).

    Knots must be whole days. The integral of `u^k` over [a, a+1] (a the
    day's offset in its piece of length h) is `h/(k+1) ((a+1)/h)^(k+1) - (a/h)^(k+1))`.
    """
    lengths = np.diff(knots)
    piece = np.repeat(np.arange(len(lengths)), lengths)
    offset = np.arange(int(knots[-1] - knots[0])) - np.repeat(knots[:-1] - knots[0], lengths)
    h = lengths[piece].astype(np.float64)
    lo, hi = offset / h, (offset + 1) / h
    k = np.arange(TERMS)
    integrals = h[:, None] / (k + 1) * (hi[:, None] ** (k + 1) - lo[:, None] ** (k + 1))
    result: Floats = integrals
    return result
