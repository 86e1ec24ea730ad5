"""Monte Carlo VaR and ES: the book revalued under simulated correlated factor changes, seeded.

Dependence and marginals of the one-day factor changes ($/MWh):

- `gaussian` copula with `normal` marginals: multivariate normal with the
  covariance (EWMA or sample of the window); the paths are kept as
  standard normal draws and the covariance's Cholesky factor.
- `student_t` copula (`dof` degrees of freedom): correlated t draws (a
  normal vector over one chi-square mixing variable per path) mapped
  through the t distribution to uniforms: joint tail events are more
  frequent than under the Gaussian copula.
- `normal` marginals give each factor its covariance's volatility;
  `empirical` marginals its own changes in the window (the inverse of
  the empirical distribution, linear between order statistics).
- `bootstrap`: filtered historical simulation: each day's changes divided
  by their EWMA volatility (`ewma_lambda`, per factor) are standardized
  residuals; a path draws whole days of residuals (keeping their
  dependence) and multiplies them by today's EWMA volatility.

Horizon h: copula paths are one-day changes scaled by sqrt(h)
(square-root-of-time); bootstrap paths add h independently drawn days.
The generator is PCG64 seeded with `seed`: the same inputs and seed give
the same figures. VaR contributions read each position's P&L in the paths
around the VaR quantile (paths / 2,000 order statistics each side, scaled
to the quantile; `carbon254.risk.tail`), ES contributions in the tail, so
both add up exactly.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri, stdtr

from carbon254.risk.covariance import (
    RISKMETRICS_LAMBDA,
    CovarianceMethod,
    checked,
    covariance_of,
    ewma_volatility,
)
from carbon254.risk.errors import RiskError
from carbon254.risk.exposure import ExposureMatrix
from carbon254.risk.factors import FactorHistory
from carbon254.risk.historical import needed_scenarios
from carbon254.risk.model import ScenarioModel, measure
from carbon254.risk.result import RiskMethod, RiskResult, check_horizon
from carbon254.risk.tail import check_confidence

Floats = npt.NDArray[np.float64]
# VaR contributions average the paths within 1/2,000 of the paths each side of VaR's (50 of 100,000).
NEIGHBOUR_SHARE = 2_000


class Copula(StrEnum):
    """How the factors' joint moves are drawn."""

    GAUSSIAN = "gaussian"
    STUDENT_T = "student_t"
    BOOTSTRAP = "bootstrap"


class Marginals(StrEnum):
    """Each factor's own distribution of one-day changes under a copula."""

    NORMAL = "normal"
    EMPIRICAL = "empirical"


def _empirical(changes: Floats, u: Floats) -> Floats:
    """Inverse empirical distribution of each column of `changes` at uniforms `u` (paths x factors)."""
    ordered = np.sort(changes, axis=0)
    n = ordered.shape[0]
    position = u * (n - 1)
    lo = np.minimum(np.floor(position).astype(np.int64), n - 2) if n > 1 else np.zeros(u.shape, np.int64)
    frac = position - lo
    below = np.take_along_axis(ordered, lo, axis=0)
    above = np.take_along_axis(ordered, np.minimum(lo + 1, n - 1), axis=0)
    result: Floats = below + frac * (above - below)
    return result


def _copula_normals(
    copula: Copula, correlation: Floats, dof: float, paths: int, rng: np.random.Generator
) -> Floats:
    """Standard normal scores (paths x factors) whose dependence is the copula's."""
    k = correlation.shape[0]
    x = rng.standard_normal((paths, k)) @ np.linalg.cholesky(correlation).T
    if copula is Copula.GAUSSIAN:
        return x
    x /= np.sqrt(rng.chisquare(dof, paths) / dof)[:, None]
    # Map t scores to normal ones through the lower tail of each sign: 1 - tiny would round to 1.
    z: Floats = -np.sign(x) * ndtri(stdtr(dof, -np.abs(x)))
    return z


def monte_carlo_var(
    exposure: ExposureMatrix,
    history: FactorHistory,
    *,
    confidence: float = 0.99,
    horizon: int = 1,
    paths: int = 100_000,
    copula: Copula = Copula.GAUSSIAN,
    marginals: Marginals = Marginals.NORMAL,
    dof: float = 5.0,
    covariance: CovarianceMethod = CovarianceMethod.EWMA,
    ewma_lambda: float = RISKMETRICS_LAMBDA,
    window: int | None = None,
    shrinkage: float = 0.0,
    seed: int = 0,
) -> RiskResult:
    """Monte Carlo VaR and ES ($) of the book with exposures `exposure` (MWh) over `paths` simulated paths.

    The factors' one-day changes are estimated from the last `window` days
    of `history` ($/MWh): covariance by `covariance` (EWMA `ewma_lambda`
    or sample) for the copulas, EWMA volatilities for the bootstrap (module
    docstring). Raises CovarianceError for a covariance that is not
    positive definite on the exposed factors (`shrinkage` > 0 regularizes),
    MissingHistory for NaN or too few days, RiskError for a bad confidence,
    horizon, path count or dof.
    """
    c = check_confidence(confidence)
    h = check_horizon(horizon)
    kind = Copula(copula)
    margins = Marginals(marginals)
    if isinstance(paths, bool) or not isinstance(paths, int | np.integer) or paths < needed_scenarios(c):
        raise RiskError(f"paths: at {c:g} at least {needed_scenarios(c)} paths are needed, got {paths!r}")
    if kind is Copula.STUDENT_T and not (np.isfinite(dof) and dof > 0):
        raise RiskError(f"dof: the t copula's degrees of freedom must be positive, got {dof!r}")
    factors = exposure.exposed
    total = exposure.total_on(factors)
    changes = history.last(window).columns(factors)
    rng = np.random.Generator(np.random.PCG64(seed))
    scale = float(np.sqrt(h))
    loading: Floats | None = None
    if kind is Copula.BOOTSTRAP:
        before, now = ewma_volatility(changes, ewma_lambda)
        residuals = np.divide(changes, before, out=np.zeros_like(changes), where=before > 0)
        draws = np.zeros((int(paths), len(factors)))
        for _ in range(h):
            draws += residuals[rng.integers(0, changes.shape[0], int(paths))]
        draws = draws * now[None, :]
        how = f"bootstrap of EWMA-filtered residuals (lambda {ewma_lambda:g}) of {changes.shape[0]} days"
    else:
        method = CovarianceMethod(covariance)
        one_day = checked(covariance_of(changes, method, ewma_lambda), factors, shrinkage)
        lam = f" lambda {ewma_lambda:g}" if method is CovarianceMethod.EWMA else ""
        how = (
            f"{kind.value} copula, {margins.value} marginals, "
            f"{method.value}{lam} covariance of {changes.shape[0]} days"
        )
        if kind is Copula.GAUSSIAN and margins is Marginals.NORMAL:
            loading = np.asarray(np.linalg.cholesky(one_day * h), dtype=np.float64)
            draws = rng.standard_normal((int(paths), len(factors)))
        else:
            sigma = np.sqrt(np.diag(one_day))
            correlation = one_day / np.outer(sigma, sigma)
            z = _copula_normals(kind, correlation, dof, int(paths), rng)
            if margins is Marginals.NORMAL:
                draws = z * (sigma * scale)[None, :]
            else:
                draws = _empirical(changes, ndtr(z)) * scale
        if kind is Copula.STUDENT_T:
            how = how.replace("student_t copula", f"student_t copula ({dof:g} dof)")
    if h > 1:
        how += f", {h} days" + (
            " as sums of drawn days" if kind is Copula.BOOTSTRAP else " by square-root-of-time"
        )
    model = ScenarioModel(draws, loading=loading, neighbours=int(paths) // NEIGHBOUR_SHARE)
    found = measure(model, total, c)
    return RiskResult(
        method=RiskMethod.MONTE_CARLO,
        confidence=c,
        horizon=h,
        var=found.var,
        es=found.es,
        mean=float(found.pnl.mean()),
        std=float(found.pnl.std()),
        scenarios=int(paths),
        pnl=found.pnl,
        scenario_dates=(),
        var_dates=(),
        factors=factors,
        exposure=total,
        var_gradient=found.var_gradient,
        es_gradient=found.es_gradient,
        model=model,
        settings=f"{how}, {paths:,} paths, seed {seed}",
    )
