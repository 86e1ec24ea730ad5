"""Response bodies: JSON, CSV, Parquet and Arrow IPC from one Arrow table, and content negotiation.

JSON and CSV are built column-wise by Polars (no per-row Python), with every
timestamp rendered as ISO-8601 with its UTC offset in the requested zone.
Parquet and Arrow keep the Arrow types, timestamps zone-aware, so pandas,
Polars and DuckDB read them back without conversion; the response metadata
travels in the schema metadata under `carbon254` as JSON.
"""

from __future__ import annotations

import io
from enum import StrEnum
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from starlette.responses import Response

# %:z writes the offset as +00:00 / -05:00, which every ISO-8601 parser accepts.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
METADATA_KEY = b"carbon254"


class Format(StrEnum):
    """Response body formats."""

    JSON = "json"
    CSV = "csv"
    PARQUET = "parquet"
    ARROW = "arrow"


MEDIA_TYPES: dict[Format, str] = {
    Format.JSON: "application/json",
    Format.CSV: "text/csv; charset=utf-8",
    Format.PARQUET: "application/vnd.apache.parquet",
    Format.ARROW: "application/vnd.apache.arrow.stream",
}


def openapi_content() -> dict[str, dict[str, Any]]:
    """OpenAPI `content` entries for every body format, so the docs list what `Accept` may ask for."""
    return {media.split(";")[0]: {} for media in MEDIA_TYPES.values()}


_ACCEPTED: dict[str, Format] = {
    "application/json": Format.JSON,
    "text/csv": Format.CSV,
    "application/csv": Format.CSV,
    "application/vnd.apache.parquet": Format.PARQUET,
    "application/x-parquet": Format.PARQUET,
    "application/parquet": Format.PARQUET,
    "application/vnd.apache.arrow.stream": Format.ARROW,
}


def negotiate(requested: Format | None, accept: str | None) -> Format:
    """The body format: `format=` if given, else the best supported `Accept` type, else JSON.

    Accept entries are ranked by their q-value (ties keep header order); an
    Accept that names nothing supported still gets JSON rather than a 406,
    since a browser or a generic client asking for `text/html` is better
    served by JSON than by an error.
    """
    if requested is not None:
        return requested
    if not accept:
        return Format.JSON
    ranked: list[tuple[float, int, Format]] = []
    for position, entry in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in entry.split(";"))
        fmt = _ACCEPTED.get(media.lower())
        if fmt is None:
            continue
        q = 1.0
        for p in params:
            name, _, value = p.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, position, fmt))
    return min(ranked)[2] if ranked else Format.JSON


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


def _as_text_frame(table: pa.Table) -> pl.DataFrame:
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


def json_body(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    """`{"data": [{row}, ...], **metadata}` as bytes; rows keep the table's column order."""
    frame = _as_text_frame(table)
    data = frame.write_json().encode() if frame.height else b"[]"
    rest = orjson.dumps(metadata) if metadata else b"{}"
    # Splice the Polars-encoded rows into the orjson-encoded metadata object
    # instead of round-tripping thousands of rows through Python objects.
    return b'{"data":' + data + (b"," + rest[1:] if len(rest) > 2 else b"}")


def csv_body(table: pa.Table) -> bytes:
    """CSV with a header row; empty cells are nulls."""
    return _as_text_frame(table).write_csv().encode()


def _with_metadata(table: pa.Table, metadata: dict[str, Any]) -> pa.Table:
    merged = dict(table.schema.metadata or {})
    merged[METADATA_KEY] = orjson.dumps(metadata)
    return table.replace_schema_metadata(merged)


def parquet_body(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    """A Parquet file (zstd) of the table, metadata in the schema under `carbon254`."""
    sink = io.BytesIO()
    pq.write_table(_with_metadata(table, metadata), sink, compression="zstd")
    return sink.getvalue()


def arrow_body(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    """An Arrow IPC stream of the table, metadata in the schema under `carbon254`."""
    tagged = _with_metadata(table, metadata)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, tagged.schema) as writer:
        writer.write_table(tagged)
    payload: bytes = sink.getvalue().to_pybytes()
    return payload


def encode(
    table: pa.Table,
    fmt: Format,
    *,
    metadata: dict[str, Any],
    tz: str | None,
    filename: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """The HTTP response carrying `table` in `fmt`, timestamps shown in `tz` (UTC when None).

    `metadata` becomes top-level JSON keys next to `data`, or the `carbon254`
    schema metadata of Parquet/Arrow; CSV has nowhere to put it, so the
    caller's `headers` carry what matters there. `filename` has no extension.
    """
    table = localize(table, tz)
    out_headers = {"Vary": "Accept", **(headers or {})}
    if fmt is Format.JSON:
        content = json_body(table, metadata)
    else:
        extension = {Format.CSV: "csv", Format.PARQUET: "parquet", Format.ARROW: "arrows"}[fmt]
        out_headers["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
        if fmt is Format.CSV:
            content = csv_body(table)
        elif fmt is Format.PARQUET:
            content = parquet_body(table, metadata)
        else:
            content = arrow_body(table, metadata)
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=out_headers)
