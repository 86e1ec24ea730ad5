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

The 24 targets of a LEAR day share the Gram matrix, so `lasso_lars_aic_many`
walks their paths in lockstep: one knot of every target per step, as
array operations over the targets (each keeps its own active set), which
costs a fraction of 24 separate walks in Python.

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
    if xy.ndim != 1:
        raise ForecastError(f"xy: shape {xy.shape}; one target's X'y is a vector")
    sigma2 = None if noise_variance is None else np.array([noise_variance])
    (fit,) = lasso_lars_aic_many(
        gram, xy[:, None], np.array([yy]), n_samples, noise_variance=sigma2, rss_floor=np.array([rss_floor])
    )
    return fit


def lasso_lars_aic_many(
    gram: Floats,
    xy: Floats,
    yy: Floats,
    n_samples: int,
    *,
    noise_variance: Floats | None = None,
    rss_floor: Floats | None = None,
) -> list[LassoFit]:
    """`lasso_lars_aic` for several targets sharing one Gram matrix, walked in lockstep.

    `xy` is (p, T): one column of X'y per target; `yy`, `noise_variance`
    and `rss_floor` are (T,). Returns one `LassoFit` per target, in order.
    """
    p = gram.shape[0]
    if gram.shape != (p, p) or xy.ndim != 2 or xy.shape[0] != p:
        raise ForecastError(f"gram/xy: shapes {gram.shape} and {xy.shape} do not match")
    t_count = xy.shape[1]
    if yy.shape != (t_count,):
        raise ForecastError(f"yy: shape {yy.shape}; one y'y per target ({t_count})")
    if n_samples < 2:
        raise ForecastError(f"n_samples: {n_samples}; need at least 2 rows")
    walk = _Lockstep(gram, xy, yy, n_samples, noise_variance, rss_floor)
    walk.run()
    return [
        LassoFit(
            walk.best_coef[t].copy(), float(walk.best_alpha[t]), int(walk.best_df[t]), int(walk.knots[t])
        )
        for t in range(t_count)
    ]


class _Lockstep:
    """The LARS-lasso walks of T targets over one Gram matrix, one knot of each per `step`.

    Index p is a sink: free active slots point at it, and its row and
    column of the padded Gram matrix are zero, as are a free slot's row and
    column of the inverse, so free slots add nothing. A variable that
    leaves frees its slot; one that enters takes the first free slot.
    """

    def __init__(
        self,
        gram: Floats,
        xy: Floats,
        yy: Floats,
        n: int,
        noise_variance: Floats | None,
        rss_floor: Floats | None,
    ) -> None:
        p, t_count = xy.shape
        self.p, self.n, self.t_count = p, n, t_count
        self.rows = np.arange(t_count)
        self.gram = np.zeros((p + 1, p + 1))
        self.gram[:p, :p] = gram
        self.xy = np.zeros((t_count, p + 1))
        self.xy[:, :p] = xy.T
        self.yy = yy.astype(np.float64)
        self.sigma2 = self.yy / n if noise_variance is None else noise_variance.astype(np.float64)
        self.floor = np.zeros(t_count) if rss_floor is None else rss_floor.astype(np.float64)
        self.kmax = max(min(p, n - 1), 0)
        self.beta = np.zeros((t_count, p + 1))
        self.corr = self.xy.copy()
        # The inverse of each target's active Gram block and the active variables' Gram rows,
        # updated by rank-one steps as variables enter and leave (no factorisation per knot).
        self.inverse = np.zeros((t_count, self.kmax + 1, self.kmax + 1))
        self.gram_active = np.zeros((t_count, self.kmax + 1, p + 1))
        self.active = np.full((t_count, self.kmax + 1), p, dtype=np.intp)
        self.k = np.zeros(t_count, dtype=np.intp)
        self.top = np.zeros(t_count, dtype=np.intp)  # one past the highest slot ever used
        self.blocked = np.zeros((t_count, p + 1), dtype=bool)
        self.blocked[:, p] = True
        self.add = np.argmax(np.abs(self.corr[:, :p]), axis=1) if p else np.full(t_count, -1)
        self.big_c = np.abs(self.corr[self.rows, self.add]) if p else np.zeros(t_count)
        self.best_crit = np.where(self.sigma2 > _TINY, self.yy / np.maximum(self.sigma2, _TINY), 0.0)
        self.best_coef = np.zeros((t_count, p))
        self.best_alpha = self.big_c / n
        self.best_df = np.zeros(t_count, dtype=np.intp)
        self.knots = np.zeros(t_count, dtype=np.intp)
        self.rejoin = np.full(t_count, -1, dtype=np.intp)
        self.live = (self.yy > _TINY) & (self.sigma2 > _TINY) & (self.big_c > _TINY) & (self.kmax > 0)
        self.best_alpha[~self.live] = 0.0

    def run(self) -> None:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            while self.live.any():
                self.step()

    def _enter(self) -> None:
        """Active sets grow by each live target's entering variable, in its first free slot (a variable
        that is a linear combination of the active ones never enters)."""
        entering = self.live & (self.add >= 0)
        if not entering.any():
            return
        variable = np.where(entering, self.add, self.p)
        self.blocked[self.rows, variable] = True
        slot = np.argmax(self.active == self.p, axis=1)
        width = int(max(self.top.max(), (slot[entering] + 1).max()))
        span = np.arange(width)
        u = self.gram_active[self.rows[:, None], span[None, :], variable[:, None]]
        b = np.matmul(self.inverse[:, :width, :width], u[:, :, None])[:, :, 0]
        diagonal = self.gram[variable, variable]
        schur = diagonal - np.einsum("ij,ij->i", u, b)
        ok = entering & (schur > _DEGENERATE * np.maximum(diagonal, _TINY))
        if not ok.any():
            return
        scale = np.where(ok, 1.0 / np.where(ok, schur, 1.0), 0.0)
        self.inverse[:, :width, :width] += (b * scale[:, None])[:, :, None] * b[:, None, :]
        which = np.flatnonzero(ok)
        at = slot[which]
        column = -b[which] * scale[which, None]
        self.inverse[which[:, None], span[None, :], at[:, None]] = column
        self.inverse[which[:, None], at[:, None], span[None, :]] = column
        self.inverse[which, at, at] = scale[which]
        self.gram_active[which, at] = self.gram[variable[which]]
        self.active[which, at] = variable[which]
        self.k[which] += 1
        self.top[which] = np.maximum(self.top[which], at + 1)

    def _leave(self, which: npt.NDArray[np.intp], position: npt.NDArray[np.intp]) -> None:
        """Each target in `which` drops the active variable at `position`, leaving a free slot."""
        width = int(self.top.max())
        span = np.arange(width)
        column = self.inverse[which[:, None], span[None, :], position[:, None]]
        pivot = column[np.arange(len(which)), position]
        block = (
            self.inverse[which, :width, :width]
            - column[:, :, None] * column[:, None, :] / pivot[:, None, None]
        )
        self.inverse[which, :width, :width] = block
        self.inverse[which, position, :] = 0.0
        self.inverse[which, :, position] = 0.0
        self.gram_active[which, position] = 0.0
        self.active[which, position] = self.p
        self.k[which] -= 1

    def step(self) -> None:
        """One knot of every live target (see the module docstring)."""
        self._enter()
        self.live &= self.k > 0
        if not self.live.any():
            return
        size = int(self.top.max())
        act = self.active[:, :size]
        signs = np.sign(np.take_along_axis(self.corr, act, axis=1))
        direction = np.matmul(self.inverse[:, :size, :size], signs[:, :, None])[:, :, 0]
        slope = np.matmul(direction[:, None, :], self.gram_active[:, :size])[:, 0]
        big_c = self.big_c[:, None]
        # The longest step before an inactive correlation catches up with the active ones
        # (or all of them reach 0).
        up = (big_c - self.corr) / (1.0 - slope)
        down = (big_c + self.corr) / (1.0 + slope)
        steps = np.minimum(np.where(up > _TINY, up, np.inf), np.where(down > _TINY, down, np.inf))
        steps[self.blocked] = np.inf
        back = self.rejoin >= 0
        # A variable that has just left sits at the active correlation: it must not re-enter at once.
        steps[self.rows[back], self.rejoin[back]] = np.inf
        add = np.argmin(steps, axis=1)
        gamma = steps[self.rows, add]
        capped = gamma >= self.big_c
        gamma = np.where(capped, self.big_c, gamma)
        add = np.where(capped, -1, add)
        # The lasso modification: a coefficient reaching zero first leaves the active set.
        coef = np.take_along_axis(self.beta, act, axis=1)
        crossing = -coef / direction
        crossing[~(crossing > _TINY)] = np.inf
        position = np.argmin(crossing, axis=1)
        first_zero = crossing[self.rows, position]
        dropping = (first_zero < gamma) & self.live
        gamma = np.where(dropping, first_zero, gamma)
        add = np.where(dropping, -1, add)
        gamma = np.where(self.live, gamma, 0.0)
        add = np.where(self.live, add, -1)
        coef = coef + gamma[:, None] * direction
        gone = act[self.rows, position]
        coef[self.rows[dropping], position[dropping]] = 0.0
        self.beta[self.rows[:, None], act] = coef
        self.beta[:, self.p] = 0.0
        self.corr -= gamma[:, None] * slope
        self.big_c = self.big_c - gamma
        self.knots += self.live
        rss = self.yy - np.einsum("ij,ij->i", coef, np.take_along_axis(self.xy + self.corr, act, axis=1))
        df = self.k - dropping
        crit = rss / np.maximum(self.sigma2, _TINY) + 2 * df
        better = self.live & (crit < self.best_crit)
        if better.any():
            self.best_crit[better] = crit[better]
            self.best_coef[better] = self.beta[better, : self.p]
            self.best_alpha[better] = np.maximum(self.big_c[better], 0.0) / self.n
            self.best_df[better] = df[better]
        leaving = np.flatnonzero(dropping)
        if len(leaving):
            self._leave(leaving, position[leaving])
            self.blocked[leaving, gone[leaving]] = False
        self.rejoin = np.where(dropping, gone, -1)
        finished = (self.big_c <= _TINY) | (~dropping & ((add < 0) | (self.k >= self.kmax)))
        hopeless = self.floor / np.maximum(self.sigma2, _TINY) + 2 * (df - DROP_SLACK) > self.best_crit
        self.live &= ~(finished | hopeless)
        self.add = add
