"""Cross-process writer lock for the embedded store.

Only writers take it: readers work from immutable files and the atomically
replaced manifest, so a running service never waits on an ingest. The kernel
drops an `flock` when its holder dies, so a killed writer cannot wedge the store.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Hold the store's exclusive write lock for the duration of the block (waits for it)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
