"""Arrow tables as delivered: timestamps in the caller's zone, and their text (CSV) form."""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from carbon254.schema import positive_zero

# %:z writes the offset as +00:00 / -05:00, which every ISO-8601 parser accepts.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
# Every Parquet file the platform hands out: zstd reads fast and packs prices well.
PARQUET_COMPRESSION = "zstd"


def localize(table: pa.Table, tz: str | None) -> pa.Table:
    """Every timestamp column expressed in `tz` (UTC when None); the instants are unchanged."""
    target = pa.timestamp("us", tz=tz or "UTC")
    fields = []
    columns = []
    for f, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(f.type) and f.type.tz is not None and f.type != target:
            col = col.cast(target)
            f = f.with_type(target)
        fields.append(f)
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))


def presented(table: pa.Table, tz: str | None) -> pa.Table:
    """The table as every format delivers it: timestamps in `tz` (UTC when None), -0.0 written as 0.0.

    Stored values never hold -0.0 (validation writes it as 0.0), but computed
    ones can (a resampled mean, a spread of equal prices), and an answer must
    read back as the store keeps it.
    """
    return positive_zero(localize(table, tz))


def text_frame(table: pa.Table) -> pl.DataFrame:
    """A Polars frame with timestamps as ISO-8601 strings and NaN as null, ready for JSON or CSV."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(name).dt.to_string(TIMESTAMP_FORMAT))
        elif dtype.is_float():
            # JSON has no NaN; a mean over no values is "no value", i.e. null.
            exprs.append(pl.col(name).fill_nan(None))
    return frame.with_columns(exprs) if exprs else frame


def csv_bytes(table: pa.Table, *, header: bool = True) -> bytes:
    """CSV of a presented table (see `presented`), with a header row unless `header` is False.

    Empty cells are nulls; floats are the shortest text that reads back to the
    same double. Slices of one table written in turn, the first with its
    header, join to the bytes of the whole table.
    """
    return text_frame(table).write_csv(include_header=header).encode()
