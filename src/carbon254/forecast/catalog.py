"""The models by name, as the CLI and the service offer them, and `best`: the strongest one shipped.

Tree models refit every `tree_refit_days` days (7 by default, `Periodic`):
they train in seconds where LEAR trains in a fraction of one, so a daily
backtest of `best` refits its LEAR part daily and its trees weekly.
`best` averages LEAR (1456-day window, refit daily) with LightGBM (refit
weekly): on the PJM benchmark (2016-12-27 to 2018-12-24) it beats the
published LEAR ensemble (benchmarks/bench_forecast.py measures it). Of the
averages tried there (the LEAR window ensemble with a tree model, LEAR with
one or both tree models) all came within 0.03 $/MWh of each other; this
one is among the best and the cheapest. The short LEAR windows (56 and 84
days) forecast worse than the long ones here, so they are left out.
"""

from __future__ import annotations

from enum import StrEnum

from carbon254.forecast.baselines import Naive, SeasonalNaive
from carbon254.forecast.ensemble import Ensemble
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.gbm import LightGbm, XgBoost
from carbon254.forecast.lear import Lear, LearEnsemble
from carbon254.forecast.neural import NeuralNet
from carbon254.forecast.periodic import Periodic
from carbon254.forecast.protocol import Forecaster


class ModelName(StrEnum):
    """The day-ahead models offered by name."""

    NAIVE = "naive"
    SEASONAL_NAIVE = "seasonal_naive"
    LEAR = "lear"
    LEAR_ENSEMBLE = "lear_ensemble"
    LIGHTGBM = "lightgbm"
    XGBOOST = "xgboost"
    NEURAL = "neural"
    ENSEMBLE = "ensemble"
    BEST = "best"


def _tree(model: LightGbm | XgBoost, refit_days: int) -> Forecaster:
    return model if refit_days == 1 else Periodic(model, refit_days)


def best_model(*, threads: int = 1, tree_refit_days: int = 7) -> Ensemble:
    """The strongest model shipped: the mean of LEAR (1456 days) and LightGBM (refit every
    `tree_refit_days` days, with `threads` threads)."""
    trees = _tree(LightGbm(threads=threads), tree_refit_days)
    return Ensemble((Lear(), trees), name=ModelName.BEST.value)


def model_by_name(name: str, *, threads: int = 1, tree_refit_days: int = 7) -> Forecaster:
    """The model called `name` (see `ModelName`) with its default parameters.

    Tree models (also inside `ensemble` and `best`) use `threads` threads
    and refit every `tree_refit_days` days. `ensemble` is the plain mean of
    LEAR (1456 days), LightGBM and XGBoost. Raises `ForecastError` for an
    unknown name or a refit period below 1.
    """
    try:
        chosen = ModelName(name)
    except ValueError:
        known = ", ".join(m.value for m in ModelName)
        raise ForecastError(f"model: {name!r} is not one of {known}") from None
    if tree_refit_days < 1:
        raise ForecastError(f"tree_refit_days: {tree_refit_days}; need at least 1")
    lightgbm = _tree(LightGbm(threads=threads), tree_refit_days)
    xgboost = _tree(XgBoost(threads=threads), tree_refit_days)
    match chosen:
        case ModelName.NAIVE:
            return Naive()
        case ModelName.SEASONAL_NAIVE:
            return SeasonalNaive()
        case ModelName.LEAR:
            return Lear()
        case ModelName.LEAR_ENSEMBLE:
            return LearEnsemble()
        case ModelName.LIGHTGBM:
            return lightgbm
        case ModelName.XGBOOST:
            return xgboost
        case ModelName.NEURAL:
            return Periodic(NeuralNet(), tree_refit_days)
        case ModelName.ENSEMBLE:
            return Ensemble((Lear(), lightgbm, xgboost))
        case ModelName.BEST:
            return best_model(threads=threads, tree_refit_days=tree_refit_days)
