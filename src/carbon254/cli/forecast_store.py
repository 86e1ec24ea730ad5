"""`carbon254 forecast train` and `carbon254 forecast backtest --location ...`: forecasting on the store.

Both submit a job to the data dir's metadata database for the local user
and run it in this process with a progress bar (`cli.local_job`), as
`carbon254 battery screen` does: `forecast_train` fits a model on a stored
location, scores it on a holdout without look-ahead and registers it as a
candidate version (`--promote` makes it the production version serving
forecasts); `forecast_backtest` compares models over a test period, each
day forecast from the prices known the morning before, and prints their
scores (`--chart FILE.png` copies the job's chart).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from rich.markup import escape
from rich.table import Table

import carbon254.forecast_jobs  # noqa: F401  (registers the forecast job kinds in the process-wide registry)
from carbon254.application.curves import parse_day
from carbon254.application.errors import ApiError
from carbon254.cli.console import console, err_console, fail
from carbon254.cli.local_job import run_job_here, submit_here
from carbon254.cli.output import print_table
from carbon254.cli.tenants import open_metadata
from carbon254.config import Settings
from carbon254.forecast_jobs.backtest import NAME as BACKTEST
from carbon254.forecast_jobs.backtest import ForecastBacktestRequest
from carbon254.forecast_jobs.train import NAME as TRAIN
from carbon254.forecast_jobs.train import ForecastTrainRequest
from carbon254.jobs import JobRecord, JobState, JobStatus, registry
from carbon254.metadata.forecast_models import promote
from carbon254.objects import open_object_store


@dataclass(frozen=True, slots=True)
class StoreJob:
    """Where a forecast job runs and how it prints: the data dir, the store URL and JSON or a table."""

    data_dir: Path
    store_url: str
    json: bool


def _request(model: type[BaseModel], fields: dict[str, Any]) -> Any:
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}" if first["loc"] else str(exc))


def _run(kind: str, request: BaseModel, where: StoreJob, describe: str) -> tuple[JobRecord, Settings]:
    if not (where.data_dir / "store").is_dir():
        fail(
            f"--data-dir: no store in {where.data_dir}",
            "Load data with `carbon254 demo`, or point --data-dir (CARBON254_DATA_DIR) at a data dir.",
        )
    settings = Settings(data_dir=where.data_dir, store=where.store_url)
    objects = open_object_store(
        settings.object_store, data_dir=where.data_dir, s3_endpoint=settings.s3_endpoint
    )
    out = err_console if where.json else console
    db = open_metadata(where.data_dir)
    try:
        state = JobState(db)
        job = submit_here(kind, request, state, registry, objects, settings)
        out.print(f"Job {job.id}: {escape(describe)}")
        done = run_job_here(job, state, registry, objects, settings, out, f"{kind} {job.id[:8]}")
    finally:
        db.close()
    if done.status is not JobStatus.SUCCEEDED:
        fail(f"job {done.id} {done.status.value}: {done.error or 'no reason given'}")
    return done, settings


def train_on_store(fields: dict[str, Any], where: StoreJob, promote_it: bool) -> None:
    """Run `forecast_train` here; print the registered version and its holdout scores (or JSON)."""
    request: ForecastTrainRequest = _request(ForecastTrainRequest, fields)
    describe = (
        f"training {request.model} for {request.iso.upper()} {request.location} {request.market.upper()}"
    )
    done, _ = _run(TRAIN, request, where, describe)
    summary = dict(done.result.summary if done.result else {})
    if promote_it:
        db = open_metadata(where.data_dir)
        try:
            promoted = promote(db, owner=done.tenant, name=summary["name"], version=summary["version"])
        finally:
            db.close()
        summary["stage"] = promoted.stage.value
    if where.json:
        print(json.dumps(summary))
        return
    metrics = summary["metrics"]
    console.print(
        f"Registered {escape(summary['name'])} version {summary['version']} ({summary['stage']}): "
        f"{summary['model']} trained on {summary['train_start']} to {summary['train_end']}."
    )
    shown = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items())
    console.print(f"Holdout: {escape(shown)}")


def backtest_on_store(fields: dict[str, Any], where: StoreJob, chart: Path | None) -> None:
    """Run `forecast_backtest` here; print the models' scores (or JSON) and copy the chart to `chart`."""
    if chart is not None and chart.suffix.lower() != ".png":
        fail(f"--chart: the chart is a PNG; name the file *.png, not {chart.name}")
    request: ForecastBacktestRequest = _request(ForecastBacktestRequest, fields)
    describe = f"backtesting {', '.join(request.models)} on {request.iso.upper()} {request.location}"
    done, settings = _run(BACKTEST, request, where, describe)
    assert done.result is not None
    if chart is not None:
        objects = open_object_store(
            settings.object_store, data_dir=where.data_dir, s3_endpoint=settings.s3_endpoint
        )
        try:
            chart.write_bytes(objects.get(done.result.artifacts["chart"]))
        except OSError as exc:
            fail(f"--chart: cannot write {chart} ({exc.strerror or exc})")
    rows = done.result.summary["metrics"]
    if where.json:
        print(json.dumps({"job": done.id, "models": rows}))
        return
    table = Table(title=f"Day-ahead backtest, {request.start} to {request.end}", title_justify="left")
    for name in ("model", "MAE $/MWh", "RMSE $/MWh", "sMAPE", "rMAE", "P10-P90 coverage", "DM p (vs first)"):
        table.add_column(name, justify="left" if name == "model" else "right")
    for row in rows:
        table.add_row(
            row["model"],
            f"{row['mae']:.3f}",
            f"{row['rmse']:.3f}",
            f"{row['smape']:.4f}",
            "—" if row["rmae"] is None else f"{row['rmae']:.3f}",
            "—" if row["coverage"] is None else f"{row['coverage']:.2f}",
            "—" if row["dm_pvalue"] is None else f"{row['dm_pvalue']:.3f}",
        )
    print_table(console, table)
    console.print(
        "Each day forecast at 09:00 market time the day before from the prices known then; sMAPE as a "
        "fraction, rMAE against the seasonal naive; a small DM p says the model beats the first."
        + (f" Chart: {escape(str(chart))}" if chart is not None else "")
    )


def market_day(text: str, option: str) -> date:
    """A `YYYY-MM-DD` or `today-56d` option as a date, exiting naming the option otherwise."""
    try:
        return parse_day(option, text)
    except ApiError:
        fail(f"{option}: {text!r} is not a day (YYYY-MM-DD, or today with an offset such as today-56d)")
