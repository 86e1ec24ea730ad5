"""How values are framed in a shared cache: compressed only when it pays.

Each stored value is one tag byte followed by the payload: `RAW` (the value
as given) or `DEFLATE` (zlib stream, compressed with ISA-L at level 1, which
runs at about 1 GB/s). Compression is tried only for values of at least
`MIN_COMPRESS_BYTES` and kept only when it saves at least
`MIN_SAVING_RATIO` of the size: JSON and CSV results shrink about ten times,
while Parquet and Arrow IPC bodies (already compressed or dense binary)
would cost CPU on every hit for nothing, so they are stored raw.
"""

from __future__ import annotations

from typing import cast

from isal import isal_zlib

RAW = b"\x00"
DEFLATE = b"\x01"
MIN_COMPRESS_BYTES = 1024
MIN_SAVING_RATIO = 0.1
LEVEL = 1
# isal's type stub declares `error` as an instance; at run time it is the exception class.
_IsalError = cast("type[Exception]", isal_zlib.error)


class CodecError(ValueError):
    """A stored value that this codec did not write (unknown tag or corrupt stream)."""


def encode(value: bytes) -> bytes:
    """`value` framed for storage, deflated if that makes it at least 10 % smaller."""
    if len(value) >= MIN_COMPRESS_BYTES:
        packed = isal_zlib.compress(value, LEVEL)
        if len(packed) <= len(value) * (1 - MIN_SAVING_RATIO):
            return DEFLATE + packed
    return RAW + value


def decode(stored: bytes) -> bytes:
    """The value `encode` framed into `stored`; CodecError if `stored` is not such a frame."""
    tag, payload = stored[:1], stored[1:]
    if tag == RAW:
        return payload
    if tag == DEFLATE:
        try:
            return isal_zlib.decompress(payload)
        except _IsalError as exc:
            raise CodecError(f"corrupt compressed cache value: {exc}") from exc
    raise CodecError(f"unknown cache value tag {tag!r}")
