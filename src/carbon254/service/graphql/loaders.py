"""Batched dataset reads: every dataset field of one GraphQL request that can share a store read does.

Fields are resolved concurrently, and the DataLoader hands this module all
the queries asked for in one tick. Queries that differ only in their name
filters (the same dataset, ISO, market, window, zone, resampling, block and
`as_of`: `DatasetQuery.batch_group`) are answered by ONE `store.read` of the
union of their names, which each query then filters. So N aliased `lmp`
fields for N locations of one market and window cost one read, not N.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pyarrow as pa
from strawberry.dataloader import DataLoader

from carbon254.application.datasets import (
    DatasetQuery,
    merged_query,
    read_rows,
    select_rows,
    with_catalog_names,
)
from carbon254.application.errors import ApiError
from carbon254.schema import Dataset
from carbon254.store.base import Store


def _answer_batch(store: Store, queries: Sequence[DatasetQuery]) -> list[pa.Table | ApiError]:
    """The rows of each query, or the `ApiError` refusing it; one store read per batch group."""
    results: dict[int, pa.Table | ApiError] = {}
    groups: dict[DatasetQuery, list[tuple[int, DatasetQuery]]] = {}
    catalogs: dict[str, pa.Table] = {}
    for index, query in enumerate(queries):
        try:
            if query.dataset is Dataset.LMP and query.locations is not None:
                iso = query.iso.value
                if iso not in catalogs:
                    catalogs[iso] = store.locations(iso=iso)
                query = with_catalog_names(catalogs[iso], query)
        except ApiError as exc:
            results[index] = exc
            continue
        groups.setdefault(query.batch_group(), []).append((index, query))
    for group, members in groups.items():
        try:
            table = read_rows(store, merged_query(group, [q for _, q in members]))
        except ApiError as exc:
            for index, _ in members:
                results[index] = exc
            continue
        for index, query in members:
            try:
                results[index] = select_rows(table, query)
            except ApiError as exc:
                results[index] = exc
    return [results[i] for i in range(len(queries))]


def dataset_loader(store: Store) -> DataLoader[DatasetQuery, pa.Table]:
    """A per-request DataLoader answering `DatasetQuery`s with their response rows.

    A refused query (unknown name, store refusal) raises its `ApiError`
    from `load`. The reads run in a worker thread, off the event loop.
    """

    async def load(queries: list[DatasetQuery]) -> list[pa.Table | BaseException]:
        answered = await asyncio.to_thread(_answer_batch, store, queries)
        return list(answered)

    return DataLoader(load_fn=load)
