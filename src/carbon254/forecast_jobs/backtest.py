"""The `forecast_backtest` job kind: day-ahead backtests of several models on a stored location, compared.

Each test day is forecast from its prices as known at 09:00 market time the
day before (`application.forecast_vintages.StoreVintages`), the model
refitted every `recalibrate_every` days on the last `train_days` days. The
test period is split into tasks of whole refit periods per model, so the
job's progress moves task by task and a resumed job reruns nothing it kept.
`finish` scores every model against the prices known at the job's `as_of`
(MAE, RMSE, sMAPE, MAPE, rMAE against the one-week seasonal naive, pinball
loss and P10-P90 coverage), runs the Diebold-Mariano test of each model
against the first, and writes `metrics.json`, `metrics.csv`,
`forecasts.parquet` (day, hour, model, actual, forecast, p10, p50, p90) and
`chart.png` (the last two weeks, forecasts and the first model's band
against actuals).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from pydantic import Base64Bytes, BaseModel, ConfigDict, Field

from carbon254.application.errors import bad_parameter
from carbon254.application.forecast import CONFORMAL_DAYS, MAX_TRAIN_DAYS
from carbon254.application.forecast_vintages import StoreVintages, read_dayahead
from carbon254.config import Settings
from carbon254.forecast import (
    QUANTILE_LEVELS,
    BacktestResult,
    BacktestSpec,
    BlockForecasts,
    Conformal,
    DayBlock,
    Forecaster,
    ForecastError,
    ModelName,
    assemble,
    comparison_table,
    diebold_mariano,
    model_by_name,
    plan_backtest,
    run_blocks,
)
from carbon254.forecast.backtest import SEASONAL_LAG_DAYS
from carbon254.forecast_jobs.refusals import check_location, forecast_refusal
from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.store import Store, open_store
from carbon254.sweeps.base import encoded_table, objects_of

NAME = "forecast_backtest"
MAX_MODELS = 6
MAX_TEST_DAYS = 731
# Test days one task forecasts (rounded up to whole refit periods): a few seconds of LEAR fits.
DAYS_PER_TASK = 28


class ForecastBacktestRequest(BaseModel):
    """Which location, which models, the test period and how the models are refitted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    location: str = Field(description="The priced location, as the catalog spells it or any case.")
    iso: str = Field(description="ISO/RTO of the location, e.g. ERCOT.")
    models: list[str] = Field(
        description="Model kinds to compare (1-6): naive, seasonal_naive, lear, lear_ensemble, lightgbm, "
        "xgboost, neural, ensemble, best. The first is the reference of the Diebold-Mariano tests."
    )
    start: date = Field(description="First test delivery day (market date).")
    end: date = Field(description="Last test delivery day (market date), included.")
    recalibrate_every: int = Field(7, description="Days between refits (1: daily, as the literature does).")
    train_days: int = Field(
        365, description=f"Days of prices each fit learns from (at most {MAX_TRAIN_DAYS})."
    )
    intervals: bool = Field(
        True, description="Add P10/P50/P90 from each model's errors on the weeks before each fit."
    )
    seed: int = Field(0, description="Seed of every fit.")
    as_of: datetime | None = Field(
        None, description="Score against the prices known at this instant (default: now)."
    )


class BacktestTask(BaseModel):
    """One model over test days `first` to `last`, with where to read the store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    iso: str
    location: str
    first: date
    last: date
    recalibrate_every: int
    train_days: int
    intervals: bool
    seed: int
    store_url: str
    data_dir: str


class BacktestPart(BaseModel):
    """A task's forecasts (Arrow: day, hour, forecast, p10, p50, p90) and its fit and forecast seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    forecasts: Base64Bytes
    fit_seconds: float
    predict_seconds: float


def model_of(name: str, intervals: bool, recalibrate_every: int) -> Forecaster:
    """The model kind `name`, refitted on the job's schedule (trees too), with conformal intervals."""
    base = model_by_name(name, tree_refit_days=1)
    if intervals and name not in (ModelName.NAIVE, ModelName.SEASONAL_NAIVE):
        return Conformal(base, holdout_days=CONFORMAL_DAYS)
    return base


def check(request: ForecastBacktestRequest, store: Store, settings: Settings) -> None:
    """Refuse at submit what could never run: unknown models or location, a bad period or window."""
    if not 1 <= len(request.models) <= MAX_MODELS:
        raise bad_parameter("models", f"models: give 1 to {MAX_MODELS} models")
    for name in request.models:
        try:
            model_by_name(name)
        except ForecastError as error:
            raise bad_parameter("models", f"models: {error}") from None
    if len(set(request.models)) != len(request.models):
        raise bad_parameter("models", "models: a model is named twice")
    if request.end < request.start:
        raise bad_parameter("end", f"end: {request.end} is before start {request.start}")
    if (request.end - request.start).days + 1 > MAX_TEST_DAYS:
        raise bad_parameter("end", f"end: a backtest covers at most {MAX_TEST_DAYS} test days")
    if request.recalibrate_every < 1:
        raise bad_parameter("recalibrate_every", "recalibrate_every: at least 1 day")
    if not 1 <= request.train_days <= MAX_TRAIN_DAYS:
        raise bad_parameter("train_days", f"train_days: 1 to {MAX_TRAIN_DAYS}")
    check_location(store, request.iso, request.location)


def plan(request: ForecastBacktestRequest, context: JobContext) -> list[tuple[str, BacktestTask]]:
    """Tasks of whole refit periods (about `DAYS_PER_TASK` days) per model, in model then day order."""
    settings = context.settings
    step = request.recalibrate_every * max(1, DAYS_PER_TASK // request.recalibrate_every)
    tasks = []
    for name in request.models:
        first = request.start
        while first <= request.end:
            last = min(first + timedelta(days=step - 1), request.end)
            task = BacktestTask(
                model=name,
                iso=request.iso.upper(),
                location=request.location,
                first=first,
                last=last,
                recalibrate_every=request.recalibrate_every,
                train_days=request.train_days,
                intervals=request.intervals,
                seed=request.seed,
                store_url=settings.store_url(),
                data_dir=str(settings.data_dir),
            )
            tasks.append((f"{name}:{first.isoformat()}", task))
            first = last + timedelta(days=1)
    return tasks


def run_task(task: BacktestTask) -> BacktestPart:
    """Forecast the task's days, each from its own vintage; the fits follow the job's refit schedule."""
    model = model_of(task.model, task.intervals, task.recalibrate_every)
    store = open_store(task.store_url, Path(task.data_dir), create=False)
    try:
        # The days the vintages are indexed on: the task's test days and the window before the first.
        final = read_dayahead(
            store,
            task.iso,
            task.location,
            task.first - timedelta(days=task.train_days),
            task.last + timedelta(days=1),
            None,
        )
        data = StoreVintages(store, task.iso, task.location, final, task.train_days)
        spec = BacktestSpec(task.first, task.last, task.recalibrate_every, seed=task.seed)
        try:
            blocks = plan_backtest(model, data, spec)
            outputs = run_blocks(model, data, spec, blocks)
        except ForecastError as error:
            raise bad_parameter("train_days", f"train_days: {error}") from None
    finally:
        store.close()
    return BacktestPart(
        model=task.model,
        forecasts=encoded_table(_forecast_rows(final.days, outputs)),
        fit_seconds=sum(o.fit_seconds for o in outputs),
        predict_seconds=sum(o.predict_seconds for o in outputs),
    )


def _forecast_rows(days: np.ndarray, outputs: Sequence[BlockForecasts]) -> pa.Table:
    point = np.vstack([o.point for o in outputs])
    n = len(point)
    first = outputs[0].block.first
    columns: dict[str, pa.Array] = {
        "day": pa.array(np.repeat(days[first : first + n], 24).astype("datetime64[D]")),
        "hour": pa.array(np.tile(np.arange(24, dtype=np.int8), n)),
        "forecast": pa.array(point.reshape(-1)),
    }
    quantiles = [o.quantiles for o in outputs]
    for i, level in enumerate(QUANTILE_LEVELS):
        name = f"p{round(level * 100)}"
        if all(q is not None for q in quantiles):
            stacked = np.concatenate([q for q in quantiles if q is not None])
            columns[name] = pa.array(stacked[:, i].reshape(-1))
        else:
            columns[name] = pa.nulls(n * 24, pa.float64())
    return pa.table(columns)


def results_of(
    request: ForecastBacktestRequest, parts: Sequence[BacktestPart], store: Store
) -> list[BacktestResult]:
    """Each model's backtest scored against the prices known at the request's `as_of`."""
    iso = request.iso.upper()
    lead = SEASONAL_LAG_DAYS
    final = read_dayahead(
        store,
        iso,
        request.location,
        request.start - timedelta(days=lead),
        request.end + timedelta(days=1),
        request.as_of,
    )
    spec = BacktestSpec(
        request.start, request.end, request.recalibrate_every, request.train_days, request.seed
    )
    results = []
    for name in request.models:
        mine = [p for p in parts if p.model == name]
        table = pa.concat_tables([ipc.open_stream(p.forecasts).read_all() for p in mine]).sort_by(
            [("day", "ascending"), ("hour", "ascending")]
        )
        n = table.num_rows // 24
        point = table.column("forecast").to_numpy().reshape(n, 24)
        quantiles = None
        if table.column("p10").null_count == 0:
            quantiles = np.stack(
                [table.column(f"p{round(q * 100)}").to_numpy().reshape(n, 24) for q in QUANTILE_LEVELS],
                axis=1,
            )
        first = int((np.datetime64(request.start, "D") - final.days[0]).astype(np.int64))
        block = BlockForecasts(
            DayBlock(first, first + n),
            point,
            quantiles,
            QUANTILE_LEVELS if quantiles is not None else (),
            None,
            (),
            sum(p.fit_seconds for p in mine),
            sum(p.predict_seconds for p in mine),
        )
        results.append(assemble(name, final, spec, [block]))
    return results


def metrics_document(results: Sequence[BacktestResult]) -> list[dict[str, float | int | str | None]]:
    """One JSON-ready row per model: its scores (`forecast.comparison_table`), fit seconds, and the
    Diebold-Mariano test of its forecasts against the first model's (a small p: it beats the first)."""
    head = results[0]
    rows: list[dict[str, float | int | str | None]] = (
        comparison_table(results).drop("wall_seconds").to_dicts()
    )
    for row, r in zip(rows, results, strict=True):
        dm = None if r is head else diebold_mariano(head.actual, head.forecast, r.forecast)
        row["dm_vs_first"] = None if dm is None else dm.statistic
        row["dm_pvalue"] = None if dm is None else dm.p_value
        row["fit_seconds"] = r.fit_seconds
    return rows


def _forecasts_parquet(results: Sequence[BacktestResult]) -> bytes:
    frames = [r.table().with_columns(model=pl.lit(r.model)) for r in results]
    sink = io.BytesIO()
    pq.write_table(pl.concat(frames, how="diagonal").to_arrow(), sink)
    return sink.getvalue()


def finish(request: ForecastBacktestRequest, parts: Sequence[BacktestPart], context: JobContext) -> JobResult:
    """Score the models, write metrics, forecasts and the chart; summarize the scores."""
    settings = context.settings
    store = open_store(settings.store_url(), settings.data_dir, create=False)
    try:
        results = results_of(request, parts, store)
    finally:
        store.close()
    rows = metrics_document(results)
    objects = objects_of(settings)
    prefix = context.artifact_prefix
    keys = {
        "metrics": f"{prefix}metrics.json",
        "metrics_csv": f"{prefix}metrics.csv",
        "forecasts": f"{prefix}forecasts.parquet",
        "chart": f"{prefix}chart.png",
    }
    objects.put(keys["metrics"], json.dumps(rows, indent=2).encode())
    header = list(rows[0])
    lines = [",".join(header)] + [
        ",".join("" if row[c] is None else str(row[c]) for c in header) for row in rows
    ]
    objects.put(keys["metrics_csv"], ("\n".join(lines) + "\n").encode())
    objects.put(keys["forecasts"], _forecasts_parquet(results))
    from carbon254.reports.forecast_chart import backtest_png  # deferred: Matplotlib is slow to import

    days = results[0].days
    shown = min(14, len(days))
    title = f"{request.iso.upper()} {request.location} day-ahead: {', '.join(request.models)}"
    first_day = date.fromisoformat(str(days[-shown]))
    objects.put(keys["chart"], backtest_png(results, title=title, first_day=first_day, n_days=shown))
    summary = {
        "iso": request.iso.upper(),
        "location": request.location,
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "recalibrate_every": request.recalibrate_every,
        "train_days": request.train_days,
        "scored_as_of": (request.as_of or datetime.now(UTC)).isoformat(timespec="seconds"),
        "metrics": rows,
    }
    return JobResult(summary=summary, artifacts=keys)


def entitled(request: ForecastBacktestRequest, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not run backtests: the `forecast` feature and the ISO's LMPs."""
    return forecast_refusal(request.iso, entitlements)


FORECAST_BACKTEST: JobKind[ForecastBacktestRequest, BacktestTask, BacktestPart] = JobKind(
    name=NAME,
    request=ForecastBacktestRequest,
    task_input=BacktestTask,
    task_output=BacktestPart,
    plan=plan,
    task=run_task,
    finish=finish,
    description="Day-ahead backtests of up to 6 models on a stored location, without look-ahead: "
    "metrics.json/csv (MAE, RMSE, sMAPE, rMAE, pinball, coverage, Diebold-Mariano), forecasts.parquet, "
    "chart.png.",
    entitled=entitled,
    check=check,
)
register(FORECAST_BACKTEST)
