"""The embedded store: immutable Parquet files, an atomic manifest, DuckDB to query.

Why Parquet files rather than a DuckDB database file: a DuckDB file admits one
read-write process at a time, and the platform needs `carbon254 ingest` (or the
live feed) to write while `carbon254 serve` reads in another process. Immutable
files plus an atomically replaced manifest give lock-free readers, atomic
multi-file commits and crash safety, and DuckDB still does the scanning (row
group pruning on the sort order, parallel decode) at the speeds measured in
BENCHMARKS.md.

Layout under `<data_dir>/store/`:
    manifest.json                                   what is committed (see manifest.py)
    write.lock                                      writers' flock
    <dataset>/iso=<ISO>/market=<M>/year=<Y>/<id>.parquet
    catalog/<id>.parquet                            the location catalog

Each file is sorted by the dataset's key (location, then time for `lmp`), so a
one-location read touches one or two row groups.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from carbon254.isos import iso_info
from carbon254.schema import TIMESTAMP, Dataset, DatasetSpec, ValidationError, Violation, spec, validate
from carbon254.store.base import (
    COVERAGE_SCHEMA,
    Block,
    ChangeBatch,
    Changes,
    Resample,
    Source,
    WriteResult,
    present_read,
)
from carbon254.store.lock import writer_lock
from carbon254.store.manifest import MANIFEST_NAME, FileEntry, Manifest, ManifestFile, RetiredFile, fsync_dir

# Measured on a 2,000-location year: 64k-256k row groups read one location about
# equally fast (32k was no faster), and larger groups compress better; 256k was
# slower on one-location reads.
ROW_GROUP_ROWS = 131_072
NO_MARKET = "_"  # partition name for datasets without a market column (ordc_adder)
MERGE_TARGET_ROWS = 25_000_000  # compaction merges files up to this size (about 2.5 GB in memory)
RETIRED_GRACE_S = 600  # a replaced file outlives any read that could still be using it
VERSION_MEMO_MAX = 4096  # data_version tokens remembered per manifest version (a cache's working set)

CATALOG_SCHEMA = pa.schema(
    [
        pa.field("iso", pa.string(), nullable=False),
        pa.field("location", pa.string(), nullable=False),
        pa.field("location_type", pa.string()),
        pa.field("source", pa.string(), nullable=False),
    ]
)
# Knowledge time of a row, for `as_of`: when the ISO published it, else when we
# stored it. Among the versions known, the one stored last is the latest: ISOs
# do not always publish a time, so publication order cannot rank versions.
KNOWN_AT = "coalesce(published_at, ingested_at)"


@dataclass(frozen=True, slots=True)
class _Staged:
    """One partition of a batch, sorted, de-duplicated and ready to write."""

    iso: str
    market: str
    year: int
    table: pa.Table
    revisions: int


def _now_us() -> int:
    return time.time_ns() // 1_000


def _us(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError(f"timestamp {ts.isoformat()} has no time zone; pass a UTC-aware datetime")
    return int(ts.timestamp() * 1_000_000)


def _sort_columns(spec_: DatasetSpec) -> list[str]:
    """Key columns that vary inside one partition, in storage sort order."""
    fixed = {"iso", spec_.market_column}
    return [c for c in spec_.key if c not in fixed]


def _key_equal_to_previous(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """For a sorted table, whether row i+1 has the same values as row i in `columns` (nulls equal)."""
    n = table.num_rows
    same = np.ones(max(n - 1, 0), dtype=bool)
    for name in columns:
        col = table.column(name).combine_chunks()
        a, b = col.slice(1), col.slice(0, n - 1)
        eq = pc.equal(a, b)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        same &= np.asarray(pc.or_(pc.fill_null(eq, False), both_null))
    return same


class ParquetStore:
    """The default `Store`: DuckDB over immutable Parquet files in `data_dir`.

    Safe for one writer at a time across processes (writers queue on a file
    lock) and any number of concurrent readers in any process; each read sees
    the latest committed manifest without a restart.
    """

    def __init__(self, data_dir: Path | str, *, compact_after: int = 8) -> None:
        self.root = Path(data_dir) / "store"
        self.root.mkdir(parents=True, exist_ok=True)
        self.compact_after = compact_after
        self._manifest = ManifestFile(self.root)
        self._manifest_guard = threading.Lock()
        self._db = duckdb.connect(":memory:")
        self._db.execute("SET GLOBAL TimeZone = 'UTC'")
        # Parsing footers dominates small reads; files are immutable, so caching
        # their metadata is always safe.
        self._db.execute("SET GLOBAL parquet_metadata_cache = true")
        self._local = threading.local()
        self._catalog: tuple[str | None, pa.Table] = (None, CATALOG_SCHEMA.empty_table())
        self._versions: dict[tuple[str, str, str | None, int, int], str] = {}
        self._versions_of = -1  # the manifest version `_versions` was computed for
        self._versions_guard = threading.Lock()

    # ---- plumbing -----------------------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        # DuckDB connections are not thread-safe; cursors of one database are,
        # and they share its metadata cache.
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._db.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cur
        return cur

    def _current(self) -> Manifest:
        with self._manifest_guard:
            return self._manifest.current()

    def _path(self, rel: str) -> str:
        return str(self.root / rel)

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._db.close()

    # ---- write --------------------------------------------------------------------------------

    def write(
        self, dataset: Dataset | str, table: pa.Table, *, source: Source = Source.INGESTED
    ) -> WriteResult:
        """Validate a batch and append what is new in it, atomically.

        Rows identical to the latest stored version of their key are skipped;
        rows that differ are stored as new versions (revisions). A value
        column the batch leaves out (e.g. `location_type` of a file without
        it) says nothing about it: it is not compared, and a stored row's
        value is carried into its revision. Two rows of the batch with one key
        and different values reject the whole batch, like any other rule in
        `schema.validate`. `ingested_at` is set to now (UTC); `published_at`
        is kept as given.
        """
        spec_ = spec(dataset)
        absent = frozenset(c for c in spec_.values if c not in table.column_names)
        canonical = validate(spec_.name, table)
        received = canonical.num_rows
        if received == 0:
            return WriteResult(spec_.name, 0, 0, 0)
        with writer_lock(self.root / "write.lock"):
            manifest = self._manifest.current()
            # Stamped under the lock and later than the previous commit, so
            # ingested_at orders commits across processes: the latest version of
            # a key is the one stored last, and the change feed resumes from a stamp.
            now = max(_now_us(), manifest.last_commit + 1)
            canonical = canonical.set_column(
                canonical.schema.get_field_index("ingested_at"),
                pa.field("ingested_at", TIMESTAMP),
                pa.array(np.full(received, now, dtype="datetime64[us]")).cast(TIMESTAMP),
            )
            staged = self._stage(spec_, canonical, manifest, absent)
            written = [s for s in staged if s.table.num_rows]
            if not written:  # everything was already stored: leave the manifest alone
                return WriteResult(spec_.name, received, 0, 0)
            entries: list[FileEntry] = []
            try:
                for part in written:
                    entries.append(self._write_file(spec_, part, source, now))
                catalog = self._updated_catalog(spec_, written, manifest, source)
                fsync_dir(self.root)
                self._manifest.commit(manifest.evolve(add=tuple(entries), catalog=catalog, last_commit=now))
            except BaseException:
                for e in entries:
                    Path(self._path(e.path)).unlink(missing_ok=True)
                raise
            for part in written:
                self._maybe_compact(spec_, part.iso, part.market, part.year)
        return WriteResult(
            dataset=spec_.name,
            rows_received=received,
            rows_written=sum(s.table.num_rows for s in staged),
            revisions=sum(s.revisions for s in staged),
        )

    def _stage(
        self, spec_: DatasetSpec, canonical: pa.Table, manifest: Manifest, absent: frozenset[str]
    ) -> list[_Staged]:
        """Split a batch by partition, sort it, and drop rows already stored; raises on conflicting keys.

        `absent` names the value columns the batch did not give (see `write`).
        """
        cur = self._cursor()
        numbered = canonical.append_column("__row", pa.array(np.arange(canonical.num_rows, dtype=np.int64)))
        cur.register("__batch", numbered)
        try:
            mcol = spec_.market_column
            market_expr = mcol if mcol else f"'{NO_MARKET}'"
            t = spec_.time_column
            parts = cur.execute(
                f"SELECT DISTINCT iso, {market_expr}, year({t}) FROM __batch ORDER BY ALL"  # noqa: S608 - schema names only
            ).fetchall()
            order = ", ".join([*_sort_columns(spec_), "__row"])
            staged: list[_Staged] = []
            conflicts: list[int] = []
            for iso, market, year in parts:
                where = f"iso = ? AND year({t}) = ?" + (f" AND {mcol} = ?" if mcol else "")
                params: list[object] = [iso, year] + ([market] if mcol else [])
                part = cur.sql(
                    f"SELECT * FROM __batch WHERE {where} ORDER BY {order}",  # noqa: S608 - schema names only
                    params=params,
                ).to_arrow_table()
                part, bad = self._drop_batch_duplicates(spec_, part)
                conflicts += bad
                if bad:
                    continue
                new, revisions = self._drop_stored(
                    spec_, part, manifest, str(iso), str(market), int(year), absent
                )
                staged.append(_Staged(str(iso), str(market), int(year), new, revisions))
        finally:
            cur.unregister("__batch")
        if conflicts:
            raise ValidationError(
                spec_.name.value,
                [
                    Violation(
                        "duplicate_key",
                        f"same {', '.join(spec_.key)} given twice with different values",
                        tuple(sorted(conflicts)),
                    )
                ],
            )
        return staged

    def _drop_batch_duplicates(self, spec_: DatasetSpec, part: pa.Table) -> tuple[pa.Table, list[int]]:
        """Drop repeats of a key within a sorted partition; return the rows whose repeats disagree."""
        if part.num_rows < 2:
            return part, []
        same_key = _key_equal_to_previous(part, _sort_columns(spec_))
        if not same_key.any():
            return part, []
        pairs = np.flatnonzero(same_key)
        first = part.take(pa.array(pairs))
        second = part.take(pa.array(pairs + 1))
        differs = np.zeros(len(pairs), dtype=bool)
        for name in spec_.values:
            a, b = first.column(name), second.column(name)
            eq = pc.or_(pc.fill_null(pc.equal(a, b), False), pc.and_(pc.is_null(a), pc.is_null(b)))
            differs |= ~np.asarray(eq)
        if differs.any():
            rows = part.column("__row").to_numpy()
            bad = np.unique(np.concatenate([rows[pairs[differs]], rows[pairs[differs] + 1]]))
            return part, [int(r) for r in bad]
        keep = np.ones(part.num_rows, dtype=bool)
        keep[pairs + 1] = False
        return part.filter(pa.array(keep)), []

    def _drop_stored(
        self,
        spec_: DatasetSpec,
        part: pa.Table,
        manifest: Manifest,
        iso: str,
        market: str,
        year: int,
        absent: frozenset[str],
    ) -> tuple[pa.Table, int]:
        """Remove rows equal to the latest stored version of their key; count the revisions left.

        Columns in `absent` are left out of the comparison and take the stored
        version's value (null for a new key): re-ingesting a file that omits
        an optional column is not a change, and a real change keeps the rest.
        """
        t = spec_.time_column
        times = part.column(t).cast(pa.int64())
        lo, hi = int(pc.min(times).as_py()), int(pc.max(times).as_py())
        files = [
            f
            for f in manifest.partition(spec_.name.value, iso, market)
            if f.year == year and f.max_time >= lo and f.min_time <= hi
        ]
        clean = part.drop_columns(["__row"])
        if not files:
            return clean, 0
        keys, values = list(spec_.key), list(spec_.values)
        given = [v for v in values if v not in absent]
        on = " AND ".join(f"n.{k} IS NOT DISTINCT FROM o.{k}" for k in keys)
        changed = " OR ".join(f"n.{v} IS DISTINCT FROM o.{v}" for v in given) or "false"
        out = ", ".join(f"o.{c} AS {c}" if c in absent else f"n.{c}" for c in clean.column_names)
        # Without revisions each key is stored once, so no window is needed.
        latest = (
            f"QUALIFY row_number() OVER (PARTITION BY {', '.join(keys)} ORDER BY ingested_at DESC) = 1"
            if any(f.revisions for f in files)
            else ""
        )
        cur = self._cursor()
        cur.register("__new", clean)
        try:
            result = cur.sql(
                f"""
                WITH old AS (
                    SELECT {", ".join(keys + values)} FROM read_parquet(?, hive_partitioning = false)
                    WHERE {t} BETWEEN make_timestamptz(?::BIGINT) AND make_timestamptz(?::BIGINT)
                    {latest}
                )
                SELECT {out}, o.{keys[0]} IS NOT NULL AS __revision
                FROM __new n LEFT JOIN old o ON {on}
                WHERE o.{keys[0]} IS NULL OR {changed}
                ORDER BY {", ".join(f"n.{c}" for c in _sort_columns(spec_))}
                """,  # noqa: S608 - schema names only; values are bound parameters
                params=[[self._path(f.path) for f in files], lo, hi],
            ).to_arrow_table()
        finally:
            cur.unregister("__new")
        revisions = int(pc.sum(result.column("__revision")).as_py() or 0)
        return result.drop_columns(["__revision"]).cast(spec_.schema), revisions

    def _write_file(
        self,
        spec_: DatasetSpec,
        part: _Staged,
        source: Source,
        now: int,
        *,
        compacted_until: int | None = None,
    ) -> FileEntry:
        """Write one partition's rows to a new file; `compacted_until` marks a compaction's merged file."""
        partition = f"{spec_.name.value}/iso={part.iso}/market={part.market}/year={part.year}"
        rel = f"{partition}/{uuid.uuid4().hex}.parquet"
        path = Path(self._path(rel))
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_parquet(part.table.cast(spec_.schema), path)
        times = part.table.column(spec_.time_column).cast(pa.int64())
        return FileEntry(
            path=rel,
            dataset=spec_.name.value,
            iso=part.iso,
            market=part.market,
            year=part.year,
            rows=part.table.num_rows,
            min_time=int(pc.min(times).as_py()),
            max_time=int(pc.max(times).as_py()),
            revisions=part.revisions,
            source=source.value,
            created=now,
            compacted=compacted_until is not None,
            ingested_until=compacted_until or 0,
        )

    # ---- catalog ------------------------------------------------------------------------------

    def _catalog_table(self, manifest: Manifest) -> pa.Table:
        path, table = self._catalog
        if manifest.catalog != path:
            table = (
                pq.read_table(self._path(manifest.catalog)).cast(CATALOG_SCHEMA)
                if manifest.catalog
                else CATALOG_SCHEMA.empty_table()
            )
            self._catalog = (manifest.catalog, table)
        return table

    def _updated_catalog(
        self, spec_: DatasetSpec, staged: list[_Staged], manifest: Manifest, source: Source
    ) -> str | None:
        """Write a new catalog file if the batch brings new locations; return its path (None: unchanged)."""
        if spec_.name is not Dataset.LMP or not staged:
            return None
        # Partitions staged against stored files and new ones differ in nullability: unify it.
        parts = [s.table.select(["iso", "location", "location_type"]) for s in staged]
        seen = (
            pa.concat_tables(parts, promote_options="default")
            .group_by(["iso", "location"])
            .aggregate([("location_type", "max")])
        )
        seen = seen.rename_columns(["iso", "location", "location_type"])
        current = self._catalog_table(manifest)
        fresh = seen.join(
            current.select(["iso", "location"]), keys=["iso", "location"], join_type="left anti"
        )
        if fresh.num_rows == 0:
            return None
        fresh = fresh.append_column("source", pa.array([source.value] * fresh.num_rows, pa.string()))
        merged = pa.concat_tables([current, fresh.select(CATALOG_SCHEMA.names).cast(CATALOG_SCHEMA)])
        merged = merged.sort_by([("iso", "ascending"), ("location", "ascending")])
        rel = f"catalog/{uuid.uuid4().hex}.parquet"
        (self.root / "catalog").mkdir(exist_ok=True)
        _write_parquet(merged, Path(self._path(rel)))
        return rel

    def locations(
        self, iso: str | None = None, search: str | None = None, location_type: str | None = None
    ) -> pa.Table:
        """The location catalog (iso, location, location_type, source), optionally filtered.

        `search` is a case-insensitive substring of the location name. The
        filters run on Arrow, never in SQL, so any string is safe.
        """
        with self._manifest_guard:
            table = self._catalog_table(self._manifest.current())
        if iso is not None:
            table = table.filter(pc.equal(table.column("iso"), iso_info(iso).iso.value))
        if search:
            table = table.filter(pc.match_substring(table.column("location"), search, ignore_case=True))
        if location_type:
            table = table.filter(pc.equal(table.column("location_type"), location_type))
        return table

    def markets(self, dataset: Dataset | str, iso: str) -> list[str]:
        """Markets (auctions, load kinds) with stored data for a dataset and ISO."""
        spec_ = spec(dataset)
        files = self._current().partition(spec_.name.value, iso_info(iso).iso.value, None)
        return sorted({f.market for f in files if f.market != NO_MARKET})

    # ---- read ---------------------------------------------------------------------------------

    def read(
        self,
        dataset: Dataset | str,
        iso: str,
        market: str | None,
        locations: Sequence[str] | None,
        start: datetime,
        end: datetime,
        as_of: datetime | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
    ) -> pa.Table:
        """Latest rows (or those known at `as_of`) of one dataset, ISO and market; see `Store.read`."""
        spec_ = spec(dataset)
        iso_name = iso_info(iso).iso.value
        lo, hi = _us(start), _us(end)
        if hi <= lo:
            raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
        manifest = self._current()
        files = [
            f
            for f in manifest.partition(spec_.name.value, iso_name, market)
            if f.max_time >= lo and f.min_time < hi
        ]
        table = self._scan(spec_, files, locations, lo, hi, as_of) if files else spec_.schema.empty_table()
        return present_read(table, spec_, iso_name, tz=tz, resample=resample, block=block)

    def coverage(
        self, dataset: Dataset | str, iso: str, market: str | None, start: datetime, end: datetime
    ) -> pa.Table:
        """Stored (location, interval_start) pairs with their version counts; see `Store.coverage`.

        One GROUP BY in DuckDB over the partition's files that overlap
        [start, end) (UTC); only the per-pair counts reach Python.
        """
        spec_ = spec(dataset)
        iso_name = iso_info(iso).iso.value
        if (market is None) != (spec_.market_column is None):
            raise ValueError(
                f"{spec_.name.value} has no markets; pass market=None"
                if spec_.market_column is None
                else f"{spec_.name.value} coverage needs a {spec_.market_column}"
            )
        lo, hi = _us(start), _us(end)
        if hi <= lo:
            raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
        files = [
            f
            for f in self._current().partition(spec_.name.value, iso_name, market)
            if f.max_time >= lo and f.min_time < hi
        ]
        if not files:
            return COVERAGE_SCHEMA.empty_table()
        t, end_col = spec_.time_column, spec_.end_column
        # String key columns name the location (region and product for
        # ancillary prices); other key columns (a load forecast's vintage) tell
        # distinct series apart, so versions of one vintage are its revisions.
        fixed = {"iso", spec_.market_column, t}
        names = [c for c in spec_.key if c not in fixed and pa.types.is_string(spec_.schema.field(c).type)]
        vintages = [c for c in spec_.key if c not in fixed and c not in names]
        location = f"concat_ws(' / ', {', '.join(names)})" if names else "iso"
        series = (
            "count(DISTINCT concat_ws('|', "
            + ", ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in vintages)
            + "))"
            if vintages
            else "1"
        )
        sql = (
            f"SELECT {location} AS location, {t} AS interval_start, "  # noqa: S608 - schema names only
            f"(epoch_us(arg_max({end_col}, ingested_at)) - epoch_us({t})) // 1000000 AS duration_s, "
            f"count(*) AS versions, count(*) - {series} AS revisions "
            "FROM read_parquet(?, hive_partitioning = false) "
            f"WHERE {t} >= make_timestamptz(?::BIGINT) AND {t} < make_timestamptz(?::BIGINT) "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        )
        params: list[object] = [[self._path(f.path) for f in files], lo, hi]
        return self._cursor().sql(sql, params=params).to_arrow_table().cast(COVERAGE_SCHEMA)

    def _scan(
        self,
        spec_: DatasetSpec,
        files: list[FileEntry],
        locations: Sequence[str] | None,
        lo: int,
        hi: int,
        as_of: datetime | None,
    ) -> pa.Table:
        t = spec_.time_column
        where = [f"{t} >= make_timestamptz(?::BIGINT)", f"{t} < make_timestamptz(?::BIGINT)"]
        params: list[object] = [[self._path(f.path) for f in files], lo, hi]
        loc = spec_.location_column
        if locations is not None and loc is not None:
            if not locations:
                return spec_.schema.empty_table()
            # One placeholder per name: values are bound, never pasted into SQL,
            # and an IN list of constants still prunes row groups.
            where.append(f"{loc} IN ({', '.join('?' * len(locations))})")
            params += list(locations)
        if as_of is not None:
            where.append(f"{KNOWN_AT} <= make_timestamptz(?::BIGINT)")
            params.append(_us(as_of))
        key = [c for c in ([spec_.market_column] if spec_.market_column else []) + _sort_columns(spec_)]
        if loc is not None:  # callers rely on location-then-time order
            key = [loc] + [c for c in key if c != loc]
        revised = any(f.revisions for f in files)
        # With revisions present, newest version first within each key; the
        # older versions are then dropped in one vectorized pass, which is
        # cheaper than a window function over every row.
        order = [*key, "ingested_at DESC"] if revised else key
        sql = (
            f"SELECT {', '.join(spec_.columns)} FROM read_parquet(?, hive_partitioning = false) "  # noqa: S608 - schema names only
            f"WHERE {' AND '.join(where)} ORDER BY {', '.join(order)}"
        )
        table = self._cursor().sql(sql, params=params).to_arrow_table().cast(spec_.schema)
        if revised and table.num_rows > 1:
            older = np.concatenate([[False], _key_equal_to_previous(table, key)])
            table = table.filter(pa.array(~older))
        return table

    # ---- versions and the change feed ---------------------------------------------------------

    def data_version(
        self, dataset: Dataset | str, iso: str, market: str | None, start: datetime, end: datetime
    ) -> str:
        """A token of the files holding one dataset/ISO/market over [start, end); see `Store.data_version`.

        A digest of the overlapping files' paths: files are immutable and each
        is named by a fresh id, so the set changes exactly when a commit adds a
        file there or compaction replaces one. Memoized per manifest version,
        so a repeated call costs the manifest `stat` and a dictionary lookup.
        """
        spec_ = spec(dataset)
        iso_name = iso_info(iso).iso.value
        lo, hi = _us(start), _us(end)
        manifest = self._current()
        key = (spec_.name.value, iso_name, market, lo, hi)
        with self._versions_guard:
            if self._versions_of != manifest.version:
                self._versions.clear()
                self._versions_of = manifest.version
            token = self._versions.get(key)
        if token is not None:
            return token
        paths = sorted(
            f.path
            for f in manifest.partition(spec_.name.value, iso_name, market)
            if f.max_time >= lo and f.min_time < hi
        )
        token = hashlib.blake2b("\n".join(paths).encode(), digest_size=16).hexdigest()
        with self._versions_guard:
            if self._versions_of == manifest.version:
                if len(self._versions) >= VERSION_MEMO_MAX:
                    self._versions.clear()
                self._versions[key] = token
        return token

    def simulated(
        self, dataset: Dataset | str, iso: str, market: str | None, start: datetime, end: datetime
    ) -> bool:
        """Whether a simulated file holds rows of one dataset/ISO/market in [start, end); see the protocol."""
        spec_ = spec(dataset)
        lo, hi = _us(start), _us(end)
        return any(
            f.source == Source.SIMULATED.value and f.max_time >= lo and f.min_time < hi
            for f in self._current().partition(spec_.name.value, iso_info(iso).iso.value, market)
        )

    def change_cursor(self) -> str:
        """The change feed's head: the stamp of the latest commit by `write`; see `Store.change_cursor`."""
        return str(self._current().last_commit)

    def changes_since(self, cursor: str, max_rows: int = 100_000) -> Changes:
        """Rows committed by `write` after `cursor`, one page at a time; see `Store.changes_since`.

        The cursor is the `ingested_at` stamp (microseconds since the epoch,
        UTC) of the last commit returned. Every commit stamps its rows with
        one `ingested_at`, later than any earlier commit's (see `write`), so
        "rows with `ingested_at` after the cursor" are exactly the commits not
        yet returned, whether their files are still as written or compaction
        has merged them: compaction keeps each row's `ingested_at`, so the
        rows it rewrites are never returned twice. The manifest tells which
        files can hold such rows; nothing is read when it shows no new commit.
        """
        after = _decode_cursor(cursor)
        if max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, not {max_rows}")
        manifest = self._current()
        if manifest.last_commit <= after:
            return Changes(cursor)
        files = [f for f in manifest.files if f.last_ingested > after]
        until = self._page_end(files, after, max_rows, manifest.last_commit)
        # A write's file holds one commit, so those after the page are skipped
        # unread; a compacted file may hold rows on both sides of `until`.
        files = [f for f in files if f.compacted or f.created <= until]
        partitions: dict[tuple[str, str, str], list[FileEntry]] = {}
        for f in files:
            partitions.setdefault((f.dataset, f.iso, f.market), []).append(f)
        batches: list[ChangeBatch] = []
        for (dataset, iso, market), group in sorted(partitions.items()):
            spec_ = spec(dataset)
            table = self._changed_rows(spec_, group, after, until)
            if table.num_rows:
                batches.append(ChangeBatch(spec_.name, iso, None if market == NO_MARKET else market, table))
        return Changes(str(until), tuple(batches), more=until < manifest.last_commit)

    def _page_end(self, files: list[FileEntry], after: int, max_rows: int, head: int) -> int:
        """The last commit stamp of a page: commits in order until about `max_rows` rows, at least one."""
        sizes: dict[int, int] = {}
        for f in files:
            if not f.compacted:
                sizes[f.created] = sizes.get(f.created, 0) + f.rows
        compacted = [f for f in files if f.compacted]
        if compacted:
            # Only the ingested_at column is read, and only its row groups past the cursor.
            counts = (
                self._cursor()
                .execute(
                    "SELECT epoch_us(ingested_at), count(*) FROM read_parquet(?, hive_partitioning = false) "
                    "WHERE ingested_at > make_timestamptz(?::BIGINT) GROUP BY 1",
                    [[self._path(f.path) for f in compacted], after],
                )
                .fetchall()
            )
            for stamp, n in counts:
                sizes[int(stamp)] = sizes.get(int(stamp), 0) + int(n)
        total = 0
        for stamp in sorted(sizes):
            total += sizes[stamp]
            if total >= max_rows and stamp < head:
                return stamp
        return head

    def _changed_rows(self, spec_: DatasetSpec, files: list[FileEntry], after: int, until: int) -> pa.Table:
        """Rows of one partition's `files` with `ingested_at` in (after, until], by commit then key."""
        order = ", ".join(["ingested_at", *_sort_columns(spec_)])
        sql = (
            f"SELECT {', '.join(spec_.columns)} FROM read_parquet(?, hive_partitioning = false) "  # noqa: S608 - schema names only
            "WHERE ingested_at > make_timestamptz(?::BIGINT) AND ingested_at <= make_timestamptz(?::BIGINT) "
            f"ORDER BY {order}"
        )
        params: list[object] = [[self._path(f.path) for f in files], after, until]
        return self._cursor().sql(sql, params=params).to_arrow_table().cast(spec_.schema)

    # ---- compaction ---------------------------------------------------------------------------

    def _maybe_compact(self, spec_: DatasetSpec, iso: str, market: str, year: int) -> None:
        """Merge a partition's files once it has more than `compact_after` below the target size.

        Reads of one location touch every file of the partition, so many small
        files (a live feed, a bulk load in slices) cost latency; files are
        merged, in time order, into files of up to `MERGE_TARGET_ROWS`, which
        also bounds what one compaction rewrites. Called with the writer lock
        held. All versions are kept; merged-away files are retired and deleted
        after a grace period so in-flight reads still find them.
        """
        manifest = self._manifest.current()
        candidates = sorted(
            (
                f
                for f in manifest.partition(spec_.name.value, iso, market)
                if f.year == year and f.rows < MERGE_TARGET_ROWS
            ),
            key=lambda f: f.min_time,
        )
        now = _now_us()
        expired = {r.path for r in manifest.retired if now - r.retired_at > RETIRED_GRACE_S * 1_000_000}
        groups = _merge_groups(candidates) if len(candidates) > self.compact_after else []
        if not groups and not expired:
            return
        add = tuple(self._merge(spec_, iso, market, year, group, now) for group in groups)
        merged = [f for group in groups for f in group]
        retire = [r for r in manifest.retired if r.path not in expired] + [
            RetiredFile(f.path, now) for f in merged
        ]
        self._manifest.commit(
            manifest.evolve(add=add, remove=frozenset(f.path for f in merged), retired=tuple(retire))
        )
        for path in expired:
            Path(self._path(path)).unlink(missing_ok=True)

    def _merge(
        self, spec_: DatasetSpec, iso: str, market: str, year: int, files: list[FileEntry], now: int
    ) -> FileEntry:
        order = ", ".join([*_sort_columns(spec_), "ingested_at"])
        merged = (
            self._cursor()
            .sql(
                f"SELECT * FROM read_parquet(?, hive_partitioning = false) ORDER BY {order}",  # noqa: S608 - schema names only
                params=[[self._path(f.path) for f in files]],
            )
            .to_arrow_table()
            .cast(spec_.schema)
        )
        # A merge of simulated and ingested rows is marked simulated: simulated
        # data must never be presented as real, and real data may only be
        # presented as possibly simulated.
        simulated = any(f.source == Source.SIMULATED.value for f in files)
        source = Source.SIMULATED if simulated else Source.INGESTED
        part = _Staged(iso, market, year, merged, sum(f.revisions for f in files))
        # The rows keep their ingested_at: the change feed must not announce them again.
        return self._write_file(spec_, part, source, now, compacted_until=max(f.last_ingested for f in files))

    def vacuum(self, grace_s: float = 3600) -> int:
        """Delete files no reader can need, older than `grace_s`; return how many.

        These are files a killed writer left unreferenced and files compaction
        replaced (which later writes also delete, but a store that stops
        ingesting would otherwise keep them).
        """
        removed = 0
        with writer_lock(self.root / "write.lock"):
            manifest = self._manifest.current()
            cutoff_us = _now_us() - int(grace_s * 1_000_000)
            expired = [r for r in manifest.retired if r.retired_at < cutoff_us]
            if expired:
                manifest = manifest.evolve(retired=tuple(r for r in manifest.retired if r not in expired))
                self._manifest.commit(manifest)
            live = {f.path for f in manifest.files} | {r.path for r in manifest.retired}
            if manifest.catalog:
                live.add(manifest.catalog)
            cutoff = time.time() - grace_s
            for path in self.root.rglob("*.parquet"):
                rel = path.relative_to(self.root).as_posix()
                if rel not in live and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed


def _merge_groups(files: list[FileEntry]) -> list[list[FileEntry]]:
    """Runs of consecutive `files` of at most `MERGE_TARGET_ROWS` rows, two or more files each."""
    groups: list[list[FileEntry]] = [[]]
    for f in files:
        if groups[-1] and sum(g.rows for g in groups[-1]) + f.rows > MERGE_TARGET_ROWS:
            groups.append([])
        groups[-1].append(f)
    return [g for g in groups if len(g) > 1]


def _decode_cursor(cursor: str) -> int:
    """The commit stamp a change-feed cursor names; ValueError if it is not one."""
    try:
        stamp = int(cursor)
    except (TypeError, ValueError):
        raise ValueError(f"malformed change cursor {cursor!r}: expected one from change_cursor()") from None
    if stamp < 0:
        raise ValueError(f"malformed change cursor {cursor!r}: expected one from change_cursor()")
    return stamp


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Write one immutable, fsynced Parquet file (zstd, statistics on, dictionary-encoded strings)."""
    with open(path, "wb") as fh:
        pq.write_table(table, fh, compression="zstd", row_group_size=ROW_GROUP_ROWS, write_statistics=True)
        fh.flush()
        os.fsync(fh.fileno())


def has_store(data_dir: Path | str) -> bool:
    """Whether `data_dir` holds a store that was ever committed to (its manifest exists)."""
    return (Path(data_dir) / "store" / MANIFEST_NAME).is_file()
