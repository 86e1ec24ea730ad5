"""Reads: latest versions, revisions and `as_of`, filters and order, every dataset, the location catalog."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from store_tables import lmp_table, utc

from carbon254.schema import TIMESTAMP, Dataset, spec
from carbon254.store import Source, Store

YEAR = (utc(2025, 1, 1), utc(2026, 1, 1))


def _read(store: Store, locations: list[str] | None = None, **kw: object) -> pa.Table:
    return store.read("lmp", "ERCOT", "DAM", locations, *YEAR, **kw)  # type: ignore[arg-type]


def test_a_changed_value_is_a_new_version_and_as_of_sees_the_old(store: Store) -> None:
    p1, p2 = utc(2025, 1, 2, 12), utc(2025, 1, 3, 9)
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 3), 24, published_at=p1))
    corrected = lmp_table(["HB_NORTH"], utc(2025, 1, 3), 24, published_at=p2, base=40.0)
    result = store.write("lmp", corrected.slice(10, 3))
    assert (result.rows_written, result.revisions) == (3, 3)

    latest = _read(store, ["HB_NORTH"])
    assert latest.num_rows == 24  # one row per interval, not per version
    lmp = latest.column("lmp").to_pylist()
    assert lmp[10:13] == corrected.column("lmp").to_pylist()[10:13]
    assert lmp[9] != corrected.column("lmp")[9].as_py()
    assert latest.column("published_at")[10].as_py() == p2
    assert latest.column("ingested_at")[10].as_py() > latest.column("ingested_at")[9].as_py()

    before_fix = _read(store, ["HB_NORTH"], as_of=p1 + timedelta(hours=1))
    assert before_fix.column("lmp")[10].as_py() == pytest.approx(30.0 + 10 + 0.25 - 2.0)
    assert _read(store, ["HB_NORTH"], as_of=p1 - timedelta(seconds=1)).num_rows == 0

    # Re-sending the correction is a no-op; going back to the old value is a third version.
    assert store.write("lmp", corrected.slice(10, 3)).rows_written == 0
    back = lmp_table(["HB_NORTH"], utc(2025, 1, 3), 24, published_at=utc(2025, 1, 4)).slice(10, 1)
    assert store.write("lmp", back).revisions == 1
    assert _read(store, ["HB_NORTH"]).column("lmp")[10].as_py() == back.column("lmp")[0].as_py()


def test_without_a_publication_time_as_of_uses_when_the_row_was_stored(store: Store) -> None:
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 3), 4))
    between = datetime.now(UTC)
    time.sleep(0.01)
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 3), 4, base=45.0))
    assert _read(store).column("energy").to_pylist() == [45.0, 46.0, 47.0, 48.0]
    assert _read(store, as_of=between).column("energy").to_pylist() == [30.0, 31.0, 32.0, 33.0]
    assert _read(store, as_of=between - timedelta(minutes=5)).num_rows == 0


def test_read_is_sorted_and_filters_locations_and_time(store: Store) -> None:
    store.write("lmp", lmp_table(["Z", "A", "M"], utc(2025, 6, 1), 48))
    t = store.read("lmp", "ERCOT", "DAM", ["M", "Z"], utc(2025, 6, 1, 6), utc(2025, 6, 2))
    assert t.num_rows == 2 * 18
    assert t.column("location").to_pylist() == ["M"] * 18 + ["Z"] * 18
    starts = t.column("interval_start").to_pylist()[:18]
    assert starts == sorted(starts) and starts[0] == utc(2025, 6, 1, 6)
    assert t.schema == spec("lmp").schema
    assert store.read("lmp", "ERCOT", "DAM", [], *YEAR).num_rows == 0
    assert store.read("lmp", "ercot", "DAM", ["A"], *YEAR).num_rows == 48  # the ISO in any case
    assert store.read("lmp", "ERCOT", "RT5", None, *YEAR).num_rows == 0
    assert store.read("lmp", "PJM", "DAM", None, *YEAR).num_rows == 0
    with pytest.raises(ValueError, match="after start"):
        store.read("lmp", "ERCOT", "DAM", None, utc(2025, 2, 1), utc(2025, 1, 1))


@pytest.mark.parametrize(
    "name",
    [
        "x'; DROP TABLE lmp; --",
        "' OR '1'='1",
        'N"ODE); SELECT 1; --',
        "read_parquet('/etc/passwd')",
        "%",
    ],
)
def test_hostile_location_names_are_data_not_code(store: Store, name: str) -> None:
    store.write("lmp", lmp_table(["SAFE", name], utc(2025, 1, 1), 2))
    assert _read(store, [name]).column("location").to_pylist() == [name, name]
    assert _read(store, ["' OR 1=1 --"]).num_rows == 0
    assert store.locations("ERCOT", search=name).column("location").to_pylist() == [name]
    assert store.locations("ERCOT", search="'").num_rows == ("'" in name)


def test_the_catalog_lists_types_and_source(store: Store) -> None:
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 2, location_type="hub"))
    store.write(
        "lmp", lmp_table(["LZ_WEST"], utc(2025, 1, 1), 2, location_type="zone"), source=Source.SIMULATED
    )
    store.write("lmp", lmp_table(["N.Y.C."], utc(2025, 1, 1), 2, iso="NYISO", location_type="zone"))
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 2, market="RT5", location_type="hub"))
    cat = store.locations("ERCOT")
    assert cat.column_names == ["iso", "location", "location_type", "source"]
    assert cat.column("location").to_pylist() == ["HB_NORTH", "LZ_WEST"]  # once each, whatever the markets
    assert cat.column("source").to_pylist() == ["ingested", "simulated"]
    assert store.locations("ERCOT", location_type="zone").column("location").to_pylist() == ["LZ_WEST"]
    assert store.locations(search="y.c").column("iso").to_pylist() == ["NYISO"]
    assert store.locations().column("iso").to_pylist() == ["ERCOT", "ERCOT", "NYISO"]
    assert store.markets("lmp", "ERCOT") == ["DAM", "RT5"]
    assert store.markets("lmp", "PJM") == []


def _rows(dataset: Dataset) -> pa.Table:
    """Two rows of `dataset` in its canonical columns (an ERCOT or PJM example)."""
    start = utc(2025, 1, 1)
    hour, five = timedelta(hours=1), timedelta(minutes=5)
    stamps = {
        "interval_start": pa.array([start, start + hour], TIMESTAMP),
        "interval_end": pa.array([start + hour, start + 2 * hour], TIMESTAMP),
    }
    if dataset is Dataset.AS_PRICE:
        return pa.table(
            {"iso": ["ERCOT"] * 2, "market": ["DAM"] * 2, "region": ["SYSTEM"] * 2, "product": ["RRS"] * 2}
            | stamps
            | {"price": [5.0, 6.0]}
        )
    if dataset is Dataset.CAPACITY_PRICE:
        return pa.table(
            {
                "iso": ["PJM"] * 2,
                "auction": ["BRA"] * 2,
                "zone": ["RTO", "MAAC"],
                "delivery_start": pa.array([utc(2025, 6, 1)] * 2, TIMESTAMP),
                "delivery_end": pa.array([utc(2026, 6, 1)] * 2, TIMESTAMP),
                "price": [269.92, 269.92],
            }
        )
    if dataset is Dataset.ORDC_ADDER:
        return pa.table(
            {
                "iso": ["ERCOT"] * 2,
                "interval_start": pa.array([start, start + five], TIMESTAMP),
                "interval_end": pa.array([start + five, start + 2 * five], TIMESTAMP),
                "rt_reserve_adder": [1.5, 2.5],
                "rt_reliability_deployment_adder": [0.0, 0.0],
            }
        )
    if dataset is Dataset.LOAD:
        # Two vintages of one hour's forecast are two series, not a revision.
        return pa.table(
            {"iso": ["ERCOT"] * 2, "zone": ["NORTH"] * 2, "kind": ["forecast"] * 2}
            | {k: v.take([0, 0]) for k, v in stamps.items()}
            | {"mw": [41_000.0, 42_000.0]}
            | {"forecast_issued_at": pa.array([start - 2 * hour, start - hour], TIMESTAMP)}
        )
    return lmp_table(["HB_NORTH"], start, 2)


@pytest.mark.parametrize("dataset", list(Dataset))
def test_every_dataset_reads_back_as_written(store: Store, dataset: Dataset) -> None:
    spec_ = spec(dataset)
    rows = _rows(dataset)
    iso = rows.column("iso")[0].as_py()
    market = rows.column(spec_.market_column)[0].as_py() if spec_.market_column else None
    result = store.write(dataset, rows)
    assert (result.dataset, result.rows_written, result.revisions) == (dataset, 2, 0)
    back = store.read(dataset, iso, market, None, utc(2024, 1, 1), utc(2027, 1, 1))
    assert back.schema == spec_.schema
    for column in rows.column_names:
        assert sorted(back.column(column).to_pylist(), key=str) == sorted(
            rows.column(column).to_pylist(), key=str
        ), column
    assert store.markets(dataset, iso) == ([market] if market else [])
    assert store.write(dataset, rows).rows_written == 0


def test_simulated_says_whether_simulated_rows_lie_in_the_window(store: Store) -> None:
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 24))
    store.write("lmp", lmp_table(["HB_WEST"], utc(2025, 3, 1), 24), source=Source.SIMULATED)
    jan, mar = (utc(2025, 1, 1), utc(2025, 1, 2)), (utc(2025, 3, 1), utc(2025, 3, 2))
    assert store.simulated("lmp", "ERCOT", "DAM", *jan) is False
    assert store.simulated("lmp", "ERCOT", "DAM", *mar) is True
    assert store.simulated("lmp", "ERCOT", None, utc(2025, 1, 1), utc(2026, 1, 1)) is True
    assert store.simulated("lmp", "ERCOT", "RT5", *mar) is False  # no rows of that market at all
    assert store.simulated("lmp", "PJM", "DAM", *mar) is False
    # Rows merged later (compaction) never turn simulated rows into real ones.
    for day in range(2, 30):
        store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 3, day), 24))
    assert store.simulated("lmp", "ERCOT", "DAM", *mar) is True
