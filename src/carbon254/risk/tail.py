"""VaR and ES of a sample of P&L scenarios: the estimators every simulation method shares.

Losses are positive: VaR at confidence C is the loss exceeded with
probability 1 - C, ES the mean loss at or beyond VaR.

- Equal weights (historical simulation, Monte Carlo): VaR is minus the
  (1 - C) quantile of the P&L by linear interpolation between the two
  neighbouring order statistics (NumPy's default `linear` method: position
  (n - 1)(1 - C) in ascending order); ES the mean of the losses >= VaR.
- Weighted (age-weighted historical simulation, BRW): scenarios sorted from
  the worst, VaR is the loss of the first scenario at which the cumulative
  weight reaches 1 - C (no interpolation), ES the weighted mean of the
  losses >= VaR.

`Tail` also says which scenarios the measures are made of, with their
coefficients, so per-position contributions can be read off the same
scenarios and add up exactly to the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.risk.errors import RiskError

Floats = npt.NDArray[np.float64]
Rows = npt.NDArray[np.int64]

# Cumulative weights are sums of floats: a tail share reached to within this is reached.
_WEIGHT_TOLERANCE = 1e-12


def check_confidence(confidence: float) -> float:
    """`confidence` as a float in (0, 1); RiskError naming the field otherwise."""
    value = float(confidence)
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise RiskError(f"confidence: must be strictly between 0 and 1 (e.g. 0.99), got {confidence!r}")
    return value


@dataclass(frozen=True, slots=True)
class VarEs:
    """VaR and ES ($, positive losses) at a confidence level."""

    var: float
    es: float
    confidence: float


@dataclass(frozen=True, slots=True, eq=False)
class Tail:
    """VaR and ES of one P&L sample and the scenarios they are made of.

    VaR = -sum(var_coef * pnl[var_rows]) and ES = -sum(es_coef *
    pnl[es_rows]): the same coefficients applied to any position's P&L in
    those scenarios give its contribution, and contributions add up.
    """

    var: float
    es: float
    var_rows: Rows
    var_coef: Floats
    es_rows: Rows
    es_coef: Floats


def _finite_sample(pnl: Floats) -> Floats:
    values = np.asarray(pnl, dtype=np.float64)
    if values.ndim not in (1, 2) or values.shape[0] == 0:
        raise RiskError("pnl: no scenarios")
    if not np.isfinite(values).all():
        raise RiskError("pnl: every scenario's P&L must be a finite number")
    return values


def _weights(weights: Floats | None, n: int) -> Floats | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise RiskError(f"weights: need {n} finite non-negative weights with a positive sum")
    normalised: Floats = w / w.sum()
    return normalised


def tail(pnl: Floats, confidence: float, weights: Floats | None = None, neighbours: int = 0) -> Tail:
    """VaR and ES ($) of a P&L sample (one value per scenario, profit positive), with their scenarios.

    VaR's scenarios are the two order statistics it interpolates between,
    or with `neighbours` = m > 0 (equal weights only) the 2m order
    statistics around its position, equally weighted and scaled so their
    P&L averages to the quantile (a smoother read of a large simulation's
    VaR scenario; the exact two are kept when that mean is not of the
    quantile's sign).
    """
    c = check_confidence(confidence)
    values = _finite_sample(pnl)
    if values.ndim != 1:
        raise RiskError("pnl: one P&L per scenario expected")
    n = len(values)
    alpha = 1.0 - c
    w = _weights(weights, n)
    if w is None:
        position = (n - 1) * alpha
        k = math.floor(position)
        frac = position - k
        q = float(np.quantile(values, alpha, method="linear"))
        kth = [k, k + 1] if k + 1 < n else [k]
        rows = np.argpartition(values, kth)[kth].astype(np.int64)
        coef = np.array([1.0 - frac, frac][: len(rows)])
        lo, hi = max(0, k - neighbours + 1), min(n - 1, k + neighbours)
        if neighbours > 0 and hi > lo:
            near = np.argpartition(values, [lo, hi])[lo : hi + 1].astype(np.int64)
            mean = float(values[near].mean())
            if mean != 0.0 and (mean > 0) == (q > 0):
                rows, coef = near, np.full(len(near), q / mean / len(near))
        in_tail = np.flatnonzero(values <= q).astype(np.int64)
        es_coef = np.full(len(in_tail), 1.0 / len(in_tail))
        return Tail(-q, -float(values[in_tail].mean()), rows, coef, in_tail, es_coef)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(w[order])
    j = min(int(np.searchsorted(cumulative, alpha - _WEIGHT_TOLERANCE, side="left")), n - 1)
    q = float(values[order[j]])
    in_tail = np.flatnonzero(values <= q).astype(np.int64)
    share = w[in_tail] / w[in_tail].sum()
    es = -float(share @ values[in_tail])
    return Tail(-q, es, order[j : j + 1].astype(np.int64), np.ones(1), in_tail, share)


def tails(pnl: Floats, confidence: float, weights: Floats | None = None) -> tuple[Floats, Floats]:
    """VaR and ES ($) of each column of a scenarios x portfolios P&L matrix, by the rules of `tail`."""
    c = check_confidence(confidence)
    values = _finite_sample(pnl)
    if values.ndim == 1:
        values = values[:, None]
    n = values.shape[0]
    alpha = 1.0 - c
    w = _weights(weights, n)
    if w is None:
        q = np.quantile(values, alpha, axis=0, method="linear")
        mask = values <= q[None, :]
        es = -(np.where(mask, values, 0.0).sum(axis=0) / mask.sum(axis=0))
        return -q, es
    order = np.argsort(values, axis=0, kind="stable")
    cumulative = np.cumsum(w[order], axis=0)
    j = np.minimum((cumulative < alpha - _WEIGHT_TOLERANCE).sum(axis=0), n - 1)
    columns = np.arange(values.shape[1])
    q = values[order[j, columns], columns]
    mask = values <= q[None, :]
    weighted = np.where(mask, w[:, None], 0.0)
    es = -(weighted * values).sum(axis=0) / weighted.sum(axis=0)
    return -q, es


def var_es(pnl: Floats, confidence: float) -> VarEs:
    """Historical-simulation VaR and ES ($, positive losses) of a P&L sample (profit positive).

    VaR is minus the (1 - C) empirical quantile (linear interpolation
    between the two neighbouring order statistics), ES the mean loss at or
    beyond VaR. Raises RiskError for an empty or non-finite sample or a
    confidence outside (0, 1).
    """
    found = tail(pnl, confidence)
    return VarEs(found.var, found.es, float(confidence))
