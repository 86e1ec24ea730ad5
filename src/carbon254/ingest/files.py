"""Reading canonical CSV and Parquet files into Arrow tables ready for `schema.validate`.

A canonical file holds one dataset's columns (see `carbon254.schema`), one row
per interval. Timestamps must say which instant they mean: ISO-8601 with an
offset or `Z` (`2025-01-01T05:00:00-05:00`, `2025-01-01T10:00:00Z`,
`2025-01-01 10:00:00+00:00`). A wall-clock time without an offset is ambiguous
(which zone? which side of a DST change?), so it is refused, naming the column
and the first offending row, rather than guessed.

Native ISO files (zip archives, XML, JSON, the ISOs' own CSVs) are read by
the ISO connectors (`carbon254.markets`), which turn them into these same
canonical tables.

Everything here is vectorized: Arrow's multi-threaded CSV reader, one cast per
timestamp column, and a binary search only when that cast fails, so a
million-row file reads in about a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from carbon254.schema import SPECS, TIMESTAMP, Dataset, infer_dataset, spec

SUPPORTED = "canonical CSV (.csv, .csv.gz) or Parquet (.parquet, .pq)"
NATIVE_HINT = (
    f"without --iso, ingest reads {SUPPORTED} with a dataset's columns; "
    "for a file as an ISO publishes it, add --iso ISO"
)

# One canonical type per column name across every dataset (a name means the
# same thing wherever it appears), so a CSV can be typed before its dataset is known.
_CANONICAL_TYPES: dict[str, pa.DataType] = {f.name: f.type for s in SPECS.values() for f in s.schema}
_TIMESTAMP_COLUMNS = frozenset(n for n, t in _CANONICAL_TYPES.items() if pa.types.is_timestamp(t))

_SNIFF_BYTES = 512


class FileFormat(StrEnum):
    """File formats `read_canonical_file` reads."""

    CSV = "csv"
    PARQUET = "parquet"


class FileError(ValueError):
    """A file that cannot be ingested; the message names the file and says why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


class UnsupportedFormat(FileError):
    """Not a canonical CSV or Parquet file (e.g. a zip, XML or JSON file)."""


class UnreadableFile(FileError):
    """The file is missing, unreadable, or corrupt for its format."""


class TimestampError(FileError):
    """A timestamp column holds a value that is not an ISO-8601 instant with an offset."""

    def __init__(self, path: Path, reason: str, column: str, row: int, value: str | None) -> None:
        super().__init__(path, reason)
        self.column = column
        self.row = row
        self.value = value


@dataclass(frozen=True, slots=True)
class CanonicalFile:
    """One file read into Arrow.

    `table` holds the dataset's columns present in the file, timestamps as
    `timestamp[us, UTC]` and, for CSV, every other column already in its
    canonical type (prices float64 in $/MWh, $/MW-h or $/MW-day; load MW), except
    number columns holding a cell that is not a number, which stay text for
    validation to name every such cell with its row.
    It is not validated yet: `schema.validate` (via `Store.write`) does that.
    `ignored_columns` are the file's columns that no dataset column matches.
    """

    path: Path
    format: FileFormat
    dataset: Dataset
    table: pa.Table
    ignored_columns: tuple[str, ...]

    def describe_row(self, row: int) -> str:
        """`row N`, plus the line of the file for CSV (rows count data rows from 0)."""
        return describe_row(self.format, row)


def describe_row(fmt: FileFormat, row: int) -> str:
    """How to point a user at a 0-based data row of a file of this format."""
    if fmt is FileFormat.CSV:
        return f"row {row} (line {row + 2} of the file, counting the header as line 1)"
    return f"row {row}"


def _native_kind(head: bytes) -> str | None:
    """The name of a non-canonical format recognised from a file's first bytes, if any."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "a zip archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old-style Excel/OLE file"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "an XML/HTML document"
    if text.startswith((b"{", b"[")):
        return "a JSON document"
    return None


def detect_format(path: Path) -> FileFormat:
    """The format of `path`, from its first bytes and its name.

    Raises `UnreadableFile` if it cannot be opened, `UnsupportedFormat` for
    anything but canonical CSV or Parquet (saying that native ISO formats
    come with the connectors).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except IsADirectoryError:
        raise UnreadableFile(path, "is a directory, not a file") from None
    except FileNotFoundError:
        raise UnreadableFile(path, "no such file") from None
    except OSError as exc:
        raise UnreadableFile(path, f"cannot open it ({exc.strerror or exc})") from None
    suffixes = [s.lower() for s in path.suffixes]
    last = suffixes[-1] if suffixes else ""
    if head.startswith(b"PAR1"):
        return FileFormat.PARQUET
    if head.startswith(b"\x1f\x8b"):
        if suffixes[-2:] == [".csv", ".gz"]:
            return FileFormat.CSV
        raise UnsupportedFormat(path, f"is gzip-compressed but not named .csv.gz; ingest reads {SUPPORTED}")
    native = _native_kind(head)
    if native is not None:
        raise UnsupportedFormat(path, f"is {native}; {NATIVE_HINT}")
    if last in (".parquet", ".pq"):
        raise UnreadableFile(path, "is named like Parquet but is not a Parquet file (no PAR1 header)")
    if last == ".csv":
        return FileFormat.CSV
    if not head:
        raise UnreadableFile(path, "is empty")
    raise UnsupportedFormat(path, f"has an unsupported name or format ({last or 'no suffix'}); {NATIVE_HINT}")


def _read_csv(path: Path) -> pa.Table:
    """The CSV with every known column in its canonical type (timestamps as text, parsed later).

    A number column holding a cell that is not a number makes Arrow refuse the
    whole file naming only that cell; the file is then read again with number
    columns as text, so validation names every unreadable cell beside every
    other broken rule (see `schema.validate`, rule `type`).
    """
    try:
        return _read_csv_as(path, text_numbers=False)
    except UnreadableFile as exc:
        if "conversion error" not in exc.reason:
            raise
    return _read_csv_as(path, text_numbers=True)


def _read_csv_as(path: Path, *, text_numbers: bool) -> pa.Table:
    column_types = {
        name: (pa.string() if name in _TIMESTAMP_COLUMNS or (text_numbers and pa.types.is_floating(t)) else t)
        for name, t in _CANONICAL_TYPES.items()
    }
    convert = pacsv.ConvertOptions(
        column_types=column_types,
        # Only an empty cell is missing: "NA" or "null" may be real names,
        # and an empty optional text cell must be null, not "".
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    try:
        return pacsv.read_csv(path, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        raise UnreadableFile(path, f"cannot read it as CSV: {exc}") from None
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read it: {exc}") from None


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise UnreadableFile(path, f"cannot read it as Parquet: {exc}") from None


def _choose_dataset(path: Path, columns: list[str], dataset: Dataset | str | None) -> Dataset:
    if dataset is not None:
        return spec(dataset).name
    try:
        return infer_dataset(columns)
    except ValueError:
        present = set(columns)
        closest = max(SPECS.values(), key=lambda s: len(set(s.required) & present))
        missing = [c for c in closest.required if c not in present]
        raise FileError(
            path,
            f"its columns ({', '.join(columns) or 'none'}) do not hold any dataset's required columns; "
            f"closest is {closest.name.value}, which also needs: {', '.join(missing)} "
            "(or name the dataset with --dataset; for a file as an ISO publishes it, add --iso ISO)",
        ) from None


def _first_bad_row(text: pa.Array) -> int:
    """Index of the first value that does not cast to a UTC timestamp (the cast of all of them failed)."""
    good, bad = 0, len(text)  # text[:good] casts; text[:bad] does not
    while bad - good > 1:
        mid = (good + bad) // 2
        try:
            pc.cast(text.slice(0, mid), TIMESTAMP)
            good = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            bad = mid
    return bad - 1


def _parse_text_timestamps(
    path: Path, fmt: FileFormat, name: str, column: pa.ChunkedArray
) -> pa.ChunkedArray | pa.Array:
    # Upper case admits RFC 3339's lower-case "t" and "z"; digits are unaffected.
    text = pc.utf8_upper(pc.utf8_trim_whitespace(column.cast(pa.string())))
    try:
        return pc.cast(text, TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    flat = text.combine_chunks()
    row = _first_bad_row(flat)
    value = column.cast(pa.string()).combine_chunks()[row].as_py()
    where = describe_row(fmt, row)
    try:
        pc.cast(flat.slice(row, 1), pa.timestamp("us"))
        naive = True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        naive = False
    if naive:
        reason = (
            f"column {name}: {where} has {value!r}, a timestamp without a UTC offset; "
            "write every time as ISO-8601 with its offset, e.g. 2025-01-01T10:00:00Z "
            "or 2025-01-01T04:00:00-06:00 (a bare wall-clock time is ambiguous)"
        )
    else:
        reason = (
            f"column {name}: {where} has {value!r}, which is not an ISO-8601 timestamp with an offset "
            "(e.g. 2025-01-01T10:00:00Z)"
        )
    raise TimestampError(path, reason, name, row, value)


def _to_utc(path: Path, fmt: FileFormat, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """A timestamp column as `timestamp[us, UTC]`; other types are left for `validate` to judge."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return _parse_text_timestamps(path, fmt, name, column)
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            valid = pc.is_valid(column)
            if pc.any(valid).as_py():
                row = int(pc.index(valid, True).as_py())
                raise TimestampError(
                    path,
                    f"column {name} holds timestamps without a time zone "
                    f"(first at {describe_row(fmt, row)}); "
                    "store instants as UTC-aware timestamps (e.g. timestamp[us, tz=UTC])",
                    name,
                    row,
                    str(column[row].as_py()),
                )
            return column
        return column.cast(TIMESTAMP)
    return column


def read_canonical_file(path: Path | str, dataset: Dataset | str | None = None) -> CanonicalFile:
    """Read one canonical CSV or Parquet file into Arrow, timestamps parsed to UTC.

    `dataset` names the dataset; when None it is inferred from the columns
    (`schema.infer_dataset`). Raises `UnsupportedFormat` (zip, XML, JSON,
    other), `UnreadableFile` (missing, corrupt, malformed CSV), `FileError`
    when the columns fit no dataset, and `TimestampError` for a timestamp
    without an offset or not ISO-8601, naming each bad column and its first
    bad row.
    Never writes anything.
    """
    path = Path(path)
    fmt = detect_format(path)
    table = _read_csv(path) if fmt is FileFormat.CSV else _read_parquet(path)
    repeated = sorted({n for n in table.column_names if table.column_names.count(n) > 1})
    if repeated:
        raise FileError(path, f"column(s) named more than once: {', '.join(repeated)}")
    chosen = _choose_dataset(path, table.column_names, dataset)
    wanted = spec(chosen).schema
    keep = [n for n in wanted.names if n in table.column_names]
    ignored = tuple(n for n in table.column_names if n not in wanted.names)
    columns = []
    problems: list[TimestampError] = []
    for name in keep:
        column = table.column(name)
        if name in _TIMESTAMP_COLUMNS:
            try:
                column = _to_utc(path, fmt, name, column)
            except TimestampError as exc:
                problems.append(exc)
        columns.append(column)
    if problems:
        # One message for every bad column, so a user fixes them all in one pass.
        first = min(problems, key=lambda p: p.row)
        reason = "; ".join(p.reason for p in problems)
        raise TimestampError(path, reason, first.column, first.row, first.value)
    return CanonicalFile(
        path=path,
        format=fmt,
        dataset=chosen,
        table=pa.table(columns, names=keep),
        ignored_columns=ignored,
    )
