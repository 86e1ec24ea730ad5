"""Delta-normal VaR: the closed form, EWMA and sample covariances, and covariances that cannot be used."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from carbon254.risk import (
    CovarianceError,
    CovarianceMethod,
    FactorCovariance,
    FactorHistory,
    MissingHistory,
    RiskMethod,
    estimate_covariance,
    exposures,
    parametric_var,
)

from .books import COVARIANCE, FACTORS, book, book_exposure, dates, normal_history


@pytest.mark.parametrize(("confidence", "horizon"), [(0.95, 1), (0.975, 1), (0.99, 10), (0.999, 4)])
def test_var_and_es_are_the_normal_closed_form(confidence: float, horizon: int) -> None:
    e = book_exposure()
    sigma = math.sqrt(sum(e[i] * COVARIANCE[i, j] * e[j] for i in range(4) for j in range(4)))
    z = norm.ppf(confidence)
    result = parametric_var(
        exposures(book(), FACTORS),
        FactorCovariance(FACTORS, COVARIANCE),
        confidence=confidence,
        horizon=horizon,
    )
    assert result.var == pytest.approx(z * sigma * math.sqrt(horizon), rel=1e-12)
    assert result.es == pytest.approx(sigma * math.sqrt(horizon) * norm.pdf(z) / (1 - confidence), rel=1e-12)
    assert result.es >= result.var
    assert result.std == pytest.approx(sigma * math.sqrt(horizon))
    assert result.method is RiskMethod.PARAMETRIC and result.scenarios == 0


def test_ewma_covariance_weights_recent_days_by_lambda() -> None:
    history = normal_history(60)
    lam = 0.94
    weights = [lam ** (59 - t) for t in range(60)]
    total = sum(weights)
    expected = np.zeros((4, 4))
    for t in range(60):
        expected += weights[t] / total * np.outer(history.changes[t], history.changes[t])
    found = estimate_covariance(history, method=CovarianceMethod.EWMA, ewma_lambda=lam)
    np.testing.assert_allclose(found.matrix, expected, rtol=1e-12)
    sample = estimate_covariance(history, method=CovarianceMethod.SAMPLE, window=30)
    np.testing.assert_allclose(sample.matrix, np.cov(history.changes[30:], rowvar=False), rtol=1e-12)


def test_var_from_history_uses_its_covariance() -> None:
    history = normal_history(500)
    book_exposures = exposures(book(), FACTORS)
    for method in CovarianceMethod:
        covariance = estimate_covariance(history, method=method)
        by_history = parametric_var(book_exposures, history, covariance=method)
        by_matrix = parametric_var(book_exposures, covariance)
        assert by_history.var == pytest.approx(by_matrix.var, rel=1e-12)
    # 500 draws from COVARIANCE: the sample estimate is within a few percent of the truth.
    truth = parametric_var(book_exposures, FactorCovariance(FACTORS, COVARIANCE))
    sample = parametric_var(book_exposures, history, covariance=CovarianceMethod.SAMPLE)
    assert sample.var == pytest.approx(truth.var, rel=0.1)


def test_a_singular_covariance_is_refused_unless_shrunk() -> None:
    # HB_NORTH and NODE_A move together exactly: the covariance of the exposed factors is singular.
    history = normal_history(200)
    changes = history.changes.copy()
    changes[:, 2] = changes[:, 0]
    collinear = FactorHistory(FACTORS, history.dates, changes)
    with pytest.raises(CovarianceError, match="singular"):
        parametric_var(exposures(book(), FACTORS), collinear)
    shrunk = parametric_var(exposures(book(), FACTORS), collinear, shrinkage=0.1)
    assert shrunk.var > 0 and "shrinkage 0.1" in shrunk.settings
    # Fewer days than factors: singular too.
    with pytest.raises(CovarianceError, match="singular"):
        parametric_var(exposures(book(), FACTORS), history, window=3)


def test_a_flat_factor_or_a_non_psd_matrix_cannot_be_used() -> None:
    changes = normal_history(200).changes.copy()
    changes[:, 1] = 0.0
    flat = FactorHistory(FACTORS, dates(200), changes)
    with pytest.raises(CovarianceError, match="ERCOT:HB_HOUSTON:atc:spot have zero variance"):
        parametric_var(exposures(book(), FACTORS), flat, shrinkage=0.5)
    not_psd = COVARIANCE.copy()
    not_psd[0, 2] = not_psd[2, 0] = 40.0  # a correlation above one
    with pytest.raises(CovarianceError, match="not positive semi-definite"):
        parametric_var(exposures(book(), FACTORS), FactorCovariance(FACTORS, not_psd))
    with pytest.raises(CovarianceError, match="symmetric"):
        FactorCovariance(FACTORS, COVARIANCE + np.triu(np.ones((4, 4)), 1))


def test_one_day_of_history_gives_no_covariance() -> None:
    with pytest.raises(MissingHistory, match="at least 2 days"):
        parametric_var(exposures(book(), FACTORS), normal_history(1))
