"""A dict-backed object store for job tests whose kinds write no artifacts."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO

from carbon254.objects.base import ObjectInfo, ObjectNotFound


class MemoryObjects:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, datetime]] = {}

    @property
    def url(self) -> str:
        return "memory://"

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        buffer = io.BytesIO()
        yield buffer
        self.put(key, buffer.getvalue())

    def put(self, key: str, data: bytes) -> ObjectInfo:
        self.objects[key] = (data, datetime.now(UTC))
        return self.info(key)

    def get(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        if key not in self.objects:
            raise ObjectNotFound(key)
        return self.objects[key][0][start:end]

    def iter_bytes(
        self, key: str, start: int = 0, end: int | None = None, chunk: int = 1 << 20
    ) -> Iterator[bytes]:
        data = self.get(key, start, end)
        for offset in range(0, len(data), chunk):
            yield data[offset : offset + chunk]

    def info(self, key: str) -> ObjectInfo:
        if key not in self.objects:
            raise ObjectNotFound(key)
        data, modified = self.objects[key]
        return ObjectInfo(key, len(data), modified)

    def list(self, prefix: str) -> list[ObjectInfo]:
        return [self.info(key) for key in sorted(self.objects) if key.startswith(prefix)]

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def delete_prefix(self, prefix: str) -> int:
        keys = [key for key in self.objects if key.startswith(prefix)]
        for key in keys:
            del self.objects[key]
        return len(keys)
