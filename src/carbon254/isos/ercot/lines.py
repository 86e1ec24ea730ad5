"""Reading a one-run MIS CSV without the CSV reader: lines found with NumPy, prices typed by Arrow.

A SCED file (NP6-788-CD, NP6-787-CD) is ~1,050 lines of
`<timestamp>,<flag>,<name>,<right-aligned price>`, every line opening with the
same timestamp and flag. pyarrow's CSV reader hands each file from the calling
thread to its I/O and CPU pools and back, three to four waits per file: on an
idle 2-core machine each wait wakes a halted core, and those wake-ups cost
more than the parse (a day of 288 files spent most of its time in them). This
reads such a file on the calling thread alone: the line ends and the last
comma of each line are located with NumPy, the names are copied out, and the
prices are parsed by Arrow's string-to-double cast, the number parser the CSV
reader itself uses.

It takes only the plainest shape and says None to anything else, which then
goes to the CSV reader: every line opening with the same bytes, exactly one
comma after them, all prices the same width, right-aligned with blanks,
newline-terminated lines (CRLF or LF). Quotes and non-ASCII bytes are ruled
out by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import as_strided

_NEWLINE, _RETURN, _COMMA = 10, 13, 44
_F64 = pa.float64()


@dataclass(frozen=True, slots=True)
class _Lines:
    """Where the lines and names of a file sat. The SCED files of a day list the same names in the same
    order with prices of one width, so the next file's line ends and names sit at the same offsets:
    checking that (a gather and a memcmp) costs a third of finding them again."""

    size: int
    opening: int  # the length of each line's constant opening
    ends: np.ndarray  # every newline, the header's first
    commas: np.ndarray  # each line's last comma
    index: np.ndarray  # the names' bytes, in order
    offsets: np.ndarray  # the names' string offsets
    name_bytes: np.ndarray
    names: pa.Array


class _Recent:
    """The last `_Lines` read; replaced whole, never mutated, so concurrent parsers at worst miss it."""

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: _Lines | None = None


_RECENT = _Recent()


def name_price_lines(body: bytes, opening: bytes) -> tuple[pa.Array, pa.Array] | None:
    """(names, prices) of the lines after the header of `body`, each `opening + name + "," + price`.

    `opening` holds the leading values and their commas (it has the header's
    comma count less one); names are the text between it and the line's last
    comma, as the CSV reader reads them, prices ($/MWh) that comma's field
    with its leading blanks, parsed as the CSV reader parses numbers. None
    when a line is not in that shape.
    """
    data = np.frombuffer(body, np.uint8)
    seen = _RECENT.lines
    if seen is not None and not (
        seen.size == len(body) and seen.opening == len(opening) and _newlines_at(data, seen.ends)
    ):
        seen = None
    ends = np.flatnonzero(data == _NEWLINE) if seen is None else seen.ends
    rows = len(ends) - 1
    if rows < 1 or ends[-1] != len(body) - 1 or body.count(b"\n" + opening) != rows:
        return None  # (the header's newline is ends[0]; the last line must have its own)
    starts = ends[:-1] + (1 + len(opening))
    last = ends[1:]
    last = last - (data[last - 1] == _RETURN)  # end of each line's last value
    first_comma = body.rfind(b",", int(starts[0]), int(last[0]))
    width = int(last[0]) - first_comma - 1
    commas = last - (width + 1)
    lengths = commas - starts
    if first_comma < 0 or width < 1 or int(lengths.min()) < 0:
        return None
    # Each line holds the opening's commas and one more, at `commas`: no name holds a comma and every
    # price has the first one's width.
    expected = (rows + 1) * (opening.count(b",") + 1)
    if not (data[commas] == _COMMA).all() or np.count_nonzero(data == _COMMA) != expected:
        return None
    if seen is not None and np.array_equal(commas, seen.commas):
        raw = data[seen.index]
        names = seen.names if np.array_equal(raw, seen.name_bytes) else _strings(seen.offsets, raw)
    else:
        offsets = np.zeros(rows + 1, np.int32)
        np.cumsum(lengths, out=offsets[1:])
        index = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
        raw = data[index]
        names = _strings(offsets, raw)
        _RECENT.lines = _Lines(len(body), len(opening), ends, commas, index, offsets, raw, names)
    # Every price is `width` bytes: one row of a sliding window over the body each (no index arrays).
    window = as_strided(data, (len(data) - width + 1, width), (1, 1), writeable=False)
    fields = _strings(np.arange(0, (rows + 1) * width, width, dtype=np.int32), window[commas + 1])
    try:
        # The CSV reader trims blanks and tabs on both sides before parsing; a field this does not
        # parse (a tab, a trailing blank, not a number) is left to the CSV reader.
        prices = pc.cast(pc.ascii_ltrim(fields, " "), _F64)
    except pa.ArrowException:
        return None
    return names, prices


def _newlines_at(data: np.ndarray, ends: np.ndarray) -> bool:
    """Whether `data`'s newlines are exactly at `ends`."""
    return bool((data[ends] == _NEWLINE).all()) and np.count_nonzero(data == _NEWLINE) == len(ends)


def _strings(offsets: np.ndarray, raw: np.ndarray) -> pa.Array:
    return pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(raw))


__all__ = ["name_price_lines"]
