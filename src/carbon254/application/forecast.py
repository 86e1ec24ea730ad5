"""Price forecasts of a stored location: what a forecast reads, when it is made, and which model makes it.

A day-ahead forecast of delivery day D is made at `issued_at` = 09:00
market time on D-1, before any ISO's day-ahead market closes, and reads
every price it uses with `as_of=issued_at`: the store then returns the
versions known at that instant, so a price published or revised later can
never change it, and a backtest of a past day sees only what was known
then (`StoreVintages`). A real-time forecast reads the five-minute prices
known at `as_of` (default: now) and forecasts the next 1-12 intervals after
the newest. The model is a registered version (`model` names it, or the
production version serving the location and market), else one of
`carbon254.forecast`'s models by name, fitted on the spot on `train_days`
days; day-ahead forecasts carry P10/P50/P90 from the model's own
out-of-sample errors on the last weeks (`forecast.Conformal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from carbon254.application.battery import locate_iso
from carbon254.application.catalog import resolve_iso
from carbon254.application.curves import parse_day
from carbon254.application.datasets import DatasetQuery, with_catalog_names
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import entitle_feature
from carbon254.application.operation import CallContext, OperationRequest
from carbon254.application.params import required_text
from carbon254.forecast import (
    Conformal,
    DayAheadData,
    DayForecast,
    FittedForecaster,
    Forecaster,
    ForecastError,
    History,
    ModelName,
    from_utc,
    model_by_name,
)
from carbon254.forecast.days import HOURS
from carbon254.isos import ISOS, Iso
from carbon254.schema import Dataset
from carbon254.timeseries.bounds import parse_bound

FORECAST_FEATURE = "forecast"
# The hour (market time, the day before delivery) a day-ahead forecast is made at.
ISSUE_TIME = time(9)
DAY_AHEAD = "DAM"
REAL_TIME = "RT5"
MARKETS = (DAY_AHEAD, REAL_TIME)
DEFAULT_TRAIN_DAYS = 365
MAX_TRAIN_DAYS = 1456
REAL_TIME_TRAIN_DAYS = 14
MAX_INTERVALS = 12
# The error quantiles of a day-ahead forecast come from its last weeks, at most this many days.
CONFORMAL_DAYS = 56
INTERVAL_US = 300_000_000


class ForecastRequest(OperationRequest):
    """Which location and market to forecast, how far, with which model, and as known when."""

    location: str = Field(description="The priced location (node, hub or zone), any case, e.g. HB_HOUSTON.")
    iso: str | None = Field(
        None, description="ISO/RTO, e.g. ERCOT (any case); default: the one whose catalog lists the location."
    )
    market: str = Field(
        DAY_AHEAD,
        description="DAM: the 24 hourly day-ahead prices of a delivery day; RT5: the next five-minute "
        "real-time intervals after the newest published.",
    )
    horizon: int | None = Field(
        None,
        description="How many hours (DAM, 1-24, default 24) or five-minute intervals (RT5, 1-12, default "
        "12) to forecast.",
    )
    day: str | None = Field(
        None,
        description="DAM: the delivery day, YYYY-MM-DD or today+1d (default: tomorrow in market time). The "
        "forecast is made at 09:00 market time the day before, from what was known then.",
    )
    model: str | None = Field(
        None,
        description="A registered model's name (GET /v1/models; its production version unless `version`), or "
        "a model kind fitted on the spot: naive, seasonal_naive, lear, lear_ensemble, lightgbm, xgboost, "
        "neural, ensemble or best. Default: the production model serving the location and market, else lear "
        "(DAM) or the five-minute autoregressive model (RT5).",
    )
    version: int | None = Field(None, description="The registered model's version (default: production).")
    train_days: int = Field(
        DEFAULT_TRAIN_DAYS,
        description=f"Days of prices a model fitted on the spot learns from (at most {MAX_TRAIN_DAYS}).",
    )
    seed: int = Field(0, description="Seed of a model fitted on the spot (tree models, networks).")
    as_of: str | None = Field(
        None,
        description="Forecast from what was known at this instant (default: now; a DAM forecast never reads "
        "past 09:00 market time the day before delivery).",
    )
    tz: str | None = Field(
        "iso", description="IANA zone of output times; `iso` (default) is the ISO's market time."
    )


@dataclass(frozen=True, slots=True)
class ForecastPlan:
    """A checked forecast: where, which market, the target (a DAM day or the RT5 intervals), the reads."""

    iso: str
    location: str
    market: str
    horizon: int
    day: date | None
    issued_at: datetime
    model: str | None
    version: int | None
    train_days: int
    seed: int
    inputs: tuple[DatasetQuery, ...]
    tz: str | None

    @property
    def renames(self) -> tuple[dict[str, str], ...]:
        """The read's parameters as the caller named them."""
        return tuple({"locations": "location", "start": "train_days"} for _ in self.inputs)

    def parameters(self) -> dict[str, Any]:
        """Everything beyond the read that shapes the forecast (part of the cache key)."""
        return {
            "market": self.market,
            "horizon": self.horizon,
            "day": self.day.isoformat() if self.day else None,
            "issued_at": self.issued_at.isoformat(),
            "model": self.model,
            "version": self.version,
            "train_days": self.train_days,
            "seed": self.seed,
        }


def issued_at(iso: str, day: date) -> datetime:
    """The instant (UTC) a day-ahead forecast of delivery `day` is made: 09:00 market time the day before."""
    zone = ISOS[Iso(iso)].zoneinfo
    return datetime.combine(day - timedelta(days=1), ISSUE_TIME, zone).astimezone(UTC)


def _market(text: str) -> str:
    """DAM or RT5 from any case; 422 naming `market` otherwise."""
    value = required_text("market", text).upper()
    if value not in MARKETS:
        raise bad_parameter(
            "market", f"market: {value!r}; forecasts are of DAM (hourly) or RT5 (five-minute)"
        )
    return value


def _horizon(market: str, horizon: int | None) -> int:
    most = HOURS if market == DAY_AHEAD else MAX_INTERVALS
    if horizon is None:
        return most
    if not 1 <= horizon <= most:
        unit = "hours" if market == DAY_AHEAD else "five-minute intervals"
        raise bad_parameter("horizon", f"horizon: {horizon}; a {market} forecast covers 1 to {most} {unit}")
    return horizon


def _model_name(text: str | None) -> str | None:
    """The model as given (trimmed), None when not given; names are checked against the registry later."""
    if text is None or not text.strip():
        return None
    return text.strip()


def plan_forecast(context: CallContext, request: ForecastRequest) -> ForecastPlan:
    """Check `request` into a plan naming the one stored read; reads no prices.

    Without `iso` the location is looked up in the catalogs the caller may
    read (404 none, 422 several). 403 without the `forecast` feature or the ISO's LMPs; 422
    naming the parameter for a bad market, horizon, day, train_days or
    as_of; 404 for a location the store does not price.
    """
    entitle_feature(context.principal, FORECAST_FEATURE)
    market = _market(request.market)
    horizon = _horizon(market, request.horizon)
    if not 1 <= request.train_days <= MAX_TRAIN_DAYS:
        raise bad_parameter("train_days", f"train_days: {request.train_days}; 1 to {MAX_TRAIN_DAYS}")
    iso_text = request.iso.strip() if request.iso and request.iso.strip() else None
    if iso_text is None:
        iso_text = locate_iso(context.store, context, request.location)
    iso = resolve_iso(iso_text).value
    zone = ISOS[Iso(iso)].zoneinfo
    now = datetime.now(UTC)
    as_of = _instant("as_of", request.as_of) if request.as_of else now
    if market == DAY_AHEAD:
        default = (as_of.astimezone(zone) + timedelta(days=1)).date()
        day: date | None = parse_day("day", request.day) if request.day else default
        assert day is not None
        made = min(issued_at(iso, day), as_of)
        start = datetime.combine(day - timedelta(days=request.train_days), time(0), zone).astimezone(UTC)
        end = datetime.combine(day, time(0), zone).astimezone(UTC)
        train_days = request.train_days
    else:
        if request.day:
            raise bad_parameter(
                "day", "day: only DAM forecasts take a delivery day; RT5 forecasts follow the newest interval"
            )
        day, made = None, as_of
        train_days = min(request.train_days, REAL_TIME_TRAIN_DAYS)
        end = as_of + timedelta(minutes=5)
        start = end - timedelta(days=train_days)
    query = context.query(
        Dataset.LMP,
        iso=iso,
        market=market,
        locations=[request.location],
        rename={"locations": "location", "start": "train_days", "as_of": "as_of"},
        start=start.isoformat(),
        end=end.isoformat(),
        as_of=made.isoformat(),
    )
    try:
        query = with_catalog_names(context.store.locations(iso=iso), query)
    except ApiError as error:
        raise ApiError(404, "unknown_location", error.message, "location", error.suggestions) from None
    assert query.locations is not None
    return ForecastPlan(
        iso=iso,
        location=query.locations[0],
        market=market,
        horizon=horizon,
        day=day,
        issued_at=made,
        model=_model_name(request.model),
        version=request.version,
        train_days=train_days,
        seed=request.seed,
        inputs=(query,),
        tz=_tz(request.tz, iso),
    )


def _instant(parameter: str, text: str) -> datetime:
    try:
        return parse_bound(required_text(parameter, text), None)
    except ValueError as exc:
        raise bad_parameter(parameter, f"{parameter}: {exc}") from None


def _tz(text: str | None, iso: str) -> str | None:
    if text is None or not text.strip():
        return None
    if text.strip().lower() == "iso":
        return ISOS[Iso(iso)].zoneinfo.key
    return text.strip()


# ---- from stored rows to the models' inputs ------------------------------------------------------


def series_of(
    rows: pa.Table, location: str
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """One location's interval starts (µs UTC) and LMPs ($/MWh) from stored LMP rows, in time order."""
    mine = rows.filter(pc.equal(rows.column("location"), location)).sort_by("interval_start")
    starts = mine.column("interval_start").cast(pa.timestamp("us", "UTC")).cast(pa.int64()).to_numpy()
    prices = mine.column("lmp").to_numpy(zero_copy_only=False).astype(np.float64)
    return np.asarray(starts, dtype=np.int64), prices


def dayahead_data(rows: pa.Table, location: str, iso: str) -> DayAheadData:
    """Stored DAM rows of one location on the day-by-24-hour grid of the ISO's market clock."""
    starts, prices = series_of(rows, location)
    if len(starts) == 0:
        raise ForecastError(f"location: no day-ahead prices of {location} in the window")
    return from_utc(starts, prices, ISOS[Iso(iso)].zoneinfo.key)


def history_for(data: DayAheadData, day: date) -> History:
    """What `data` (days before `day`) knows when `day` is forecast; `ForecastError` when the day before is
    missing (its prices were not yet published when the forecast was made)."""
    last = data.days[-1]
    target = np.datetime64(day, "D")
    if last != target - 1:
        raise ForecastError(
            f"day: the prices of {target - 1} were not known when {target} was forecast "
            f"(the newest were {last})"
        )
    days = np.append(data.days, target)
    exogenous = np.zeros((len(data.exogenous_names), len(days), HOURS))
    exogenous[:, :-1] = data.exogenous
    return History(days, data.prices, exogenous, data.exogenous_names)


def spot_model(name: str | None) -> Forecaster:
    """The model fitted on the spot for a DAM forecast: `name` (default lear) with conformal P10/P50/P90."""
    try:
        base = model_by_name(name or ModelName.LEAR.value)
    except ForecastError as error:
        raise bad_parameter("model", f"model: {error} (or a registered model's name)") from None
    return Conformal(base, holdout_days=CONFORMAL_DAYS)


def fit_dayahead(model: Forecaster, history: History, seed: int) -> FittedForecaster:
    """`model` fitted on `history` (422 naming `train_days` when there is too little of it)."""
    try:
        return model.fit(history, seed)
    except ForecastError as error:
        raise bad_parameter("train_days", f"train_days: {error}") from None


def predict_dayahead(fitted: FittedForecaster, history: History) -> DayForecast:
    """The target day's forecast; a model that cannot forecast it is a 422 naming `model`."""
    try:
        return fitted.predict_day(history)
    except ForecastError as error:
        raise bad_parameter("model", f"model: {error}") from None


def hour_starts(iso: str, day: date) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The UTC starts (µs) of the 24 hour slots of `day` on the market clock.

    On a 23-hour day the slot of the skipped hour is dropped and on a
    25-hour day the repeated hour appears once: the forecast grid has 24
    slots by local hour, so answers carry the hours that exist.
    """
    zone = ISOS[Iso(iso)].zoneinfo
    midnight = datetime.combine(day, time(0), zone)
    following = datetime.combine(day + timedelta(days=1), time(0), zone)
    starts = []
    moment = midnight.astimezone(UTC)
    seen: set[int] = set()
    while moment < following.astimezone(UTC):
        hour = moment.astimezone(zone).hour
        if hour not in seen:
            seen.add(hour)
            starts.append(int(moment.timestamp() * 1_000_000))
        moment += timedelta(hours=1)
    return np.asarray(starts, dtype=np.int64)


def slots_of(iso: str, starts: np.ndarray[Any, np.dtype[np.int64]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The local hour (0-23, the forecast grid's slot) of each UTC start (µs)."""
    zone = ISOS[Iso(iso)].zoneinfo
    return np.asarray(
        [datetime.fromtimestamp(s / 1_000_000, UTC).astimezone(zone).hour for s in starts], dtype=np.int64
    )
