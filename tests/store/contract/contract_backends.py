"""The backends the contract suite runs against, and how it gets a fresh store of each.

A backend is reached only through its URL (`open_store`), exactly as the
service and the CLI reach it, so a backend that passes the suite is a
drop-in. A registered scheme without a harness here fails the suite rather
than being skipped: a new backend must say how to give a test a fresh store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from carbon254.store import Store, open_store


def _new_parquet_files(directory: Path) -> Callable[[], bool]:
    """True once a Parquet file that was not there when this was called appears in the store."""
    root = directory / "store"
    known = set(root.rglob("*.parquet"))
    return lambda: bool(set(root.rglob("*.parquet")) - known)


@dataclass(frozen=True, slots=True)
class Harness:
    """How the suite gets a fresh store of one backend, and watches a write in progress.

    `url(directory)` is the URL of a new, empty store that may keep its
    files under `directory`. `write_persisting(directory)` returns a check
    that turns True once a write begun after the call has put something on
    storage but not yet committed it (None: the suite then interrupts the
    writer after a fixed delay).
    """

    url: Callable[[Path], str]
    write_persisting: Callable[[Path], Callable[[], bool]] | None = None


HARNESSES: dict[str, Harness] = {
    "duckdb": Harness(url=lambda directory: f"duckdb://{directory}", write_persisting=_new_parquet_files),
}


@dataclass(frozen=True, slots=True)
class Backend:
    """One registered backend with a fresh store: its URL and the directory it may use."""

    scheme: str
    url: str
    directory: Path
    harness: Harness

    def open(self) -> Store:
        """A new `Store` object over this backend's store, as another process would hold it."""
        return open_store(self.url, self.directory)


def _harness(scheme: str) -> Harness:
    harness = HARNESSES.get(scheme)
    if harness is None:
        pytest.fail(f"no contract harness for the {scheme}:// store backend: add one to HARNESSES")
    return harness


def make_backend(scheme: str, directory: Path) -> Backend:
    """A fresh, empty store of `scheme` under `directory`."""
    harness = _harness(scheme)
    return Backend(scheme, harness.url(directory), directory, harness)
