"""Getting data into the store: today canonical CSV/Parquet files; ISO connectors and backfills later."""

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

__all__ = [
    "CanonicalFile",
    "FileError",
    "FileFormat",
    "TimestampError",
    "UnreadableFile",
    "UnsupportedFormat",
    "detect_format",
    "read_canonical_file",
]
