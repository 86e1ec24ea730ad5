"""The `forecast` operation: a location's next day-ahead prices or next five-minute real-time prices.

One declaration (`application.operation`): `GET /v1/forecast`, GraphQL's
`forecast`, the SDK's `forecast`, `carbon254 forecast predict` and Excel's
`=C254.FORECAST(location, market, horizon)`. `check` plans the one stored
read (`application.forecast.plan_forecast`, as known when the forecast is
made) and resolves the model: a registered version is loaded from the
artifact store there, since `compute` only sees rows. `compute` fits a
model on the spot when none is registered and forecasts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from carbon254.application.answer import Answer
from carbon254.application.datasets import DatasetQuery
from carbon254.application.errors import bad_parameter
from carbon254.application.forecast import (
    DAY_AHEAD,
    FORECAST_FEATURE,
    INTERVAL_US,
    ForecastPlan,
    ForecastRequest,
    dayahead_data,
    fit_dayahead,
    history_for,
    hour_starts,
    plan_forecast,
    predict_dayahead,
    series_of,
    slots_of,
    spot_model,
)
from carbon254.application.forecast_serving import RegisteredModel, serving_model
from carbon254.application.operation import (
    CallContext,
    Column,
    ColumnType,
    ExcelArgument,
    ExcelFunction,
    ExcelReader,
    Input,
    Operation,
)
from carbon254.forecast import (
    QUANTILE_LEVELS,
    DayForecast,
    FittedForecaster,
    ForecastError,
    SubHourlyForecast,
    SubHourlyModel,
    fit_subhourly,
    quantile_column,
)
from carbon254.forecast.subhourly import regular_series
from carbon254.schema import TIMESTAMP

SUBHOURLY = "subhourly"


@dataclass(frozen=True, slots=True)
class ForecastCall:
    """A checked forecast: the plan and, when one serves it, the registered model (already loaded)."""

    plan: ForecastPlan
    registered: RegisteredModel | None

    @property
    def inputs(self) -> tuple[DatasetQuery, ...]:
        """The location's prices as known when the forecast is made."""
        return self.plan.inputs

    @property
    def renames(self) -> tuple[Mapping[str, str], ...]:
        """The read's parameters as the caller named them."""
        return self.plan.renames

    @property
    def tz(self) -> str | None:
        """The zone of output times."""
        return self.plan.tz

    def parameters(self) -> dict[str, Any]:
        """The plan's parameters and the registered version (name, version, artifact digest) if any."""
        registered = self.registered
        return {
            **self.plan.parameters(),
            "registered": None if registered is None else registered.key(),
        }


def check_forecast(context: CallContext, request: ForecastRequest) -> ForecastCall:
    """The plan (see `plan_forecast`), then the registered model that serves it, if any."""
    plan = plan_forecast(context, request)
    return ForecastCall(plan, serving_model(context, plan))


COLUMNS = (
    Column(
        "interval_start",
        ColumnType.TIMESTAMP,
        "Start of the hour (DAM) or five-minute interval (RT5), in `tz`.",
    ),
    Column("interval_end", ColumnType.TIMESTAMP, "End of the interval (exclusive)."),
    Column("forecast", ColumnType.FLOAT, "Point forecast of the LMP, $/MWh."),
    Column("p10", ColumnType.FLOAT, "10th percentile of the forecast LMP, $/MWh."),
    Column("p50", ColumnType.FLOAT, "Median of the forecast LMP, $/MWh."),
    Column("p90", ColumnType.FLOAT, "90th percentile of the forecast LMP, $/MWh."),
)


def _dayahead(call: ForecastCall, rows: pa.Table) -> tuple[np.ndarray[Any, Any], DayForecast, str]:
    plan = call.plan
    assert plan.day is not None
    try:
        data = dayahead_data(rows, plan.location, plan.iso)
        history = history_for(data, plan.day)
    except ForecastError as error:
        raise bad_parameter("day", f"day: {error}") from None
    fitted: FittedForecaster
    if call.registered is not None:
        fitted = call.registered.dayahead()
        name = call.registered.label
    else:
        model = spot_model(plan.model)
        fitted = fit_dayahead(model, history, plan.seed)
        name = model.name
    forecast = predict_dayahead(fitted, history)
    return hour_starts(plan.iso, plan.day), forecast, name


def _realtime(call: ForecastCall, rows: pa.Table) -> tuple[SubHourlyForecast, str]:
    plan = call.plan
    starts, prices = series_of(rows, plan.location)
    if len(starts) == 0:
        raise bad_parameter("as_of", f"as_of: no five-minute prices of {plan.location} were known then")
    starts, prices = regular_series(starts, prices, INTERVAL_US)
    model: SubHourlyModel
    try:
        if call.registered is not None:
            model = call.registered.subhourly()
            name = call.registered.label
        else:
            if plan.model not in (None, SUBHOURLY):
                raise bad_parameter(
                    "model", f"model: RT5 forecasts use {SUBHOURLY} or a registered RT5 model"
                )
            model = fit_subhourly(starts, prices)
            name = SUBHOURLY
        state = model.start(starts, prices)
    except ForecastError as error:
        raise bad_parameter("train_days", f"train_days: {error}") from None
    return model.predict(state), name


def compute_forecast(call: ForecastCall, inputs: Sequence[Input]) -> Answer:
    """The forecast rows (first `horizon` intervals), with the model and when it was made in the head."""
    plan = call.plan
    rows = inputs[0].rows
    levels: tuple[float, ...] = QUANTILE_LEVELS
    if plan.market == DAY_AHEAD:
        starts, day_forecast, name = _dayahead(call, rows)
        slots = slots_of(plan.iso, starts)
        point = day_forecast.point[slots]
        bands = (
            day_forecast.quantiles[:, slots]
            if day_forecast.quantiles is not None
            else np.repeat(point[None, :], len(levels), axis=0)
        )
        levels = day_forecast.levels if day_forecast.quantiles is not None else levels
        step = 3_600_000_000
    else:
        sub, name = _realtime(call, rows)
        starts, point, bands, levels = sub.interval_start, sub.point, sub.quantiles, sub.levels
        step = INTERVAL_US
    keep = slice(0, plan.horizon)
    zone = pa.timestamp("us", plan.tz or "UTC")
    columns: dict[str, Any] = {
        "interval_start": pa.array(starts[keep], pa.int64()).cast(TIMESTAMP).cast(zone),
        "interval_end": pa.array(starts[keep] + step, pa.int64()).cast(TIMESTAMP).cast(zone),
        "forecast": pa.array(point[keep], pa.float64()),
    }
    for level in (0.1, 0.5, 0.9):
        column = quantile_column(level)
        if level in levels:
            columns[column] = pa.array(bands[levels.index(level)][keep], pa.float64())
        else:
            columns[column] = pa.nulls(len(columns["forecast"]), pa.float64())
    query = {
        "iso": plan.iso,
        "location": plan.location,
        "market": plan.market,
        "day": plan.day.isoformat() if plan.day else None,
        "issued_at": plan.issued_at.astimezone(UTC).isoformat(),
        "model": name,
        "registered": None if call.registered is None else call.registered.describe(),
        "train_days": plan.train_days,
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return Answer(pa.table(columns), {"query": query})


FORECAST: Operation[ForecastRequest, ForecastCall] = Operation(
    name="forecast",
    path="forecast",
    command=("forecast", "predict"),
    summary="Price forecast of a location: tomorrow's hourly DAM prices or the next five-minute RT prices",
    description=(
        "DAM: the 24 hourly day-ahead LMPs of a delivery day (default tomorrow), made at 09:00 market "
        "time the day before from the prices known then, with P10/P50/P90 from the model's own "
        "out-of-sample errors over the last eight weeks. RT5: the next 1-12 five-minute LMPs after "
        "the newest published, with P10/P50/P90. The model is the production version registered for "
        "the location and market (GET /v1/models), a registered model named by `model`, or a model "
        "kind fitted on the spot."
    ),
    feature=FORECAST_FEATURE,
    unit="$/MWh",
    request=ForecastRequest,
    columns=COLUMNS,
    check=check_forecast,
    compute=compute_forecast,
    needs_metadata=True,
    excel=ExcelFunction(
        id="FORECAST",
        description="Forecast LMPs ($/MWh) of a location: DAM hours of tomorrow or the next RT5 intervals.",
        arguments=(
            ExcelArgument(
                "location", "location", ExcelReader.LOCATION, "Node, hub or zone, e.g. HB_HOUSTON."
            ),
            ExcelArgument("market", "market", ExcelReader.TEXT, "DAM (default) or RT5.", True, "DAM"),
            ExcelArgument(
                "horizon",
                "horizon",
                ExcelReader.NUMBER,
                "Hours (DAM, 1-24) or five-minute intervals (RT5, 1-12).",
                True,
            ),
        ),
        columns=("interval_start", "forecast", "p10", "p90"),
        fixed=(("tz", "iso"),),
    ),
)
