"""Seeded and random-access: a UTC day's rows depend only on the seed, never on the window."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from simulate_tables import collect, sorted_by_key, utc

from carbon254.isos import Iso
from carbon254.schema import Dataset
from carbon254.simulate import SimulationConfig

ALL_DATASETS = tuple(Dataset)


def _day(table: pa.Table, start: object, end: object, column: str = "interval_start") -> pa.Table:
    times = table.column(column)
    return table.filter(pc.and_(pc.greater_equal(times, start), pc.less(times, end)))


def test_same_seed_gives_identical_batches() -> None:
    config = SimulationConfig(start=utc(2024, 2, 1), end=utc(2024, 2, 2, 6), nodes=6, datasets=ALL_DATASETS)
    first, second = collect(config), collect(config)
    assert first.keys() == second.keys()
    for dataset in first:
        assert first[dataset].equals(second[dataset])


def test_different_seeds_give_different_prices() -> None:
    def lmp(seed: int) -> pa.Table:
        config = SimulationConfig(
            start=utc(2024, 2, 1), end=utc(2024, 2, 2), nodes=6, seed=seed, markets=("DAM",)
        )
        return collect(config)[Dataset.LMP]

    a, b = lmp(1), lmp(2)
    assert a.column("location").equals(b.column("location"))
    assert a.column("interval_start").equals(b.column("interval_start"))
    assert not a.column("lmp").equals(b.column("lmp"))


def test_a_day_is_the_same_inside_a_month_or_alone() -> None:
    isos = tuple(Iso)
    month = SimulationConfig(
        start=utc(2024, 1, 1),
        end=utc(2024, 2, 1),
        isos=isos,
        nodes=4,
        datasets=ALL_DATASETS,
        rt5_start=utc(2024, 1, 14),
    )
    alone = SimulationConfig(
        start=utc(2024, 1, 15), end=utc(2024, 1, 16), isos=isos, nodes=4, datasets=ALL_DATASETS
    )
    long_run, short_run = collect(month), collect(alone)
    for dataset in (Dataset.LMP, Dataset.AS_PRICE, Dataset.LOAD, Dataset.ORDC_ADDER):
        expected = sorted_by_key(dataset, _day(long_run[dataset], utc(2024, 1, 15), utc(2024, 1, 16)))
        got = sorted_by_key(dataset, short_run[dataset])
        assert got.num_rows > 0
        assert got.equals(expected), dataset
    markets = set(pc.unique(short_run[Dataset.LMP].column("market")).to_pylist())
    assert markets == {"DAM", "RTH", "RT5"}
    capacity_long = _day(long_run[Dataset.CAPACITY_PRICE], utc(2023, 1, 1), utc(2024, 6, 1), "delivery_start")
    assert sorted_by_key(Dataset.CAPACITY_PRICE, short_run[Dataset.CAPACITY_PRICE]).equals(
        sorted_by_key(Dataset.CAPACITY_PRICE, capacity_long)
    )


@pytest.mark.parametrize("minute", [0, 35, 55])
def test_live_feed_interval_matches_the_day_run(minute: int) -> None:
    """The live feed asks for one 5-minute interval; it must equal that interval of a full-day run."""
    start = utc(2024, 8, 20, 21, minute)
    end = start + timedelta(minutes=5)
    live = SimulationConfig(start=start, end=end, isos=(Iso.ERCOT,), nodes=5, markets=("RT5",))
    day = SimulationConfig(
        start=utc(2024, 8, 20), end=utc(2024, 8, 21), isos=(Iso.ERCOT,), nodes=5, markets=("RT5",)
    )
    got = collect(live)
    expected = collect(day)
    for dataset in (Dataset.LMP, Dataset.ORDC_ADDER):
        assert got[dataset].num_rows > 0
        assert sorted_by_key(dataset, got[dataset]).equals(
            sorted_by_key(dataset, _day(expected[dataset], start, end))
        )


def test_node_prices_do_not_depend_on_how_many_nodes_are_simulated() -> None:
    def nodes(count: int) -> pa.Table:
        config = SimulationConfig(
            start=utc(2024, 4, 1), end=utc(2024, 4, 2), isos=(Iso.PJM,), nodes=count, markets=("DAM", "RTH")
        )
        lmp = collect(config)[Dataset.LMP]
        return lmp.filter(pc.equal(lmp.column("location_type"), "node"))

    small, large = nodes(10), nodes(40)
    shared = pc.is_in(large.column("location"), value_set=pc.unique(small.column("location")))
    assert sorted_by_key(Dataset.LMP, small).equals(sorted_by_key(Dataset.LMP, large.filter(shared)))
