"""VaR backtesting: exceedances, Kupiec's and Christoffersen's tests, and the Basel traffic light.

An exceedance is a day whose loss exceeds the VaR forecast for it
(P&L < -VaR). With p = 1 - C the expected exceedance rate, x exceedances
in n days, and the convention 0 log 0 = 0 (so no case gives NaN):

- Kupiec proportion of failures: LR_pof = -2 ln[(1-p)^(n-x) p^x]
  + 2 ln[(1-x/n)^(n-x) (x/n)^x], chi-square with 1 degree of freedom.
- Christoffersen independence: with n_ij the days in state j after a day
  in state i (0 no exceedance, 1 exceedance; n - 1 transitions),
  pi_0 = n_01 / (n_00 + n_01), pi_1 = n_11 / (n_10 + n_11),
  pi = (n_01 + n_11) / (n - 1): LR_ind = -2 ln[(1-pi)^(n_00+n_10)
  pi^(n_01+n_11)] + 2 ln[(1-pi_0)^n_00 pi_0^n_01 (1-pi_1)^n_10
  pi_1^n_11], chi-square(1). A state never left (no 1 -> anything) has
  no terms. Conditional coverage LR_cc = LR_pof (all n days) + LR_ind,
  chi-square(2).
- Basel traffic light: the zone of x exceptions in n days by the binomial
  cumulative probability P(X <= x) with X ~ Bin(n, p): green below 95%,
  red from 99.99%, yellow between. For C = 0.99 and n = 250 this is the
  Basel table (green 0-4, yellow 5-9, red 10 or more); other n and C scale
  the thresholds the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.stats import binom, chi2

from carbon254.risk.errors import RiskError
from carbon254.risk.tail import check_confidence

Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]
# An exceedance series as flags, 0/1 integers or a plain list of either.
Series = Flags | npt.NDArray[np.int64] | list[int] | list[bool]

GREEN_BELOW = 0.95
RED_FROM = 0.9999


class BaselZone(StrEnum):
    """The Basel traffic-light zone of a backtest."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def _xlogy(x: float, y: float) -> float:
    """x ln y with 0 ln 0 = 0 (and 0 ln anything = 0)."""
    return 0.0 if x == 0 else x * math.log(y)


def _counts(x: int, n: int) -> None:
    if n < 1:
        raise RiskError(f"n: need at least one day, got {n}")
    if not 0 <= x <= n:
        raise RiskError(f"x: {x} exceedances in {n} days is impossible")


def exceedances(pnl: Floats, var: Floats) -> Flags:
    """Days whose P&L ($, profit positive) lost more than that day's VaR forecast ($, positive): P&L < -VaR.

    Raises RiskError for different lengths or non-finite values.
    """
    p = np.asarray(pnl, dtype=np.float64)
    v = np.asarray(var, dtype=np.float64)
    if p.ndim != 1 or p.shape != v.shape:
        raise RiskError(f"pnl and var: need one VaR per P&L day, got {p.shape} and {v.shape}")
    if not (np.isfinite(p).all() and np.isfinite(v).all()):
        raise RiskError("pnl and var: every value must be finite")
    result: Flags = p < -v
    return result


@dataclass(frozen=True, slots=True)
class Kupiec:
    """Kupiec's proportion-of-failures test: LR statistic and chi-square(1) p-value."""

    lr: float
    pvalue: float


def kupiec(x: int, n: int, confidence: float) -> Kupiec:
    """Kupiec's POF test of `x` exceedances in `n` days against VaR at `confidence` (module docstring)."""
    _counts(x, n)
    p = 1.0 - check_confidence(confidence)
    rate = x / n
    null = _xlogy(n - x, 1.0 - p) + _xlogy(x, p)
    alternative = _xlogy(n - x, 1.0 - rate) + _xlogy(x, rate)
    lr = max(0.0, -2.0 * (null - alternative))
    return Kupiec(lr, float(chi2.sf(lr, 1)))


@dataclass(frozen=True, slots=True)
class Christoffersen:
    """Christoffersen's independence and conditional-coverage tests, with the transition counts."""

    ind_lr: float
    ind_pvalue: float
    cc_lr: float
    cc_pvalue: float
    n00: int
    n01: int
    n10: int
    n11: int


def _flags(series: Series) -> Flags:
    values = np.asarray(series)
    if values.ndim != 1 or len(values) == 0:
        raise RiskError("exceedances: need a non-empty series of 0/1 days")
    if values.dtype != np.bool_ and not np.isin(values, (0, 1)).all():
        raise RiskError("exceedances: every day must be 0 or 1")
    result: Flags = values.astype(np.bool_)
    return result


def christoffersen(
    series: Flags | npt.NDArray[np.int64] | list[int] | list[bool], confidence: float
) -> Christoffersen:
    """Christoffersen's independence and conditional-coverage LRs and p-values of a 0/1 exceedance series."""
    flags = _flags(series)
    before, after = flags[:-1], flags[1:]
    n00 = int((~before & ~after).sum())
    n01 = int((~before & after).sum())
    n10 = int((before & ~after).sum())
    n11 = int((before & after).sum())
    transitions = n00 + n01 + n10 + n11
    pi = (n01 + n11) / transitions if transitions else 0.0
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    null = _xlogy(n00 + n10, 1.0 - pi) + _xlogy(n01 + n11, pi)
    alternative = _xlogy(n00, 1.0 - pi0) + _xlogy(n01, pi0) + _xlogy(n10, 1.0 - pi1) + _xlogy(n11, pi1)
    ind = max(0.0, -2.0 * (null - alternative))
    pof = kupiec(int(flags.sum()), len(flags), confidence)
    cc = pof.lr + ind
    return Christoffersen(ind, float(chi2.sf(ind, 1)), cc, float(chi2.sf(cc, 2)), n00, n01, n10, n11)


def basel_zone(x: int, n: int, confidence: float = 0.99) -> BaselZone:
    """The traffic-light zone of `x` exceptions in `n` days at `confidence` (module docstring)."""
    _counts(x, n)
    p = 1.0 - check_confidence(confidence)
    cumulative = float(binom.cdf(x, n, p))
    if cumulative < GREEN_BELOW:
        return BaselZone.GREEN
    return BaselZone.RED if cumulative >= RED_FROM else BaselZone.YELLOW


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    """A VaR backtest at `confidence`: `x` exceedances in `n` days (`exceeded` per day) and the tests."""

    confidence: float
    n: int
    x: int
    exceeded: Flags
    kupiec: Kupiec
    christoffersen: Christoffersen
    basel_zone: BaselZone

    @property
    def expected(self) -> float:
        """Exceedances expected in n days: n (1 - C)."""
        return self.n * (1.0 - self.confidence)


def backtest(
    exceeded: Flags | npt.NDArray[np.int64] | list[int] | list[bool], confidence: float
) -> BacktestResult:
    """Kupiec, Christoffersen and the Basel zone of a 0/1 exceedance series (e.g. from `exceedances`)."""
    c = check_confidence(confidence)
    flags = _flags(exceeded)
    x, n = int(flags.sum()), len(flags)
    return BacktestResult(c, n, x, flags, kupiec(x, n, c), christoffersen(flags, c), basel_zone(x, n, c))
