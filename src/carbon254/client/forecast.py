"""The SDK's models of forecasting: the `GET /v1/forecast` query and the job requests it submits.

`Client.forecast` reads a forecast (one row per hour or five-minute
interval: forecast, p10, p50, p90 in $/MWh); `forecast_train` and
`forecast_backtest` submit the `forecast_train` and `forecast_backtest`
jobs (`POST /v1/jobs`) and return the `Job`; `backtest_chart` fetches a
finished backtest's PNG. The registry's methods are `models`, `model`,
`promote_model`, `rollback_model` and `archive_model`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from carbon254.client.queries import Query

TRAIN_KIND = "forecast_train"
BACKTEST_KIND = "forecast_backtest"


class ForecastQuery(Query):
    """`GET /v1/forecast`: a location's next DAM day (hourly) or next RT5 intervals, with P10/P50/P90."""

    path: ClassVar[str] = "/v1/forecast"
    location: str
    iso: str | None = None
    market: str = "DAM"
    horizon: int | None = None
    day: str | None = None
    model: str | None = None
    version: int | None = None
    train_days: int = 365
    seed: int = 0
    as_of: str | None = None
    tz: str | None = "iso"


def backtest_path(job_id: str, chart: bool = False) -> str:
    """The address of a backtest's results (or, with `chart`, its PNG)."""
    return f"/v1/backtests/{job_id}" + ("/chart" if chart else "")


def job_request(**fields: Any) -> dict[str, Any]:
    """A job request from keyword fields: None left out (the service's default), dates as ISO text."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items() if v is not None}
