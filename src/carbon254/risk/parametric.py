"""Parametric (delta-normal) VaR and ES: the book's P&L as a zero-mean normal from the factor covariance.

P&L = exposures . changes, so its standard deviation over one day is
sigma = sqrt(e' Cov e) with e the exposures (MWh) and Cov the covariance
of one-day changes (($/MWh)², EWMA or sample, `carbon254.risk.covariance`).
Over h days the covariance is scaled by h (square-root-of-time: daily
changes independent with zero mean). VaR = z_C sigma sqrt(h) and ES =
sigma sqrt(h) phi(z_C) / (1 - C). Contributions are Euler's:
e_i (Cov e)_i z / sigma, adding up to VaR exactly.
"""

from __future__ import annotations

import numpy as np

from carbon254.risk.covariance import (
    RISKMETRICS_LAMBDA,
    CovarianceMethod,
    FactorCovariance,
    checked,
    covariance_of,
)
from carbon254.risk.exposure import ExposureMatrix
from carbon254.risk.factors import FactorHistory
from carbon254.risk.model import NormalModel, measure
from carbon254.risk.result import RiskMethod, RiskResult, check_horizon
from carbon254.risk.tail import check_confidence


def parametric_var(
    exposure: ExposureMatrix,
    source: FactorHistory | FactorCovariance,
    *,
    confidence: float = 0.99,
    horizon: int = 1,
    covariance: CovarianceMethod = CovarianceMethod.EWMA,
    ewma_lambda: float = RISKMETRICS_LAMBDA,
    window: int | None = None,
    shrinkage: float = 0.0,
) -> RiskResult:
    """Delta-normal VaR and ES ($) of the book with exposures `exposure` (MWh).

    `source` is the factor history (daily changes, $/MWh), whose last
    `window` days give the covariance by `covariance` (EWMA with
    `ewma_lambda`, or sample), or a covariance of one-day changes given as
    is (then `covariance`, `ewma_lambda` and `window` do not apply).
    Raises CovarianceError when the covariance on the exposed factors is not
    positive definite (`shrinkage` > 0 regularizes a singular one),
    MissingHistory for NaN or too few days, UnknownFactor for a factor the
    source lacks, RiskError for a bad confidence or horizon.
    """
    c = check_confidence(confidence)
    h = check_horizon(horizon)
    factors = exposure.exposed
    total = exposure.total_on(factors)
    if isinstance(source, FactorCovariance):
        one_day = source.sub(factors)
        how = "covariance given"
    else:
        method = CovarianceMethod(covariance)
        changes = source.last(window).columns(factors)
        one_day = covariance_of(changes, method, ewma_lambda)
        lam = f" lambda {ewma_lambda:g}" if method is CovarianceMethod.EWMA else ""
        how = f"{method.value}{lam} covariance of {changes.shape[0]} days"
    matrix = checked(one_day, factors, shrinkage)
    if shrinkage:
        how += f", shrinkage {shrinkage:g}"
    model = NormalModel(matrix * h)
    found = measure(model, total, c)
    sigma = float(np.sqrt(max(float(total @ model.covariance @ total), 0.0)))
    return RiskResult(
        method=RiskMethod.PARAMETRIC,
        confidence=c,
        horizon=h,
        var=found.var,
        es=found.es,
        mean=0.0,
        std=sigma,
        scenarios=0,
        pnl=np.zeros(0),
        scenario_dates=(),
        var_dates=(),
        factors=factors,
        exposure=total,
        var_gradient=found.var_gradient,
        es_gradient=found.es_gradient,
        model=model,
        settings=f"{how}, square-root-of-time to {h} day(s)" if h > 1 else how,
    )
