"""Building canonical tables from a parser's Polars frame.

Parsers work in Polars and finish here, so column order, types and the
metadata columns (`published_at`, `ingested_at`, left null for the ingest
job) are the same for every ISO.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from carbon254.markets.report import ParseError
from carbon254.schema import Dataset, spec


def canonical_table(dataset: Dataset, frame: pl.DataFrame) -> pa.Table:
    """`frame` as an Arrow table of `dataset`'s schema, columns in schema order.

    Optional columns the frame lacks become nulls; a missing required column
    raises `ParseError` (a parser bug or a layout change, never silently
    filled).
    """
    schema = spec(dataset).schema
    missing = [c for c in spec(dataset).required if c not in frame.columns]
    if missing:
        raise ParseError(f"parsed {dataset.value} rows lack required column(s): {', '.join(missing)}")
    columns = []
    for field in schema:
        if field.name in frame.columns:
            columns.append(frame[field.name].to_arrow().cast(field.type))
        else:
            columns.append(pa.nulls(frame.height, field.type))
    return pa.Table.from_arrays(columns, schema=schema)
