"""Forecasting's job kinds: `forecast_backtest` (models compared on a stored location) and
`forecast_train` (a model fitted, scored on a holdout and registered as a candidate).

Importing the package registers both in the process-wide job registry.
"""

from carbon254.forecast_jobs.backtest import FORECAST_BACKTEST, ForecastBacktestRequest
from carbon254.forecast_jobs.train import FORECAST_TRAIN, ForecastTrainRequest

__all__ = ["FORECAST_BACKTEST", "FORECAST_TRAIN", "ForecastBacktestRequest", "ForecastTrainRequest"]
