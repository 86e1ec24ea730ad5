"""Format-neutral table encodings shared by REST answers and exported files.

One implementation of how rows become text (timestamps as ISO-8601 with
their UTC offset in the requested zone, NaN as an empty cell, -0.0 as 0.0)
and how they become Parquet, so a CSV answer of `/v1/lmp` and a CSV export
of the same query are the same bytes. No web framework is imported here.
"""

from __future__ import annotations

from carbon254.formats.tables import (
    PARQUET_COMPRESSION,
    TIMESTAMP_FORMAT,
    csv_bytes,
    localize,
    presented,
    text_frame,
)

__all__ = ["PARQUET_COMPRESSION", "TIMESTAMP_FORMAT", "csv_bytes", "localize", "presented", "text_frame"]
