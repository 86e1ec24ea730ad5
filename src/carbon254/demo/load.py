"""Loading simulated data into the store: the demo's first load, its catch-up, and `carbon254 simulate`.

Generation runs in a background thread while the main thread writes, so the
simulator (NumPy) and the store (Arrow, Parquet, DuckDB) overlap; on two cores
that hides most of the generation time. Small batches (ancillary prices, load,
one ISO's feed interval) are combined before writing so the store gets few
large commits rather than many tiny files.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from carbon254.curves.fit import SeasonalPrior, fit_monthly_curve
from carbon254.demo.forward_quotes import BLOCKS, demo_marks, expected_prices
from carbon254.demo.marker import DemoMarker, DemoParams, read_marker, write_marker
from carbon254.demo.windows import FIVE_MINUTES, HOUR, floor_to, window_configs
from carbon254.metadata.curves import NewCurveMark, list_curves, save_curves
from carbon254.metadata.database import MetadataDatabase
from carbon254.schema import Dataset
from carbon254.simulate import SimulationConfig, count_rows, simulate
from carbon254.store import Source, Store
from carbon254.timeseries.holidays import nerc_holidays

# Who the demo's shared curve marks say marked them.
DEMO_SUBJECT = "carbon254 demo"
# Calendar days of daily curve marks the demo keeps (about 125 trading days).
MARK_DAYS = 180
# Batches of one dataset are combined up to this many rows before a write.
WRITE_BATCH_ROWS = 1_000_000
# Generated batches waiting for the writer; each LMP batch is up to 2M rows.
QUEUE_BATCHES = 2


class LoadProgress(Protocol):
    """Receives progress of a load: the total once, then rows as they are stored."""

    def begin(self, description: str, total_rows: int) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass
class LoadSummary:
    """Rows offered to and stored by the store, per dataset, and the wall time in seconds."""

    rows_received: Counter[Dataset] = field(default_factory=Counter)
    rows_written: Counter[Dataset] = field(default_factory=Counter)
    revisions: Counter[Dataset] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def total_received(self) -> int:
        return sum(self.rows_received.values())

    @property
    def total_written(self) -> int:
        return sum(self.rows_written.values())


def total_rows(configs: Sequence[SimulationConfig]) -> int:
    """How many rows simulating `configs` yields (exact, computed without simulating)."""
    return sum(count_rows(c) for c in configs)


_DONE = object()


def _put(q: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    """Put unless asked to stop meanwhile; False if stopped."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _generated(configs: Sequence[SimulationConfig]) -> Generator[tuple[Dataset, pa.Table], None, None]:
    """The batches of every config in order, generated one or two batches ahead in a thread."""
    q: queue.Queue[object] = queue.Queue(maxsize=QUEUE_BATCHES)
    stop = threading.Event()

    def produce() -> None:
        try:
            for config in configs:
                for item in simulate(config):
                    if not _put(q, item, stop):
                        return
            _put(q, _DONE, stop)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            _put(q, exc, stop)

    worker = threading.Thread(target=produce, name="carbon254-simulate", daemon=True)
    worker.start()
    finished = False
    try:
        while True:
            item = q.get()
            if item is _DONE:
                finished = True
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, tuple)
            yield item
    finally:
        stop.set()
        # When the consumer gave up (Ctrl-C, a failed write), do not wait for the
        # block being simulated: the thread only computes, and stops at its next batch.
        worker.join(timeout=10 if finished else 0.5)


def write_simulation(
    store: Store,
    configs: Sequence[SimulationConfig],
    progress: LoadProgress | None = None,
    *,
    description: str = "Simulating",
    source: Source = Source.SIMULATED,
) -> LoadSummary:
    """Simulate every config and write the rows into `store`, marked `source`.

    Each write is atomic, so an interruption leaves whole batches stored and
    nothing half-written; running the same configs again stores nothing new
    (the store skips rows identical to what it holds). Prices are $/MWh,
    $/MW-h (ancillary) and $/MW-day (capacity); times UTC.
    """
    started = time.perf_counter()
    summary = LoadSummary()
    if progress is not None:
        progress.begin(description, total_rows(configs))
    pending: dict[Dataset, list[pa.Table]] = {}

    def flush(dataset: Dataset) -> None:
        tables = pending.pop(dataset, [])
        if not tables:
            return
        batch = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
        result = store.write(dataset, batch, source=source)
        summary.rows_received[dataset] += result.rows_received
        summary.rows_written[dataset] += result.rows_written
        summary.revisions[dataset] += result.revisions
        if progress is not None:
            progress.advance(result.rows_received)

    batches = _generated(configs)
    try:
        for dataset, table in batches:
            pending.setdefault(dataset, []).append(table)
            if sum(t.num_rows for t in pending[dataset]) >= WRITE_BATCH_ROWS:
                flush(dataset)
    finally:
        # Stop the generator thread now, not whenever an exception's traceback is freed.
        batches.close()
    for dataset in list(pending):
        flush(dataset)
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """What `carbon254 demo` must load before serving.

    `first_load` is True when the data dir holds no demo yet; otherwise the
    plan catches up from the stored end. `marker` is the state once `configs`
    are written (its params are the stored demo's on a catch-up, whatever
    was asked). No configs means nothing to do.
    """

    marker: DemoMarker
    configs: tuple[SimulationConfig, ...]
    first_load: bool

    @property
    def total_rows(self) -> int:
        return total_rows(self.configs)


def utc_now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


def plan_demo(data_dir: Path | str, params: DemoParams, days: int, now: datetime | None = None) -> DemoPlan:
    """The load the demo in `data_dir` needs at `now` (default: the current time).

    First run (no marker): `days` days of hourly history ending at the last
    whole hour, RT5 for the last `params.rt5_days` days, ORDC adders, all up
    to `now` floored to 5 minutes, and day-ahead results through tomorrow for
    each ISO whose publication time has passed today (through today for the
    others). Later runs: from the marker's `loaded_through` up to that same
    point, with the marker's own params.
    Raises `DemoMarkerError` for an unreadable marker, ValueError for
    `days` < 1.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    end = floor_to(now or utc_now(), FIVE_MINUTES)
    marker = read_marker(data_dir)
    if marker is None:
        start = floor_to(end, HOUR) - timedelta(days=days)
        fresh = DemoMarker(params=params, days=days, history_start=start, loaded_through=end)
        return DemoPlan(fresh, tuple(window_configs(params, start, end, first_load=True)), first_load=True)
    if end <= marker.loaded_through:
        return DemoPlan(marker, (), first_load=False)
    configs = window_configs(marker.params, marker.loaded_through, end)
    return DemoPlan(marker.advanced(end), tuple(configs), first_load=False)


def run_plan(
    store: Store, data_dir: Path | str, plan: DemoPlan, progress: LoadProgress | None = None
) -> LoadSummary:
    """Write the plan's data, then record its marker (only once everything is stored)."""
    description = "Loading demo data" if plan.first_load else "Catching up"
    summary = write_simulation(store, plan.configs, progress, description=description)
    write_marker(data_dir, plan.marker)
    return summary


@dataclass(frozen=True, slots=True)
class MarkSummary:
    """How many shared demo curve marks were added, and the wall time in seconds."""

    marks: int
    seconds: float


def mark_demo_curves(db: MetadataDatabase, marker: DemoMarker) -> MarkSummary:
    """Mark one shared, simulated monthly curve per main hub per trading day of the demo's recent window.

    Trading days are the weekdays that are not NERC holidays (forwards do
    not trade on the others), from `MARK_DAYS` calendar days before the last
    loaded day (or the history start, if later) to that day: half a year of
    daily curve history for risk, at ~10 ms a mark. Days a hub already has
    a shared mark for are skipped, so a rerun or a catch-up only marks the
    new days. Quotes come from the simulator (`simulated_quotes`), curves
    from `fit_monthly_curve`, and every new mark is stored in one transaction.
    """
    started = time.perf_counter()
    last = marker.loaded_through.date()
    first = max(marker.history_start.date(), last - timedelta(days=MARK_DAYS))
    every = [first + timedelta(days=d) for d in range((last - first).days + 1)]
    days = [d for d in every if d.weekday() < 5 and d not in nerc_holidays(d.year)]
    isos = [iso.value for iso in marker.params.isos]
    marked = {
        (s.iso, s.hub.casefold(), s.as_of)
        for s in list_curves(db, tenant=None)
        if s.owner is None and first <= s.as_of <= last
    }
    new: list[NewCurveMark] = []
    priors: dict[tuple[str, str], SeasonalPrior] = {}
    for iso, hub, as_of, quotes in demo_marks(isos, days, seed=marker.params.seed, nodes=marker.params.nodes):
        if (iso, hub.casefold(), as_of) in marked:
            continue
        if (iso, hub) not in priors:
            priors[iso, hub] = _seasonal_prior(iso, hub, marker)
        fit = fit_monthly_curve(quotes, iso=iso, hub=hub, as_of=as_of, prior=priors[iso, hub], simulated=True)
        new.append(NewCurveMark(None, fit.curve, quotes, fit.implied, DEMO_SUBJECT))
    save_curves(db, new)
    return MarkSummary(marks=len(new), seconds=time.perf_counter() - started)


def _seasonal_prior(iso: str, hub: str, marker: DemoMarker) -> SeasonalPrior:
    """The simulator's month-of-year shape of `hub` around its mean, per block ($/MWh).

    With it, tenors quoted only as calendars (the far years) keep the summer
    and winter shape the simulated market has, instead of a smooth line.
    """
    expected = expected_prices(iso, hub, seed=marker.params.seed, nodes=marker.params.nodes)
    levels = expected.prices.T - expected.prices.mean(axis=0)[:, None]
    return SeasonalPrior(BLOCKS, levels)
