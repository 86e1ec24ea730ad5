"""Thrift's compact protocol, read into a generic tree and written back byte for byte.

Parquet's footer is a Thrift struct in the compact protocol. Joining parts
(`parquet_join`) needs to read it, move a few offsets and write it again;
pyarrow exposes no writer for it, and fastparquet's codec loads pandas into
every worker (about 36 MB) and drops the fields it does not know. This codec
knows no schema: a struct is its fields in order (id, wire type, value), so
whatever a writer put in the footer is written back unchanged, and an
unmodified struct encodes to the very bytes it was read from.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TypeAlias

# Wire types of the compact protocol.
STOP = 0
TRUE = 1
FALSE = 2
BYTE = 3
I16 = 4
I32 = 5
I64 = 6
DOUBLE = 7
BINARY = 8
LIST = 9
SET = 10
MAP = 11
STRUCT = 12

_INTEGERS = (I16, I32, I64)


@dataclass(slots=True)
class ThriftList:
    """A list or set: its element wire type and its elements."""

    kind: int
    element: int
    items: list[Value]


@dataclass(slots=True)
class ThriftMap:
    """A map: its key and value wire types and its entries in order."""

    key: int
    value: int
    entries: list[tuple[Value, Value]]


@dataclass(slots=True)
class Field:
    """One field of a struct: its id, wire type and value."""

    id: int
    kind: int
    value: Value


@dataclass(slots=True)
class ThriftStruct:
    """A struct: its fields in the order they were read (or set)."""

    fields: list[Field] = field(default_factory=list)

    def get(self, field_id: int) -> Value | None:
        """The value of field `field_id`, or None when the struct does not have it."""
        return next((f.value for f in self.fields if f.id == field_id), None)

    def set(self, field_id: int, value: Value, kind: int) -> None:
        """Set field `field_id` to `value` of wire type `kind`, in place, or add it in id order."""
        for f in self.fields:
            if f.id == field_id:
                f.value, f.kind = value, kind
                return
        self.fields.append(Field(field_id, kind, value))
        self.fields.sort(key=lambda f: f.id)


Value: TypeAlias = bool | int | float | bytes | ThriftList | ThriftMap | ThriftStruct


class ThriftError(ValueError):
    """The bytes are not a well-formed compact-protocol struct."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise ThriftError("the struct ends before its STOP")
        value = self.data[self.at]
        self.at += 1
        return value

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise ThriftError("a value runs past the end of the struct")
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise ThriftError("a varint is longer than 10 bytes")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int) -> Value:
        if kind in (TRUE, FALSE):
            # Only list elements come here; a field's boolean is its wire type.
            return self.byte() == TRUE
        if kind == BYTE:
            return struct.unpack("<b", self.take(1))[0]  # type: ignore[no-any-return]
        if kind in _INTEGERS:
            return self.zigzag()
        if kind == DOUBLE:
            return struct.unpack("<d", self.take(8))[0]  # type: ignore[no-any-return]
        if kind == BINARY:
            return self.take(self.varint())
        if kind in (LIST, SET):
            header = self.byte()
            size = header >> 4
            if size == 15:
                size = self.varint()
            element = header & 0x0F
            return ThriftList(kind, element, [self.value(element) for _ in range(size)])
        if kind == MAP:
            size = self.varint()
            if size == 0:
                return ThriftMap(0, 0, [])
            types = self.byte()
            key, value = types >> 4, types & 0x0F
            return ThriftMap(key, value, [(self.value(key), self.value(value)) for _ in range(size)])
        if kind == STRUCT:
            return self.struct()
        raise ThriftError(f"unknown wire type {kind}")

    def struct(self) -> ThriftStruct:
        result = ThriftStruct()
        last = 0
        while True:
            header = self.byte()
            kind = header & 0x0F
            if kind == STOP:
                return result
            delta = header >> 4
            last = last + delta if delta else self.zigzag()
            value: Value = kind == TRUE if kind in (TRUE, FALSE) else self.value(kind)
            result.fields.append(Field(last, kind, value))


def decode_struct(data: bytes) -> ThriftStruct:
    """The struct encoded in `data`, which must hold exactly one (ThriftError otherwise)."""
    reader = _Reader(data)
    result = reader.struct()
    if reader.at != len(data):
        raise ThriftError(f"{len(data) - reader.at} bytes follow the struct")
    return result


def _varint(n: int, out: bytearray) -> None:
    while True:
        if n < 0x80:
            out.append(n)
            return
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def _zigzag(n: int, out: bytearray) -> None:
    _varint((n << 1) ^ (n >> 63), out)


def _write(kind: int, value: Value, out: bytearray) -> None:
    if kind in (TRUE, FALSE):
        out.append(TRUE if value else FALSE)
    elif kind == BYTE:
        assert isinstance(value, int)
        out += struct.pack("<b", value)
    elif kind in _INTEGERS:
        assert isinstance(value, int) and not isinstance(value, bool)
        _zigzag(value, out)
    elif kind == DOUBLE:
        assert isinstance(value, float)
        out += struct.pack("<d", value)
    elif kind == BINARY:
        assert isinstance(value, bytes)
        _varint(len(value), out)
        out += value
    elif kind in (LIST, SET):
        assert isinstance(value, ThriftList)
        size = len(value.items)
        if size < 15:
            out.append(size << 4 | value.element)
        else:
            out.append(0xF0 | value.element)
            _varint(size, out)
        for item in value.items:
            _write(value.element, item, out)
    elif kind == MAP:
        assert isinstance(value, ThriftMap)
        _varint(len(value.entries), out)
        if value.entries:
            out.append(value.key << 4 | value.value)
            for k, v in value.entries:
                _write(value.key, k, out)
                _write(value.value, v, out)
    elif kind == STRUCT:
        assert isinstance(value, ThriftStruct)
        _write_struct(value, out)
    else:
        raise ThriftError(f"unknown wire type {kind}")


def _write_struct(value: ThriftStruct, out: bytearray) -> None:
    last = 0
    for f in value.fields:
        kind = (TRUE if f.value else FALSE) if f.kind in (TRUE, FALSE) else f.kind
        delta = f.id - last
        if 0 < delta <= 15:
            out.append(delta << 4 | kind)
        else:
            out.append(kind)
            _zigzag(f.id, out)
        if f.kind not in (TRUE, FALSE):
            _write(f.kind, f.value, out)
        last = f.id
    out.append(STOP)


def encode_struct(value: ThriftStruct) -> bytes:
    """`value` in the compact protocol."""
    out = bytearray()
    _write_struct(value, out)
    return bytes(out)
