"""(a) Write throughput through `store.write("lmp", table)`.

The figure covers everything a write does: validation, `ingested_at`, the
split into partitions, sorting, de-duplication against the batch and the
stored files, and a fsync'd Parquet file plus an atomic manifest commit. The
baseline writes the same Arrow tables with plain `pyarrow.parquet.write_table`
(zstd, default row groups) and fsyncs each file, so the ratio is what the
store's guarantees cost on top of the Parquet encoding itself.
"""

from __future__ import annotations

import itertools
import os
import shutil
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from carbon254.schema import Dataset
from carbon254.simulate import simulate
from carbon254.store import Source, open_store
from dataset import DEFAULT_SCALE, Context
from measure import WORK, Outcome, Result, Target, log, profiled

NAME = "write"
BATCHES = 2  # simulator batches of 2,000,000 rows each (its default `max_batch_rows`)
REPEATS = 3  # median of this many fresh stores (and as many baseline runs, interleaved)
DAILY_ROWS = 48_000  # one UTC day of 2,000 locations
DAILY_BATCHES = 30
TARGET_ROWS_PER_S = 1_000_000
RAW = "pyarrow.parquet.write_table (zstd) + fsync, same rows"
MEANING = "× the baseline's rows/s"


def _batches(count: int, max_batch_rows: int) -> list[pa.Table]:
    """The first `count` LMP batches of the default-scale simulation."""
    config = DEFAULT_SCALE.config(max_batch_rows=max_batch_rows)
    return [table for _, table in itertools.islice(simulate(config), count)]


def _scratch(name: str) -> Path:
    path = WORK / "scratch" / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _store_writes(tables: list[pa.Table], profile: str | None = None) -> tuple[float, float]:
    """Seconds to write `tables` into a fresh store, then to write them all again (a no-op)."""
    directory = _scratch("store")
    store = open_store(directory)
    rows = sum(t.num_rows for t in tables)
    try:
        with profiled(profile) if profile else nullcontext():
            t0 = time.perf_counter()
            written = sum(store.write(Dataset.LMP, t, source=Source.SIMULATED).rows_written for t in tables)
            first = time.perf_counter() - t0
        if written != rows:
            raise RuntimeError(f"store wrote {written:,} of {rows:,} fresh rows")
        with profiled(f"{profile}-rewrite") if profile else nullcontext():
            t0 = time.perf_counter()
            again = sum(store.write(Dataset.LMP, t, source=Source.SIMULATED).rows_written for t in tables)
            second = time.perf_counter() - t0
        if again:
            raise RuntimeError(f"re-writing identical rows stored {again:,} rows; expected none")
    finally:
        store.close()
        shutil.rmtree(directory, ignore_errors=True)
    return first, second


def _raw_writes(tables: list[pa.Table]) -> float:
    """Seconds to write each table to its own zstd Parquet file with plain pyarrow, fsync'd."""
    directory = _scratch("raw")
    try:
        t0 = time.perf_counter()
        for i, table in enumerate(tables):
            with open(directory / f"{i}.parquet", "wb") as fh:
                pq.write_table(table, fh, compression="zstd")
                fh.flush()
                os.fsync(fh.fileno())
        fd = os.open(directory, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run(ctx: Context) -> Outcome:
    """Measure fresh writes, idempotent re-writes and daily-sized writes against plain pyarrow."""
    del ctx  # the write benchmark builds its own scratch stores
    out = Outcome()
    log(f"write: simulating {BATCHES} batches")
    tables = _batches(BATCHES, 2_000_000)
    rows = sum(t.num_rows for t in tables)
    store_s: list[float] = []
    rewrite_s: list[float] = []
    raw_s: list[float] = []
    for rep in range(REPEATS):
        log(f"write: repeat {rep + 1}/{REPEATS}: store.write of {rows:,} rows, then pyarrow")
        first, second = _store_writes(tables, profile="write" if rep == 0 else None)
        store_s.append(first)
        rewrite_s.append(second)
        raw_s.append(_raw_writes(tables))
    raw_rate = rows / statistics.median(raw_s)
    label = f"(a) write {BATCHES} × {tables[0].num_rows:,}-row batches into a fresh store"
    out.results.append(
        Result(
            NAME,
            label,
            f"median of {REPEATS}",
            rows / statistics.median(store_s),
            "rows/s",
            RAW,
            raw_rate,
            MEANING,
            target=Target(">=", TARGET_ROWS_PER_S),
            scale=DEFAULT_SCALE.slug,
        )
    )
    out.results.append(
        Result(
            NAME,
            "(a) re-write the same rows (idempotent no-op, nothing stored)",
            f"median of {REPEATS}",
            rows / statistics.median(rewrite_s),
            "rows/s",
            RAW,
            raw_rate,
            MEANING,
            scale=DEFAULT_SCALE.slug,
        )
    )
    log(f"write: {DAILY_BATCHES} daily batches of {DAILY_ROWS:,} rows")
    daily = _batches(DAILY_BATCHES, DAILY_ROWS)
    daily_rows = sum(t.num_rows for t in daily)
    if daily_rows != DAILY_BATCHES * DAILY_ROWS:
        raise RuntimeError(f"daily batches hold {daily_rows:,} rows, expected {DAILY_BATCHES * DAILY_ROWS:,}")
    daily_store, _ = _store_writes(daily)
    daily_raw = _raw_writes(daily)
    out.results.append(
        Result(
            NAME,
            f"(a) write {DAILY_BATCHES} daily batches of {DAILY_ROWS:,} rows (compaction included)",
            "one run",
            daily_rows / daily_store,
            "rows/s",
            RAW,
            daily_rows / daily_raw,
            MEANING,
            scale=DEFAULT_SCALE.slug,
        )
    )

    def seconds(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    out.note(
        NAME,
        DEFAULT_SCALE.slug,
        f"write: seconds per repeat — store {seconds(store_s)}; re-write {seconds(rewrite_s)}; "
        f"pyarrow {seconds(raw_s)}.",
    )
    return out
