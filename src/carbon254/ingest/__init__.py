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
