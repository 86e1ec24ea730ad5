"""Hyper-parameter search for the tree models within a time budget (Optuna's TPE sampler, seeded).

Each trial fits the model once on the days before a validation period (the
last `validation_days` of the data) and forecasts every validation day from
what was known that day; the score is the MAE ($/MWh). The search stops at
`budget_seconds` or `max_trials`, whichever comes first; with a trial cap
that the budget does not cut short, the same seed gives the same result.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from carbon254.forecast.days import DayAheadData
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.gbm import GbmParams, LightGbm, XgBoost
from carbon254.forecast.metrics import mae


class Library(StrEnum):
    """Which boosting library a search tunes."""

    LIGHTGBM = "lightgbm"
    XGBOOST = "xgboost"


@dataclass(frozen=True, slots=True)
class TuningResult:
    """The best parameters found, their validation MAE ($/MWh), the defaults' MAE on the same days,
    how many trials ran and how long the search took (s)."""

    params: GbmParams
    validation_mae: float
    default_mae: float
    trials: int
    seconds: float


def _model(library: Library, params: GbmParams, calibration_days: int | None) -> LightGbm | XgBoost:
    if library is Library.LIGHTGBM:
        return LightGbm(params, calibration_days)
    return XgBoost(params, calibration_days)


def validation_mae(
    data: DayAheadData,
    model: LightGbm | XgBoost,
    validation_days: int,
    seed: int = 0,
) -> float:
    """MAE ($/MWh, published hours) of one fit before the last `validation_days` days, over those days."""
    first = len(data) - validation_days
    fitted = model.fit(data.known_at(first), seed)
    forecasts = np.vstack([fitted.predict_day(data.known_at(d)).point for d in range(first, len(data))])
    return mae(data.prices[first:], forecasts, data.observed[first:])


def tune_gbm(
    data: DayAheadData,
    *,
    library: Library | str = Library.LIGHTGBM,
    budget_seconds: float = 60.0,
    max_trials: int | None = None,
    validation_days: int = 28,
    calibration_days: int | None = 1456,
    seed: int = 0,
) -> TuningResult:
    """Search the boosting parameters of `library` within `budget_seconds` (see the module docstring).

    Raises `ForecastError` for a budget that is not positive, a validation
    period too short or too long for the data, or an unknown library.
    """
    import optuna  # deferred: only tuning needs it

    try:
        chosen = Library(library)
    except ValueError:
        raise ForecastError(f"library: {library!r} is not one of lightgbm, xgboost") from None
    if not (math.isfinite(budget_seconds) and budget_seconds > 0):
        raise ForecastError(f"budget_seconds: {budget_seconds!r} must be positive")
    if max_trials is not None and max_trials < 1:
        raise ForecastError(f"max_trials: {max_trials}; need at least 1")
    needed = _model(chosen, GbmParams(), calibration_days).min_history_days
    if validation_days < 1 or len(data) - validation_days < needed:
        raise ForecastError(
            f"validation_days: {validation_days} leaves {len(data) - validation_days} days to train on; "
            f"need at least {needed}"
        )
    started = time.perf_counter()
    default = validation_mae(data, _model(chosen, GbmParams(), calibration_days), validation_days, seed)

    def objective(trial: optuna.Trial) -> float:
        params = GbmParams(
            n_estimators=trial.suggest_int("n_estimators", 100, 1000, log=True),
            learning_rate=trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            leaves=trial.suggest_int("leaves", 8, 128, log=True),
            min_child_samples=trial.suggest_int("min_child_samples", 5, 100, log=True),
            subsample=trial.suggest_float("subsample", 0.5, 1.0),
            colsample=trial.suggest_float("colsample", 0.3, 1.0),
            reg_lambda=trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        )
        return validation_mae(data, _model(chosen, params, calibration_days), validation_days, seed)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    remaining = budget_seconds - (time.perf_counter() - started)
    study.optimize(objective, n_trials=max_trials, timeout=max(remaining, 1e-3))
    finished = [t for t in study.trials if t.value is not None]
    if not finished or default <= study.best_value:
        return TuningResult(GbmParams(), default, default, len(finished), time.perf_counter() - started)
    best = study.best_params
    params = GbmParams(
        n_estimators=int(best["n_estimators"]),
        learning_rate=float(best["learning_rate"]),
        leaves=int(best["leaves"]),
        min_child_samples=int(best["min_child_samples"]),
        subsample=float(best["subsample"]),
        colsample=float(best["colsample"]),
        reg_lambda=float(best["reg_lambda"]),
    )
    return TuningResult(
        params, float(study.best_value), default, len(finished), time.perf_counter() - started
    )
