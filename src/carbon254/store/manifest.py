"""The table of contents of the embedded store, committed atomically.

A Parquet file is part of the store only once the manifest names it, and the
manifest is replaced with a single `os.replace`, so a writer killed at any
point leaves readers seeing exactly the previous state. Files a crashed writer
left behind are unreferenced and removed by `vacuum`.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One immutable Parquet file holding rows of one dataset/ISO/market/UTC year.

    Times are microseconds since the Unix epoch (UTC) over the dataset's time
    column; `revisions` counts rows that revise a key stored in an earlier file
    (zero lets readers skip de-duplication).
    """

    path: str
    dataset: str
    iso: str
    market: str
    year: int
    rows: int
    min_time: int
    max_time: int
    revisions: int
    source: str
    created: int


@dataclass(frozen=True, slots=True)
class RetiredFile:
    """A file replaced by compaction, deleted once no reader can still be using it."""

    path: str
    retired_at: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """An immutable snapshot of the store's contents."""

    version: int = 0
    files: tuple[FileEntry, ...] = ()
    catalog: str | None = None
    retired: tuple[RetiredFile, ...] = ()

    def partition(self, dataset: str, iso: str, market: str | None) -> list[FileEntry]:
        """Files of one dataset and ISO, of one market or (None) every market."""
        return [
            f
            for f in self.files
            if f.dataset == dataset and f.iso == iso and (market is None or f.market == market)
        ]

    def evolve(
        self,
        *,
        add: tuple[FileEntry, ...] = (),
        remove: frozenset[str] = frozenset(),
        catalog: str | None = None,
        retired: tuple[RetiredFile, ...] | None = None,
    ) -> Manifest:
        """The next version: files added and removed, optionally a new catalog and retired list."""
        kept = tuple(f for f in self.files if f.path not in remove)
        return replace(
            self,
            version=self.version + 1,
            files=kept + add,
            catalog=catalog if catalog is not None else self.catalog,
            retired=retired if retired is not None else self.retired,
        )


@dataclass
class ManifestFile:
    """Reads and atomically replaces `manifest.json` in one store directory."""

    root: Path
    _stamp: tuple[int, int, int] | None = field(default=None, init=False)
    _cached: Manifest = field(default_factory=Manifest, init=False)

    @property
    def path(self) -> Path:
        return self.root / MANIFEST_NAME

    def current(self) -> Manifest:
        """The latest committed manifest, re-read only when the file changed (one `stat`)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return Manifest()
        # os.replace gives every commit a new inode, so this catches each commit
        # even when two land within the file system's timestamp resolution.
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._cached = _decode(self.path.read_bytes())
            self._stamp = stamp
        return self._cached

    def commit(self, manifest: Manifest) -> None:
        """Durably replace the manifest: write a temporary file, fsync, rename, fsync the directory."""
        tmp = self.root / f".{MANIFEST_NAME}.{uuid.uuid4().hex}.tmp"
        payload = json.dumps(
            {
                "format": FORMAT_VERSION,
                "version": manifest.version,
                "catalog": manifest.catalog,
                "files": [asdict(f) for f in manifest.files],
                "retired": [asdict(r) for r in manifest.retired],
            },
            separators=(",", ":"),
        ).encode()
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.root)


def _decode(raw: bytes) -> Manifest:
    doc = json.loads(raw)
    if doc.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"store manifest format {doc.get('format')!r} is not supported (expected {FORMAT_VERSION})"
        )
    return Manifest(
        version=int(doc["version"]),
        files=tuple(FileEntry(**f) for f in doc["files"]),
        catalog=doc.get("catalog"),
        retired=tuple(RetiredFile(**r) for r in doc.get("retired", [])),
    )


def fsync_dir(path: Path) -> None:
    """Make a rename or create in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
