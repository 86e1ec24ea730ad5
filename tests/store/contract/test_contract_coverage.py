"""`Store.coverage`: per (location, interval) counts of stored versions, computed by the backend."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest
from store_tables import lmp_table, utc

from carbon254.schema import TIMESTAMP
from carbon254.store.base import COVERAGE_SCHEMA, Store


def test_coverage_counts_versions_and_revisions(store: Store) -> None:
    assert isinstance(store, Store)
    store.write("lmp", lmp_table(["HB_NORTH", "HB_WEST"], utc(2025, 1, 1), 4))
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 2, base=50.0))  # 2 revisions
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 1, base=60.0))  # 1 more
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 4, market="RT5"))  # another market
    cov = store.coverage("lmp", "ercot", "DAM", utc(2025, 1, 1, 1), utc(2025, 1, 1, 4))
    assert cov.schema == COVERAGE_SCHEMA
    assert cov.to_pydict() == {
        "location": ["HB_NORTH", "HB_NORTH", "HB_NORTH", "HB_WEST", "HB_WEST", "HB_WEST"],
        "interval_start": [utc(2025, 1, 1, h) for h in (1, 2, 3, 1, 2, 3)],
        "duration_s": [3600] * 6,
        "versions": [2, 1, 1, 1, 1, 1],
        "revisions": [1, 0, 0, 0, 0, 0],
    }
    first = store.coverage("lmp", "ERCOT", "DAM", utc(2025, 1, 1), utc(2025, 1, 1, 1))
    assert first.to_pydict()["versions"] == [3, 1]
    assert first.to_pydict()["revisions"] == [2, 0]
    # Reading is unchanged: one row per key, the latest version.
    assert store.read("lmp", "ERCOT", "DAM", ["HB_NORTH"], utc(2025, 1, 1), utc(2025, 1, 1, 1)).num_rows == 1


def test_coverage_of_nothing_is_empty_and_bad_arguments_raise(store: Store) -> None:
    assert store.coverage("lmp", "PJM", "DAM", utc(2025, 1, 1), utc(2025, 1, 2)).num_rows == 0
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 4))
    assert store.coverage("lmp", "ERCOT", "DAM", utc(2025, 2, 1), utc(2025, 2, 2)).num_rows == 0
    with pytest.raises(ValueError, match="needs a market"):
        store.coverage("lmp", "ERCOT", None, utc(2025, 1, 1), utc(2025, 1, 2))
    with pytest.raises(ValueError, match="no markets"):
        store.coverage("ordc_adder", "ERCOT", "RT5", utc(2025, 1, 1), utc(2025, 1, 2))
    with pytest.raises(ValueError, match="must be after"):
        store.coverage("lmp", "ERCOT", "DAM", utc(2025, 1, 2), utc(2025, 1, 1))


def test_coverage_names_locations_of_other_datasets(store: Store) -> None:
    start = utc(2025, 1, 1)
    five = timedelta(minutes=5)
    store.write(
        "as_price",
        pa.table(
            {
                "iso": ["ERCOT"] * 2,
                "market": ["DAM"] * 2,
                "region": ["SYSTEM"] * 2,
                "product": ["REGUP", "RRS"],
                "interval_start": pa.array([start] * 2, TIMESTAMP),
                "interval_end": pa.array([start + timedelta(hours=1)] * 2, TIMESTAMP),
                "price": [5.0, 3.0],
            }
        ),
    )
    store.write(
        "ordc_adder",
        pa.table(
            {
                "iso": ["ERCOT"] * 2,
                "interval_start": pa.array([start, start + five], TIMESTAMP),
                "interval_end": pa.array([start + five, start + 2 * five], TIMESTAMP),
                "rt_reserve_adder": [1.0, 2.0],
                "rt_reliability_deployment_adder": [0.0, 0.0],
            }
        ),
    )
    end = start + timedelta(days=1)
    assert store.coverage("as_price", "ERCOT", "DAM", start, end).column("location").to_pylist() == [
        "SYSTEM / REGUP",
        "SYSTEM / RRS",
    ]
    ordc = store.coverage("ordc_adder", "ERCOT", None, start, end).to_pydict()
    assert (ordc["location"], ordc["duration_s"]) == (["ERCOT", "ERCOT"], [300, 300])


def test_load_forecast_vintages_are_series_not_revisions(store: Store) -> None:
    start = utc(2025, 1, 1)
    hour = timedelta(hours=1)

    def forecast(issued: list[int], mw: list[float]) -> pa.Table:
        n = len(mw)
        return pa.table(
            {
                "iso": ["ERCOT"] * n,
                "zone": ["NORTH"] * n,
                "kind": ["forecast"] * n,
                "interval_start": pa.array([start] * n, TIMESTAMP),
                "interval_end": pa.array([start + hour] * n, TIMESTAMP),
                "mw": mw,
                "forecast_issued_at": pa.array([start - h * hour for h in issued], TIMESTAMP),
            }
        )

    store.write("load", forecast([24, 12], [41_000.0, 42_000.0]))
    cov = store.coverage("load", "ERCOT", "forecast", start, start + hour).to_pydict()
    assert (cov["location"], cov["versions"], cov["revisions"]) == (["NORTH"], [2], [0])
    store.write("load", forecast([12], [42_500.0]))  # the later vintage, revised
    cov = store.coverage("load", "ERCOT", "forecast", start, start + hour).to_pydict()
    assert (cov["versions"], cov["revisions"]) == ([3], [1])
