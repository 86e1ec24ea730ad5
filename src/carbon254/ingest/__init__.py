"""Getting data into the store: canonical files, native ISO payloads, backfills and live follow."""

from carbon254.ingest.files import (
    CanonicalFile,
    FileError,
    FileFormat,
    TimestampError,
    UnreadableFile,
    UnsupportedFormat,
    detect_format,
    read_canonical_file,
)
from carbon254.ingest.runs import end_runs, run_length, write_canonical

__all__ = [
    "CanonicalFile",
    "FileError",
    "FileFormat",
    "TimestampError",
    "UnreadableFile",
    "UnsupportedFormat",
    "detect_format",
    "end_runs",
    "read_canonical_file",
    "run_length",
    "write_canonical",
]
