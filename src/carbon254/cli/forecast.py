"""`carbon254 forecast backtest`: a day-ahead backtest of a model on an hourly price file.

`--data FILE.csv` holds `interval_start,price` ($/MWh), hourly, and
optionally more numeric columns: exogenous day-ahead forecasts (load
forecasts, say), each known before the day it describes, which the models
read for the forecast day and lagged days. Each test day is forecast from
the prices strictly before it and the exogenous columns up to and including
it. `--format json` prints `{"mae", "rmse", "smape", "rmae", "n"}`: MAE and
RMSE in $/MWh, sMAPE as a fraction (mean of 2|y - f| / (|y| + |f|)), rMAE
against the seasonal naive forecast (one week earlier) over the same hours,
and n the number of hours scored.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import typer
from rich.table import Table

from carbon254.cli.console import console, err_console, fail
from carbon254.cli.forecast_store import StoreJob, backtest_on_store, market_day, train_on_store
from carbon254.cli.options import DEFAULT_DATA_DIR, DEFAULT_STORE, DataDir, StoreUrl
from carbon254.cli.output import print_table
from carbon254.cli.progress import JobProgressBar
from carbon254.compute.local import available_cores
from carbon254.forecast import (
    BacktestResult,
    BacktestSpec,
    DayAheadData,
    ForecastError,
    ModelName,
    backtest,
    from_hourly,
    from_utc,
    model_by_name,
)

forecast = typer.Typer(
    name="forecast",
    help="Price forecasting ($/MWh): forecasts, training and registered models, backtests.",
    no_args_is_help=True,
)

# Columns that are neither the price nor an exogenous forecast.
_NOT_EXOGENOUS = frozenset({"interval_end"})
_CHEAP = frozenset({ModelName.NAIVE, ModelName.SEASONAL_NAIVE})
TREE_REFIT_DAYS = 7

BACKTEST_HELP = f"""Day-ahead backtest of MODEL on an hourly price file; prints MAE, RMSE, sMAPE, rMAE and n.

Each test day (local delivery day) is forecast from the prices strictly
before it plus the exogenous columns up to and including it. Models:
naive (yesterday; Monday, Saturday and Sunday a week earlier, as in the
EPF literature), seasonal_naive (a week earlier), lear (LASSO-estimated
AR, 1456-day window), lear_ensemble (LEAR over 56/84/1092/1456-day
windows), lightgbm, xgboost, ensemble (mean of lear, lightgbm, xgboost)
and best (mean of lear and lightgbm, the strongest shipped).

Recalibration: LEAR is refitted every day and the tree models every
{TREE_REFIT_DAYS} days (also inside ensemble and best); --recalibrate-every N
refits every model every N days instead. The days are split over
--processes processes (default: one per available core), so a two-year
test of lear or best takes minutes on two cores.

sMAPE is reported as a FRACTION (0.12 = 12 %). rMAE divides the MAE by
the seasonal naive's (one week earlier) over the same hours; n counts the
hours scored.

Times: interval_start with Z or an offset is converted to --tz (default
UTC) to find each hour's delivery day; naive times are taken as the
market's local clock (a 24-hour-per-day file like the EPF benchmark's).
On DST days the missing spring-forward hour is filled in for the features
and not scored, and the two fall-back hours are averaged into one.
"""


class ForecastFormat(StrEnum):
    """How `forecast backtest` prints its result."""

    TABLE = "table"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class HourlyFile:
    """A price file's rows: UTC starts (µs) when the file gave offsets, else the local day and hour of
    each row (the market clock), with the prices, exogenous columns and the columns left out."""

    utc_us: npt.NDArray[np.int64] | None
    local_day: npt.NDArray[np.datetime64]
    local_hour: npt.NDArray[np.int64]
    prices: npt.NDArray[np.float64]
    exogenous: dict[str, npt.NDArray[np.float64]]
    ignored: tuple[str, ...]

    def grid(self, tz: str) -> DayAheadData:
        """The rows on the day grid: UTC starts on the clock of `tz`, local rows as they are."""
        if self.utc_us is not None:
            return from_utc(self.utc_us, self.prices, tz, self.exogenous)
        return from_hourly(self.local_day, self.local_hour, self.prices, self.exogenous)


def _number(text: str) -> float:
    """A CSV cell as a float; empty is NaN (a gap); ValueError for text."""
    stripped = text.strip()
    return math.nan if not stripped else float(stripped)


def read_hourly_csv(path: Path, tz: str) -> HourlyFile:
    """Read `path` (see the module docstring), exiting with a message naming the line at fault."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"--tz: {tz!r} is not an IANA time zone")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            # The two required columns are matched whatever their case; others keep their names.
            header = [name.strip() for name in next(reader, [])]
            header = [n.lower() if n.lower() in ("interval_start", "price") else n for n in header]
            rows = [row for row in reader if any(cell.strip() for cell in row)]
    except OSError as exc:
        fail(f"--data: cannot read {path} ({exc.strerror or exc})")
    except (UnicodeDecodeError, csv.Error) as exc:
        fail(f"--data: {path} is not a readable CSV file ({exc})")
    if "interval_start" not in header or "price" not in header:
        fail(f"--data: {path} needs the columns interval_start,price (found: {', '.join(header) or 'none'})")
    if len(set(header)) != len(header):
        fail(f"--data: {path} names a column twice")
    if not rows:
        fail(f"--data: {path} has no rows")
    width = len(header)
    for line, row in enumerate(rows, start=2):
        if len(row) != width:
            fail(f"--data: line {line} has {len(row)} fields, the header {width}")
    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    instants = []
    for line, text in enumerate(columns["interval_start"], start=2):
        try:
            instants.append(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
        except ValueError:
            fail(f"--data: line {line}, interval_start: {text!r} is not an ISO-8601 time")
    aware = [t.tzinfo is not None for t in instants]
    if any(aware) and not all(aware):
        fail("--data: interval_start mixes times with and without a UTC offset")
    utc_us = None
    if all(aware):
        utc_us = np.array([round(t.timestamp() * 1_000_000) for t in instants], dtype=np.int64)
        local_day = np.empty(0, dtype="datetime64[D]")
        local_hour = np.empty(0, dtype=np.int64)
    else:
        local_day = np.array([t.date() for t in instants], dtype="datetime64[D]")
        local_hour = np.array([t.hour for t in instants], dtype=np.int64)
    prices = _numeric(columns["price"], "price", required=True)
    exogenous: dict[str, npt.NDArray[np.float64]] = {}
    ignored = []
    for name in header:
        if name in ("interval_start", "price"):
            continue
        values = _numeric(columns[name], name, required=False)
        if name in _NOT_EXOGENOUS or values is None:
            ignored.append(name)
        else:
            exogenous[name] = values
    assert prices is not None
    return HourlyFile(utc_us, local_day, local_hour, prices, exogenous, tuple(ignored))


def _numeric(cells: list[str], name: str, *, required: bool) -> npt.NDArray[np.float64] | None:
    """A numeric column; None for a column of text (not a forecast), which only `price` may not be."""
    values = np.empty(len(cells))
    texts = 0
    first_text = 0
    for i, cell in enumerate(cells):
        try:
            values[i] = _number(cell)
        except ValueError:
            values[i] = math.nan
            if not texts:
                first_text = i
            texts += 1
    if texts == 0:
        # An empty cell is a gap (filled in, not scored); a written NaN or infinity is a mistake.
        wrong = ~np.isfinite(values) & np.array([bool(cell.strip()) for cell in cells])
        if wrong.any():
            bad = int(np.argmax(wrong))
            fail(f"--data: line {bad + 2}, {name}: {cells[bad]!r} is not a finite number")
        return values
    if texts == len(cells) and not required:
        return None
    fail(f"--data: line {first_text + 2}, {name}: {cells[first_text]!r} is not a number")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)")


def _progress() -> tuple[JobProgressBar | None, Callable[[int, int], None] | None]:
    """A progress bar on a terminal's stderr (never in the way of the JSON on stdout)."""
    if not err_console.is_terminal:
        return None, None
    bar = JobProgressBar(err_console, "backtest")

    def show(done: int, total: int) -> None:
        bar.show(done, total, "days forecast")

    return bar, show


@forecast.command("backtest", help=BACKTEST_HELP)
def backtest_command(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help=f"One of: {', '.join(m.value for m in ModelName)}; with --location a comma list to compare.",
        ),
    ],
    test_start: Annotated[str, typer.Option("--test-start", help="First test day (YYYY-MM-DD, local).")],
    test_end: Annotated[
        str | None, typer.Option("--test-end", help="Last test day, included (default: the data's last).")
    ] = None,
    fmt: Annotated[
        ForecastFormat,
        typer.Option("--format", help='table, or json: {"mae", "rmse", "smape", "rmae", "n"}.'),
    ] = ForecastFormat.TABLE,
    tz: Annotated[
        str, typer.Option("--tz", help="Market time zone for times with a UTC offset (IANA; default UTC).")
    ] = "UTC",
    recalibrate_every: Annotated[
        int | None,
        typer.Option(
            "--recalibrate-every",
            help=f"Refit every model every N days (default: LEAR daily, trees every {TREE_REFIT_DAYS}).",
        ),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option("--processes", help="Processes to split the test days over (default: available cores)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every fit (tree models).")] = 0,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="Draw two test weeks (the last, with --location) to this PNG.", dir_okay=False
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="CSV: interval_start,price ($/MWh), hourly, plus optional numeric exogenous columns.",
            dir_okay=False,
        ),
    ] = None,
    location: Annotated[
        str | None,
        typer.Option("--location", help="Instead of --data: a stored location, backtested as a job."),
    ] = None,
    iso: Annotated[str | None, typer.Option("--iso", help="With --location: its ISO, e.g. ERCOT.")] = None,
    train_days: Annotated[
        int, typer.Option("--train-days", help="With --location: days of prices each fit learns from.")
    ] = 365,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    if (data is None) == (location is None):
        fail("--data or --location: give one, a price file or a stored location")
    if location is not None:
        if iso is None:
            fail("--iso: a stored location's ISO, e.g. ERCOT")
        fields = {
            "iso": iso,
            "location": location,
            "models": [m.strip() for m in model.split(",") if m.strip()],
            "start": market_day(test_start, "--test-start"),
            "end": market_day(test_end, "--test-end") if test_end else None,
            "recalibrate_every": recalibrate_every or 7,
            "train_days": train_days,
            "seed": seed,
        }
        where = StoreJob(data_dir, store_url, fmt is ForecastFormat.JSON)
        backtest_on_store(fields, where, chart)
        return
    assert data is not None
    try:
        chosen = ModelName(model)
    except ValueError:
        fail(f"--model: {model!r} is not one of {', '.join(m.value for m in ModelName)}")
    if recalibrate_every is not None and recalibrate_every < 1:
        fail(f"--recalibrate-every: {recalibrate_every}; need at least 1 day")
    if processes is not None and processes < 1:
        fail(f"--processes: {processes}; need at least 1")
    start = _day(test_start, "--test-start")
    end = None if test_end is None else _day(test_end, "--test-end")
    workers = 1 if chosen in _CHEAP else (processes or available_cores())
    hourly = read_hourly_csv(data, tz)
    bar, progress = _progress()
    try:
        grid = hourly.grid(tz)
        forecaster = model_by_name(chosen.value, tree_refit_days=recalibrate_every or TREE_REFIT_DAYS)
        spec = BacktestSpec(start, end, recalibrate_every=recalibrate_every or 1, seed=seed)
        if bar is not None:
            with bar:
                result = backtest(forecaster, grid, spec, processes=workers, progress=progress)
        else:
            result = backtest(forecaster, grid, spec, processes=workers, progress=progress)
    except ForecastError as exc:
        fail(_option_message(str(exc)))
    if chart is not None:
        _write_chart(result, chart)
    if fmt is ForecastFormat.JSON:
        print(json.dumps(_document(result)))
    else:
        _print(result, grid, hourly.ignored)


def _option_message(message: str) -> str:
    """A domain message whose field is an option named as the option (`test_start` -> `--test-start`)."""
    field, _, rest = message.partition(": ")
    if field in ("test_start", "test_end"):
        return f"--{field.replace('_', '-')}: {rest}"
    if field in ("interval_start", "prices", "price") or field.startswith("exogenous"):
        return f"--data: {message}"
    return message


def _write_chart(result: BacktestResult, path: Path) -> None:
    from carbon254.reports.forecast_chart import backtest_png  # deferred: Matplotlib is slow to import

    try:
        path.write_bytes(backtest_png([result], title=f"{result.model}: day-ahead forecast against actual"))
    except OSError as exc:
        fail(f"--chart: cannot write {path} ({exc.strerror or exc})")


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _document(result: BacktestResult) -> dict[str, object]:
    m = result.metrics
    return {
        "mae": _finite(m.mae),
        "rmse": _finite(m.rmse),
        "smape": _finite(m.smape),
        "rmae": _finite(m.rmae),
        "n": m.n,
    }


def _print(result: BacktestResult, grid: DayAheadData, ignored: tuple[str, ...]) -> None:
    spec = result.spec
    first, last = result.days[0], result.days[-1]
    table = Table(
        title=f"Day-ahead backtest, {first} to {last} ({len(result.days)} days)", title_justify="left"
    )
    for name in ("model", "MAE $/MWh", "RMSE $/MWh", "sMAPE", "rMAE", "n"):
        table.add_column(name, justify="left" if name == "model" else "right")
    rows = [result] + [result.member(name) for name in result.member_names if name != result.model]
    for r in rows:
        m = r.metrics
        rmae = "—" if m.rmae is None else f"{m.rmae:.3f}"
        table.add_row(r.model, f"{m.mae:.3f}", f"{m.rmse:.3f}", f"{m.smape:.4f}", rmae, f"{m.n:,}")
    print_table(console, table)
    exogenous = ", ".join(grid.exogenous_names) or "none"
    console.print(
        f"sMAPE as a fraction; rMAE against the seasonal naive (one week earlier). Exogenous: {exogenous}"
        + (f"; ignored columns: {', '.join(ignored)}" if ignored else "")
        + "."
    )
    console.print(
        f"{result.refits:,} fits (recalibration every {spec.recalibrate_every} day(s) of the backtest); "
        f"fitting {result.fit_seconds:,.1f} s, forecasting {result.predict_seconds:,.1f} s of work; "
        f"wall time {result.wall_seconds:,.1f} s."
    )
    if grid.observed.size and not grid.observed.all():
        console.print(
            f"{int((~grid.observed).sum())} hours of the file were filled in (DST or gaps), not scored."
        )


@forecast.command("train")
def train_command(
    name: Annotated[str, typer.Option("--name", help="The registered model's name (a new version of it).")],
    iso: Annotated[str, typer.Option("--iso", help="ISO/RTO, e.g. ERCOT.")],
    location: Annotated[str, typer.Option("--location", help="The stored location, e.g. HB_HOUSTON.")],
    market: Annotated[
        str, typer.Option("--market", help="DAM (hourly day-ahead) or RT5 (five-minute).")
    ] = "DAM",
    model: Annotated[
        str,
        typer.Option("--model", help=f"DAM: {', '.join(m.value for m in ModelName)}; RT5: subhourly."),
    ] = "lear",
    train_days: Annotated[
        int | None, typer.Option("--train-days", help="Days of prices to learn from (DAM 365, RT5 14).")
    ] = None,
    holdout_days: Annotated[
        int, typer.Option("--holdout-days", help="DAM: the last days scored out of sample first.")
    ] = 28,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every fit.")] = 0,
    tune_seconds: Annotated[
        float | None,
        typer.Option(
            "--tune-seconds", help="lightgbm/xgboost: search the tree parameters this long first (Optuna)."
        ),
    ] = None,
    promote_it: Annotated[
        bool, typer.Option("--promote", help="Make the new version the production one serving forecasts.")
    ] = False,
    fmt: Annotated[ForecastFormat, typer.Option("--format", help="table, or json.")] = ForecastFormat.TABLE,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    """Train a forecast model on a stored location and register it as a new version, as a job.

    The model is scored on the last --holdout-days days (each forecast from
    the prices known the morning before), then fitted on --train-days days
    and registered as a candidate (or, with --promote, production) version
    of --name: `carbon254 forecast predict --location ...` then uses it.
    """
    fields = {
        "name": name,
        "iso": iso,
        "location": location,
        "market": market,
        "model": model,
        "train_days": train_days,
        "holdout_days": holdout_days,
        "seed": seed,
        "tune_seconds": tune_seconds,
    }
    where = StoreJob(data_dir, store_url, fmt is ForecastFormat.JSON)
    train_on_store(fields, where, promote_it)
