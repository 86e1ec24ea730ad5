"""Presentation of stored rows: delivery-block filter, calendar resampling, output time zone.

This runs on every read, after the store has picked the rows and versions, so
it is vectorized end to end: time arithmetic on int64 microseconds through a
cached per-zone offset table, grouping by a single integer code, and means by
`np.add.reduceat` over contiguous runs (input already sorted by location then
time, so the common case needs no sort at all).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.isos import iso_info
from carbon254.timeseries._clock import DAY, HOUR, Mask, Micros, ZoneClock, clock_for, utc_micros
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.bounds import resolve_tz
from carbon254.timeseries.layout import TableLayout
from carbon254.timeseries.periods import Block, Resample

# Version metadata describes one stored row; a bucket mean has no single
# publication or ingestion time, so these go when resampling.
VERSION_COLUMNS = ("published_at", "ingested_at")

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
    then time. In order: `block` keeps the intervals of a delivery block on
    the ISO's market clock (atc and None keep all); `resample` averages every
    float column over calendar hours, days or months per group of key columns
    (string values keep their first value, `published_at`/`ingested_at` are
    dropped, the time and end columns become the bucket boundaries); `tz` (an
    IANA name, or "iso" for the ISO's market time) is the zone of every output
    timestamp, UTC when None. Buckets follow the output zone's calendar when
    `tz` is given, else the ISO's market calendar, so a day can be 23 or 25
    hours. The result keeps the input's column order, sorted by location then
    time. Raises ValueError for a bad tz/resample/block or a time column with
    nulls, KeyError for an unknown ISO.
    """
    zone_out = resolve_tz(tz, iso)
    market_zone = iso_info(iso).timezone
    block_ = Block(block) if block is not None else None
    resample_ = Resample(resample) if resample is not None else None

    utc, valid = utc_micros(table.column(spec.time_column), spec.time_column)
    if valid is not None:
        raise ValueError(f"{spec.time_column} has {table.num_rows - int(valid.sum())} null value(s)")

    rows: Micros | None = None
    local: Micros | None = None  # wall clock of the ISO's market zone, computed at most once
    out = table
    if block_ is not None and block_ is not Block.ATC:
        local = clock_for(market_zone, utc).to_local(utc)
        mask = block_mask_local(local, block_)
        if not mask.all():
            rows = np.flatnonzero(mask)
            utc, local = utc[rows], local[rows]
            if resample_ is None:
                out = table.filter(pa.array(mask, type=pa.bool_()))
    if resample_ is not None:
        bucket_zone = zone_out or market_zone
        clock = clock_for(bucket_zone, utc)
        if local is None or bucket_zone != market_zone:
            local = clock.to_local(utc)
        out = _resample(table, spec, rows, utc, local, clock, resample_)
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


def _bucket_index(
    utc: Micros, local: Micros, clock: ZoneClock, resample: Resample
) -> tuple[Micros, Micros | None]:
    """Per row: a dense integer bucket index and, for hourly, the bucket's UTC start."""
    if resample is Resample.HOURLY:
        start = utc - np.mod(local, HOUR)
        return (start - start.min()) // clock.step, start
    if resample is Resample.DAILY:
        day = local // DAY
        return day - day.min(), None
    month = local.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    return month - month.min(), None


def _bucket_bounds(
    local: Micros, clock: ZoneClock, resample: Resample, hourly_start: Micros | None
) -> tuple[Micros, Micros]:
    """UTC start and end of the buckets holding the given wall-clock times."""
    if hourly_start is not None:
        return hourly_start, hourly_start + HOUR
    if resample is Resample.DAILY:
        day_start = local // DAY * DAY
        return clock.to_utc(day_start), clock.to_utc(day_start + DAY)
    month = local.astype("datetime64[us]").astype("datetime64[M]")
    first_local = month.astype("datetime64[us]").astype(np.int64)
    next_local = (month + 1).astype("datetime64[us]").astype(np.int64)
    return clock.to_utc(first_local), clock.to_utc(next_local)


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
    column: pa.ChunkedArray, rows: Micros | None, order: Micros | None, starts: Micros, sizes: Micros
) -> pa.Array:
    """Mean per run of `column` restricted to `rows` and permuted by `order`, ignoring nulls."""
    values = np.asarray(column.to_numpy(), dtype=np.float64)
    if rows is not None:
        values = values[rows]
    if order is not None:
        values = values[order]
    if column.null_count == 0:
        # The common case: every run is full, so its size is its count.
        means = np.add.reduceat(values, starts) / sizes
        return pa.array(np.round(means, MEAN_DECIMALS), type=pa.float64()).cast(column.type)
    seen: Mask = ~np.isnan(values)
    sums = np.add.reduceat(np.where(seen, values, 0.0), starts)
    counts = np.add.reduceat(seen.astype(np.int64), starts)
    means = np.round(sums / np.maximum(counts, 1), MEAN_DECIMALS)
    return pa.array(means, type=pa.float64(), mask=counts == 0).cast(column.type)


def _resample(
    table: pa.Table,
    spec: TableLayout,
    rows: Micros | None,
    utc: Micros,
    local: Micros,
    clock: ZoneClock,
    resample: Resample,
) -> pa.Table:
    """Bucket means of `rows` (all when None), whose instants are `utc` and wall times `local`."""
    names = [n for n in table.column_names if n not in VERSION_COLUMNS]
    if len(utc) == 0:
        return table.select(names).slice(0, 0)
    bucket, hourly_start = _bucket_index(utc, local, clock, resample)

    keys = [k for k in spec.key if k != spec.time_column and k in table.column_names]
    location = spec.location_column if spec.location_column in keys else None
    coded = {name: _key_codes(table.column(name)) for name in keys}
    # Most significant first: location, then bucket, then the other keys, so
    # that the groups come out sorted by location then time.
    leading = [coded[location]] if location else []
    trailing = [coded[name] for name in keys if name != location]
    parts = [p for p in leading if p is not None]
    parts += [(bucket, int(bucket.max()) + 1)]
    parts += [p for p in trailing if p is not None]
    if rows is not None:
        # Key codes were computed on every row; the bucket only on kept ones.
        parts = [(codes if codes is bucket else codes[rows], k) for codes, k in parts]
    order, starts = _runs(_group_code(parts))

    first = starts if order is None else order[starts]
    sizes = np.diff(starts, append=len(utc))
    source_rows = first if rows is None else rows[first]
    start, end = _bucket_bounds(
        local[first], clock, resample, None if hourly_start is None else hourly_start[first]
    )
    utc_type = pa.timestamp("us", "UTC")

    columns: list[pa.Array | pa.ChunkedArray] = []
    fields: list[pa.Field] = []
    for name in names:
        f = table.schema.field(name)
        column = table.column(name)
        if name == spec.time_column:
            columns.append(pa.array(start, type=utc_type))
            f = f.with_type(utc_type)
        elif name == spec.end_column:
            columns.append(pa.array(end, type=utc_type))
            f = f.with_type(utc_type)
        elif pa.types.is_floating(f.type) and name not in keys:
            columns.append(_group_mean(column, rows, order, starts, sizes))
        else:
            columns.append(column.take(source_rows))
        fields.append(f)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))
