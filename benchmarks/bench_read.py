"""(b) Latency of one location × one year of hourly DA LMPs (8,760 rows) through `store.read`.

Three conditions, each over the same 200 random locations, each taking turns
with the baseline in blocks of 20 queries so both see the same machine noise:

* warm: one store object, after a warm-up pass over all 200 locations;
* cold: a brand-new store object (fresh DuckDB, empty Parquet metadata cache)
  for each query, in this process; the OS page cache stays warm; only the read
  is timed (opening the store is reported separately);
* disk-cold: as cold, after `sync` and `echo 3 > /proc/sys/vm/drop_caches`
  before each query, when the kernel allows it (it needs root).

The baseline is the same query against a DuckDB native table holding the same
rows sorted by iso, market, location, interval_start (one persistent read-only
connection when warm, a new connection per query when cold).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from dataset import (
    HOURS,
    SEED,
    YEAR_END,
    YEAR_START,
    BuiltStore,
    Context,
    Scale,
    native_read,
    sample_locations,
)
from measure import (
    DROP_CACHES,
    Latencies,
    Outcome,
    blocks,
    drop_page_cache,
    latency_rows,
    log,
    profiled,
    settle,
)

NAME = "read"
SAMPLES = 200
TARGET_WARM_P99_MS = 15.0
NATIVE = "DuckDB native table (sorted), same query"

Query = Callable[[str, str], pa.Table]


@dataclass(frozen=True, slots=True)
class Pair:
    """Latencies of the store and of the baseline under one condition."""

    store: Latencies
    native: Latencies


def _check(table: pa.Table, iso: str, location: str) -> None:
    if table.num_rows != HOURS:
        raise RuntimeError(f"{iso} {location}: read returned {table.num_rows:,} rows, expected {HOURS:,}")


def interleaved(locations: list[tuple[str, str]], store: Query, native: Query) -> Pair:
    """Time `store` and `native` on every location, alternating by block of locations; check that
    each answer has 8,760 rows."""
    s: list[float] = []
    n: list[float] = []
    for block in blocks(locations):
        for query, out in ((store, s), (native, n)):
            for iso, location in block:
                t0 = time.perf_counter()
                table = query(iso, location)
                out.append(time.perf_counter() - t0)
                _check(table, iso, location)
    return Pair(Latencies(s), Latencies(n))


def warm(built: BuiltStore, native_path: Path, locations: list[tuple[str, str]]) -> Pair:
    """Warm latencies: one store object and one connection, after a warm-up pass over every location."""
    store = built.open()
    con = duckdb.connect(str(native_path), read_only=True)
    try:

        def store_q(iso: str, location: str) -> pa.Table:
            return store.read("lmp", iso, "DAM", [location], YEAR_START, YEAR_END)

        def native_q(iso: str, location: str) -> pa.Table:
            return native_read(con, iso, location)

        interleaved(locations, store_q, native_q)  # warm-up pass
        order = random.Random(SEED + 1).sample(locations, len(locations))
        with profiled(f"read-warm-{built.scale.slug}"):
            return interleaved(order, store_q, native_q)
    finally:
        con.close()
        store.close()


def cold(
    built: BuiltStore, native_path: Path, locations: list[tuple[str, str]], drop: bool
) -> tuple[Pair, Latencies]:
    """Cold latencies (fresh store object / fresh connection per query), optionally after dropping the
    page cache before each query; also the time to open each fresh store object."""
    opens: list[float] = []
    reads: list[float] = []
    native_reads: list[float] = []

    def store_q(iso: str, location: str) -> pa.Table:
        if drop:
            drop_page_cache()
        t0 = time.perf_counter()
        store = built.open()
        opens.append(time.perf_counter() - t0)
        try:
            t0 = time.perf_counter()
            table = store.read("lmp", iso, "DAM", [location], YEAR_START, YEAR_END)
            # Only the read is timed (`interleaved` also times the open and the cache drop).
            reads.append(time.perf_counter() - t0)
            return table
        finally:
            store.close()

    def native_q(iso: str, location: str) -> pa.Table:
        if drop:
            drop_page_cache()
        con = duckdb.connect(str(native_path), read_only=True)
        try:
            t0 = time.perf_counter()
            table = native_read(con, iso, location)
            native_reads.append(time.perf_counter() - t0)
            return table
        finally:
            con.close()

    interleaved(locations, store_q, native_q)
    return Pair(Latencies(reads), Latencies(native_reads)), Latencies(opens)


def same_answer(built: BuiltStore, native_path: Path, pair: tuple[str, str]) -> None:
    """Check that the store and the baseline return identical tables for one location."""
    store = built.open()
    con = duckdb.connect(str(native_path), read_only=True)
    try:
        ours = store.read("lmp", pair[0], "DAM", [pair[1]], YEAR_START, YEAR_END)
        theirs = native_read(con, *pair).cast(ours.schema)
    finally:
        con.close()
        store.close()
    if not ours.equals(theirs):
        raise RuntimeError(f"store and DuckDB baseline disagree on {pair}")


def _scale_rows(ctx: Context, scale: Scale, out: Outcome) -> None:
    built = ctx.store(scale)
    native_path = ctx.native(scale)
    locations = sample_locations(built, SAMPLES)
    settle()
    files = len(built.live_files())
    what = f"(b) read 1 loc × 1 yr ({HOURS:,} rows), {scale.title}"

    same_answer(built, native_path, locations[0])
    log(f"read {scale.slug}: warm, {SAMPLES} locations (+ warm-up pass)")
    w = warm(built, native_path, locations)
    out.results += latency_rows(
        bench=NAME,
        scale=scale.slug,
        label=f"{what}, warm",
        measured=w.store,
        baseline=f"{NATIVE}, warm",
        base=w.native,
        p99_target=TARGET_WARM_P99_MS,
    )
    log(f"read {scale.slug}: warm store {w.store.describe()}; native {w.native.describe()}")

    log(f"read {scale.slug}: cold (fresh store object per query)")
    c, opens = cold(built, native_path, locations, drop=False)
    out.results += latency_rows(
        bench=NAME,
        scale=scale.slug,
        label=f"{what}, cold (new store object)",
        measured=c.store,
        baseline=f"{NATIVE}, new connection",
        base=c.native,
    )
    log(f"read {scale.slug}: cold store {c.store.describe()}; native {c.native.describe()}")
    out.note(
        NAME,
        scale.slug,
        f"read {scale.slug}: the store has {files} Parquet files for this dataset; "
        f"opening a store object takes {opens.p50:.2f} ms (p50), not included in the cold figures.",
    )

    if drop_page_cache():
        log(f"read {scale.slug}: disk-cold (page cache dropped before every query)")
        d, _ = cold(built, native_path, locations, drop=True)
        out.results += latency_rows(
            bench=NAME,
            scale=scale.slug,
            label=f"{what}, disk-cold (new store object, page cache dropped)",
            measured=d.store,
            baseline=f"{NATIVE}, new connection, page cache dropped",
            base=d.native,
        )
        log(f"read {scale.slug}: disk-cold store {d.store.describe()}; native {d.native.describe()}")
    else:
        out.note(
            NAME, scale.slug, f"read {scale.slug}: {DROP_CACHES} is not writable, so no disk-cold figure."
        )


def run(ctx: Context) -> Outcome:
    """Warm, cold and disk-cold single-location reads at every scale of the run."""
    out = Outcome()
    for scale in ctx.scales:
        _scale_rows(ctx, scale, out)
    return out
