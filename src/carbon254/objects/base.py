"""The object store interface: where jobs keep their artifacts (`file://` or `s3://`).

Keys are `/`-separated relative names (`jobs/<id>/export.parquet`); the store
never interprets them further. Writes are atomic: a reader sees the whole
object or none of it, so a job that dies mid-write leaves nothing
half-written behind. Reads may ask for a byte range, which is how the
download route answers HTTP range requests without loading the object.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol


class ObjectNotFound(KeyError):
    """No object has this key."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """An object's key, size in bytes and last-modified time (UTC)."""

    key: str
    size: int
    modified: datetime


class ObjectStore(Protocol):
    """Artifacts by key; opened from `CARBON254_OBJECT_STORE` by `open_object_store`."""

    @property
    def url(self) -> str:
        """The URL this store was opened from (`file:///srv/c254/objects`, `s3://bucket/prefix`)."""
        ...

    def writer(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A binary file to write the object `key` into; it appears, whole, when the block ends normally.

        On an exception nothing is stored (an earlier object of that key stays).
        Large objects stream through (multipart on S3): memory stays bounded.
        """
        ...

    def put(self, key: str, data: bytes) -> ObjectInfo:
        """Store `data` as the object `key` (replacing it atomically) and return its info."""
        ...

    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes `[start, end)` of the object (`end` None: to its end); `ObjectNotFound` if absent."""
        ...

    def iter_bytes(
        self, key: str, start: int = 0, end: int | None = None, chunk: int = 1 << 20
    ) -> Iterator[bytes]:
        """Bytes `[start, end)` of the object in chunks of at most `chunk` bytes, read as they go."""
        ...

    def info(self, key: str) -> ObjectInfo:
        """The object's size and last-modified time; `ObjectNotFound` if absent."""
        ...

    def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object whose key starts with `prefix`, sorted by key."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; no error if it is already gone."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under `prefix`; how many were removed."""
        ...
