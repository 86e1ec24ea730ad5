"""Building Arrow columns straight from NumPy buffers.

A year of hourly prices for a few thousand locations is tens of millions of
rows; building string columns row by row (or through NumPy unicode arrays)
would dominate generation time. Strings here are laid out directly as Arrow
offsets and data buffers, timestamps as int64 buffers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.schema import TIMESTAMP

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_MAX_STRING_BYTES = (1 << 31) - 1


def repeat_each(values: Sequence[str], times: int) -> pa.Array:
    """A string column holding each of `values` `times` times in a row (a, a, b, b, ...)."""
    encoded = [v.encode() for v in values]
    lengths = np.repeat(np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded)), times)
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] > _MAX_STRING_BYTES:
        raise ValueError("string column too large for one batch; use smaller batches")
    data = b"".join(b * times for b in encoded)
    return pa.Array.from_buffers(
        pa.string(), int(lengths.size), [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
    )


def constant(value: str, count: int) -> pa.Array:
    """A string column with `value` in every one of `count` rows."""
    return repeat_each([value], count)


def timestamps(us: IntArray) -> pa.Array:
    """A timestamp[us, UTC] column from microseconds since the epoch."""
    values = np.ascontiguousarray(us, dtype=np.int64)
    return pa.Array.from_buffers(TIMESTAMP, int(values.size), [None, pa.py_buffer(values)])


def timestamps_where(us: IntArray, valid: npt.NDArray[np.bool_]) -> pa.Array:
    """A timestamp[us, UTC] column that is null where `valid` is False."""
    return pa.array(np.asarray(us, dtype=np.int64), type=pa.int64(), mask=~valid).cast(TIMESTAMP)


def null_timestamps(count: int) -> pa.Array:
    """An all-null timestamp[us, UTC] column (e.g. `ingested_at`, which the store fills)."""
    return pa.nulls(count, TIMESTAMP)


def floats(values: FloatArray) -> pa.Array:
    """A float64 column sharing the NumPy buffer."""
    return pa.array(np.ascontiguousarray(values, dtype=np.float64))
