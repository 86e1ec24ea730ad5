"""Price forecasting: day-ahead models, backtests that cannot look ahead, and sub-hourly real-time forecasts.

Day-ahead data sits on a day x 24-hour grid (`DayAheadData`, built from
hourly rows by `from_hourly`, or from UTC stamps on a market clock by
`from_utc`, DST days included). Every model is a
`Forecaster` (`fit(history, seed)` -> `predict_day(history)` -> 24 prices,
with P10/P50/P90 for quantile models) that only ever sees a `History`:
prices before the day it forecasts, exogenous day-ahead forecasts up to it.
Models: `Naive`, `SeasonalNaive`, `Lear`, `LearEnsemble`, `LightGbm`,
`XgBoost`, `NeuralNet` (a multilayer perceptron), `Ensemble`, `Conformal`
(prediction intervals) and `best_model()`.
`backtest` scores a model over any period (MAE, RMSE, sMAPE, MAPE, rMAE,
pinball, coverage) and `diebold_mariano` compares two. `tune_gbm` searches
tree parameters in a time budget. `fit_subhourly` gives a five-minute
real-time forecaster whose per-interval update and forecast take microseconds.
No I/O: arrays and frames in, typed results out.
"""

from carbon254.forecast.backtest import (
    BacktestResult,
    BacktestSpec,
    BlockForecasts,
    DayBlock,
    assemble,
    backtest,
    comparison_table,
    plan_backtest,
    quantile_column,
    run_blocks,
)
from carbon254.forecast.baselines import Naive, SeasonalNaive
from carbon254.forecast.calendar import HolidayCalendar, is_holiday, us_holidays, weekday
from carbon254.forecast.catalog import ModelName, best_model, model_by_name
from carbon254.forecast.days import DayAheadData, History, from_hourly, from_utc
from carbon254.forecast.dm import DieboldMariano, diebold_mariano, diebold_mariano_hourly
from carbon254.forecast.ensemble import Ensemble, FittedEnsemble
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.features import gbm_design, gbm_feature_names, lear_design
from carbon254.forecast.gbm import FittedGbm, GbmParams, LightGbm, XgBoost
from carbon254.forecast.lars import LassoFit, lasso_lars_aic, lasso_lars_aic_many
from carbon254.forecast.lear import FittedLear, FittedLearEnsemble, Lear, LearEnsemble
from carbon254.forecast.metrics import ForecastMetrics, coverage, evaluate, mae, mape, pinball, rmse, smape
from carbon254.forecast.neural import FittedNeuralNet, NeuralNet
from carbon254.forecast.periodic import Periodic
from carbon254.forecast.protocol import QUANTILE_LEVELS, DayForecast, FittedForecaster, Forecaster
from carbon254.forecast.quantile import Conformal, FittedConformal
from carbon254.forecast.subhourly import (
    FIVE_MINUTES_US,
    SubHourlyForecast,
    SubHourlyModel,
    SubHourlyState,
    fit_subhourly,
)
from carbon254.forecast.tuning import Library, TuningResult, tune_gbm, validation_mae

__all__ = [
    "FIVE_MINUTES_US",
    "QUANTILE_LEVELS",
    "BacktestResult",
    "BacktestSpec",
    "BlockForecasts",
    "Conformal",
    "DayAheadData",
    "DayBlock",
    "DayForecast",
    "DieboldMariano",
    "Ensemble",
    "FittedConformal",
    "FittedEnsemble",
    "FittedForecaster",
    "FittedGbm",
    "FittedLear",
    "FittedLearEnsemble",
    "FittedNeuralNet",
    "ForecastError",
    "ForecastMetrics",
    "Forecaster",
    "GbmParams",
    "History",
    "HolidayCalendar",
    "LassoFit",
    "Lear",
    "LearEnsemble",
    "Library",
    "LightGbm",
    "ModelName",
    "Naive",
    "NeuralNet",
    "Periodic",
    "SeasonalNaive",
    "SubHourlyForecast",
    "SubHourlyModel",
    "SubHourlyState",
    "TuningResult",
    "XgBoost",
    "assemble",
    "backtest",
    "best_model",
    "comparison_table",
    "coverage",
    "diebold_mariano",
    "diebold_mariano_hourly",
    "evaluate",
    "fit_subhourly",
    "from_hourly",
    "from_utc",
    "gbm_design",
    "gbm_feature_names",
    "is_holiday",
    "lasso_lars_aic",
    "lasso_lars_aic_many",
    "lear_design",
    "mae",
    "mape",
    "model_by_name",
    "pinball",
    "plan_backtest",
    "quantile_column",
    "rmse",
    "run_blocks",
    "smape",
    "tune_gbm",
    "us_holidays",
    "validation_mae",
    "weekday",
]
