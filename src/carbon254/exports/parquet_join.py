"""Join Parquet files of one schema into one file by copying their encoded row groups.

An export's tasks encode their rows into Parquet parts in parallel; joining
the parts by decoding and re-encoding them in one process took about half of
a 10-million-row export (2.3 s of the benchmark's 5 s budget) and none of it
parallel. pyarrow cannot append already-encoded row groups to a file, so this
module does what Parquet's layout allows: a file is `PAR1`, its column chunks,
then a Thrift footer whose offsets point into the file. The joined file is
`PAR1`, every part's column chunks in order, and the first part's footer with
every part's row groups, their offsets moved by where the part's chunks now
start. The footer's Thrift codec is fastparquet's.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any, BinaryIO

from carbon254.objects.base import ObjectStore

MAGIC = b"PAR1"
# Bytes after the footer: its length (4, little-endian) and the closing magic.
TAIL = 8
# Bytes copied at a time from a part into the joined file.
COPY_CHUNK = 8 << 20

# Footer fields holding absolute file offsets, on a ColumnChunk and on its ColumnMetaData.
_CHUNK_OFFSETS = ("file_offset", "offset_index_offset", "column_index_offset")
_META_OFFSETS = ("data_page_offset", "index_page_offset", "dictionary_page_offset", "bloom_filter_offset")


class PartsDiffer(ValueError):
    """The parts do not share one Parquet schema, so their row groups cannot be joined."""


def _thrift() -> ModuleType:
    """fastparquet's Thrift codec, imported when first needed: it loads pandas, which tasks do not need."""
    with warnings.catch_warnings():
        # fastparquet reads a pandas option that pandas 3 deprecates, warning at import.
        warnings.simplefilter("ignore")
        import fastparquet.cencoding as codec
    module: ModuleType = codec
    return module


def _footer(objects: ObjectStore, key: str) -> tuple[Any, int]:
    """The part's decoded footer (fastparquet's Thrift object) and where its column chunks end."""
    size = objects.info(key).size
    tail = objects.get(key, max(size - TAIL, 0), size)
    if size < len(MAGIC) + TAIL or tail[4:] != MAGIC:
        raise ValueError(f"{key} is not a Parquet file")
    (length,) = struct.unpack("<i", tail[:4])
    start = size - TAIL - length
    return _thrift().from_buffer(objects.get(key, start, size - TAIL), "FileMetaData"), start


def _shift(value: Any, name: str, by: int) -> None:
    offset = getattr(value, name, None)
    # Zero means "not written" for the deprecated ColumnChunk.file_offset; None for the rest.
    if offset:
        setattr(value, name, offset + by)


def join_parquet(objects: ObjectStore, keys: Sequence[str], sink: BinaryIO) -> int:
    """Write the Parquet objects `keys` one after another as one Parquet file into `sink`.

    Parts are streamed in chunks, never held whole. Every part must have the
    first one's schema (`PartsDiffer` otherwise); the joined file keeps the
    first part's key-value metadata. Rows keep the parts' order; row groups
    of no rows are dropped. Returns the rows written.
    """
    if not keys:
        raise ValueError("join_parquet needs at least one part")
    footers = [(key, *_footer(objects, key)) for key in keys]
    joined = footers[0][1]
    schema = [bytes(element.to_bytes()) for element in joined.schema]
    row_groups = []
    sink.write(MAGIC)
    position = len(MAGIC)
    for key, footer, chunks_end in footers:
        if [bytes(element.to_bytes()) for element in footer.schema] != schema:
            raise PartsDiffer(f"{key} has another schema than {footers[0][0]}")
        shift = position - len(MAGIC)
        for group in footer.row_groups:
            if group.num_rows == 0:
                continue
            _shift(group, "file_offset", shift)
            for chunk in group.columns:
                for name in _CHUNK_OFFSETS:
                    _shift(chunk, name, shift)
                for name in _META_OFFSETS:
                    _shift(chunk.meta_data, name, shift)
            row_groups.append(group)
        for piece in objects.iter_bytes(key, len(MAGIC), chunks_end, chunk=COPY_CHUNK):
            sink.write(piece)
        position += chunks_end - len(MAGIC)
    for ordinal, group in enumerate(row_groups):
        if getattr(group, "ordinal", None) is not None:
            group.ordinal = ordinal
    joined.row_groups = row_groups
    joined.num_rows = sum(group.num_rows for group in row_groups)
    encoded = bytes(joined.to_bytes())
    sink.write(encoded)
    sink.write(struct.pack("<i", len(encoded)))
    sink.write(MAGIC)
    rows: int = joined.num_rows
    return rows
