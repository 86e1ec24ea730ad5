"""Helpers shared by the simulator tests: run a config and gather its batches per dataset."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from carbon254.schema import SPECS, Dataset
from carbon254.simulate import SimulationConfig, simulate


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def collect(config: SimulationConfig) -> dict[Dataset, pa.Table]:
    """Every batch of a run, concatenated per dataset (empty datasets are absent)."""
    parts: dict[Dataset, list[pa.Table]] = {}
    for dataset, table in simulate(config):
        parts.setdefault(dataset, []).append(table)
    return {d: pa.concat_tables(ts) for d, ts in parts.items()}


def sorted_by_key(dataset: Dataset, table: pa.Table) -> pa.Table:
    """Rows in key order, so runs that batch differently can be compared."""
    return table.sort_by([(c, "ascending") for c in SPECS[dataset].key])
