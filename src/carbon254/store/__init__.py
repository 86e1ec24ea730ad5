"""Market-data storage: the `Store` interface, backends by URL scheme, and `open_store`.

Consumers open the store from its URL (`CARBON254_STORE`) with `open_store`
and use it only through the `Store` protocol; `duckdb://`, the embedded
DuckDB-over-Parquet store, is the default backend.
"""

from carbon254.store.base import (
    Block,
    ChangeBatch,
    Changes,
    Resample,
    Source,
    Store,
    StoreError,
    StoreNotFound,
    WriteResult,
)
from carbon254.store.embedded import EMBEDDED
from carbon254.store.parquet import ParquetStore
from carbon254.store.registry import (
    Backend,
    StoreUrlError,
    backend_schemes,
    open_store,
    register_backend,
    resolve_store_url,
    supported_schemes,
)

register_backend(EMBEDDED)

__all__ = [
    "Backend",
    "Block",
    "ChangeBatch",
    "Changes",
    "ParquetStore",
    "Resample",
    "Source",
    "Store",
    "StoreError",
    "StoreNotFound",
    "StoreUrlError",
    "WriteResult",
    "backend_schemes",
    "open_store",
    "register_backend",
    "resolve_store_url",
    "supported_schemes",
]
