"""Historical simulation VaR and ES: the book revalued under each past move of its factors.

Scenarios are the last `window` days of factor changes (all by default).
Options, in the order they apply:

- Hull–White volatility scaling (`volatility_scaling` = EWMA lambda): each
  day's change is multiplied by (today's EWMA volatility / that day's), per
  factor, so calm-period moves are scaled up to today's regime. The EWMA
  runs over the whole history given, the window's days included, so its
  first days do not start cold.
- Horizon h > 1: overlapping h-day changes, the sum of h consecutive daily
  changes ending on each day from the h-th of the window on (no
  square-root-of-time scaling; n - h + 1 correlated scenarios).
- BRW age weighting (`age_weighting` = lambda): a scenario ending k days
  before the latest weighs lambda^k (normalised); VaR and ES are then the
  weighted estimators of `carbon254.risk.tail`.

Enough scenarios to reach the tail are required: at least 1 / (1 - C)
(100 at 99%, 1,000 at 99.9%), else MissingHistory says how many are needed.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from carbon254.risk.covariance import check_lambda, ewma_volatility
from carbon254.risk.errors import MissingHistory
from carbon254.risk.exposure import ExposureMatrix
from carbon254.risk.factors import FactorHistory
from carbon254.risk.model import ScenarioModel, measure
from carbon254.risk.result import RiskMethod, RiskResult, check_horizon
from carbon254.risk.tail import check_confidence

Floats = npt.NDArray[np.float64]


def needed_scenarios(confidence: float) -> int:
    """The fewest scenarios that reach the (1 - C) tail: ceil(1 / (1 - C))."""
    return math.ceil(1.0 / (1.0 - confidence) - 1e-9)


def horizon_changes(changes: Floats, horizon: int) -> Floats:
    """Overlapping sums of `horizon` consecutive rows (days x factors): rows - horizon + 1 scenarios."""
    if horizon == 1:
        return changes
    cumulative = np.vstack([np.zeros((1, changes.shape[1])), np.cumsum(changes, axis=0)])
    result: Floats = cumulative[horizon:] - cumulative[:-horizon]
    return result


def hull_white(changes: Floats, decay: float) -> Floats:
    """Changes rescaled to today's volatility: change[t] x sigma_now / sigma[t] (EWMA, per factor)."""
    before, now = ewma_volatility(changes, decay)
    ratio = np.divide(now[None, :], before, out=np.zeros_like(before), where=before > 0)
    result: Floats = changes * ratio
    return result


def historical_var(
    exposure: ExposureMatrix,
    history: FactorHistory,
    *,
    confidence: float = 0.99,
    horizon: int = 1,
    window: int | None = None,
    age_weighting: float | None = None,
    volatility_scaling: float | None = None,
) -> RiskResult:
    """Historical-simulation VaR and ES ($) of the book whose exposures (MWh) are `exposure`.

    `history` holds daily factor changes ($/MWh); `window` the number of
    most recent days used (default all); `age_weighting` the BRW lambda
    (e.g. 0.98) and `volatility_scaling` the Hull–White EWMA lambda (e.g.
    0.94), both off by default; horizons over overlapping h-day changes
    (module docstring). Raises UnknownFactor or MissingHistory for factors
    without (complete) history, MissingHistory for too few scenarios, and
    RiskError for a bad confidence, horizon, window or lambda.
    """
    c = check_confidence(confidence)
    h = check_horizon(horizon)
    factors = exposure.exposed
    total = exposure.total_on(factors)
    days = history.last(window).days
    if volatility_scaling is not None:
        scaled = hull_white(history.columns(factors), volatility_scaling)[-days:]
    else:
        scaled = history.last(window).columns(factors)
    scenarios = horizon_changes(scaled, h)
    n = scenarios.shape[0]
    needed = needed_scenarios(c)
    if n < needed:
        raise MissingHistory(
            f"historical VaR at {c:g} needs at least {needed} scenarios; "
            f"{days} days at a {h}-day horizon give {n}"
        )
    weights = None
    if age_weighting is not None:
        decay = check_lambda("age_weighting", age_weighting)
        weights = decay ** np.arange(n - 1, -1, -1, dtype=np.float64)
        weights /= weights.sum()
    model = ScenarioModel(scenarios, weights=weights)
    found = measure(model, total, c)
    dates = history.dates[-days:][h - 1 :]
    mean = float(found.pnl.mean() if weights is None else weights @ found.pnl)
    spread = float(found.pnl.std() if weights is None else np.sqrt(weights @ (found.pnl - mean) ** 2))
    parts = [f"{days} days", f"{h}-day overlapping changes" if h > 1 else "1-day changes"]
    if age_weighting is not None:
        parts.append(f"BRW age weights lambda {age_weighting:g}")
    if volatility_scaling is not None:
        parts.append(f"Hull-White EWMA volatility scaling lambda {volatility_scaling:g}")
    return RiskResult(
        method=RiskMethod.HISTORICAL,
        confidence=c,
        horizon=h,
        var=found.var,
        es=found.es,
        mean=mean,
        std=spread,
        scenarios=n,
        pnl=found.pnl,
        scenario_dates=tuple(dates),
        var_dates=tuple(dates[int(r)] for r in found.var_rows),
        factors=factors,
        exposure=total,
        var_gradient=found.var_gradient,
        es_gradient=found.es_gradient,
        model=model,
        settings=", ".join(parts),
    )
