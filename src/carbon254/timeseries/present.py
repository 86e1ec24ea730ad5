"""Presentation of stored rows: delivery-block filter, calendar resampling, output time zone.

This runs on every read, after the store has picked the rows and versions, so
it is vectorized end to end: time arithmetic on int64 microseconds through a
cached per-zone offset table, buckets as a sorted table of UTC bounds, grouping
by a single integer code, and sums by `np.add.reduceat` over contiguous runs
(input already sorted by location then time, so the common case needs no sort
at all). Durations are whole microseconds, so coverage is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.isos import iso_info
from carbon254.timeseries._clock import (
    DAY,
    HOUR,
    Mask,
    Micros,
    ZoneClock,
    clock_for,
    segment_of,
    utc_micros,
)
from carbon254.timeseries.blocks import block_mask_local, block_time
from carbon254.timeseries.bounds import resolve_tz
from carbon254.timeseries.layout import TableLayout
from carbon254.timeseries.periods import Block, Resample

# Version metadata describes one stored row; a bucket mean has no single
# publication or ingestion time, so these go when resampling.
VERSION_COLUMNS = ("published_at", "ingested_at")

# Appended, in this order, to every resampled table: the fraction of the
# bucket's duration that has data (float64), and how many stored intervals it
# holds (int64).
RESAMPLE_COLUMNS = ("coverage", "intervals")

# Beyond this a combined group code could overflow int64.
_CODE_LIMIT = 2**62


def present(
    table: pa.Table,
    spec: TableLayout,
    iso: str,
    *,
    tz: str | None,
    resample: Resample | str | None,
    block: Block | str | None,
) -> pa.Table:
    """Rows of one dataset and ISO as the caller asked to see them.

    `table` holds canonical columns with UTC timestamps, sorted by location
    then time. Without `resample`, `block` keeps the intervals of a delivery
    block on the ISO's market clock, each classified by its start (atc and
    None keep all). `resample` gives one row per group of key columns and
    calendar hour, day or month holding data (empty buckets are left out).
    Each float column becomes the duration-weighted mean of the bucket's
    intervals, in the column's unit (e.g. $/MWh), which is the plain mean
    when intervals are regular: an interval weighs its duration (end column
    minus time column); one crossing a bucket bound is split there and each
    part weighs in its own bucket; with a `block` only the part inside the
    block's hours weighs, to the microsecond; intervals where the column is
    null do not count for it (null when none is left). The time and end
    columns become the bucket's calendar bounds even when data covers only
    part of it; strings keep their first value; `published_at` and
    `ingested_at` are dropped. Appended after the other columns: `coverage`
    (float64), the duration with rows present (nulls or not) over the
    bucket's duration, which is its calendar length (23/24/25-hour days,
    28-31-day months) or, with a block, the block's hours in it (a month's
    onpeak hours; 8 hours for a 7x8 day, 7 or 9 on DST days), so a bucket cut
    by the query window or a gap shows less than 1; and `intervals` (int64),
    the number of stored intervals contributing. Overlapping intervals of one
    series (never in valid data) would count twice, so a bucket holding an
    overlap gets a null coverage rather than a fraction that may exceed 1.
    Buckets follow the calendar of the output zone when `tz` is given, else
    the ISO's market calendar (MISO: EST all year, so its days are always 24
    hours). `tz` (an IANA name, or "iso" for the ISO's market time) is the
    zone of every output timestamp, UTC when None. Rows come out sorted by
    location then time. Raises ValueError for a bad tz/resample/block, nulls
    in the time column, or (when resampling) nulls in the end column or an
    end not after its start; KeyError for an unknown ISO.
    """
    zone_out = resolve_tz(tz, iso)
    market_zone = iso_info(iso).timezone
    block_ = Block(block) if block is not None else None
    resample_ = Resample(resample) if resample is not None else None

    utc, valid = utc_micros(table.column(spec.time_column), spec.time_column)
    if valid is not None:
        raise ValueError(f"{spec.time_column} has {table.num_rows - int(valid.sum())} null value(s)")

    out = table
    if resample_ is not None:
        in_block = block_ if block_ is not Block.ATC else None
        out = _resample(table, spec, utc, zone_out or market_zone, market_zone, resample_, in_block)
    elif block_ is not None and block_ is not Block.ATC:
        mask = block_mask_local(clock_for(market_zone, utc).to_local(utc), block_)
        if not mask.all():
            out = table.filter(pa.array(mask, type=pa.bool_()))
    return _convert_timestamps(out, zone_out) if zone_out is not None else out


def _convert_timestamps(table: pa.Table, zone: str) -> pa.Table:
    fields = []
    for f in table.schema:
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            f = f.with_type(pa.timestamp(f.type.unit, zone))
        fields.append(f)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    # Same instants, new zone label: a metadata-only cast.
    columns = [col.cast(f.type) for col, f in zip(table.columns, schema, strict=True)]
    return pa.Table.from_arrays(columns, schema=schema)


def _end_micros(table: pa.Table, spec: TableLayout, start: Micros) -> Micros:
    """The end column as UTC microseconds, checked to be present and after each start."""
    end, valid = utc_micros(table.column(spec.end_column), spec.end_column)
    if valid is not None:
        raise ValueError(f"{spec.end_column} has {table.num_rows - int(valid.sum())} null value(s)")
    backwards = int(np.count_nonzero(end <= start))
    if backwards:
        raise ValueError(f"{spec.end_column} is not after {spec.time_column} in {backwards} row(s)")
    return end


def _bucket_bounds(clock: ZoneClock, resample: Resample, lo: int, hi: int) -> Micros:
    """UTC bounds of `clock`'s consecutive calendar buckets from the one holding `lo` to the one
    holding `hi`: bucket i is [bounds[i], bounds[i + 1])."""
    if resample is Resample.HOURLY:
        return clock.hour_starts(lo - HOUR, hi + HOUR)
    local_lo, local_hi = clock.to_local(np.array([lo, hi], dtype=np.int64))
    if resample is Resample.DAILY:
        local_starts = np.arange(local_lo // DAY, local_hi // DAY + 2, dtype=np.int64) * DAY
    else:
        first, last = np.array([local_lo, local_hi]).astype("datetime64[us]").astype("datetime64[M]")
        months = np.arange(first, last + 2, dtype="datetime64[M]")
        local_starts = months.astype("datetime64[us]").astype(np.int64)
    # A day that a zone skips entirely (Samoa's 30 December 2011) starts
    # where the next one does, so it is no bucket.
    return np.unique(clock.to_utc(local_starts))


@dataclass(frozen=True, slots=True)
class _Pieces:
    """Intervals cut at bucket bounds.

    Piece i is the part of input row `row[i]` (row i when `row` is None) in
    bucket `bucket[i]`, from `start[i]` to `end[i]` in UTC microseconds.
    """

    row: Micros | None
    bucket: Micros
    start: Micros
    end: Micros

    @classmethod
    def cut(cls, start: Micros, end: Micros, bounds: Micros) -> _Pieces:
        """Intervals [start, end) split wherever they cross one of the sorted bucket `bounds`."""
        first = segment_of(bounds, start)
        last = segment_of(bounds, end - 1)
        if np.array_equal(first, last):
            return cls(None, first, start, end)
        count = last - first + 1
        row = np.repeat(np.arange(len(start), dtype=np.int64), count)
        nth = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        bucket = first[row] + nth
        return cls(
            row, bucket, np.maximum(start[row], bounds[bucket]), np.minimum(end[row], bounds[bucket + 1])
        )

    def where(self, mask: Mask) -> _Pieces:
        """The pieces where `mask` is true."""
        kept = np.flatnonzero(mask)
        row = kept if self.row is None else self.row[kept]
        return _Pieces(row, self.bucket[kept], self.start[kept], self.end[kept])


def _dictionary_codes(column: pa.Array | pa.ChunkedArray) -> tuple[Micros, int]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    # Rank the distinct values so groups come out in value order, nulls last.
    ranks = np.asarray(pc.rank(encoded.dictionary, sort_keys="ascending"), dtype=np.int64) - 1
    cardinality = len(encoded.dictionary)
    indices = np.asarray(pc.fill_null(encoded.indices, cardinality), dtype=np.int64)
    codes = np.append(ranks, cardinality)[indices]
    return codes, cardinality + 1


def _key_codes(column: pa.Array | pa.ChunkedArray) -> tuple[Micros, int] | None:
    """Integer codes ordering a key column's values, or None when it holds one value.

    Neighbour comparisons are several times cheaper than hashing; for a column
    that is already sorted (the location column, constant ones like iso) the
    runs of equal neighbours are the codes.
    """
    n = len(column)
    if n < 2:
        return None
    if column.null_count:
        return _dictionary_codes(column)
    changed = np.asarray(pc.not_equal(column.slice(1), column.slice(0, n - 1)), dtype=np.bool_)
    run_starts = np.flatnonzero(changed) + 1
    if len(run_starts) == 0:
        return None
    run_starts = np.insert(run_starts, 0, 0)
    # The column is sorted exactly when its runs' values strictly increase, a
    # check on one value per run instead of another pass over every row.
    heads = column.take(run_starts)
    if not pc.all(pc.less(heads.slice(0, len(heads) - 1), heads.slice(1))).as_py():
        return _dictionary_codes(column)
    lengths = np.diff(run_starts, append=n)
    return np.repeat(np.arange(len(run_starts), dtype=np.int64), lengths), len(run_starts)


def _group_code(parts: list[tuple[Micros, int]]) -> Micros:
    """One int64 per row ordering rows by the parts, most significant first."""
    code = parts[0][0].copy()
    cardinality = parts[0][1]
    for codes, k in parts[1:]:
        if cardinality * k >= _CODE_LIMIT:
            # Renumber densely (keeps order) so the product fits again.
            _, code = np.unique(code, return_inverse=True)
            cardinality = int(code.max()) + 1
        code *= k
        code += codes
        cardinality *= k
    return code


def _runs(code: Micros) -> tuple[Micros | None, Micros]:
    """Sort order (None when already sorted) and the start of each run of equal codes."""
    order: Micros | None = None
    if len(code) > 1 and (code[1:] < code[:-1]).any():
        order = np.argsort(code, kind="stable")
        code = code[order]
    boundary = np.empty(len(code), dtype=np.bool_)
    boundary[:1] = True
    np.not_equal(code[1:], code[:-1], out=boundary[1:])
    return order, np.flatnonzero(boundary)


# Sums in binary floating point leave means like -0.6412500000000001. Six
# decimals is below any ISO's published precision (CAISO's is five) and keeps
# JSON and CSV answers readable.
MEAN_DECIMALS = 6


def _group_mean(
    column: pa.ChunkedArray,
    take: Micros | None,
    starts: Micros,
    sizes: Micros,
    weight: npt.NDArray[np.float64] | None,
) -> pa.Array:
    """Mean per run of `column` gathered by `take`, weighted by `weight` (equal when None), ignoring nulls."""
    values = np.asarray(column.to_numpy(), dtype=np.float64)
    if take is not None:
        values = values[take]
    if weight is None:
        if column.null_count == 0:
            # The common case: every run is full, so its size is its count.
            means = np.add.reduceat(values, starts) / sizes
            return pa.array(np.round(means, MEAN_DECIMALS), type=pa.float64()).cast(column.type)
        weight = np.ones(len(values))
    seen: Mask = ~np.isnan(values)
    sums = np.add.reduceat(np.where(seen, values * weight, 0.0), starts)
    weights = np.add.reduceat(np.where(seen, weight, 0.0), starts)
    means = np.round(sums / np.where(weights > 0, weights, 1.0), MEAN_DECIMALS)
    return pa.array(means, type=pa.float64(), mask=weights == 0).cast(column.type)


def _overlaps(
    start: Micros, end: Micros, order: Micros | None, starts: Micros
) -> tuple[Micros | None, Mask | None]:
    """The sort order that puts each run's pieces in time order, and which runs hold an overlap
    (None when none does).

    Within a run the pieces keep the input's order, which is time order when
    the input is sorted by location then time, so in the common case one
    comparison of neighbours finds nothing. Pieces out of time order also
    look like overlaps there; they are sorted by start and looked at again.
    """
    s = start if order is None else start[order]
    e = end if order is None else end[order]
    clash = s[1:] < e[:-1]
    clash[starts[1:] - 1] = False  # neighbours in different runs
    if not clash.any():
        return order, None
    backwards = s[1:] < s[:-1]
    backwards[starts[1:] - 1] = False
    if backwards.any():
        run = np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(starts, append=len(start)))
        order = (np.arange(len(start)) if order is None else order)[np.lexsort((s, run))]
        s, e = start[order], end[order]
        clash = s[1:] < e[:-1]
        clash[starts[1:] - 1] = False
    flagged = np.zeros(len(starts), dtype=np.bool_)
    flagged[np.searchsorted(starts, np.flatnonzero(clash) + 1, side="right") - 1] = True
    return order, flagged if flagged.any() else None


def _resample(
    table: pa.Table,
    spec: TableLayout,
    utc: Micros,
    bucket_zone: str,
    market_zone: str,
    resample: Resample,
    block: Block | None,
) -> pa.Table:
    """One row per group of key columns and calendar bucket of `bucket_zone`; see `present`."""
    names = [n for n in table.column_names if n not in VERSION_COLUMNS]
    end = _end_micros(table, spec, utc)
    if len(utc) == 0:
        return _no_buckets(table.select(names))
    lo, hi = int(utc.min()), int(end.max())
    span = np.array([lo, hi], dtype=np.int64)
    bounds = _bucket_bounds(clock_for(bucket_zone, span), resample, lo, hi)
    pieces = _Pieces.cut(utc, end, bounds)
    duration = np.diff(bounds)
    if block is None:
        weight = pieces.end - pieces.start
    else:
        hours = block_time(clock_for(market_zone, span), block, int(bounds[0]), int(bounds[-1]))
        weight = hours.within(pieces.start, pieces.end)
        duration = np.diff(hours.until(bounds))
        inside = weight > 0
        if not inside.all():
            pieces, weight = pieces.where(inside), weight[inside]
            if len(weight) == 0:
                return _no_buckets(table.select(names))

    keys = [k for k in spec.key if k != spec.time_column and k in table.column_names]
    location = spec.location_column if spec.location_column in keys else None
    coded = {name: _key_codes(table.column(name)) for name in keys}
    # Most significant first: location, then bucket, then the other keys, so
    # that the groups come out sorted by location then time.
    leading = [coded[location]] if location else []
    trailing = [coded[name] for name in keys if name != location]
    parts = [p for p in leading if p is not None]
    parts += [(pieces.bucket, int(pieces.bucket.max()) + 1)]
    parts += [p for p in trailing if p is not None]
    if pieces.row is not None:
        # Key codes are per input row; a row may have become several pieces or none.
        row = pieces.row
        parts = [(codes if codes is pieces.bucket else codes[row], k) for codes, k in parts]
    order, starts = _runs(_group_code(parts))
    order, overlapping = _overlaps(pieces.start, pieces.end, order, starts)

    sizes = np.diff(starts, append=len(weight))
    sorted_weight = weight if order is None else weight[order]
    covered = np.add.reduceat(sorted_weight, starts)
    take = order if pieces.row is None else (pieces.row if order is None else pieces.row[order])
    first_piece = starts if order is None else order[starts]
    bucket = pieces.bucket[first_piece]
    source_rows = first_piece if pieces.row is None else pieces.row[first_piece]
    # Equal weights (regular intervals, nothing cut) make the plain mean, summed without products.
    mean_weight = None if weight.min() == weight.max() else sorted_weight.astype(np.float64)
    utc_type = pa.timestamp("us", "UTC")

    columns: list[pa.Array | pa.ChunkedArray] = []
    fields: list[pa.Field] = []
    for name in names:
        f = table.schema.field(name)
        column = table.column(name)
        if name == spec.time_column:
            columns.append(pa.array(bounds[bucket], type=utc_type))
            f = f.with_type(utc_type)
        elif name == spec.end_column:
            columns.append(pa.array(bounds[bucket + 1], type=utc_type))
            f = f.with_type(utc_type)
        elif pa.types.is_floating(f.type) and name not in keys:
            columns.append(_group_mean(column, take, starts, sizes, mean_weight))
        else:
            columns.append(column.take(source_rows))
        fields.append(f)
    out = pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))
    coverage = covered / duration[bucket]
    return _with_counts(out, coverage, overlapping, sizes)


def _with_counts(
    table: pa.Table, coverage: npt.NDArray[np.float64], unknown: Mask | None, intervals: Micros
) -> pa.Table:
    """`table` with the `RESAMPLE_COLUMNS` appended (coverage null where `unknown`)."""
    coverage_name, intervals_name = RESAMPLE_COLUMNS
    table = table.append_column(
        pa.field(coverage_name, pa.float64()), pa.array(coverage, type=pa.float64(), mask=unknown)
    )
    return table.append_column(
        pa.field(intervals_name, pa.int64(), nullable=False), pa.array(intervals, type=pa.int64())
    )


def _no_buckets(table: pa.Table) -> pa.Table:
    return _with_counts(table.slice(0, 0), np.zeros(0), None, np.zeros(0, dtype=np.int64))
