"""The LASSO path by least-angle regression from a Gram matrix, and the knot that minimises AIC.

LEAR chooses each hour's LASSO penalty by the Akaike criterion along the
LARS path (Lago et al. 2021 use scikit-learn's `LassoLarsIC`). Here the
path is computed from the Gram matrix `X'X` and `X'y` alone (Efron et al.
2004, with the lasso modification: a coefficient crossing zero leaves the
active set), so the 24 hourly regressions of a day share one Gram matrix and
cost nothing per sample. At each knot the criterion is
`AIC = RSS / sigma2 + 2 df` with `df` the non-zero coefficients and
`sigma2` the target's variance, the criterion `LassoLarsIC` used when the
LEAR benchmark was published (it also works with fewer days than features).
The coefficients at the best knot are the exact LASSO solution for its
penalty, so no second LASSO fit is needed.

The path stops early once no later knot can win: the residual sum of
squares never falls below `rss_floor` (the least-squares fit's), so beyond
`2 (df - DROP_SLACK) + rss_floor / sigma2 > best` a later knot would need
more than `DROP_SLACK` variables to leave the path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.forecast.errors import ForecastError

Floats = npt.NDArray[np.float64]

DROP_SLACK = 10
# A variable whose new Cholesky pivot falls below this share of its own variance is a linear
# combination of the active ones (the seven weekday dummies sum to the intercept): it never enters.
_DEGENERATE = 1e-10
_TINY = 1e-12


@dataclass(frozen=True, slots=True)
class LassoFit:
    """One target's LASSO at the AIC-best knot of its LARS path.

    `coef` (p,) for the centred features; `alpha` the penalty of that knot in
    the objective `1/(2n) ||y - X b||^2 + alpha ||b||_1`; `df` its non-zero
    coefficients; `knots` how many knots of the path were visited.
    """

    coef: Floats
    alpha: float
    df: int
    knots: int


def lasso_lars_aic(
    gram: Floats,
    xy: Floats,
    yy: float,
    n_samples: int,
    *,
    noise_variance: float | None = None,
    rss_floor: float = 0.0,
) -> LassoFit:
    """The LASSO coefficients at the AIC-minimising knot of the LARS path, from centred moments.

    `gram` (p, p) is X'X and `xy` (p,) X'y of centred features and target,
    `yy` = y'y, over `n_samples` rows. `noise_variance` is the sigma2 of the
    criterion (default: the target's variance, yy / n). `rss_floor` is a
    lower bound on any knot's residual sum of squares (the least-squares
    fit's; 0 when unknown) that lets the path stop early. Raises
    `ForecastError` for mismatched shapes.
    """
    p = gram.shape[0]
    if gram.shape != (p, p) or xy.shape != (p,):
        raise ForecastError(f"gram/xy: shapes {gram.shape} and {xy.shape} do not match")
    if n_samples < 2:
        raise ForecastError(f"n_samples: {n_samples}; need at least 2 rows")
    sigma2 = yy / n_samples if noise_variance is None else noise_variance
    beta = np.zeros(p)
    if yy <= _TINY or sigma2 <= _TINY or p == 0:
        return LassoFit(beta, 0.0, 0, 0)
    corr = xy.astype(np.float64, copy=True)
    kmax = min(p, n_samples - 1)
    # The inverse of the active variables' Gram block, updated by rank-one steps as variables enter
    # and leave (no factorisation per knot: tiny LAPACK calls are slow through threaded BLAS).
    inverse = np.zeros((kmax, kmax))
    gram_active = np.zeros((kmax, p))
    active = np.zeros(kmax, dtype=np.intp)
    blocked = np.zeros(p, dtype=bool)  # active, or degenerate for good
    k = 0
    add = int(np.argmax(np.abs(corr)))
    big_c = float(abs(corr[add]))
    best = LassoFit(beta.copy(), big_c / n_samples, 0, 0)
    best_crit = yy / sigma2
    knots = 0
    rejoin = -1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while big_c > _TINY:
            if add >= 0:
                blocked[add] = True
                if _append(inverse, gram_active, k, gram, add):
                    active[k] = add
                    k += 1
            if k == 0:
                break
            act = active[:k]
            direction = inverse[:k, :k] @ np.sign(corr[act])
            slope = direction @ gram_active[:k]
            # The longest step before an inactive correlation catches up with the active ones
            # (or all of them reach 0).
            up = (big_c - corr) / (1.0 - slope)
            down = (big_c + corr) / (1.0 + slope)
            steps = np.minimum(np.where(up > _TINY, up, np.inf), np.where(down > _TINY, down, np.inf))
            steps[blocked] = np.inf
            if rejoin >= 0:
                # A variable that has just left sits at the active correlation: it must not re-enter at once.
                steps[rejoin] = np.inf
            add = int(steps.argmin())
            gamma = float(steps[add])
            if gamma >= big_c:
                gamma = big_c
                add = -1
            # The lasso modification: a coefficient reaching zero first leaves the active set.
            crossing = -beta[act] / direction
            crossing[~(crossing > _TINY)] = np.inf
            drop = int(crossing.argmin())
            if crossing[drop] < gamma:
                gamma = float(crossing[drop])
                add = -1
            else:
                drop = -1
            beta[act] += gamma * direction
            corr -= gamma * slope
            big_c -= gamma
            knots += 1
            rss = yy - float(beta[act] @ (xy[act] + corr[act]))
            df = k - (drop >= 0)
            crit = rss / sigma2 + 2 * df
            if crit < best_crit:
                best_crit = crit
                if drop >= 0:
                    beta[act[drop]] = 0.0
                best = LassoFit(beta.copy(), max(big_c, 0.0) / n_samples, df, knots)
            if drop >= 0:
                gone = int(act[drop])
                beta[gone] = 0.0
                kept = np.delete(act, drop)
                _remove(inverse, gram_active, k, drop)
                k -= 1
                active[:k] = kept
                blocked[gone] = False
                rejoin = gone
            else:
                rejoin = -1
                if add < 0 or k >= kmax:
                    break
            if rss_floor / sigma2 + 2 * (df - DROP_SLACK) > best_crit:
                break
    return LassoFit(best.coef, best.alpha, best.df, knots)


def _append(inverse: Floats, gram_active: Floats, k: int, gram: Floats, variable: int) -> bool:
    """Grow the inverse of the first `k` active variables' Gram block by `variable` (block inversion);
    False (and no change) when it is a linear combination of them."""
    u = gram_active[:k, variable]
    b = inverse[:k, :k] @ u
    diagonal = float(gram[variable, variable])
    schur = diagonal - float(u @ b)
    if not schur > _DEGENERATE * max(diagonal, _TINY):
        return False
    inverse[:k, :k] += np.outer(b, b) / schur
    inverse[:k, k] = inverse[k, :k] = -b / schur
    inverse[k, k] = 1.0 / schur
    gram_active[k] = gram[variable]
    return True


def _remove(inverse: Floats, gram_active: Floats, k: int, position: int) -> None:
    """Shrink the inverse of the first `k` active variables' Gram block by the one at `position`."""
    column = inverse[:k, position].copy()
    pivot = column[position]
    keep = np.r_[0:position, position + 1 : k]
    inverse[: k - 1, : k - 1] = inverse[np.ix_(keep, keep)] - np.outer(column[keep], column[keep]) / pivot
    inverse[k - 1, :k] = 0.0
    inverse[:k, k - 1] = 0.0
    gram_active[: k - 1] = gram_active[keep]
