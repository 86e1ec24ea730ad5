"""The `duckdb://` backend: the embedded store (DuckDB over Parquet files) in a directory.

`duckdb://` alone is the data dir (`CARBON254_DATA_DIR`); `duckdb:///srv/c254`
is the directory `/srv/c254`; a relative path is read from the data dir, so
`duckdb://archive` is `<data dir>/archive` (as `duckdb://` is the data dir
itself), and `~` starts at the user's home. Percent-escapes are decoded
(`%20` is a space). The store keeps its files under `<directory>/store/`;
the data dir keeps its own (ingest ledger, quarantine, metadata) wherever
the store is.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote

from carbon254.store.base import StoreNotFound
from carbon254.store.parquet import ParquetStore, has_store
from carbon254.store.registry import DIRECTORY_SCHEME, Backend, StoreUrlError


def locate(address: str, data_dir: Path) -> str:
    """The absolute, percent-encoded directory a `duckdb://` address names; see the module docstring.

    Raises `StoreUrlError` for a query, fragment or NUL character, which a
    directory path cannot carry.
    """
    if "?" in address or "#" in address:
        raise StoreUrlError(
            f"malformed store URL duckdb://{address}: duckdb:// takes a directory path only "
            "(no ?query or #fragment; write a literal ? or # as %3F or %23)"
        )
    path = unquote(address)
    if "\0" in path:
        raise StoreUrlError("malformed store URL: a duckdb:// path cannot contain a NUL character")
    # Joining keeps an absolute path as it is and reads a relative one from the data dir.
    directory = os.path.realpath(Path(data_dir) / Path(path).expanduser())
    return quote(directory)


def connect(address: str, create: bool) -> ParquetStore:
    """The embedded store in the directory a canonical address names (see `locate`)."""
    directory = Path(unquote(address))
    if not create and not has_store(directory):
        raise StoreNotFound(f"no store in {directory}")
    return ParquetStore(directory)


EMBEDDED = Backend(scheme=DIRECTORY_SCHEME, locate=locate, connect=connect)
