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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import as_strided

_NEWLINE, _RETURN, _COMMA = 10, 13, 44
_F64 = pa.float64()


def name_price_lines(body: bytes, opening: bytes) -> tuple[pa.Array, pa.Array] | None:
    """(names, prices) of the lines after the header of `body`, each `opening + name + "," + price`.

    `opening` holds the leading values and their commas (it has the header's
    comma count less one); names are the text between it and the line's last
    comma, as the CSV reader reads them, prices ($/MWh) that comma's field
    with its leading blanks, parsed as the CSV reader parses numbers. None
    when a line is not in that shape.
    """
    data = np.frombuffer(body, np.uint8)
    ends = np.flatnonzero(data == _NEWLINE)
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
    names = _gather(data, starts, lengths)
    # Every price is `width` bytes: one row of a sliding window over the body each (no index arrays).
    window = as_strided(data, (len(data) - width + 1, width), (1, 1), writeable=False)
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    fields = pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(window[commas + 1]))
    try:
        # The CSV reader trims blanks and tabs on both sides before parsing; a field this does not
        # parse (a tab, a trailing blank, not a number) is left to the CSV reader.
        prices = pc.cast(pc.ascii_ltrim(fields, " "), _F64)
    except pa.ArrowException:
        return None
    return names, prices


def _gather(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """The byte runs `data[starts[i] : starts[i] + lengths[i]]` as one string array."""
    offsets = np.zeros(len(starts) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    index = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
    return pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data[index]))


__all__ = ["name_price_lines"]
