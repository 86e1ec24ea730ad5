"""Checking a whole Arrow string column on its buffers: are the names already as the general path leaves them?

The general (Polars) parsers strip every name (`str.strip_chars`) and reject
empty ones; the fast paths keep names as read, which is the same only when no
name is empty or has a blank at either end. Checking that with NumPy on the
offsets and bytes costs a few microseconds per thousand names, against
~3 ms to strip a 300,000-row column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# ASCII blanks that `str.strip_chars()` removes (Rust `char::is_whitespace` on ASCII).
_BLANK = np.zeros(256, dtype=bool)
_BLANK[[9, 10, 11, 12, 13, 32]] = True


def string_buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of a string array, offsets from its first value, as NumPy views."""
    _, offsets, data = values.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return starts, raw


def plain_names(values: pa.Array) -> bool:
    """Whether a string array without nulls has values and every one is non-empty ASCII with no blank at
    either end, so stripping would change nothing and no name is missing."""
    starts, raw = string_buffers(values)
    if len(values) == 0 or int(np.diff(starts).min()) <= 0:
        return False
    if int(raw[starts[0] : starts[-1]].max()) >= 128:  # (non-ASCII blanks are blanks to the general path)
        return False
    return not (_BLANK[raw[starts[:-1]]].any() or _BLANK[raw[starts[1:] - 1]].any())


__all__ = ["plain_names", "string_buffers"]
