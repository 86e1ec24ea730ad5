"""The LARS-lasso path from a Gram matrix, against scikit-learn's path and an AIC computed here."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import lars_path_gram

from carbon254.forecast import lasso_lars_aic


def _problem(n: int, p: int, dummies: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p))
    x[:, 1] = x[:, 0] + 0.05 * rng.standard_normal(n)  # nearly collinear pair
    if dummies:
        x[:, -7:] = np.eye(7)[rng.integers(0, 7, n)]  # the seven sum to one: degenerate after centring
    beta = np.zeros(p)
    beta[:8] = rng.standard_normal(8) * 2
    return x - x.mean(axis=0), x @ beta + rng.standard_normal(n)


@pytest.mark.parametrize(("n", "p", "dummies"), [(400, 60, True), (40, 60, False), (300, 30, False)])
def test_best_knot_matches_the_aic_minimum_of_scikit_learns_path(n: int, p: int, dummies: bool) -> None:
    xc, y = _problem(n, p, dummies, seed=n + p)
    yc = y - y.mean()
    gram, xy = xc.T @ xc, xc.T @ yc
    fit = lasso_lars_aic(gram, xy, float(yc @ yc), n)
    alphas, _, path = lars_path_gram(xy, gram, n_samples=n, method="lasso", max_iter=10_000)
    # The criterion by hand at every knot: RSS / var(y) + 2 x non-zero coefficients.
    criteria = []
    for k in range(path.shape[1]):
        residual = yc - xc @ path[:, k]
        criteria.append(residual @ residual / np.var(yc) + 2 * np.count_nonzero(np.abs(path[:, k]) > 1e-15))
    best = int(np.argmin(criteria))
    assert fit.alpha == pytest.approx(alphas[best], rel=1e-9)
    assert np.abs(fit.coef - path[:, best]).max() < 1e-9
    assert fit.df == np.count_nonzero(path[:, best])


def test_the_early_stop_with_a_floor_gives_the_same_knot() -> None:
    xc, y = _problem(500, 40, False, seed=3)
    yc = y - y.mean()
    gram, xy = xc.T @ xc, xc.T @ yc
    floor = float(yc @ yc - xy @ np.linalg.solve(gram, xy))  # the least-squares residual sum of squares
    full = lasso_lars_aic(gram, xy, float(yc @ yc), 500)
    early = lasso_lars_aic(gram, xy, float(yc @ yc), 500, rss_floor=floor)
    assert early.knots < full.knots
    assert np.array_equal(early.coef, full.coef) and early.alpha == full.alpha


def test_a_constant_target_has_no_coefficients() -> None:
    xc, _ = _problem(50, 10, False, seed=1)
    fit = lasso_lars_aic(xc.T @ xc, np.zeros(10), 0.0, 50)
    assert fit.df == 0 and not fit.coef.any()
