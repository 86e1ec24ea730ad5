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

    A file written by `write` holds the rows of one commit, every one stamped
    `ingested_at == created`. A `compacted` file re-stores rows of files that
    compaction merged, keeping their `ingested_at`; `ingested_until` is the
    latest of those. The change feed relies on this to tell new rows from
    merely rewritten ones. Both fields default so manifests written before
    they existed still load.
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
    compacted: bool = False
    ingested_until: int = 0

    @property
    def last_ingested(self) -> int:
        """The latest `ingested_at` among the file's rows, microseconds since the epoch (UTC)."""
        return self.ingested_until if self.compacted else self.created


@dataclass(frozen=True, slots=True)
class RetiredFile:
    """A file replaced by compaction, deleted once no reader can still be using it."""

    path: str
    retired_at: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """An immutable snapshot of the store's contents.

    `version` counts commits of any kind (writes, compactions, vacuums).
    `last_commit` is the `ingested_at` (microseconds since the epoch, UTC) of
    the latest commit by `write`: writers stamp each commit later than the one
    before it while holding the writer lock, so it orders writes across
    processes and is the head of the change feed.
    """

    version: int = 0
    files: tuple[FileEntry, ...] = ()
    catalog: str | None = None
    retired: tuple[RetiredFile, ...] = ()
    last_commit: int = 0

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
        last_commit: int | None = None,
    ) -> Manifest:
        """The next version: files added and removed; optionally a new catalog, retired list, write stamp."""
        kept = tuple(f for f in self.files if f.path not in remove)
        return replace(
            self,
            version=self.version + 1,
            files=kept + add,
            catalog=catalog if catalog is not None else self.catalog,
            retired=retired if retired is not None else self.retired,
            last_commit=last_commit if last_commit is not None else self.last_commit,
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
                "last_commit": manifest.last_commit,
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
    files = tuple(FileEntry(**f) for f in doc["files"])
    # Manifests from before the change feed lack `last_commit`; every row they
    # hold was ingested no later than the newest file was created.
    last_commit = doc.get("last_commit")
    return Manifest(
        version=int(doc["version"]),
        files=files,
        catalog=doc.get("catalog"),
        retired=tuple(RetiredFile(**r) for r in doc.get("retired", [])),
        last_commit=int(last_commit)
        if last_commit is not None
        else max((f.created for f in files), default=0),
    )


def fsync_dir(path: Path) -> None:
    """Make a rename or create in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
