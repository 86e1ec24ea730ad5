"""The benchmark data sets: simulated stores at two scales, cached under `benchmarks/.work`.

The default scale is one ISO (PJM) with 2,000 locations (hubs + zones +
interfaces + nodes) and one year (365 days, 2023) of hourly day-ahead LMPs:
17,520,000 rows. The full scale is every ISO at the simulator's real node
counts (18,500 nodes, 18,601 locations): 162,944,760 rows. Each store is built
by feeding the simulator's batches to `store.write`, exactly as an ingest
would, and is reused by later runs until its parameters or the code that shapes
its files (store, schema, simulator) change, or `--rebuild` is given.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from carbon254.isos import Iso
from carbon254.schema import LMP_SCHEMA, Dataset
from carbon254.simulate import SimulationConfig, count_rows, simulate, simulated_locations
from carbon254.simulate.config import DEFAULT_BATCH_ROWS
from carbon254.store import Source, Store, open_store
from carbon254.store.manifest import FileEntry, Manifest, ManifestFile
from measure import ROOT, WORK, log

BUILD_FORMAT = 1  # bump when the way stores are built here changes
SEED = 254
YEAR_START = datetime(2023, 1, 1, tzinfo=UTC)  # 2023 is not a leap year: 8,760 hours
YEAR_END = datetime(2024, 1, 1, tzinfo=UTC)
HOURS = 8_760
# Code whose changes can change the stored files; part of the cache key. Globs under src/carbon254:
# the ISO packages shape the store through their declarations and simulation models, not their parsers.
SHAPING_SOURCES = (
    "store/**/*.py",
    "simulate/**/*.py",
    "schema.py",
    "isos/*.py",
    "isos/*/__init__.py",
    "isos/*/simulation.py",
)


@dataclass(frozen=True, slots=True)
class Scale:
    """One store size: which ISOs, how many nodes per ISO (None = real scale), one year of DAM."""

    slug: str
    title: str
    isos: tuple[Iso, ...]
    nodes: int | None

    def config(self, max_batch_rows: int = DEFAULT_BATCH_ROWS) -> SimulationConfig:
        """The simulation producing exactly this store's rows (LMP, DAM, 2023), in batches of at most
        `max_batch_rows` rows."""
        return SimulationConfig(
            start=YEAR_START,
            end=YEAR_END,
            isos=self.isos,
            nodes=self.nodes,
            markets=("DAM",),
            datasets=(Dataset.LMP,),
            seed=SEED,
            max_batch_rows=max_batch_rows,
        )

    @property
    def locations(self) -> int:
        """Locations (hubs, zones, interfaces and nodes) over all ISOs."""
        return sum(simulated_locations(iso, self.nodes).num_rows for iso in self.isos)

    @property
    def rows(self) -> int:
        """Rows the simulation yields (checked against the built store)."""
        return count_rows(self.config())

    def key(self) -> str:
        """A short hash of the parameters and of the shaping source code as this process imported it."""
        digest = hashlib.sha256()
        params = [BUILD_FORMAT, SEED, self.slug, [i.value for i in self.isos], self.nodes]
        params += [YEAR_START.isoformat(), YEAR_END.isoformat(), SOURCE_HASH]
        digest.update(json.dumps(params).encode())
        return digest.hexdigest()[:12]


def _source_hash() -> str:
    """A hash of the code that shapes stored files (store, schema, simulator).

    Taken once, when this module is imported right after that code, so a store
    is never cached under the hash of code edited while the run was going.
    """
    digest = hashlib.sha256()
    src = ROOT / "src" / "carbon254"
    for pattern in SHAPING_SOURCES:
        for f in sorted(src.glob(pattern)):
            digest.update(f.relative_to(src).as_posix().encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


SOURCE_HASH = _source_hash()


def _pjm_nodes_for(locations: int) -> int:
    """Nodes to simulate in PJM so that hubs + zones + interfaces + nodes = `locations`."""
    fixed = int(simulated_locations(Iso.PJM, 1).num_rows) - 1  # hubs, zones and interfaces
    return locations - fixed


DEFAULT_SCALE = Scale("pjm2k", "2,000 locations (PJM), 17.52M rows", (Iso.PJM,), _pjm_nodes_for(2_000))
FULL_SCALE = Scale("all18k", "18,601 locations (7 ISOs, real scale), 162.9M rows", tuple(Iso), None)


@dataclass(frozen=True, slots=True)
class BuiltStore:
    """A store on disk (`directory` is the data_dir; files live under `directory/store`)."""

    scale: Scale
    directory: Path
    rows: int
    build: dict[str, float]  # seconds and rates of the build that made it
    built_now: bool

    @property
    def root(self) -> Path:
        """The store's own directory (`<data_dir>/store`)."""
        return self.directory / "store"

    def manifest(self) -> Manifest:
        """The committed manifest: which files the store is made of."""
        return ManifestFile(self.root).current()

    def live_files(self) -> list[FileEntry]:
        """The LMP files the manifest names (retired and orphaned files excluded)."""
        return [f for f in self.manifest().files if f.dataset == Dataset.LMP.value]

    def open(self) -> Store:
        """A brand-new store object over these files."""
        return open_store(self.directory)


def _write_json(path: Path, doc: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2))
    os.replace(tmp, path)


def _timed_batches(config: SimulationConfig, clock: dict[str, float]) -> Iterator[pa.Table]:
    """The simulator's LMP batches, adding the time spent simulating to `clock['simulate_s']`."""
    batches = simulate(config)
    while True:
        t0 = time.perf_counter()
        item = next(batches, None)
        clock["simulate_s"] += time.perf_counter() - t0
        if item is None:
            return
        yield item[1]


def build_store(scale: Scale, rebuild: bool) -> BuiltStore:
    """The cached store for `scale`, built (batch by batch through `store.write`) when missing or stale."""
    WORK.mkdir(parents=True, exist_ok=True)
    directory = WORK / f"store-{scale.slug}-{scale.key()}"
    marker = directory / "build.json"
    expected = scale.rows
    if marker.exists() and not rebuild:
        info = json.loads(marker.read_text())
        built = BuiltStore(scale, directory, int(info["rows"]), info["build"], built_now=False)
        stored = sum(f.rows for f in built.live_files())
        if stored == expected:
            log(f"store {scale.slug}: reusing {directory.relative_to(ROOT)} ({stored:,} rows)")
            return built
        log(f"store {scale.slug}: cached copy holds {stored:,} rows, expected {expected:,}; rebuilding")
    for stale in WORK.glob(f"store-{scale.slug}-*"):
        log(f"store {scale.slug}: removing {stale.relative_to(ROOT)}")
        shutil.rmtree(stale)
    log(f"store {scale.slug}: building {scale.title} ({expected:,} rows) in {directory.relative_to(ROOT)}")
    clock = {"simulate_s": 0.0, "write_s": 0.0}
    store = open_store(directory)
    rows = 0
    batches = 0
    last_report = time.perf_counter()
    started = last_report
    try:
        for table in _timed_batches(scale.config(), clock):
            t0 = time.perf_counter()
            result = store.write(Dataset.LMP, table, source=Source.SIMULATED)
            clock["write_s"] += time.perf_counter() - t0
            if result.rows_written != table.num_rows:
                raise RuntimeError(f"store kept {result.rows_written:,} of {table.num_rows:,} fresh rows")
            rows += table.num_rows
            batches += 1
            if time.perf_counter() - last_report > 10:
                last_report = time.perf_counter()
                log(f"store {scale.slug}: {rows:,} / {expected:,} rows ({batches} batches)")
    finally:
        store.close()
    wall = time.perf_counter() - started
    built = BuiltStore(scale, directory, rows, {}, built_now=True)
    stored = sum(f.rows for f in built.live_files())
    if not rows == stored == expected:
        raise RuntimeError(
            f"store {scale.slug}: wrote {rows:,}, manifest has {stored:,}, expected {expected:,}"
        )
    build = {
        "wall_s": wall,
        "simulate_s": clock["simulate_s"],
        "write_s": clock["write_s"],
        "write_rows_per_s": rows / clock["write_s"],
        "batches": batches,
    }
    _write_json(marker, {"rows": rows, "build": build, "scale": scale.slug})
    log(
        f"store {scale.slug}: built {rows:,} rows in {wall:.1f} s "
        f"(simulate {clock['simulate_s']:.1f} s, store.write {clock['write_s']:.1f} s = "
        f"{rows / clock['write_s'] / 1e6:.2f} M rows/s, {len(built.live_files())} files)"
    )
    return BuiltStore(scale, directory, rows, build, built_now=True)


NATIVE_COLUMNS = ", ".join(LMP_SCHEMA.names)


def build_native(built: BuiltStore, rebuild: bool) -> Path:
    """The read baseline: the store's rows in a DuckDB database file, sorted by iso, market, location,
    interval_start."""
    path = built.directory / "native.duckdb"
    marker = built.directory / "native.json"
    if path.exists() and marker.exists() and not rebuild:
        return path
    path.unlink(missing_ok=True)
    tmp = built.directory / "native.duckdb.tmp"
    tmp.unlink(missing_ok=True)
    spill = WORK / "duckdb-spill"
    spill.mkdir(parents=True, exist_ok=True)
    files = [str(built.root / f.path) for f in built.live_files()]
    log(f"native baseline {built.scale.slug}: CREATE TABLE AS SELECT of {built.rows:,} rows, sorted")
    t0 = time.perf_counter()
    con = duckdb.connect(str(tmp))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET memory_limit = '10GB'")
        con.execute("SET preserve_insertion_order = true")
        con.execute(f"SET temp_directory = '{spill}'")
        con.execute(
            f"CREATE TABLE lmp AS SELECT {NATIVE_COLUMNS} FROM read_parquet(?) "  # noqa: S608 - fixed names
            "ORDER BY iso, market, location, interval_start",
            [files],
        )
        count = con.execute("SELECT count(*) FROM lmp").fetchone()
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if count is None or int(count[0]) != built.rows:
        raise RuntimeError(f"native table holds {count}, expected {built.rows:,} rows")
    os.replace(tmp, path)
    seconds = time.perf_counter() - t0
    _write_json(marker, {"rows": built.rows, "seconds": seconds, "bytes": path.stat().st_size})
    log(f"native baseline {built.scale.slug}: {seconds:.1f} s, {path.stat().st_size / 1e6:,.0f} MB")
    return path


NATIVE_QUERY = (
    f"SELECT {NATIVE_COLUMNS} FROM lmp "  # noqa: S608 - fixed names
    "WHERE iso = ? AND market = ? AND location = ? "
    "AND interval_start >= make_timestamptz(?::BIGINT) AND interval_start < make_timestamptz(?::BIGINT) "
    "ORDER BY interval_start"
)


def native_read(con: duckdb.DuckDBPyConnection, iso: str, location: str) -> pa.Table:
    """One location × one year from the native DuckDB table, as Arrow (the same shape as `store.read`)."""
    lo, hi = int(YEAR_START.timestamp() * 1e6), int(YEAR_END.timestamp() * 1e6)
    return con.sql(NATIVE_QUERY, params=[iso, "DAM", location, lo, hi]).to_arrow_table()


def sample_locations(built: BuiltStore, count: int, seed: int = SEED) -> list[tuple[str, str]]:
    """`count` distinct (iso, location) pairs drawn uniformly from the store's catalog, reproducibly."""
    store = built.open()
    try:
        catalog = store.locations()
    finally:
        store.close()
    pairs = list(zip(catalog.column("iso").to_pylist(), catalog.column("location").to_pylist(), strict=True))
    if len(pairs) != built.scale.locations:
        raise RuntimeError(f"catalog lists {len(pairs):,} locations, expected {built.scale.locations:,}")
    return random.Random(seed).sample(pairs, count)


@dataclass(slots=True)
class Context:
    """What the benchmarks of one run share: the scales to run at and the stores built so far."""

    full: bool
    rebuild: bool
    _stores: dict[str, BuiltStore] = field(default_factory=dict)
    _natives: dict[str, Path] = field(default_factory=dict)

    @property
    def scales(self) -> list[Scale]:
        """The default scale, plus the full one with `--full`."""
        return [DEFAULT_SCALE, FULL_SCALE] if self.full else [DEFAULT_SCALE]

    def store(self, scale: Scale) -> BuiltStore:
        """The store of `scale`, built at most once per run."""
        if scale.slug not in self._stores:
            self._stores[scale.slug] = build_store(scale, self.rebuild)
        return self._stores[scale.slug]

    def built_stores(self) -> list[BuiltStore]:
        """The stores used so far in this run."""
        return list(self._stores.values())

    def native(self, scale: Scale) -> Path:
        """The DuckDB-native baseline database of `scale`, built at most once per run."""
        if scale.slug not in self._natives:
            self._natives[scale.slug] = build_native(self.store(scale), self.rebuild)
        return self._natives[scale.slug]
