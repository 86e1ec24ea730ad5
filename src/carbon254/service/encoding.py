"""Response bodies: JSON, CSV, Parquet and Arrow IPC from one Arrow table, and content negotiation.

JSON and CSV are built column-wise by Polars (no per-row Python), with every
timestamp rendered as ISO-8601 with its UTC offset in the requested zone.
Parquet and Arrow keep the Arrow types, timestamps zone-aware, so pandas,
Polars and DuckDB read them back without conversion; the response metadata
travels in the schema metadata under `carbon254` as JSON.

`encode` builds a whole body (small answers, which the query cache keeps);
`stream_body` yields the same bytes slice by slice for large ones, so a
response never holds more than one slice of encoded rows at a time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from starlette.responses import Response

from carbon254.formats import PARQUET_COMPRESSION, csv_bytes, presented, text_frame

# Rows encoded per slice of a streamed body: a few MB of JSON or CSV at most.
STREAM_SLICE_ROWS = 16_384
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


def json_body(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    """`{"data": [{row}, ...], **metadata}` as bytes; rows keep the table's column order."""
    frame = text_frame(table)
    data = frame.write_json().encode() if frame.height else b"[]"
    rest = orjson.dumps(metadata) if metadata else b"{}"
    # Splice the Polars-encoded rows into the orjson-encoded metadata object
    # instead of round-tripping thousands of rows through Python objects.
    return b'{"data":' + data + (b"," + rest[1:] if len(rest) > 2 else b"}")


def csv_body(table: pa.Table) -> bytes:
    """CSV with a header row; empty cells are nulls."""
    return csv_bytes(table)


def _with_metadata(table: pa.Table, metadata: dict[str, Any]) -> pa.Table:
    merged = dict(table.schema.metadata or {})
    merged[METADATA_KEY] = orjson.dumps(metadata)
    return table.replace_schema_metadata(merged)


def parquet_body(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    """A Parquet file (zstd) of the table, metadata in the schema under `carbon254`."""
    sink = io.BytesIO()
    pq.write_table(_with_metadata(table, metadata), sink, compression=PARQUET_COMPRESSION)
    return sink.getvalue()


def arrow_body(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    """An Arrow IPC stream of the table, metadata in the schema under `carbon254`."""
    tagged = _with_metadata(table, metadata)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, tagged.schema) as writer:
        writer.write_table(tagged)
    payload: bytes = sink.getvalue().to_pybytes()
    return payload


def attachment_headers(fmt: Format, filename: str) -> dict[str, str]:
    """`Content-Disposition` naming the download for binary and CSV bodies (none for JSON)."""
    if fmt is Format.JSON:
        return {}
    extension = {Format.CSV: "csv", Format.PARQUET: "parquet", Format.ARROW: "arrows"}[fmt]
    return {"Content-Disposition": f'attachment; filename="{filename}.{extension}"'}


def body_bytes(table: pa.Table, fmt: Format, metadata: dict[str, Any], tz: str | None) -> bytes:
    """The whole body of `table` in `fmt`, timestamps shown in `tz` (UTC when None).

    Floats are written exactly (shortest text that reads back to the same
    double in JSON and CSV, native doubles in Parquet and Arrow), -0.0 as 0.0.
    """
    table = presented(table, tz)
    if fmt is Format.JSON:
        return json_body(table, metadata)
    if fmt is Format.CSV:
        return csv_body(table)
    if fmt is Format.PARQUET:
        return parquet_body(table, metadata)
    return arrow_body(table, metadata)


class _Drain(io.RawIOBase):
    """A write-only file the Arrow and Parquet writers fill, emptied after each slice."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _slices(table: pa.Table) -> Iterator[pa.Table]:
    for offset in range(0, table.num_rows, STREAM_SLICE_ROWS):
        yield table.slice(offset, STREAM_SLICE_ROWS)


def _stream_json(table: pa.Table, metadata: dict[str, Any]) -> Iterator[bytes]:
    yield b'{"data":['
    first = True
    for part in _slices(table):
        rows = text_frame(part).write_json().encode()
        # Polars writes a JSON array; its rows join the ones already sent.
        yield (b"" if first else b",") + rows[1:-1]
        first = False
    rest = orjson.dumps(metadata) if metadata else b"{}"
    yield b"]" + (b"," + rest[1:] if len(rest) > 2 else b"}")


def _stream_csv(table: pa.Table) -> Iterator[bytes]:
    if table.num_rows == 0:
        yield csv_body(table)
        return
    for index, part in enumerate(_slices(table)):
        yield csv_bytes(part, header=index == 0)


def _stream_arrow(table: pa.Table, metadata: dict[str, Any]) -> Iterator[bytes]:
    tagged = _with_metadata(table, metadata)
    sink = _Drain()
    writer = ipc.new_stream(sink, tagged.schema)
    for batch in tagged.to_batches(max_chunksize=STREAM_SLICE_ROWS * 4):
        writer.write_batch(batch)
        yield sink.take()
    writer.close()
    yield sink.take()


def _stream_parquet(table: pa.Table, metadata: dict[str, Any]) -> Iterator[bytes]:
    tagged = _with_metadata(table, metadata)
    sink = _Drain()
    # One row group per slice: each is encoded and sent before the next is built.
    with pq.ParquetWriter(sink, tagged.schema, compression=PARQUET_COMPRESSION) as writer:
        for offset in range(0, max(tagged.num_rows, 1), STREAM_SLICE_ROWS * 8):
            writer.write_table(tagged.slice(offset, STREAM_SLICE_ROWS * 8))
            yield sink.take()
    yield sink.take()


def stream_body(table: pa.Table, fmt: Format, metadata: dict[str, Any], tz: str | None) -> Iterator[bytes]:
    """The body of `table` in `fmt`, encoded and yielded slice by slice (Arrow: record batch by batch).

    The bytes decode to the same rows and metadata as `body_bytes`; only
    the slicing differs, so a large answer is never encoded whole.
    """
    table = presented(table, tz)
    if fmt is Format.JSON:
        return _stream_json(table, metadata)
    if fmt is Format.CSV:
        return _stream_csv(table)
    if fmt is Format.PARQUET:
        return _stream_parquet(table, metadata)
    return _stream_arrow(table, metadata)


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
    out_headers = {"Vary": "Accept", **attachment_headers(fmt, filename), **(headers or {})}
    content = body_bytes(table, fmt, metadata, tz)
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=out_headers)
