"""Day-ahead backtests that cannot cheat: every test day forecast from what was known before it.

A backtest walks the test days in blocks of `recalibrate_every` days. At
the first day of a block the model is fitted on the prices before that day
(all of them: an expanding window; or the last `calibration_days`: a
rolling one); then each day of the block is forecast from its own
`History` (prices before the day, exogenous up to it), so lags are always
fresh. Models never receive anything else, so no forecast sees its day's
prices. Scores (`metrics`) cover the hours actually published (not DST
fill-ins) against the seasonal naive (one week earlier) for rMAE.

Blocks are independent: `plan_backtest` lists them, `run_blocks` runs any
subset (a job task, a worker process) and `assemble` joins the outputs;
`backtest` does all three, on `processes` spawned processes when asked.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Protocol

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from carbon254.forecast.days import HOURS, Days, Floats, History, Mask
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.metrics import ForecastMetrics, evaluate
from carbon254.forecast.protocol import Forecaster

SEASONAL_LAG_DAYS = 7
Progress = Callable[[int, int], None]


class BacktestData(Protocol):
    """What a backtest walks: delivery days, the prices it scores against and what was known each day.

    `DayAheadData` is one (every day's history a slice of one grid); a
    store-backed one reads each day's history as it was known when that day
    was forecast, so a later revision never reaches an earlier forecast.
    """

    @property
    def days(self) -> Days:
        """Consecutive delivery days (datetime64[D])."""
        ...

    @property
    def prices(self) -> Floats:
        """The prices scored against, (days, 24) $/MWh."""
        ...

    @property
    def observed(self) -> Mask:
        """False where a price was filled in (not scored), (days, 24)."""
        ...

    def known_at(self, d: int) -> History:
        """What was known when day index `d` was forecast."""
        ...


@dataclass(frozen=True, slots=True)
class BacktestSpec:
    """The test period (local delivery dates, both included; `end` None = the data's last day), how often
    the model is refitted (days), how many days of prices each fit sees (None: all, an expanding window),
    and the seed of every fit."""

    start: date
    end: date | None = None
    recalibrate_every: int = 1
    calibration_days: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.recalibrate_every < 1:
            raise ForecastError(f"recalibrate_every: {self.recalibrate_every}; need at least 1 day")
        if self.calibration_days is not None and self.calibration_days < 1:
            raise ForecastError(f"calibration_days: {self.calibration_days}; need at least 1 day")
        if self.end is not None and self.end < self.start:
            raise ForecastError(f"test_end: {self.end} is before test_start {self.start}")


@dataclass(frozen=True, slots=True)
class DayBlock:
    """Test days `first` to `stop` (exclusive; indices into the data) forecast by one fit made at `first`."""

    first: int
    stop: int


@dataclass(frozen=True, slots=True)
class BlockForecasts:
    """One block's forecasts ($/MWh): `point` (days, 24), `quantiles` (days, levels, 24) or None,
    `members` (days, members, 24) or None, and the seconds spent fitting and forecasting."""

    block: DayBlock
    point: Floats
    quantiles: Floats | None
    levels: tuple[float, ...]
    members: Floats | None
    member_names: tuple[str, ...]
    fit_seconds: float
    predict_seconds: float


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """A model's forecasts over the test days beside the actual prices, and its scores.

    Arrays are (days, 24) in $/MWh unless said: `actual`, `forecast`,
    `benchmark` (the seasonal naive, one week earlier), `observed` (False
    for hours filled in, which are not scored), `quantiles` (days, levels,
    24) and `members` (days, members, 24) when the model gives them.
    `fit_seconds` and `predict_seconds` add up the work in every process;
    `wall_seconds` is the backtest's elapsed time.
    """

    model: str
    spec: BacktestSpec
    days: Days
    actual: Floats
    forecast: Floats
    benchmark: Floats
    observed: Mask
    quantiles: Floats | None
    levels: tuple[float, ...]
    members: Floats | None
    member_names: tuple[str, ...]
    metrics: ForecastMetrics
    refits: int
    fit_seconds: float
    predict_seconds: float
    wall_seconds: float

    def member(self, name: str) -> BacktestResult:
        """The result of one ensemble member (by name) over the same days, scored the same way."""
        if self.members is None or name not in self.member_names:
            raise ForecastError(f"member: {name!r} is not one of {', '.join(self.member_names) or 'none'}")
        forecast = self.members[:, self.member_names.index(name)]
        return BacktestResult(
            name,
            self.spec,
            self.days,
            self.actual,
            forecast,
            self.benchmark,
            self.observed,
            None,
            (),
            None,
            (),
            evaluate(self.actual, forecast, benchmark=self.benchmark, mask=self.observed),
            self.refits,
            self.fit_seconds,
            self.predict_seconds,
            self.wall_seconds,
        )

    def table(self) -> pl.DataFrame:
        """One row per day and hour: `day`, `hour`, `actual`, `forecast`, `seasonal_naive`, `observed`,
        and a `p10`-style column per quantile level ($/MWh)."""
        m = len(self.days)
        columns: dict[str, object] = {
            "day": np.repeat(self.days, HOURS),
            "hour": np.tile(np.arange(HOURS, dtype=np.int8), m),
            "actual": self.actual.reshape(-1),
            "forecast": self.forecast.reshape(-1),
            "seasonal_naive": self.benchmark.reshape(-1),
            "observed": self.observed.reshape(-1),
        }
        if self.quantiles is not None:
            for i, level in enumerate(self.levels):
                columns[quantile_column(level)] = self.quantiles[:, i].reshape(-1)
        return pl.DataFrame(columns)


def quantile_column(level: float) -> str:
    """The table column of a quantile level: 0.1 -> `p10`, 0.025 -> `p2.5`."""
    return f"p{level * 100:g}"


def plan_backtest(model: Forecaster, data: BacktestData, spec: BacktestSpec) -> tuple[DayBlock, ...]:
    """The blocks of test days, each fitted once; `ForecastError` naming what does not fit the data.

    The test period must lie within the data, and the days before it must
    cover the model's `min_history_days` and the week the seasonal naive
    benchmark looks back (and `calibration_days`, when set, must too).
    """
    first_day, last_day = data.days[0], data.days[-1]
    start = np.datetime64(spec.start, "D")
    end = last_day if spec.end is None else np.datetime64(spec.end, "D")
    if not first_day <= start <= last_day:
        raise ForecastError(f"test_start: {start} is outside the data ({first_day} to {last_day})")
    if not first_day <= end <= last_day:
        raise ForecastError(f"test_end: {end} is outside the data ({first_day} to {last_day})")
    first = int((start - first_day).astype(np.int64))
    stop = int((end - first_day).astype(np.int64)) + 1
    needed = max(model.min_history_days, SEASONAL_LAG_DAYS)
    if first < needed:
        raise ForecastError(
            f"test_start: {model.name} needs {needed} days of prices before the first test day; "
            f"the data has {first} before {start}"
        )
    if spec.calibration_days is not None and spec.calibration_days < model.min_history_days:
        raise ForecastError(
            f"calibration_days: {spec.calibration_days}; {model.name} needs at least {model.min_history_days}"
        )
    step = spec.recalibrate_every
    return tuple(DayBlock(d, min(d + step, stop)) for d in range(first, stop, step))


def run_blocks(
    model: Forecaster, data: BacktestData, spec: BacktestSpec, blocks: Sequence[DayBlock]
) -> list[BlockForecasts]:
    """Fit and forecast each block (see the module docstring); pure, so any process may run any block."""
    return [_run_block(model, data, spec, block) for block in blocks]


def _run_block(model: Forecaster, data: BacktestData, spec: BacktestSpec, block: DayBlock) -> BlockForecasts:
    history = data.known_at(block.first)
    if spec.calibration_days is not None:
        history = history.latest(spec.calibration_days)
    started = time.perf_counter()
    fitted = model.fit(history, spec.seed)
    fitted_at = time.perf_counter()
    forecasts = [fitted.predict_day(data.known_at(d)) for d in range(block.first, block.stop)]
    done = time.perf_counter()
    head = forecasts[0]
    for forecast in forecasts[1:]:
        same_quantiles = (forecast.quantiles is None) == (head.quantiles is None)
        if forecast.member_names != head.member_names or not same_quantiles:
            raise ForecastError(f"model {model.name}: forecasts of one block differ in shape")
    quantiles = None
    if head.quantiles is not None:
        quantiles = np.stack([f.quantiles for f in forecasts if f.quantiles is not None])
    members = None
    if head.members is not None:
        members = np.stack([f.members for f in forecasts if f.members is not None])
    return BlockForecasts(
        block,
        np.vstack([f.point for f in forecasts]),
        quantiles,
        head.levels if head.quantiles is not None else (),
        members,
        head.member_names,
        fitted_at - started,
        done - fitted_at,
    )


def assemble(
    model_name: str,
    data: BacktestData,
    spec: BacktestSpec,
    outputs: Sequence[BlockForecasts],
    wall_seconds: float = 0.0,
) -> BacktestResult:
    """The backtest result from every block's forecasts (in any order), scored against the data."""
    if not outputs:
        raise ForecastError("outputs: no block was run")
    ordered = sorted(outputs, key=lambda o: o.block.first)
    for before, after in pairwise(ordered):
        if before.block.stop != after.block.first:
            raise ForecastError(f"outputs: days {before.block.stop}..{after.block.first - 1} were not run")
    first, stop = ordered[0].block.first, ordered[-1].block.stop
    rows = np.arange(first, stop)
    point = np.vstack([o.point for o in ordered])
    quantiles = None
    if all(o.quantiles is not None for o in ordered):
        quantiles = np.concatenate([o.quantiles for o in ordered if o.quantiles is not None])
    members = None
    if all(o.members is not None for o in ordered):
        members = np.concatenate([o.members for o in ordered if o.members is not None])
    levels = ordered[0].levels
    actual = data.prices[rows]
    benchmark = data.prices[rows - SEASONAL_LAG_DAYS]
    observed = data.observed[rows]
    metrics = evaluate(
        actual,
        point,
        benchmark=benchmark,
        mask=observed,
        quantiles=None if quantiles is None else np.moveaxis(quantiles, 1, 0),
        levels=levels,
    )
    return BacktestResult(
        model_name,
        spec,
        data.days[rows],
        actual,
        point,
        benchmark,
        observed,
        quantiles,
        levels,
        members,
        ordered[0].member_names,
        metrics,
        len(ordered),
        sum(o.fit_seconds for o in ordered),
        sum(o.predict_seconds for o in ordered),
        wall_seconds,
    )


def backtest(
    model: Forecaster,
    data: BacktestData,
    spec: BacktestSpec,
    *,
    processes: int = 1,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest `model` on `data` over `spec`'s test days; `processes` > 1 splits the blocks over spawned
    processes (each single-threaded; `data` must then pickle, as `DayAheadData` does).
    `progress(done_days, total_days)` is called as blocks finish."""
    if processes < 1:
        raise ForecastError(f"processes: {processes}; need at least 1")
    blocks = plan_backtest(model, data, spec)
    total = blocks[-1].stop - blocks[0].first
    started = time.perf_counter()
    outputs: list[BlockForecasts] = []
    done = 0
    if processes == 1 or len(blocks) == 1:
        # One BLAS thread: the matrices are small, and threaded BLAS on them crawls on a busy machine.
        with threadpool_limits(1):
            for block in blocks:
                outputs += run_blocks(model, data, spec, [block])
                done += block.stop - block.first
                if progress is not None:
                    progress(done, total)
    else:
        chunks = _chunks(blocks, 4 * processes, data.days)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            processes, mp_context=context, initializer=_start_worker, initargs=(model, data, spec)
        ) as pool:
            pending: set[Future[list[BlockForecasts]]] = {pool.submit(_run_chunk, chunk) for chunk in chunks}
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    ran = future.result()
                    outputs += ran
                    done += sum(o.block.stop - o.block.first for o in ran)
                    if progress is not None:
                        progress(done, total)
    return assemble(model.name, data, spec, outputs, time.perf_counter() - started)


def _chunks(blocks: Sequence[DayBlock], count: int, days: Days) -> list[list[DayBlock]]:
    """`blocks` in at most `count` contiguous runs of near-equal length, each run (but the first) starting
    on a weekly anchor day where it can: a `Periodic` weekly member then fits each week in one process."""
    size = -(-len(blocks) // count)
    starts = [0]
    for i in range(size, len(blocks), size):
        window = range(i, min(i + 7, len(blocks)))
        anchored = next((j for j in window if int(days[blocks[j].first].astype(np.int64)) % 7 == 0), i)
        if anchored > starts[-1]:
            starts.append(anchored)
    return [list(blocks[a:b]) for a, b in zip(starts, [*starts[1:], len(blocks)], strict=True)]


_WORKER: tuple[Forecaster, BacktestData, BacktestSpec] | None = None


def _start_worker(model: Forecaster, data: BacktestData, spec: BacktestSpec) -> None:
    """Keep the backtest's inputs for the process's tasks; one thread for BLAS, as processes share cores."""
    global _WORKER
    _WORKER = (model, data, spec)
    threadpool_limits(1)


def _run_chunk(blocks: list[DayBlock]) -> list[BlockForecasts]:
    assert _WORKER is not None, "the worker was not started"
    model, data, spec = _WORKER
    return run_blocks(model, data, spec, blocks)


def comparison_table(results: Sequence[BacktestResult]) -> pl.DataFrame:
    """Scores of several backtests side by side: one row per model (sMAPE and MAPE as fractions)."""
    rows = []
    for r in results:
        m = r.metrics
        rows.append(
            {
                "model": r.model,
                "n": m.n,
                "mae": m.mae,
                "rmse": m.rmse,
                "smape": m.smape,
                "mape": m.mape,
                "rmae": m.rmae,
                "pinball": m.pinball,
                "coverage": m.coverage,
                "refits": r.refits,
                "wall_seconds": r.wall_seconds,
            }
        )
    return pl.DataFrame(rows)
