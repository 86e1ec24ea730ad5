"""The forecasting domain's error: bad input named by its field."""

from __future__ import annotations


class ForecastError(ValueError):
    """A price series, model or backtest the forecasting code cannot take; the message names the field."""
