"""The `file://` object store: one file per key under a directory.

A write goes to a hidden temporary file in the key's own directory and is
renamed over the key on a clean close (`os.replace` is atomic within one
file system, which the same directory guarantees), so readers see the old
object or the new one, never a part. Range reads seek, so serving a slice of
a large export reads only that slice.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from carbon254.objects.base import ObjectInfo, ObjectNotFound
from carbon254.objects.keys import check_key, check_range

# Temporary files start with this; keys may not, so a listing can skip them without ambiguity.
_TEMP_PREFIX = ".tmp-"


class FileObjectStore:
    """Objects as files under `root` (created on first write); `file://` URLs."""

    def __init__(self, root: Path) -> None:
        """Serve the directory `root`, made absolute; nothing is created until an object is written."""
        self._root = root.expanduser().absolute()

    @property
    def url(self) -> str:
        """`file://` and the absolute directory."""
        return f"file://{self._root.as_posix()}"

    @property
    def root(self) -> Path:
        """The directory holding the objects."""
        return self._root

    def _path(self, key: str) -> Path:
        check_key(key)
        if any(part.startswith(_TEMP_PREFIX) for part in key.split("/")):
            raise ValueError(f"object key {key!r}: no part may start with {_TEMP_PREFIX!r}")
        return self._root.joinpath(*key.split("/"))

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        """A file to write `key` into; renamed over the key when the block ends without an exception.

        The data is flushed to disk before the rename, so a crash right after
        leaves either the old object or the whole new one. On an exception the
        temporary file is removed and an earlier object of that key stays.
        """
        path = self._path(key)
        temp = path.with_name(f"{_TEMP_PREFIX}{path.name}-{uuid.uuid4().hex}")
        handle = _create(temp)
        try:
            with handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def put(self, key: str, data: bytes) -> ObjectInfo:
        """Store `data` as `key`, replacing any earlier object atomically; its info."""
        with self.writer(key) as handle:
            handle.write(data)
        return self.info(key)

    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes `[start, end)` of `key` (cut at its end); `ObjectNotFound` if absent."""
        check_range(start, end)
        with self._open(key) as handle:
            handle.seek(start)
            return handle.read() if end is None else handle.read(max(0, end - start))

    def iter_bytes(
        self, key: str, start: int = 0, end: int | None = None, chunk: int = 1 << 20
    ) -> Iterator[bytes]:
        """Bytes `[start, end)` of `key` in chunks of at most `chunk` bytes.

        The file is opened here, so a missing key raises `ObjectNotFound` at
        the call rather than at the first chunk, and the chunks come from
        that one open file even if the key is replaced meanwhile.
        """
        check_range(start, end)
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1 byte, not {chunk}")
        handle = self._open(key)
        return _chunks(handle, start, end, chunk)

    def info(self, key: str) -> ObjectInfo:
        """The size (bytes) and last-modified time (UTC) of `key`; `ObjectNotFound` if absent."""
        path = self._path(key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not path.is_file():
            raise ObjectNotFound(key)
        return _info(key, stat)

    def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object whose key starts with `prefix`, sorted by key."""
        # Only the directory the prefix's complete parts name can hold matches; walk from there.
        parts = prefix.split("/")[:-1]
        check_key("/".join([*parts, "x"]))
        top = self._root.joinpath(*parts)
        found: list[ObjectInfo] = []
        for directory, subdirs, files in os.walk(top):
            subdirs[:] = [name for name in subdirs if not name.startswith(_TEMP_PREFIX)]
            base = Path(directory).relative_to(self._root).as_posix()
            for name in files:
                if name.startswith(_TEMP_PREFIX):
                    continue
                key = name if base == "." else f"{base}/{name}"
                if not key.startswith(prefix):
                    continue
                try:
                    found.append(_info(key, os.stat(os.path.join(directory, name))))
                except FileNotFoundError:
                    continue  # deleted while listing
        return sorted(found, key=lambda item: item.key)

    def delete(self, key: str) -> None:
        """Remove `key` and any directories it leaves empty; no error if it is already gone."""
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        self._prune(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with `prefix`; how many were removed."""
        removed = 0
        for item in self.list(prefix):
            try:
                self._path(item.key).unlink()
            except FileNotFoundError:
                continue  # another process removed it first
            removed += 1
            self._prune(self._path(item.key).parent)
        return removed

    def _open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def _prune(self, directory: Path) -> None:
        # Empty directories left by deleted keys would otherwise pile up (one per job).
        while directory != self._root and self._root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return  # not empty (or already gone): stop climbing
            directory = directory.parent


def _create(temp: Path) -> BinaryIO:
    temp.parent.mkdir(parents=True, exist_ok=True)
    try:
        return temp.open("xb")
    except FileNotFoundError:
        # A concurrent delete pruned the directory between mkdir and open: make it again, once.
        temp.parent.mkdir(parents=True, exist_ok=True)
        return temp.open("xb")


def _chunks(handle: BinaryIO, start: int, end: int | None, chunk: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        position = start
        while end is None or position < end:
            block = handle.read(chunk if end is None else min(chunk, end - position))
            if not block:
                return
            position += len(block)
            yield block


def _info(key: str, stat: os.stat_result) -> ObjectInfo:
    return ObjectInfo(key=key, size=stat.st_size, modified=datetime.fromtimestamp(stat.st_mtime, UTC))
