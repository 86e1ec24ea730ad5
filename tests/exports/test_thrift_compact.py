"""The compact-protocol codec: what it reads it writes back to the byte, and edits land where asked."""

from __future__ import annotations

import io
import struct

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carbon254.exports.thrift_compact import (
    BINARY,
    BYTE,
    DOUBLE,
    FALSE,
    I16,
    I32,
    I64,
    LIST,
    MAP,
    SET,
    STRUCT,
    TRUE,
    Field,
    ThriftError,
    ThriftList,
    ThriftMap,
    ThriftStruct,
    decode_struct,
    encode_struct,
)


def _footer(data: bytes) -> bytes:
    (length,) = struct.unpack("<i", data[-8:-4])
    return data[-8 - length : -8]


@pytest.mark.parametrize("page_index", [False, True])
def test_parquet_footers_written_by_pyarrow_round_trip_byte_for_byte(page_index: bool) -> None:
    table = pa.table(
        {
            "t": pa.array(range(5_000), pa.timestamp("us", tz="UTC")),
            "name": pa.array([f"N{i % 37}" for i in range(5_000)]).dictionary_encode(),
            "price": pa.array([None if i % 9 == 0 else i / 7 for i in range(5_000)], pa.float64()),
            "tags": pa.array([[i, -i] for i in range(5_000)], pa.list_(pa.int64())),
        },
        metadata={"carbon254": '{"unit":"$/MWh"}'},
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1_500, write_page_index=page_index, compression="zstd")
    footer = _footer(sink.getvalue())
    assert encode_struct(decode_struct(footer)) == footer


def test_every_wire_type_round_trips() -> None:
    inner = ThriftStruct([Field(1, BINARY, b"x"), Field(40, I32, -3)])
    value = ThriftStruct(
        [
            Field(1, TRUE, True),
            Field(2, FALSE, False),
            Field(3, BYTE, -7),
            Field(4, I16, -300),
            Field(5, I32, 2**31 - 1),
            Field(6, I64, -(2**63)),
            Field(7, DOUBLE, 1.5),
            Field(8, BINARY, b"\x00\xffbytes"),
            Field(9, LIST, ThriftList(LIST, I64, list(range(-20, 20)))),
            Field(10, SET, ThriftList(SET, TRUE, [True, False, True])),
            Field(11, MAP, ThriftMap(BINARY, STRUCT, [(b"k", inner), (b"l", ThriftStruct())])),
            Field(12, MAP, ThriftMap(0, 0, [])),
            # A gap of more than 15 ids takes the long field header.
            Field(300, STRUCT, inner),
        ]
    )
    data = encode_struct(value)
    assert decode_struct(data) == value
    assert encode_struct(decode_struct(data)) == data


def test_set_changes_a_field_in_place_or_adds_it_in_id_order() -> None:
    value = ThriftStruct([Field(1, I64, 5), Field(9, I64, 7)])
    value.set(9, 70_000_000_000, I64)
    value.set(4, 2, I32)
    assert [(f.id, f.value) for f in value.fields] == [(1, 5), (4, 2), (9, 70_000_000_000)]
    assert decode_struct(encode_struct(value)) == value


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x15\x02", "ends before its STOP"),
        (b"\x18\x09ab\x00", "past the end"),
        (b"\x1d\x00", "unknown wire type 13"),
        (b"\x00\x00", "1 bytes follow the struct"),
        (b"\x16" + b"\xff" * 11 + b"\x00", "longer than 10 bytes"),
    ],
)
def test_malformed_bytes_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ThriftError, match=message):
        decode_struct(data)
