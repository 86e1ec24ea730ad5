"""Market-data storage: the `Store` interface and its embedded DuckDB/Parquet backend."""

from pathlib import Path

from carbon254.store.base import (
    Block,
    ChangeBatch,
    Changes,
    Resample,
    Source,
    Store,
    StoreError,
    WriteResult,
)
from carbon254.store.parquet import ParquetStore


def open_store(data_dir: Path | str) -> ParquetStore:
    """Open (creating if needed) the embedded store under `data_dir`."""
    return ParquetStore(data_dir)


__all__ = [
    "Block",
    "ChangeBatch",
    "Changes",
    "ParquetStore",
    "Resample",
    "Source",
    "Store",
    "StoreError",
    "WriteResult",
    "open_store",
]
