"""Arrow tables from the service as the frame the caller asked for: pandas, Polars or Arrow.

The service sends Arrow IPC with zone-aware timestamps already in the zone
asked for (`tz`; UTC by default), so they stay zone-aware in every frame.
Name columns (iso, market, location, ...) become categoricals: a year of 50
locations repeats each name thousands of times.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

FrameKind = Literal["pandas", "polars", "arrow"]
FRAME_KINDS: tuple[FrameKind, ...] = ("pandas", "polars", "arrow")

# Columns holding names, made categorical in pandas and Polars frames.
CATEGORICAL_COLUMNS = frozenset(
    {
        "iso",
        "market",
        "location",
        "minus",
        "region",
        "product",
        "auction",
        "zone",
        "kind",
        "location_type",
        "source",
    }
)


def read_ipc(body: bytes) -> pa.Table:
    """The table of an Arrow IPC stream body."""
    with pa.ipc.open_stream(io.BytesIO(body)) as reader:
        return reader.read_all()


def numeric_rows(rows: list[dict[str, Any]], kept: Sequence[str]) -> pa.Table:
    """JSON rows as a table, every column but `kept` as float64 (JSON writes 0.0 as 0, an int)."""
    table = pa.Table.from_pylist(rows)
    return pa.table(
        {
            name: table.column(name) if name in kept else table.column(name).cast(pa.float64())
            for name in table.column_names
        }
    )


def check_frame(frame: str) -> FrameKind:
    """`frame` if it is one of pandas, polars, arrow; else `ValueError` naming them."""
    if frame not in FRAME_KINDS:
        raise ValueError(f"frame must be one of {', '.join(FRAME_KINDS)}, got {frame!r}")
    return frame


def with_categories(table: pa.Table) -> pa.Table:
    """`table` with its name columns dictionary-encoded (pandas and Polars read them as categoricals)."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if field.name in CATEGORICAL_COLUMNS and pa.types.is_string(field.type):
            column = pc.dictionary_encode(column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A pandas DataFrame: zone-aware timestamps, categorical names, float prices."""
    return with_categories(table).to_pandas()


def to_polars(table: pa.Table) -> pl.DataFrame:
    """A Polars DataFrame (Polars must be installed): zone-aware datetimes, categorical names."""
    try:
        import polars as pl
    except ImportError:
        raise ImportError('frame="polars" needs Polars: pip install polars') from None
    frame = pl.from_arrow(with_categories(table))
    assert isinstance(frame, pl.DataFrame)
    return frame
