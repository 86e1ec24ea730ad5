"""The `forecast_train` job kind: fit a model on a stored location, score it on a holdout, register it.

A day-ahead model is scored first on the last `holdout_days` published
days, each forecast from its prices as known the morning before
(`StoreVintages`, refitted every `recalibrate_every` days on `train_days`
days), then fitted on the last `train_days` days, conformal P10/P50/P90
included (`forecast.Conformal`). A real-time model (`subhourly`) is fitted
on all but the last day of its five-minute prices and scored on that day
walking interval by interval (every horizon 1-12), then refitted on all.
With `tune_seconds` a tree model's parameters are first searched
(`forecast.tune_gbm`, Optuna) on the days before the holdout, which the
search never sees. The fitted model is pickled to the artifact store under
`models/` (not the job's own corner, which job retention deletes) and
registered as a new `candidate` version of `name`, with its parameters,
training window, features and holdout metrics; promote it to serve
forecasts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from carbon254.application.errors import bad_parameter
from carbon254.application.forecast import (
    CONFORMAL_DAYS,
    DAY_AHEAD,
    INTERVAL_US,
    MAX_TRAIN_DAYS,
    REAL_TIME,
    history_for,
    series_of,
)
from carbon254.application.forecast_serving import REGISTRY_MARKET
from carbon254.application.forecast_vintages import StoreVintages, read_dayahead
from carbon254.config import Settings
from carbon254.forecast import (
    BacktestSpec,
    Conformal,
    Forecaster,
    ForecastError,
    GbmParams,
    LightGbm,
    ModelName,
    TuningResult,
    XgBoost,
    backtest,
    fit_subhourly,
    gbm_feature_names,
    model_by_name,
    tune_gbm,
)
from carbon254.forecast.subhourly import SubHourlyModel, regular_series
from carbon254.forecast_jobs.refusals import check_location, forecast_refusal
from carbon254.forecast_registry.artifacts import artifact_key, save_artifact
from carbon254.isos import ISOS, Iso
from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.forecast_models import model_name, register_model
from carbon254.objects import open_object_store
from carbon254.schema import Dataset
from carbon254.store import Store, open_store

NAME = "forecast_train"
SUBHOURLY = "subhourly"
REAL_TIME_TRAIN_DAYS = 14
MAX_HOLDOUT_DAYS = 365
TUNABLE = (ModelName.LIGHTGBM.value, ModelName.XGBOOST.value)
MAX_TUNE_SECONDS = 3600.0


class ForecastTrainRequest(BaseModel):
    """The registered name, where and which market, the model kind and its training window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="The registered model's name; a new version of it is registered.")
    iso: str = Field(description="ISO/RTO, e.g. ERCOT.")
    location: str = Field(description="The priced location, as the catalog spells it.")
    market: str = Field(DAY_AHEAD, description="DAM (hourly day-ahead) or RT5 (five-minute real time).")
    model: str = Field(
        "lear",
        description="DAM: naive, seasonal_naive, lear, lear_ensemble, lightgbm, xgboost, neural, ensemble or "
        "best; RT5: subhourly.",
    )
    train_days: int | None = Field(
        None,
        description=f"Days of prices the model learns from (DAM: 365, at most {MAX_TRAIN_DAYS}; RT5: 14).",
    )
    holdout_days: int = Field(28, description="DAM: the last days scored out of sample before the final fit.")
    tune_seconds: float | None = Field(
        None,
        description="lightgbm or xgboost: first search the tree parameters for this many seconds (Optuna), "
        "validated on the four weeks before the holdout, which the search never sees.",
    )
    recalibrate_every: int = Field(7, description="DAM: days between refits while scoring the holdout.")
    seed: int = Field(0, description="Seed of every fit.")
    as_of: datetime | None = Field(
        None, description="Train on what was known at this instant (default: now)."
    )


class TrainTask(BaseModel):
    """The request with where to read the store and write the artifact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request: ForecastTrainRequest
    as_of: datetime
    artifact_key: str
    store_url: str
    data_dir: str
    object_store: str
    s3_endpoint: str | None


class TrainedModel(BaseModel):
    """What the task fitted: the artifact's digest, the window, features, parameters and holdout scores."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    artifact_key: str
    artifact_sha256: str
    train_start: date
    train_end: date
    features: list[str]
    parameters: str
    metrics: str


def _train_days(request: ForecastTrainRequest) -> int:
    if request.train_days is not None:
        return request.train_days
    return 365 if request.market.upper() == DAY_AHEAD else REAL_TIME_TRAIN_DAYS


def _model(request: ForecastTrainRequest) -> Forecaster:
    base = model_by_name(request.model, tree_refit_days=1)
    return Conformal(base, holdout_days=CONFORMAL_DAYS)


def tuned(library: str, params: GbmParams, calibration_days: int) -> Forecaster:
    """The tree model `library` with tuned `params` on `calibration_days` days, with conformal intervals."""
    tree = (
        LightGbm(params, calibration_days)
        if library == ModelName.LIGHTGBM
        else XgBoost(params, calibration_days)
    )
    return Conformal(tree, holdout_days=CONFORMAL_DAYS)


def check(request: ForecastTrainRequest, store: Store, settings: Settings) -> None:
    """Refuse at submit what could never run: a bad name, market, model, window or location."""
    try:
        model_name(request.name)
    except ValueError as error:
        raise bad_parameter("name", f"name: {error}") from None
    market = request.market.upper()
    if market not in (DAY_AHEAD, REAL_TIME):
        raise bad_parameter("market", "market: DAM or RT5")
    if market == REAL_TIME and request.model != SUBHOURLY:
        raise bad_parameter("model", f"model: RT5 models are {SUBHOURLY}")
    if market == DAY_AHEAD:
        try:
            _model(request)
        except ForecastError as error:
            raise bad_parameter("model", f"model: {error}") from None
    if not 1 <= _train_days(request) <= MAX_TRAIN_DAYS:
        raise bad_parameter("train_days", f"train_days: 1 to {MAX_TRAIN_DAYS}")
    if request.tune_seconds is not None:
        if request.model not in TUNABLE:
            raise bad_parameter("tune_seconds", f"tune_seconds: only {' and '.join(TUNABLE)} are tuned")
        if not 0 < request.tune_seconds <= MAX_TUNE_SECONDS:
            raise bad_parameter("tune_seconds", f"tune_seconds: more than 0 and at most {MAX_TUNE_SECONDS:g}")
    if not 7 <= request.holdout_days <= MAX_HOLDOUT_DAYS:
        raise bad_parameter("holdout_days", f"holdout_days: 7 to {MAX_HOLDOUT_DAYS}")
    if request.recalibrate_every < 1:
        raise bad_parameter("recalibrate_every", "recalibrate_every: at least 1 day")
    check_location(store, request.iso, request.location)


def plan(request: ForecastTrainRequest, context: JobContext) -> list[tuple[str, TrainTask]]:
    """One task: score, fit and store the model (seconds to a few minutes). The artifact's key derives
    from the job id, so a rerun task overwrites its own artifact and never strays."""
    settings = context.settings
    task = TrainTask(
        request=request,
        as_of=request.as_of or datetime.now(UTC),
        artifact_key=artifact_key(context.tenant, request.name, context.job_id),
        store_url=settings.store_url(),
        data_dir=str(settings.data_dir),
        object_store=settings.object_store,
        s3_endpoint=settings.s3_endpoint,
    )
    return [("train", task)]


def _parameters(model: object) -> str:
    """The model specification as JSON: each dataclass as its kind and fields, nested ones alike."""

    def plain(value: object) -> object:
        if is_dataclass(value) and not isinstance(value, type):
            return {
                "kind": type(value).__name__,
                **{f.name: plain(getattr(value, f.name)) for f in fields(value)},
            }
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(model), default=str)


def _dayahead(task: TrainTask, store: Store) -> tuple[object, TrainedModel]:
    request = task.request
    iso, location = request.iso.upper(), request.location
    days = _train_days(request)
    model = _model(request)
    # Tomorrow's prices may already be published at `as_of`: read up to the day after it.
    last_known = task.as_of.astimezone(ISOS[Iso(iso)].zoneinfo).date() + timedelta(days=1)
    first = last_known - timedelta(days=days + request.holdout_days + 1)
    try:
        final = read_dayahead(store, iso, location, first, last_known + timedelta(days=1), task.as_of)
    except ForecastError as error:
        raise bad_parameter("as_of", f"as_of: {task.as_of:%Y-%m-%d %H:%M} UTC: {error}") from None
    tuning: TuningResult | None = None
    try:
        end = date.fromisoformat(str(final.days[-1]))
        holdout_start = end - timedelta(days=request.holdout_days - 1)
        if request.tune_seconds is not None:
            # Tuned on the days before the holdout only, so the holdout still scores the model honestly.
            tuning = tune_gbm(
                final.window(0, final.index_of(holdout_start)),
                library=request.model,
                budget_seconds=request.tune_seconds,
                calibration_days=days,
                seed=request.seed,
            )
            model = tuned(request.model, tuning.params, days)
        vintages = StoreVintages(store, iso, location, final, days)
        spec = BacktestSpec(holdout_start, end, request.recalibrate_every, seed=request.seed)
        scored = backtest(model, vintages, spec)
        history = history_for(final, end + timedelta(days=1)).latest(days)
        fitted = model.fit(history, request.seed)
    except ForecastError as error:
        raise bad_parameter("train_days", f"train_days: {error}") from None
    m = scored.metrics
    metrics = {
        "mae": m.mae,
        "rmse": m.rmse,
        "smape": m.smape,
        "rmae": m.rmae,
        "pinball": m.pinball,
        "coverage": m.coverage,
        "n": m.n,
        "holdout_days": request.holdout_days,
    }
    if tuning is not None:
        metrics |= {
            "tuning_trials": tuning.trials,
            "tuning_validation_mae": tuning.validation_mae,
            "default_validation_mae": tuning.default_mae,
        }
    train_start = date.fromisoformat(str(history.days[0]))
    return fitted, TrainedModel(
        artifact_key=task.artifact_key,
        artifact_sha256="",
        train_start=train_start,
        train_end=end,
        features=list(gbm_feature_names(history.exogenous_names)),
        parameters=_parameters(model),
        metrics=json.dumps(metrics),
    )


def _walk(model: SubHourlyModel, starts: np.ndarray, prices: np.ndarray, first: int) -> dict[str, float]:
    """MAE over every horizon and P10-P90 coverage, forecasting from each interval from `first` on."""
    state = model.start(starts[:first], prices[:first])
    errors, inside = [], []
    for i in range(first, len(prices) - model.horizons):
        state = model.update(state, int(starts[i]), float(prices[i]))
        forecast = model.predict(state)
        actual = prices[i + 1 : i + 1 + model.horizons]
        errors.append(np.abs(actual - forecast.point))
        inside.append((actual >= forecast.quantiles[0]) & (actual <= forecast.quantiles[-1]))
    if not errors:
        raise ForecastError("prices: too few five-minute intervals to score the model")
    return {"mae": float(np.mean(errors)), "coverage": float(np.mean(inside)), "n": int(np.size(errors))}


def _realtime(task: TrainTask, store: Store) -> tuple[object, TrainedModel]:
    request = task.request
    iso, location = request.iso.upper(), request.location
    days = _train_days(request)
    rows = store.read(
        Dataset.LMP,
        iso,
        REAL_TIME,
        [location],
        task.as_of - timedelta(days=days),
        task.as_of,
        as_of=task.as_of,
    )
    starts, prices = series_of(rows, location)
    try:
        starts, prices = regular_series(starts, prices, INTERVAL_US)
        cut = len(prices) - 288
        scored = _walk(fit_subhourly(starts[:cut], prices[:cut]), starts, prices, cut)
        fitted = fit_subhourly(starts, prices)
    except ForecastError as error:
        raise bad_parameter("train_days", f"train_days: {error}") from None
    first = datetime.fromtimestamp(int(starts[0]) / 1e6, UTC).date()
    last = datetime.fromtimestamp(int(starts[-1]) / 1e6, UTC).date()
    parameters = json.dumps(
        {"kind": SUBHOURLY, "lags": fitted.lags, "horizons": fitted.horizons, "season": fitted.season}
    )
    return fitted, TrainedModel(
        artifact_key=task.artifact_key,
        artifact_sha256="",
        train_start=first,
        train_end=last,
        features=["price_lags", "daily_season"],
        parameters=parameters,
        metrics=json.dumps(scored),
    )


def run_task(task: TrainTask) -> TrainedModel:
    """Score and fit the model, then write its artifact; the artifact's digest comes back."""
    store = open_store(task.store_url, Path(task.data_dir), create=False)
    try:
        if task.request.market.upper() == DAY_AHEAD:
            fitted, trained = _dayahead(task, store)
        else:
            fitted, trained = _realtime(task, store)
    finally:
        store.close()
    objects = open_object_store(task.object_store, data_dir=Path(task.data_dir), s3_endpoint=task.s3_endpoint)
    digest = save_artifact(objects, task.artifact_key, fitted)
    return trained.model_copy(update={"artifact_sha256": digest})


def finish(request: ForecastTrainRequest, outputs: Sequence[TrainedModel], context: JobContext) -> JobResult:
    """Register the fitted model as a new candidate version; the summary names it and its scores."""
    trained = outputs[0]
    db = MetadataDatabase(context.settings.metadata_database_url())
    try:
        version = register_model(
            db,
            owner=context.tenant,
            name=request.name,
            iso=request.iso.upper(),
            location=request.location,
            market=REGISTRY_MARKET[request.market.upper()],
            model=request.model,
            parameters=trained.parameters,
            features=tuple(trained.features),
            train_start=trained.train_start,
            train_end=trained.train_end,
            metrics=trained.metrics,
            artifact_key=trained.artifact_key,
            artifact_sha256=trained.artifact_sha256,
            seed=request.seed,
        )
    finally:
        db.close()
    summary = {
        "name": version.name,
        "version": version.version,
        "stage": version.stage.value,
        "model": version.model,
        "train_start": version.train_start.isoformat(),
        "train_end": version.train_end.isoformat(),
        "metrics": json.loads(version.metrics),
    }
    return JobResult(summary=summary)


def entitled(request: ForecastTrainRequest, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not train models: the `forecast` feature and the ISO's LMPs."""
    return forecast_refusal(request.iso, entitlements)


FORECAST_TRAIN: JobKind[ForecastTrainRequest, TrainTask, TrainedModel] = JobKind(
    name=NAME,
    request=ForecastTrainRequest,
    task_input=TrainTask,
    task_output=TrainedModel,
    plan=plan,
    task=run_task,
    finish=finish,
    description="Fit a forecast model on a stored location, score it on a holdout without look-ahead, and "
    "register it as a candidate version (promote it with POST /v1/models/{name}/promote).",
    entitled=entitled,
    check=check,
)
register(FORECAST_TRAIN)
