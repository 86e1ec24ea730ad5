"""The loss models behind a VaR figure, kept with the result so sub-portfolios can be measured alike.

A `ScenarioModel` (historical and Monte Carlo) holds factor changes at the
horizon, one row per scenario, as `draws @ loading.T` (the loading is the
covariance factor of a Gaussian Monte Carlo, None otherwise), with
optional scenario weights. A `NormalModel` (delta-normal) holds the
covariance of horizon changes. Either measures any set of exposure
vectors at once and gives the gradient of the total's VaR and ES with
respect to factor exposures: contributions are exposures times gradient
(Euler), so they add up to the total exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from carbon254.risk.tail import check_confidence, tail, tails

Floats = npt.NDArray[np.float64]
Rows = npt.NDArray[np.int64]

# P&L columns measured at once when many portfolios are measured over many scenarios (memory bound).
_CELLS_PER_CHUNK = 8_000_000


@dataclass(frozen=True, slots=True, eq=False)
class ScenarioModel:
    """Factor changes at the horizon per scenario ($/MWh): `draws @ loading.T` (or `draws`), with weights.

    `neighbours` is how many order statistics each side of VaR's position
    its contributions are read from (0: the two it interpolates between;
    `carbon254.risk.tail.tail`).
    """

    draws: Floats
    loading: Floats | None = None
    weights: Floats | None = None
    neighbours: int = 0

    @property
    def scenarios(self) -> int:
        """Number of scenarios."""
        return int(self.draws.shape[0])

    def changes(self, rows: Rows | None = None) -> Floats:
        """Factor changes of the scenarios `rows` (all when None), scenarios x factors."""
        picked = self.draws if rows is None else self.draws[rows]
        result: Floats = picked if self.loading is None else picked @ self.loading.T
        return result

    def pnl(self, exposure: Floats) -> Floats:
        """P&L ($) of exposure vectors (factors x m, MWh) in every scenario: scenarios x m."""
        weights = exposure if self.loading is None else self.loading.T @ exposure
        result: Floats = self.draws @ weights
        return result


@dataclass(frozen=True, slots=True, eq=False)
class NormalModel:
    """Zero-mean normal factor changes at the horizon with covariance `covariance` (($/MWh)²)."""

    covariance: Floats


Model = ScenarioModel | NormalModel


@dataclass(frozen=True, slots=True, eq=False)
class Measured:
    """VaR and ES ($) of one exposure vector, their gradients ($ per MWh of each factor), the P&L per
    scenario (empty for a normal model) and the scenarios VaR is read from."""

    var: float
    es: float
    var_gradient: Floats
    es_gradient: Floats
    pnl: Floats
    var_rows: Rows


def normal_quantiles(confidence: float) -> tuple[float, float]:
    """(z, phi(z) / (1 - C)): VaR and ES of a standard normal loss at confidence C."""
    c = check_confidence(confidence)
    z = float(ndtri(c))
    return z, float(np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi) / (1.0 - c))


def measure(model: Model, exposure: Floats, confidence: float) -> Measured:
    """VaR, ES and their Euler gradients for one exposure vector (factors, MWh) under `model`."""
    if isinstance(model, NormalModel):
        z, es_factor = normal_quantiles(confidence)
        sigma_e = model.covariance @ exposure
        sigma = float(np.sqrt(max(float(exposure @ sigma_e), 0.0)))
        unit = sigma_e / sigma if sigma > 0 else np.zeros_like(exposure)
        return Measured(
            z * sigma, es_factor * sigma, z * unit, es_factor * unit, np.zeros(0), np.zeros(0, np.int64)
        )
    pnl = model.pnl(exposure[:, None])[:, 0]
    found = tail(pnl, confidence, model.weights, model.neighbours)
    var_gradient = -(found.var_coef @ model.changes(found.var_rows))
    es_gradient = -(found.es_coef @ model.changes(found.es_rows))
    rows = found.var_rows[found.var_coef > 0]
    return Measured(found.var, found.es, var_gradient, es_gradient, pnl, rows)


def measure_many(model: Model, exposures: Floats, confidence: float) -> tuple[Floats, Floats]:
    """VaR and ES ($) of each column of `exposures` (factors x m, MWh) under `model`."""
    if isinstance(model, NormalModel):
        z, es_factor = normal_quantiles(confidence)
        variance = np.einsum("fm,fg,gm->m", exposures, model.covariance, exposures)
        sigma = np.sqrt(np.maximum(variance, 0.0))
        return z * sigma, es_factor * sigma
    m = exposures.shape[1]
    chunk = max(1, _CELLS_PER_CHUNK // max(model.scenarios, 1))
    var = np.empty(m)
    es = np.empty(m)
    for lo in range(0, m, chunk):
        hi = min(m, lo + chunk)
        var[lo:hi], es[lo:hi] = tails(model.pnl(exposures[:, lo:hi]), confidence, model.weights)
    return var, es
