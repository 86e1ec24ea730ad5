"""The `s3://bucket/prefix` object store, on s3fs (any S3-compatible endpoint).

Credentials and region come from the usual AWS chain (environment
variables, `~/.aws/config`, instance roles); the endpoint from
`CARBON254_S3_ENDPOINT` when set (MinIO, moto, Ceph). Writes stream in parts
of `part_size` bytes through a multipart upload that is completed only when
the writer's block ends cleanly and aborted otherwise, so S3 publishes the
whole object or nothing, and memory stays at about one part.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

import s3fs

from carbon254.objects.base import ObjectInfo, ObjectNotFound
from carbon254.objects.keys import check_key, check_range

# S3 refuses parts under 5 MiB (but the last); 8 MiB keeps a streaming export's memory small.
DEFAULT_PART_SIZE = 8 * 2**20


class S3ObjectStore:
    """Objects under `prefix` in `bucket` on S3 or an S3-compatible server."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        """Address `s3://bucket/prefix` (at `endpoint` if given); nothing is contacted until first use.

        `part_size` is the multipart part size in bytes (at least S3's 5 MiB).
        """
        if not bucket or "/" in bucket:
            raise ValueError(f"S3 bucket name {bucket!r} must be non-empty and contain no '/'")
        if part_size < 5 * 2**20:
            raise ValueError(f"S3 part size must be at least 5 MiB, not {part_size} bytes")
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        if self._prefix:
            check_key(self._prefix)
        self._part_size = part_size
        # No listings cache: another process may add or delete objects at any time, and a
        # private instance so this store's settings never leak into another's.
        self._fs = s3fs.S3FileSystem(
            endpoint_url=endpoint or None,
            use_listings_cache=False,
            skip_instance_cache=True,
        )

    @property
    def url(self) -> str:
        """`s3://bucket` or `s3://bucket/prefix`."""
        return f"s3://{self._bucket}/{self._prefix}" if self._prefix else f"s3://{self._bucket}"

    def _path(self, key: str) -> str:
        check_key(key)
        return f"{self._base}/{key}"

    @property
    def _base(self) -> str:
        return f"{self._bucket}/{self._prefix}" if self._prefix else self._bucket

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        """A file to write `key` into, uploaded in parts as it fills; published when the block ends cleanly.

        On an exception the multipart upload (if one began) is aborted and an
        earlier object of that key stays.
        """
        handle = self._fs.open(self._path(key), "wb", block_size=self._part_size)
        try:
            yield cast(BinaryIO, handle)
        except BaseException:
            handle.discard()
            # fsspec closes (and so publishes) unclosed files when they are collected: mark it closed.
            handle.closed = True
            raise
        try:
            handle.close()
        except BaseException:
            handle.discard()  # completing the upload failed: drop its parts rather than leave them billed
            raise

    def put(self, key: str, data: bytes) -> ObjectInfo:
        """Store `data` as `key` (one PUT, or a multipart upload past `part_size`); its info."""
        with self.writer(key) as handle:
            handle.write(data)
        return self.info(key)

    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes `[start, end)` of `key` (cut at its end); `ObjectNotFound` if absent."""
        check_range(start, end)
        path = self._path(key)
        if end == start:
            self.info(key)  # an empty range still says whether the object exists
            return b""
        try:
            data: bytes = self._fs.cat_file(path, start=start or None, end=end)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        except OSError:
            # S3 answers 416 to a range starting at or past the end; the contract is empty bytes.
            if start >= self.info(key).size:
                return b""
            raise
        return data

    def iter_bytes(
        self, key: str, start: int = 0, end: int | None = None, chunk: int = 1 << 20
    ) -> Iterator[bytes]:
        """Bytes `[start, end)` of `key` in chunks of at most `chunk` bytes, one ranged GET each.

        The object is looked up here, so a missing key raises `ObjectNotFound`
        at the call; every chunk is fetched on condition of the ETag seen
        then, so a key replaced mid-read fails instead of mixing two objects.
        """
        check_range(start, end)
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1 byte, not {chunk}")
        try:
            handle = self._fs.open(self._path(key), "rb", block_size=chunk, cache_type="none")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        if handle.details.get("type") != "file":
            handle.close()
            raise ObjectNotFound(key)  # a common prefix of other keys, not an object
        size: int = handle.size
        return _chunks(handle, start, size if end is None else min(end, size), chunk)

    def info(self, key: str) -> ObjectInfo:
        """The size (bytes) and last-modified time (UTC) of `key`; `ObjectNotFound` if absent."""
        try:
            found: dict[str, Any] = self._fs.info(self._path(key))
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        if found.get("type") != "file":
            raise ObjectNotFound(key)  # a common prefix of other keys, not an object
        return _info(key, found)

    def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object whose key starts with `prefix`, sorted by key (one paged listing)."""
        if prefix:
            check_key(prefix.rstrip("/") + "/x")
        found: dict[str, dict[str, Any]] = self._fs.find(self._base, prefix=prefix, detail=True)
        start = len(self._base) + 1
        items = [
            _info(path[start:], details)
            for path, details in found.items()
            if details.get("type") == "file" and path[start:].startswith(prefix)
        ]
        return sorted(items, key=lambda item: item.key)

    def delete(self, key: str) -> None:
        """Remove `key`; no error if it is already gone (S3 deletes are idempotent)."""
        self._fs.rm_file(self._path(key))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with `prefix` (batched deletes); how many there were."""
        keys = [item.key for item in self.list(prefix)]
        if keys:
            self._fs.rm([self._path(key) for key in keys])
        return len(keys)


def _chunks(handle: Any, start: int, stop: int, chunk: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        position = start
        while position < stop:
            block: bytes = handle.read(min(chunk, stop - position))
            if not block:
                return
            position += len(block)
            yield block


def _info(key: str, details: dict[str, Any]) -> ObjectInfo:
    modified: datetime = details["LastModified"]
    return ObjectInfo(key=key, size=int(details["size"]), modified=modified.astimezone(UTC))
