"""The `Store` interface every market-data backend implements.

The embedded backend (DuckDB over Parquet) is the default; distributed
backends implement the same protocol so that ingest, the service and the
analytics never know which one they talk to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc

from carbon254.schema import TIMESTAMP, Dataset, DatasetSpec
from carbon254.timeseries import present
from carbon254.timeseries.periods import Block as Block
from carbon254.timeseries.periods import Resample as Resample


class Source(StrEnum):
    """Where rows came from; simulated rows are never presented as real data."""

    INGESTED = "ingested"
    SIMULATED = "simulated"


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one `write` did: rows offered, new versions stored, and how many of
    those revised an existing key rather than adding a new one."""

    dataset: Dataset
    rows_received: int
    rows_written: int
    revisions: int

    @property
    def rows_unchanged(self) -> int:
        return self.rows_received - self.rows_written


def any_simulated(catalog: pa.Table, locations: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any of `locations` is marked simulated in a location catalog (`Store.locations`)."""
    simulated = catalog.filter(pc.equal(catalog.column("source"), Source.SIMULATED.value)).column("location")
    if len(simulated) == 0 or len(locations) == 0:
        return False
    return bool(pc.any(pc.is_in(pc.unique(locations), value_set=simulated.combine_chunks())).as_py())


# What `Store.coverage` returns: one row per stored (location, interval_start).
COVERAGE_SCHEMA = pa.schema(
    [
        pa.field("location", pa.string(), nullable=False),
        pa.field("interval_start", TIMESTAMP, nullable=False),
        pa.field("duration_s", pa.int64(), nullable=False),
        pa.field("versions", pa.int64(), nullable=False),
        pa.field("revisions", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Rows that commits added to one dataset, ISO and market, in the dataset's canonical schema.

    `market` is None for datasets without a market column (`ordc_adder`).
    Rows are every version the commits stored (a revision arrives as a new
    row), ordered by commit, then by location and time.
    """

    dataset: Dataset
    iso: str
    market: str | None
    table: pa.Table


@dataclass(frozen=True, slots=True)
class Changes:
    """One page of the store's change feed (`Store.changes_since`).

    `cursor` is where the next call resumes. `more` is True when the page was
    cut short by `max_rows` and further commits are already waiting: call
    again at once rather than after a poll interval.
    """

    cursor: str
    batches: tuple[ChangeBatch, ...] = ()
    more: bool = False

    @property
    def rows(self) -> int:
        """Rows in this page over all batches."""
        return sum(b.table.num_rows for b in self.batches)


def present_read(
    table: pa.Table,
    spec: DatasetSpec,
    iso: str,
    *,
    tz: str | None,
    resample: Resample | str | None,
    block: Block | str | None,
) -> pa.Table:
    """The rows a backend selected for `Store.read`, presented as the caller asked.

    `table` holds the latest versions (or those known at `as_of`) of one
    dataset and ISO in its canonical schema, UTC timestamps, sorted by
    location then time. Delivery blocks (NERC holidays on the ISO's market
    clock), calendar resampling (23- and 25-hour local days, month bounds)
    and the output time zone are `carbon254.timeseries.present`, so every
    backend presents alike. `table` itself comes back when nothing is asked.
    Raises ValueError for a bad tz, resample or block.
    """
    if tz is None and resample is None and block is None:
        return table
    return present(table, spec, iso, tz=tz, resample=resample, block=block)


class StoreError(Exception):
    """A store operation failed for a reason other than bad input."""


class StoreNotFound(StoreError):
    """Nothing was ever stored at the address a store was opened at without `create`."""


@runtime_checkable
class Store(Protocol):
    """Versioned, append-only market-data storage.

    Implementations guarantee: `write` is atomic (all of a batch or nothing,
    across crashes, a writer killed with SIGKILL included), idempotent (rows
    identical to the latest version of their key are not stored again; a
    write that stores nothing commits nothing, so the change cursor and data
    versions stay as they were) and revision-preserving (a changed value is a
    new version, `as_of` still sees the old one); `read` never blocks on a
    concurrent writer, in this process or another, and never sees part of a
    batch.

    A backend selects rows and versions; it never presents them itself.
    `read` hands what it selected to `present_read`, so delivery blocks,
    NERC holidays, DST day lengths and resampling buckets have one
    implementation (`carbon254.timeseries`) whatever the backend. Backends
    are opened from a URL by `carbon254.store.open_store`, and each passes
    the contract suite in `tests/store/contract/`.
    """

    def write(
        self, dataset: Dataset | str, table: pa.Table, *, source: Source = Source.INGESTED
    ) -> WriteResult:
        """Validate and store a batch; raises `schema.ValidationError` and writes nothing if it is bad."""
        ...

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
        """Latest rows of one dataset, ISO and market, sorted by location then time.

        `start`/`end` are UTC-aware and half-open on the dataset's time column;
        `locations=None` means every location. `as_of` returns the versions
        known at that instant (published_at, or ingested_at where the ISO gave
        none). `tz` is an IANA zone (or "iso" for the ISO's market time) for
        the output timestamps, UTC when None. `block` keeps only the intervals
        of a delivery block; `resample` then averages into calendar buckets.
        The last three are applied by `present_read` and nothing else. Raises
        ValueError when `end` is not after `start`.
        """
        ...

    def locations(
        self, iso: str | None = None, search: str | None = None, location_type: str | None = None
    ) -> pa.Table:
        """The location catalog: iso, location, location_type, source, sorted by iso and location."""
        ...

    def markets(self, dataset: Dataset | str, iso: str) -> list[str]:
        """Markets (or auctions / load kinds) that hold data for this dataset and ISO."""
        ...

    def coverage(
        self, dataset: Dataset | str, iso: str, market: str | None, start: datetime, end: datetime
    ) -> pa.Table:
        """Which (location, interval) pairs are stored for one dataset, ISO and market, in `COVERAGE_SCHEMA`.

        One row per stored `(location, interval_start)` with `interval_start`
        in the UTC-aware half-open range [start, end), sorted by location then
        time: `duration_s` is the latest version's interval length in seconds
        (interval_end - interval_start), `versions` the stored rows for that
        pair and `revisions` how many of them changed an existing key.
        `location` is the dataset's location (region/product for ancillary
        prices, the ISO itself for datasets without locations). `market` must
        be given exactly when the dataset has a market column. Computed by
        the backend; no row values travel.
        """
        ...

    def data_version(
        self, dataset: Dataset | str, iso: str, market: str | None, start: datetime, end: datetime
    ) -> str:
        """An opaque token of what is stored for one dataset, ISO and market over [start, end).

        The token changes whenever a commit, from any process, adds or
        replaces stored files of that dataset/ISO/market (`market=None`: any
        market) whose time range overlaps the UTC-aware half-open range; it
        stays the same otherwise. Every store object over one store, in any
        process, gives the same token for the same state. Cheap when nothing
        changed (no data is read), so result caches, shared between processes
        too, put it in their keys.
        """
        ...

    def simulated(
        self, dataset: Dataset | str, iso: str, market: str | None, start: datetime, end: datetime
    ) -> bool:
        """Whether any stored rows of one dataset, ISO and market (None: any) over [start, end) are simulated.

        True when a batch written with `source=Source.SIMULATED` holds rows
        whose time falls in the UTC-aware half-open range, so an answer built
        from them can say it is not real data. Cheap like `data_version`: no
        rows are read. (LMP answers ask the location catalog instead, which
        knows each location's source.)
        """
        ...

    def change_cursor(self) -> str:
        """The change feed's head: a cursor after every commit so far, to follow only new ones.

        Cursors are portable: one from any store object over this store, in
        any process, resumes the feed in every other.
        """
        ...

    def changes_since(self, cursor: str, max_rows: int = 100_000) -> Changes:
        """The rows `write` committed after `cursor`, from any process, and the cursor to continue from.

        A cross-process change feed: every committed row is returned exactly
        once over successive calls, whatever number of commits landed between
        them; rows that compaction merely rewrote are never returned again.
        A page holds whole commits in commit order, up to and including the
        first that brings it to `max_rows` rows (so one commit larger than
        that is returned whole), grouped into one batch per dataset, ISO and
        market. Cheap when nothing was committed (no data is read). Raises
        `ValueError` for a malformed cursor or a `max_rows` below 1.
        """
        ...

    def close(self) -> None:
        """Release connections and file handles."""
        ...
