"""Join Parquet files of one schema into one file by copying their encoded row groups.

An export's tasks encode their rows into Parquet parts in parallel; joining
the parts by decoding and re-encoding them in one process took about half of
a 10-million-row export (2.3 s of the benchmark's 5 s budget) and none of it
parallel. pyarrow cannot append already-encoded row groups to a file, so this
module does what Parquet's layout allows: a file is `PAR1`, its column chunks,
then a Thrift footer whose offsets point into the file. The joined file is
`PAR1`, every part's column chunks in order, and the first part's footer with
every part's row groups, their offsets moved by where the part's chunks now
start. Field ids are those of parquet-format's `parquet.thrift`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import BinaryIO

from carbon254.exports.thrift_compact import (
    I16,
    I64,
    LIST,
    STRUCT,
    ThriftList,
    ThriftStruct,
    Value,
    decode_struct,
    encode_struct,
)
from carbon254.objects.base import ObjectStore

MAGIC = b"PAR1"
# Bytes after the footer: its length (4, little-endian) and the closing magic.
TAIL = 8
# Bytes copied at a time from a part into the joined file.
COPY_CHUNK = 8 << 20

# FileMetaData
SCHEMA, NUM_ROWS, ROW_GROUPS = 2, 3, 4
# RowGroup
COLUMNS, GROUP_ROWS, GROUP_OFFSET, ORDINAL = 1, 3, 5, 7
# ColumnChunk: fields holding absolute file offsets, and its ColumnMetaData's.
CHUNK_OFFSETS = (2,)  # file_offset
# ColumnChunk: where its page index is (offset and column index, offset and length). Page
# locations inside the offset index are absolute too, so a joined file leaves the index out.
PAGE_INDEX = (4, 5, 6, 7)
META_DATA = 3
META_OFFSETS = (9, 10, 11, 14)  # data_page, index_page, dictionary_page, bloom_filter offsets


class PartsDiffer(ValueError):
    """The parts do not share one Parquet schema, so their row groups cannot be joined."""


def _footer(objects: ObjectStore, key: str) -> tuple[ThriftStruct, int]:
    """The part's decoded footer and where its column chunks end (the footer's first byte)."""
    size = objects.info(key).size
    tail = objects.get(key, max(size - TAIL, 0), size)
    if size < len(MAGIC) + TAIL or tail[4:] != MAGIC:
        raise ValueError(f"{key} is not a Parquet file")
    (length,) = struct.unpack("<i", tail[:4])
    start = size - TAIL - length
    if length <= 0 or start < len(MAGIC):
        raise ValueError(f"{key} is not a Parquet file")
    return decode_struct(objects.get(key, start, size - TAIL)), start


def _struct(value: Value | None) -> ThriftStruct:
    if not isinstance(value, ThriftStruct):
        raise ValueError("a Parquet footer without a struct where one is due")
    return value


def _items(value: Value | None) -> list[Value]:
    return value.items if isinstance(value, ThriftList) else []


def _shift(owner: ThriftStruct, field_id: int, by: int) -> None:
    offset = owner.get(field_id)
    # Zero means "not written" for the deprecated ColumnChunk.file_offset; absent for the rest.
    if isinstance(offset, int) and offset:
        owner.set(field_id, offset + by, I64)


def _moved(group: ThriftStruct, by: int) -> None:
    """Move every absolute offset of `group` (a RowGroup) by `by` bytes; drop its page index."""
    _shift(group, GROUP_OFFSET, by)
    for chunk in map(_struct, _items(group.get(COLUMNS))):
        for field_id in CHUNK_OFFSETS:
            _shift(chunk, field_id, by)
        chunk.fields = [f for f in chunk.fields if f.id not in PAGE_INDEX]
        meta = chunk.get(META_DATA)
        if isinstance(meta, ThriftStruct):
            for field_id in META_OFFSETS:
                _shift(meta, field_id, by)


def join_parquet(objects: ObjectStore, keys: Sequence[str], sink: BinaryIO) -> int:
    """Write the Parquet objects `keys` one after another as one Parquet file into `sink`.

    Parts are streamed in chunks, never held whole. Every part must have the
    first one's schema (`PartsDiffer` otherwise); the joined file keeps the
    first part's other footer fields (key-value metadata, writer). Rows keep
    the parts' order; row groups of no rows are dropped. Returns the rows
    written.
    """
    if not keys:
        raise ValueError("join_parquet needs at least one part")
    footers = [(key, *_footer(objects, key)) for key in keys]
    joined = footers[0][1]
    schema = encode_struct(ThriftStruct([f for f in joined.fields if f.id == SCHEMA]))
    groups: list[Value] = []
    sink.write(MAGIC)
    position = len(MAGIC)
    for key, footer, chunks_end in footers:
        if encode_struct(ThriftStruct([f for f in footer.fields if f.id == SCHEMA])) != schema:
            raise PartsDiffer(f"{key} has another schema than {footers[0][0]}")
        for group in map(_struct, _items(footer.get(ROW_GROUPS))):
            if group.get(GROUP_ROWS) == 0:
                continue
            _moved(group, position - len(MAGIC))
            groups.append(group)
        for piece in objects.iter_bytes(key, len(MAGIC), chunks_end, chunk=COPY_CHUNK):
            sink.write(piece)
        position += chunks_end - len(MAGIC)
    rows = 0
    for ordinal, group in enumerate(map(_struct, groups)):
        if group.get(ORDINAL) is not None:
            group.set(ORDINAL, ordinal, I16)
        count = group.get(GROUP_ROWS)
        rows += count if isinstance(count, int) else 0
    joined.set(ROW_GROUPS, ThriftList(LIST, STRUCT, groups), LIST)
    joined.set(NUM_ROWS, rows, I64)
    encoded = encode_struct(joined)
    sink.write(encoded)
    sink.write(struct.pack("<i", len(encoded)))
    sink.write(MAGIC)
    return rows
