"""Covariance of daily factor changes ($/MWh)²: EWMA (RiskMetrics) or sample, and the checks before use.

- EWMA: weights lambda^age (age 0 = the latest day) normalised to sum to
  one over the window, around a zero mean (RiskMetrics: daily changes have
  no drift worth estimating), lambda = 0.94 by default.
- Sample: the unbiased sample covariance (ddof 1) around the window's mean.

A covariance drives a normal or copula model only on the factors a book is
exposed to, and there it must be positive definite: `checked` refuses one
that is not (naming the factors with no variance, or saying which way it
is singular), unless a `shrinkage` s > 0 is asked for, which uses
(1 - s) Cov + s diag(Cov), positive definite whenever every variance is
positive. A factor whose history never moves cannot be fixed that way.

EWMA volatility paths (for Hull–White scaling and filtered bootstrap) run
the recursion var[t] = lambda var[t-1] + (1 - lambda) change[t-1]²,
seeded with the mean square change of the whole history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from carbon254.risk.errors import CovarianceError, MissingHistory, RiskError
from carbon254.risk.factors import FactorHistory, RiskFactor

Floats = npt.NDArray[np.float64]

RISKMETRICS_LAMBDA = 0.94
# Eigenvalues below this share of the largest count as zero (round-off of a rank-deficient matrix).
_RELATIVE_ZERO = 1e-10


class CovarianceMethod(StrEnum):
    """How a covariance is estimated from daily changes."""

    EWMA = "ewma"
    SAMPLE = "sample"


def check_lambda(name: str, value: float) -> float:
    """A decay factor in (0, 1); RiskError naming `name` otherwise."""
    decay = float(value)
    if not (math.isfinite(decay) and 0.0 < decay < 1.0):
        raise RiskError(f"{name}: a decay factor must be strictly between 0 and 1, got {value!r}")
    return decay


@dataclass(frozen=True, slots=True, eq=False)
class FactorCovariance:
    """Covariance of one-day factor changes, ($/MWh)², on `factors` (symmetric, finite)."""

    factors: tuple[RiskFactor, ...]
    matrix: Floats

    def __post_init__(self) -> None:
        matrix = np.asarray(self.matrix, dtype=np.float64)
        n = len(self.factors)
        if matrix.shape != (n, n):
            raise CovarianceError(f"covariance: shape {matrix.shape} is not factors x factors ({n}, {n})")
        if not np.isfinite(matrix).all():
            raise CovarianceError("covariance: every entry must be finite")
        scale = max(float(np.abs(matrix).max()), 1e-300) if n else 1.0
        if not np.allclose(matrix, matrix.T, rtol=0.0, atol=1e-9 * scale):
            raise CovarianceError("covariance: the matrix is not symmetric")
        object.__setattr__(self, "matrix", (matrix + matrix.T) / 2.0)

    def sub(self, factors: Sequence[RiskFactor]) -> Floats:
        """The covariance among `factors` (in that order); UnknownFactor-like RiskError for one it lacks."""
        where = {f: i for i, f in enumerate(self.factors)}
        missing = [f.label for f in factors if f not in where]
        if missing:
            raise MissingHistory(f"the covariance has no factor(s) {', '.join(missing)}")
        idx = [where[f] for f in factors]
        picked: Floats = self.matrix[np.ix_(idx, idx)]
        return picked


def ewma_weights(days: int, decay: float) -> Floats:
    """Weights lambda^age of `days` days, oldest first, summing to one."""
    ages = np.arange(days - 1, -1, -1, dtype=np.float64)
    w = decay**ages
    result: Floats = w / w.sum()
    return result


def covariance_of(changes: Floats, method: CovarianceMethod, decay: float = RISKMETRICS_LAMBDA) -> Floats:
    """The covariance of the columns of `changes` (days x factors) by `method` (see the module docstring)."""
    days = changes.shape[0]
    if days < 2:
        raise MissingHistory(f"a covariance needs at least 2 days of changes, the window has {days}")
    if method is CovarianceMethod.SAMPLE:
        result: Floats = np.atleast_2d(np.cov(changes, rowvar=False, ddof=1))
        return result
    w = ewma_weights(days, check_lambda("ewma_lambda", decay))
    weighted: Floats = (changes * w[:, None]).T @ changes
    return weighted


def estimate_covariance(
    history: FactorHistory,
    factors: Sequence[RiskFactor] | None = None,
    *,
    method: CovarianceMethod = CovarianceMethod.EWMA,
    ewma_lambda: float = RISKMETRICS_LAMBDA,
    window: int | None = None,
) -> FactorCovariance:
    """The covariance of one-day changes ($/MWh)² of `factors` (default all) over the last `window` days.

    Raises MissingHistory for NaN changes among them or fewer than 2 days.
    """
    chosen = tuple(history.factors if factors is None else factors)
    changes = history.last(window).columns(chosen)
    return FactorCovariance(chosen, covariance_of(changes, CovarianceMethod(method), ewma_lambda))


def checked(matrix: Floats, factors: Sequence[RiskFactor], shrinkage: float = 0.0) -> Floats:
    """`matrix` made ready for a normal model: shrunk by `shrinkage` and verified positive definite.

    Raises CovarianceError naming factors without variance, or saying the
    matrix is not positive semi-definite or is singular (collinear factors,
    or fewer days than factors) and that `shrinkage` > 0 would fix it.
    """
    s = float(shrinkage)
    if not (math.isfinite(s) and 0.0 <= s <= 1.0):
        raise RiskError(f"shrinkage: must be between 0 and 1, got {shrinkage!r}")
    variances = np.diag(matrix)
    dead = [factors[int(i)].label for i in np.flatnonzero(variances <= 0)]
    if dead:
        raise CovarianceError(
            f"covariance is singular: factor(s) {', '.join(dead)} have zero variance in the window "
            "(a price that never moved: stale or filled history?); no shrinkage can fix that"
        )
    shrunk = (1.0 - s) * matrix + s * np.diag(variances) if s > 0 else matrix
    eigen = np.linalg.eigvalsh(shrunk)
    top = float(eigen[-1])
    if eigen[0] < -_RELATIVE_ZERO * top:
        raise CovarianceError(
            f"covariance is not positive semi-definite (smallest eigenvalue {eigen[0]:.4g}, largest "
            f"{top:.4g}); pass shrinkage > 0 to pull it towards its diagonal"
        )
    if eigen[0] <= _RELATIVE_ZERO * top:
        rank = int((eigen > _RELATIVE_ZERO * top).sum())
        raise CovarianceError(
            f"covariance of the {len(factors)} exposed factors is singular (rank {rank}): some factors move "
            "together exactly or the window has fewer days than factors; pass shrinkage > 0 to regularize"
        )
    return shrunk


def ewma_volatility(changes: Floats, decay: float) -> tuple[Floats, Floats]:
    """EWMA volatilities ($/MWh) of each day's change given the days before it, and the next day's forecast.

    Returns (days x factors, factors). Seeded with the mean square change
    of the whole sample (see the module docstring).
    """
    lam = check_lambda("volatility lambda", decay)
    squares = changes * changes
    seed = squares.mean(axis=0)
    # s[t] = lam s[t-1] + (1 - lam) x[t], s[-1] = seed; the variance of day t is s[t-1].
    smoothed, _ = lfilter([1.0 - lam], [1.0, -lam], squares, axis=0, zi=(lam * seed)[None, :])
    before = np.vstack([seed[None, :], smoothed[:-1]])
    return np.sqrt(before), np.sqrt(smoothed[-1])
