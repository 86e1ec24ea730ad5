"""The fast path for ERCOT MIS CSVs: one typed pyarrow read, each distinct time converted once.

A SCED file (NP6-788/787/323-CD) is one SCED run: every line opens with the
same timestamp and repeated-hour flag; a 15-minute file with one date, hour
and interval; a DAM file carries a few dozen (date, hour, flag) keys. The
general path (`frames`) reads every value as a string and parses each row's
time with a three-format coalesce in a dozen eager Polars steps; for a
~1,000-row file that fixed cost (~4 ms) was nearly all the parse time. Here
the payload is read once by pyarrow with only the needed columns, numbers
typed on read (pyarrow takes ERCOT's right-aligned `"       27.04"` and
parses every number spelling exactly as Polars does, or fails), the leading
columns that hold one value on every line are checked on the bytes and not
read at all, and each distinct time key is converted once in Python
(zoneinfo) then spread to its rows by index. A one-run SCED file, whose
lines are those constant columns, a name and a price, skips the CSV reader
and its thread hand-offs altogether (`lines`). What is the same from file to
file (reader options, the checks and types of a settlement point column that
recurs byte for byte, see `ByColumn`) is worked out once per process.

Nothing here decides an error. Whenever a payload is not in the plain MIS
shape (API page, quotes, non-ASCII bytes, blank lines, names padded with
blanks, a blank or non-numeric value, another time format, a lower-case flag
the general path accepts, a time in the DST gap, members whose headers
differ, ...) these functions return None and the parser runs the general
path on the same bytes, which raises `ParseError` naming the first bad value
or accepts what it accepts. So both paths give the same rows and errors.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Generic, TypeVar, cast
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from isal import isal_zlib

from carbon254.isos.ercot.frames import CSV_MEMBER, TZ, normalise_name
from carbon254.isos.ercot.lines import name_price_lines
from carbon254.markets.archive import is_zip, payload_files
from carbon254.markets.plaintext import plain_names
from carbon254.markets.report import ParseError
from carbon254.schema import TIMESTAMP

_ZONE = ZoneInfo(TZ)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
# The MIS spellings only; the general path also takes `HH:MM`, ISO stamps, padded or lower-case values.
_STAMP = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_HOUR = re.compile(r"([0-9]{1,2})(?::00)?")
_FLAGS = {"N": False, "Y": True}
# Years where zoneinfo's tzdata and Polars' chrono-tz (the general path's) surely agree on Central
# time; ERCOT's nodal market began in 2010.
_YEARS = range(1971, 2037)
# Distinct time keys converted one by one in Python (~5 us each); beyond this the vectorised general
# path is the better deal.
_MAX_KEYS = 20_000

_READ_ERRORS = (pa.ArrowException, ValueError)
_STR = pa.string()
_F64 = pa.float64()

T = TypeVar("T")
# Columns up to this many rows (a SCED or DAM file, not a backfill) have their per-column results
# remembered (`ByColumn`, the parsers' constant columns).
MEMO_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class Typed:
    """What `read_typed` read: typed columns, and leading columns found constant (not read)."""

    rows: int
    columns: dict[str, pa.Array]
    constant: dict[str, str]

    def key(self, name: str) -> pa.Array | str:
        """Column `name`: its one value when constant on every line, else its strings."""
        return self.constant[name] if name in self.constant else self.columns[name]


# (the stubs declare `error` as an instance)
_INFLATE_ERROR = cast(type[Exception], isal_zlib.error)
_EOCD = struct.Struct("<4s4H2LH")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")
_MAX_RATIO = 1032  # deflate's largest expansion, output bytes per input byte


def _plain_zip(data: bytes) -> list[bytes] | None:
    """The CSV members of a plain zip (no comment, zip64 or encryption; stored or deflated), or None.

    What `archive.payload_files` returns, without `zipfile`'s per-archive
    set-up (a third of a SCED file's unzip time): anything else, and any
    size, name or CRC that does not check out, is left to `payload_files`.
    """
    if len(data) < _EOCD.size:
        return None
    sig, _, _, _, count, cd_size, cd_at, comment = _EOCD.unpack_from(data, len(data) - _EOCD.size)
    if sig != b"PK\x05\x06" or comment or cd_at + cd_size != len(data) - _EOCD.size or not count:
        return None
    bodies = []
    at = cd_at
    for _ in range(count):
        if at + _CENTRAL.size > cd_at + cd_size:
            return None
        (
            sig,
            _,
            _,
            flags,
            method,
            _,
            _,
            crc,
            packed,
            size,
            name_len,
            extra_len,
            note_len,
            _,
            _,
            _,
            offset,
        ) = _CENTRAL.unpack_from(data, at)
        name = data[at + _CENTRAL.size : at + _CENTRAL.size + name_len]
        at += _CENTRAL.size + name_len + extra_len + note_len
        if sig != b"PK\x01\x02" or flags & 0x1 or method not in (0, 8):
            return None
        text = name.decode("utf-8" if flags & 0x800 else "cp437", errors="strict")
        if text.endswith("/") or not CSV_MEMBER.search(text):
            continue
        if offset + _LOCAL.size > len(data) or (method == 8 and size > _MAX_RATIO * packed + 1024):
            return None  # (an inflated size no deflate stream reaches: a corrupt directory)
        local = _LOCAL.unpack_from(data, offset)
        start = offset + _LOCAL.size + local[9] + local[10]
        if local[0] != b"PK\x03\x04" or data[offset + _LOCAL.size : offset + _LOCAL.size + local[9]] != name:
            return None
        raw = memoryview(data)[start : start + packed]
        try:
            # ISA-L inflates and checksums ~2-4x faster than zlib; the size and CRC checks below make
            # any disagreement between the two a fallback, never a different body. The output buffer
            # is sized from the directory, so it is not grown (and copied) on the way.
            body = isal_zlib.decompress(raw, -15, max(size, 1)) if method == 8 else raw.tobytes()
        except _INFLATE_ERROR:
            return None
        if len(body) != size or isal_zlib.crc32(body) != crc:
            return None
        bodies.append(body)
    return bodies or None


def _bodies(data: bytes) -> list[bytes] | None:
    """The CSV bodies `frames.read_sheets` would read, or None where it raises."""
    if is_zip(data):
        plain = _plain_zip(data)
        if plain is not None:
            return plain
    try:
        return [body for _, body in payload_files(data, CSV_MEMBER)]
    except ParseError:
        return None  # the general path raises the same error


@dataclass(frozen=True, slots=True, eq=False)
class Shape:
    """The columns a parser reads from one MIS layout (normalised names, see `frames.ALIASES`).

    `columns` are required and typed on read, `optional` are read when the
    header has them, `lead` names string columns among `columns` that MIS
    layouts put first and that usually hold one value on every line (a SCED
    run's timestamp and flag). Parsers keep one `Shape` per layout for the
    life of the process: what follows from it and a header is worked out once
    (`_plan`), so it is compared by identity.
    """

    columns: Mapping[str, pa.DataType]
    optional: Mapping[str, pa.DataType] = field(default_factory=dict)
    lead: tuple[str, ...] = ()


_CsvOptions = tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]


@dataclass(frozen=True, slots=True)
class _Read:
    """One way to read a layout: the columns read, in order, and the pyarrow options that read them."""

    names: tuple[str, ...]
    options: _CsvOptions
    threaded: pacsv.ReadOptions  # the same, blocks parsed in parallel (a backfill archive)


@dataclass(frozen=True, slots=True)
class _Plan:
    """How `read_typed` reads one header for one `Shape`, built once per process."""

    names: tuple[str, ...]  # the header, normalised
    lead: int  # leading constant-candidate columns (0: the header does not open with `Shape.lead`)
    every: _Read  # every wanted column read
    after_lead: _Read  # the lead columns left out (they hold one value on every line)
    # (string column, float64 column) when they are all the header has after the lead, in that order:
    # a one-run file of that shape is read by `lines.name_price_lines`
    name_price: tuple[str, str] | None


def _names(header: bytes) -> tuple[str, ...]:
    return tuple(normalise_name(c) for c in header.rstrip(b"\r").decode("ascii").split(","))


def _csv_read(names: tuple[str, ...], wanted: dict[str, pa.DataType], ignore_empty_lines: bool) -> _Read:
    read_options = pacsv.ReadOptions(column_names=list(names), skip_rows=1, use_threads=False)
    parse_options = pacsv.ParseOptions(ignore_empty_lines=ignore_empty_lines)
    convert_options = pacsv.ConvertOptions(
        column_types=wanted,
        include_columns=list(wanted),
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    threaded = pacsv.ReadOptions(column_names=list(names), skip_rows=1, use_threads=True)
    return _Read(tuple(wanted), (read_options, parse_options, convert_options), threaded)


@lru_cache(maxsize=64)
def _plan(shape: Shape, header: bytes) -> _Plan | None:
    """How to read `header`'s layout for `shape`, or None when it lacks a column or repeats one.

    A day of SCED files shares one header: building the reader options per
    file was ~5% of its parse. The options are never mutated by callers.
    """
    if not header.isascii():
        return None
    names = _names(header)
    if len(set(names)) != len(names) or any(c not in names for c in shape.columns):
        return None
    wanted = dict(shape.columns)
    wanted.update({c: t for c, t in shape.optional.items() if c in names})
    lead = len(shape.lead) if shape.lead and names[: len(shape.lead)] == shape.lead else 0
    # With constant leading columns, blank lines are kept as rows so the row count sees them.
    every = _csv_read(names, wanted, True)
    rest = {c: t for c, t in wanted.items() if c not in shape.lead}
    after_lead = _csv_read(names, rest, False)
    tail = names[lead:]
    name_price = None
    if lead and len(tail) == 2 and tuple(rest) == tail and (rest[tail[0]], rest[tail[1]]) == (_STR, _F64):
        name_price = (tail[0], tail[1])
    return _Plan(names, lead, every, after_lead, name_price)


def _one_body(bodies: list[bytes], header: bytes, names: tuple[str, ...]) -> bytes | None:
    """The members read as one CSV body: the header once, then every member's rows.

    Members whose headers name the same columns in the same order (a Public
    API bulk archive of SCED runs, a backfill) are read in one pass; others
    go to the general path, which aligns them by name.
    """
    first = bodies[0]
    if len(bodies) == 1:
        return first  # (a last line without its newline reads and counts the same)
    parts = [first if first.endswith(b"\n") else first + b"\n"]
    for body in bodies[1:]:
        end = body.find(b"\n")
        if end < 0 or (body[:end] != header and (not body[:end].isascii() or _names(body[:end]) != names)):
            return None
        rows = body[end + 1 :]
        parts.append(rows if not rows or rows.endswith(b"\n") else rows + b"\n")
    return b"".join(parts)


def read_typed(data: bytes, shape: Shape) -> Typed | None:
    """The `shape` columns of a MIS payload, typed, or None.

    A zip's CSV members are read as one table when they share a header.
    When every line opens with the same values of the `Shape.lead` columns
    they are returned in `Typed.constant` without being read. None means:
    take the general path (API page, a missing column, any value pyarrow
    cannot type, ...).
    """
    if data.lstrip()[:1] == b"{":
        return None  # Public API JSON page
    bodies = _bodies(data)
    if bodies is None:
        return None
    first = bodies[0]
    end = first.find(b"\n")
    if end < 0:
        return None  # header only: the general path decides
    header = first[:end]
    plan = _plan(shape, header)
    body = None if plan is None else _one_body(bodies, header, plan.names)
    # Quoted fields (which may hold commas or newlines) are read differently by the two CSV readers, and
    # Polars rejects invalid UTF-8 in any column while pyarrow checks only those it keeps; MIS writes
    # plain ASCII without quotes.
    if plan is None or body is None or b'"' in body or not body.isascii():
        return None
    opening = _constant_opening(body, plan.lead) if plan.lead else None
    if opening is not None and plan.name_price is not None:
        pair = name_price_lines(body, opening)
        if pair is not None:
            return Typed(
                len(pair[0]), dict(zip(plan.name_price, pair, strict=True)), _lead_values(shape, opening)
            )
    read = plan.every if opening is None else plan.after_lead
    read_options, parse_options, convert_options = read.options
    try:
        if len(body) < read_options.block_size:
            # One block on one thread: the streaming reader's set-up is ~30% cheaper than `read_csv`'s
            # for a ~50 kB SCED file, where set-up is most of the read.
            table = pacsv.open_csv(
                pa.BufferReader(body), read_options, parse_options, convert_options
            ).read_all()
        else:  # a backfill archive: blocks parsed in parallel
            table = pacsv.read_csv(pa.BufferReader(body), read.threaded, parse_options, convert_options)
    except _READ_ERRORS:
        return None
    # Rows must be the data lines as Polars counts them: a blank line is a row of nulls to Polars (an
    # error) but skipped by pyarrow, a bare CR is a line end to pyarrow only. With constant leading
    # columns every row must be a line opening with them (blank lines are rows of "" here).
    if opening is None:
        lines = body.count(b"\n") - (1 if body.endswith(b"\n") else 0)
    else:
        lines = body.count(b"\n" + opening)
    if table.num_rows != lines or lines == 0:
        return None  # a header-only file is the general path's to judge
    columns_read = {}
    for i, name in enumerate(read.names):
        column = table.column(i)
        # (`combine_chunks` copies even a single chunk)
        columns_read[name] = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return Typed(lines, columns_read, {} if opening is None else _lead_values(shape, opening))


def _lead_values(shape: Shape, opening: bytes) -> dict[str, str]:
    return dict(zip(shape.lead, opening.decode("ascii").split(","), strict=False))


def _constant_opening(body: bytes, lead: int) -> bytes | None:
    """The opening bytes (the `lead` leading values and their commas) when the first and last data lines
    open with the same values, as every line of a one-run SCED file does (`read_typed` checks the lines
    between)."""
    start = body.find(b"\n") + 1
    end = body.find(b"\n", start)
    values = body[start : end if end >= 0 else len(body)].split(b",", lead)
    if len(values) <= lead:
        return None
    opening = b",".join(values[:lead]) + b","
    end = len(body)
    while end > start and body[end - 1] in b"\r\n":
        end -= 1
    if not body.startswith(opening, body.rfind(b"\n", 0, end) + 1):
        return None  # several runs: read the columns
    return opening


class ByColumn(Generic[T]):
    """`fn` of a string column, remembered for the last few distinct columns.

    The same ~1,050 settlement point names, in the same order, open every
    SCED file of a day; checking and typing them again was ~15% of a file's
    parse, a comparison of the column's buffers (memcmp) is ~1 us. A column
    matches only when its length and both buffers are byte-equal, so the
    remembered result is the result.
    """

    __slots__ = ("_fn", "_recent", "_size")

    def __init__(self, fn: Callable[[pa.Array], T], size: int = 4) -> None:
        self._fn = fn
        self._size = size
        # Replaced, never mutated, so concurrent parsers at worst forget an entry.
        self._recent: tuple[tuple[int, pa.Buffer, pa.Buffer, T], ...] = ()

    def __call__(self, values: pa.Array) -> T:
        rows = len(values)
        if rows > MEMO_ROWS or values.offset or values.null_count or not isinstance(values, pa.StringArray):
            return self._fn(values)  # (a backfill's column is not worth keeping alive)
        _, offsets, data = values.buffers()
        if offsets is None or data is None:
            return self._fn(values)
        for n, o, d, result in self._recent:
            if n == rows and o.equals(offsets) and d.equals(data):
                return result
        result = self._fn(values)
        self._recent = ((rows, offsets, data, result), *self._recent[: self._size - 1])
        return result


plain_text = ByColumn(plain_names)


def _utc_us(naive: datetime, second: bool) -> int | None:
    """Microseconds since the epoch of a Central wall-clock time; None inside the spring-forward gap.

    `second` picks the later (CST) instant of a fall-back time, like the
    general path's `ambiguous="latest"`; otherwise the earlier one.
    """
    utc = naive.replace(tzinfo=_ZONE, fold=int(second)).astimezone(UTC)
    if utc.astimezone(_ZONE).replace(tzinfo=None) != naive:
        return None  # does not exist: the general path names it
    return (utc - _EPOCH) // _MICRO


def _wall_clock(stamp: str) -> datetime | None:
    found = _STAMP.fullmatch(stamp)
    if found is None:
        return None
    month, day, year, hour, minute, second = map(int, found.groups())
    if year not in _YEARS:
        return None
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _market_day(text: str) -> datetime | None:
    found = _DATE.fullmatch(text)
    if found is None:
        return None
    month, day, year = map(int, found.groups())
    if year not in _YEARS:
        return None
    try:
        return datetime(year, month, day)
    except ValueError:
        return None


def _hour_label(text: str) -> int | None:
    found = _HOUR.fullmatch(text)
    if found is None:
        return None
    hour = int(found.group(1))
    return hour if 1 <= hour <= 24 else None


def distinct(keys: Sequence[pa.Array | str], rows: int) -> tuple[list[list[str]], np.ndarray] | None:
    """The distinct values of each key column (a str: one value on every row) and, per row, the flat
    index of its combination in the product of those value lists; None past `_MAX_KEYS` combinations."""
    encoded = [k if isinstance(k, str) else pc.dictionary_encode(k) for k in keys]
    values = [[e] if isinstance(e, str) else e.dictionary.to_pylist() for e in encoded]
    if math.prod(len(v) for v in values) > _MAX_KEYS:
        return None
    index = np.zeros(rows, dtype=np.intp)
    for e, v in zip(encoded, values, strict=True):
        if not isinstance(e, str):
            index = index * len(v) + e.indices.to_numpy(zero_copy_only=False)
    return values, index


def _spread(lookup: list[int], index: np.ndarray) -> np.ndarray:
    if len(lookup) == 1:
        return np.full(len(index), lookup[0], dtype=np.int64)
    spread: np.ndarray = np.asarray(lookup, dtype=np.int64)[index]
    return spread


@lru_cache(maxsize=1024)
def _run_start(stamp: str, flag: str) -> int | None:
    """UTC microseconds of one SCED timestamp and `RepeatedHourFlag`, or None (not in the MIS form)."""
    second = _FLAGS.get(flag)
    naive = _wall_clock(stamp)
    return None if second is None or naive is None else _utc_us(naive, second)


def sced_starts(stamps: pa.Array | str, flags: pa.Array | str, rows: int) -> np.ndarray | None:
    """UTC microseconds of each row's SCED timestamp (`RepeatedHourFlag` Y = the CST pass), or None.

    Each distinct (timestamp, flag) is converted once: one SCED file is one
    run, so that is a single conversion spread over every row.
    """
    if isinstance(stamps, str) and isinstance(flags, str):  # one run (`read_typed` found them constant)
        at = _run_start(stamps, flags)
        return None if at is None else np.full(rows, at, dtype=np.int64)
    found = distinct([stamps, flags], rows)
    if found is None:
        return None
    (stamp_values, flag_values), index = found
    lookup = []
    for stamp in stamp_values:
        for flag in flag_values:
            at = _run_start(stamp, flag)
            if at is None:
                return None
            lookup.append(at)
    return _spread(lookup, index)


def hour_starts(
    days: pa.Array | str, hours: pa.Array | str, flags: pa.Array | str, rows: int
) -> np.ndarray | None:
    """UTC microseconds of each row's hour-ending hour start (`frames.hour_ending` rules), or None.

    HE n starts at wall-clock n-1:00 (the CST pass when DSTFlag is Y); a
    label whose start falls in the spring-forward gap is the hour that ends
    at its wall-clock end, as in `localtime.hour_ending_to_utc`.
    """
    found = distinct([days, hours, flags], rows)
    if found is None:
        return None
    (day_values, hour_values, flag_values), index = found
    seconds = [_FLAGS[f] for f in flag_values if f in _FLAGS]
    labels = [h for h in map(_hour_label, hour_values) if h is not None]
    if len(seconds) != len(flag_values) or len(labels) != len(hour_values):
        return None
    lookup = []
    for text in day_values:
        day = _market_day(text)
        if day is None:
            return None
        for label in labels:
            for second in seconds:
                start = day + timedelta(hours=label - 1)
                at = _utc_us(start, second)
                if at is None:
                    end = _utc_us(start + timedelta(hours=1), True)
                    if end is None:
                        return None
                    at = end - HOUR_US
                lookup.append(at)
    return _spread(lookup, index)


def timestamps(micros: np.ndarray) -> pa.Array:
    """UTC microseconds as the canonical timestamp type (no copy of a contiguous int64 array)."""
    micros = np.ascontiguousarray(micros, dtype=np.int64)
    return pa.Array.from_buffers(TIMESTAMP, len(micros), [None, pa.py_buffer(micros)])


__all__ = [
    "HOUR_US",
    "MINUTE_US",
    "Shape",
    "Typed",
    "distinct",
    "hour_starts",
    "plain_text",
    "read_typed",
    "sced_starts",
    "timestamps",
]
