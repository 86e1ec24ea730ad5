"""Monte Carlo VaR: convergence to the closed form, reproducibility, copulas, marginals and the bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from carbon254.risk import (
    Copula,
    CovarianceError,
    FactorHistory,
    Marginals,
    RiskError,
    RiskMethod,
    exposures,
    monte_carlo_var,
    parametric_var,
)
from carbon254.risk.model import ScenarioModel

from .books import FACTORS, book, dates, normal_history


def test_var_converges_to_the_parametric_closed_form() -> None:
    """Gaussian copula, normal marginals: the simulated 99% quantile's standard error is
    sqrt(p (1 - p) / n) / phi(z) sigma (1.6% of VaR at 10,000 paths, 0.16% at 1,000,000). Each
    figure must lie within 4 standard errors, and at 1,000,000 paths within 0.5% of the closed form."""
    history = normal_history(400)
    book_exposures = exposures(book(), FACTORS)
    closed = parametric_var(book_exposures, history, confidence=0.99)
    z = norm.ppf(0.99)
    errors = []
    for paths in (10_000, 100_000, 1_000_000):
        simulated = monte_carlo_var(book_exposures, history, confidence=0.99, paths=paths, seed=11)
        standard_error = math.sqrt(0.01 * 0.99 / paths) / norm.pdf(z) / z
        errors.append(abs(simulated.var / closed.var - 1))
        assert errors[-1] < 4 * standard_error, paths
        assert simulated.es == pytest.approx(closed.es, rel=8 * standard_error)
    assert errors[-1] < 0.005
    assert errors[-1] < errors[0]


def test_the_same_seed_gives_the_same_figures() -> None:
    history = normal_history(300)
    book_exposures = exposures(book(), FACTORS)
    for copula in Copula:
        first = monte_carlo_var(book_exposures, history, paths=5_000, copula=copula, seed=42)
        again = monte_carlo_var(book_exposures, history, paths=5_000, copula=copula, seed=42)
        other = monte_carlo_var(book_exposures, history, paths=5_000, copula=copula, seed=43)
        assert (first.var, first.es) == (again.var, again.es)
        np.testing.assert_array_equal(first.pnl, again.pnl)
        assert not np.array_equal(first.pnl, other.pnl)
        assert first.method is RiskMethod.MONTE_CARLO and first.scenarios == 5_000


def test_student_t_copula_keeps_normal_marginals_and_fattens_the_joint_tail() -> None:
    history = normal_history(400)
    book_exposures = exposures(book(), FACTORS)
    t = monte_carlo_var(book_exposures, history, paths=200_000, copula=Copula.STUDENT_T, dof=3.0, seed=1)
    gauss = monte_carlo_var(book_exposures, history, paths=200_000, seed=1)
    assert isinstance(t.model, ScenarioModel) and isinstance(gauss.model, ScenarioModel)
    # Each factor is still normal with the covariance's volatility...
    np.testing.assert_allclose(t.model.changes().std(axis=0), gauss.model.changes().std(axis=0), rtol=0.02)

    # ...but extremes come together: far more paths with every ERCOT factor beyond its 1% quantile.
    def joint(changes: np.ndarray) -> int:
        low = np.quantile(changes[:, :3], 0.01, axis=0)
        return int((changes[:, :3] < low).all(axis=1).sum())

    assert joint(t.model.changes()) > 1.2 * joint(gauss.model.changes())


def test_empirical_marginals_stay_within_the_history() -> None:
    history = normal_history(250)
    result = monte_carlo_var(
        exposures(book(), FACTORS), history, paths=20_000, marginals=Marginals.EMPIRICAL, seed=3
    )
    assert isinstance(result.model, ScenarioModel)
    changes = result.model.changes()
    assert (changes >= history.changes.min(axis=0) - 1e-9).all()
    assert (changes <= history.changes.max(axis=0) + 1e-9).all()


def test_the_bootstrap_draws_whole_days_of_filtered_residuals() -> None:
    history = normal_history(150)
    lam = 0.94
    variance = (history.changes**2).mean(axis=0)
    sigmas = []
    for change in history.changes:
        sigmas.append(np.sqrt(variance))
        variance = lam * variance + (1 - lam) * change**2
    residuals = history.changes / np.array(sigmas)
    now = np.sqrt(variance)
    result = monte_carlo_var(
        exposures(book(), FACTORS), history, paths=2_000, copula=Copula.BOOTSTRAP, seed=5
    )
    assert isinstance(result.model, ScenarioModel)
    possible = residuals * now
    for path in result.model.changes()[:50]:
        assert np.isclose(possible, path, rtol=1e-9).all(axis=1).any()


def test_bad_settings_and_singular_covariances_are_refused() -> None:
    history = normal_history(200)
    book_exposures = exposures(book(), FACTORS)
    with pytest.raises(RiskError, match="paths"):
        monte_carlo_var(book_exposures, history, paths=50, confidence=0.99)
    with pytest.raises(RiskError, match="dof"):
        monte_carlo_var(book_exposures, history, copula=Copula.STUDENT_T, dof=0.0)
    changes = history.changes.copy()
    changes[:, 2] = 2 * changes[:, 0]
    with pytest.raises(CovarianceError, match="singular"):
        monte_carlo_var(book_exposures, FactorHistory(FACTORS, dates(200), changes), paths=1_000)
