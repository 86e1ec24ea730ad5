"""Run-stamped markets: each dispatch run's interval ends when the next run of its location starts.

Some real-time prices are published once per dispatch run, every row stamped
with the run's start (ERCOT SCED: runs roughly every 5 minutes, sooner when
SCED is re-run; reports marked `Report.run_stamped`). A run's price holds
until the next run starts, which one file cannot know, so the parser gives
each run its nominal length (`Report.interval`, 5 minutes) as a provisional
end. Ingest then makes a location's runs tile time without overlapping,
whatever way they arrive (one file per run, a page or archive of many runs,
a canonical file, in order or not):

* A run ends at the start of the next run of the same location, among the
  runs of the batch and those already stored, and never later than its
  nominal end: the cap is the provisional end itself, so a missing run
  leaves a visible gap rather than one long interval, and an end only ever
  shortens (a run 5 min 3 s after the previous one leaves 3 s uncovered).
* A stored run that a run of the batch cuts short gets a new version ending
  at that run's start, published when that run was (and never before the
  stored run itself was known), so `as_of` before the later run still shows
  the provisional end. It is written in the same atomic batch.

A batch holds one version per key, so a run arriving together with, or
after, the run that follows it is stored once, already ended by it.
Stored runs are read through `Store.read` over one nominal length around
the batch: since no run outlasts its nominal length, no earlier run can
reach into the batch. Everything is columnar: per run-stamped market in
the batch, one store read and one Polars sort of the runs by location and
time, with each run's successor read off the next row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from carbon254.isos import Iso
from carbon254.markets.registry import reports_for
from carbon254.schema import Dataset, DatasetSpec, spec, validate
from carbon254.store.base import Source, Store, WriteResult

_ROW, _SROW, _PUB = "__row", "__stored_row", "__pub"
_NEXT, _NEXT_PUB, _NEXT_NEW = "__next", "__next_pub", "__next_new"
_INSTANT = pl.Datetime("us", "UTC")
# Marks "no later run of this location" while ties are filled from the row after them.
_LAST = pl.lit(datetime.max.replace(tzinfo=UTC), _INSTANT)


@dataclass(frozen=True, slots=True)
class RunMarket:
    """A run-stamped market in a batch: ISO, market (None without a market column), nominal run length."""

    iso: str
    market: str | None
    length: timedelta


def run_length(iso: str, dataset: Dataset | str, market: str | None) -> timedelta | None:
    """The nominal length of one run of a run-stamped market, None when the market is not run-stamped.

    `market` is the stored market name (ignored for datasets without a
    market column, such as `ordc_adder`); an unknown ISO is not run-stamped.
    """
    spec_ = spec(dataset)
    try:
        known = Iso(iso)
    except ValueError:
        return None
    for report in reports_for(known):
        if (
            report.run_stamped
            and report.interval is not None
            and report.dataset is spec_.name
            and (spec_.market_column is None or market in report.markets)
        ):
            return report.interval
    return None


def run_markets(spec_: DatasetSpec, table: pa.Table) -> list[RunMarket]:
    """The run-stamped markets among the rows of `table` (a batch of `spec_`'s dataset, validated or not).

    A table without the ISO (or market) column, or with values of another
    type, has none: validation names what is wrong with it.
    """
    scope = _scope(spec_)
    if any(c not in table.column_names for c in scope) or table.num_rows == 0:
        return []
    found = []
    for row in _frame(table.select(scope)).unique().rows():
        iso, market = row[0], (row[1] if len(row) > 1 else None)
        if not isinstance(iso, str) or (spec_.market_column is not None and not isinstance(market, str)):
            continue
        length = run_length(iso, spec_.name, market)
        if length is not None:
            found.append(RunMarket(iso, market, length))
    return found


def end_runs(store: Store, spec_: DatasetSpec, table: pa.Table) -> pa.Table:
    """A validated batch with each run-stamped run ended at its location's next run, plus stored runs it cuts.

    `table` holds canonical types (`schema.validate`), possibly without some
    optional columns. Rows of markets that are not run-stamped come back as
    they are; a run-stamped row's `interval_end` becomes the earliest of its
    own end, its start plus the nominal run length, and the start of the
    next run of its location in the batch or the store (UTC). The latest
    stored versions of runs that a run of the batch starts before they end
    are appended, ended at that run's start with its `published_at` (or the
    stored run's own publication, if that is later), in `table`'s columns.
    Row order and count of `table` are kept, so validation messages still
    point at its rows. Raises `StoreError` when the store cannot be read.
    """
    markets = run_markets(spec_, table)
    if not markets:
        return table
    t, e = spec_.time_column, spec_.end_column
    scope = _scope(spec_)
    batch = _frame(table.select([*scope, *_where(spec_), t, e])).with_row_index(_ROW)
    published = (
        _frame(table.select(["published_at"])).to_series()
        if "published_at" in table.column_names
        else pl.Series("published_at", [None] * table.num_rows, _INSTANT)
    )
    batch = batch.with_columns(published.alias(_PUB))
    ends = np.array(table.column(e).cast(pa.int64()).to_numpy(), dtype=np.int64)
    cuts = []
    for m in markets:
        mine = batch.filter(pl.col("iso") == m.iso)
        if spec_.market_column is not None:
            mine = mine.filter(pl.col(spec_.market_column) == m.market)
        ended, cut = _end_market(spec_, mine, _stored(store, spec_, m, mine), m.length)
        ends[ended[_ROW].to_numpy()] = ended[e].cast(pl.Int64).to_numpy()
        cuts.append(cut)
    index = table.schema.get_field_index(e)
    out = table.set_column(index, table.schema.field(index), pa.array(ends).cast(table.schema.field(e).type))
    revised = pl.concat(cuts)
    if revised.height == 0:
        return out
    return pa.concat_tables([out, revised.select(out.column_names).to_arrow().cast(out.schema)])


def write_canonical(
    store: Store, dataset: Dataset | str, table: pa.Table, *, source: Source = Source.INGESTED
) -> WriteResult:
    """Write one canonical batch (a CSV or Parquet file's rows, say) the way ingest writes any batch.

    Runs of run-stamped markets are ended first (`end_runs`): such a batch
    is validated here, raising `schema.ValidationError` with the rows of
    `table` as the store would, and the columns it leaves out stay left out
    (the store then keeps their stored values). Other batches go to
    `Store.write` unchanged. Raises what `Store.write` raises.
    """
    spec_ = spec(dataset)
    if run_markets(spec_, table):
        valid = validate(spec_.name, table)
        given = valid.select([c for c in valid.column_names if c in table.column_names])
        table = end_runs(store, spec_, given)
    return store.write(spec_.name, table, source=source)


def _scope(spec_: DatasetSpec) -> list[str]:
    return ["iso"] if spec_.market_column is None else ["iso", spec_.market_column]


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _where(spec_: DatasetSpec) -> list[str]:
    """The key columns naming a location within one market (none for `ordc_adder`, one series per ISO)."""
    return [c for c in spec_.key if c not in (*_scope(spec_), spec_.time_column)]


def _stored(store: Store, spec_: DatasetSpec, market: RunMarket, mine: pl.DataFrame) -> pl.DataFrame:
    """Latest stored runs at the batch's locations from one run length before its runs to one after.

    Runs the batch itself gives again are left out: the batch's version wins.
    """
    t, where = spec_.time_column, _where(spec_)
    first, last = mine.select(pl.col(t).min(), pl.col(t).max().alias("last")).row(0)
    span = (first - market.length, last + market.length)
    read = _frame(store.read(spec_.name, market.iso, market.market, None, *span))
    if where:
        read = read.join(mine.select(where).unique(), on=where, how="semi")
    return read.join(mine.select([*where, t]), on=[*where, t], how="anti")


def _end_market(
    spec_: DatasetSpec, mine: pl.DataFrame, stored: pl.DataFrame, length: timedelta
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(row, new end) of the batch's runs of one market, and the stored runs they cut, revised.

    The batch's and the stored runs are sorted into one timeline per
    location; a run's next run is the following row of its location with
    a later start (rows repeating a start take the next distinct one).
    """
    t, e, where = spec_.time_column, spec_.end_column, _where(spec_)
    stored = stored.with_row_index(_SROW)
    timeline = pl.concat(
        [
            mine.select(*where, t, e, _ROW, _PUB, pl.lit(None, pl.UInt32).alias(_SROW)),
            stored.select(
                *where, t, e, pl.lit(None, pl.UInt32).alias(_ROW), pl.lit(None, _INSTANT).alias(_PUB), _SROW
            ),
        ]
    ).sort([*where, t, _ROW], nulls_last=True)
    same = pl.all_horizontal([pl.col(c) == pl.col(c).shift(-1) for c in where]) if where else pl.lit(True)
    same = same & pl.col(t).shift(-1).is_not_null()
    later = pl.col(t).shift(-1)
    following = (
        pl.when(~same).then(_LAST).when(later == pl.col(t)).then(None).otherwise(later).backward_fill()
    )
    timeline = timeline.with_columns(
        pl.when(following != _LAST).then(following).alias(_NEXT),
        (same & pl.col(_ROW).shift(-1).is_not_null()).alias(_NEXT_NEW),
        pl.col(_PUB).shift(-1).alias(_NEXT_PUB),
    )
    ended = timeline.filter(pl.col(_ROW).is_not_null()).select(
        _ROW, pl.min_horizontal(e, pl.col(t) + length, _NEXT).alias(e)
    )
    cut = timeline.filter(pl.col(_SROW).is_not_null() & pl.col(_NEXT_NEW) & (pl.col(_NEXT) < pl.col(e)))
    revised = stored.join(cut.select(_SROW, _NEXT, _NEXT_PUB), on=_SROW, how="inner").with_columns(
        pl.col(_NEXT).alias(e),
        pl.when(pl.col(_NEXT_PUB).is_not_null())
        .then(pl.max_horizontal(_NEXT_PUB, pl.coalesce("published_at", "ingested_at")))
        .alias("published_at"),
    )
    return ended, revised.drop(_SROW, _NEXT, _NEXT_PUB)
