"""Every simulated batch is canonical: it validates, is bounded in size and counted exactly."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow.compute as pc
import pytest
from simulate_tables import collect, utc

from carbon254.isos import Iso
from carbon254.schema import Dataset, LocationType, validate
from carbon254.simulate import (
    SimulationConfig,
    count_rows,
    default_node_counts,
    simulate,
    simulated_locations,
)

ALL_DATASETS = tuple(Dataset)


def test_every_batch_validates_and_count_rows_is_exact() -> None:
    config = SimulationConfig(
        start=utc(2024, 3, 9, 13, 7),  # not on an interval boundary on purpose
        end=utc(2024, 3, 11, 2),
        nodes={Iso.PJM: 12, Iso.ERCOT: 9},
        datasets=ALL_DATASETS,
        rt5_start=utc(2024, 3, 10, 20),
        max_batch_rows=5_000,
    )
    rows: Counter[Dataset] = Counter()
    for dataset, table in simulate(config):
        canonical = validate(dataset, table)
        assert table.schema.equals(canonical.schema)
        assert table.num_rows > 0
        if dataset is Dataset.LMP:
            assert table.num_rows <= config.max_batch_rows
            assert len(pc.unique(table.column("market"))) == 1
        assert len(pc.unique(table.column("iso"))) == 1
        assert table.column("ingested_at").null_count == table.num_rows
        assert table.column("published_at").null_count == 0
        rows[dataset] += table.num_rows
    assert set(rows) == set(Dataset)
    assert sum(rows.values()) == count_rows(config)


@pytest.mark.parametrize(
    ("start", "end", "rt5_start"),
    [
        (utc(2024, 1, 1, 0, 3), utc(2024, 1, 1, 0, 4), None),  # inside one interval: nothing
        (utc(2024, 1, 1, 0, 0), utc(2024, 1, 1, 0, 5), None),  # exactly one 5-minute interval
        (utc(2024, 1, 1, 0, 58), utc(2024, 1, 1, 2, 1), utc(2024, 1, 1, 1, 31)),
        (utc(2024, 6, 30, 23), utc(2024, 7, 2, 1), utc(2030, 1, 1)),  # RT5 start after the window
    ],
)
def test_count_rows_matches_partial_windows(
    start: datetime, end: datetime, rt5_start: datetime | None
) -> None:
    config = SimulationConfig(start=start, end=end, rt5_start=rt5_start, nodes=3, datasets=ALL_DATASETS)
    produced = sum(t.num_rows for _, t in simulate(config))
    assert produced == count_rows(config)


def test_rows_stay_inside_the_window() -> None:
    start, end = utc(2024, 5, 1, 10, 35), utc(2024, 5, 1, 15, 20)
    tables = collect(SimulationConfig(start=start, end=end, isos=(Iso.ERCOT,), nodes=4))
    for dataset in (Dataset.LMP, Dataset.AS_PRICE, Dataset.LOAD, Dataset.ORDC_ADDER):
        starts = tables[dataset].column("interval_start")
        assert pc.min(starts).as_py() >= start
        assert pc.max(starts).as_py() < end


def test_published_at_follows_market_conventions() -> None:
    tables = collect(
        SimulationConfig(
            start=utc(2024, 7, 1), end=utc(2024, 7, 2), isos=(Iso.PJM,), nodes=2, markets=("DAM", "RTH")
        )
    )
    lmp = tables[Dataset.LMP]
    rt = lmp.filter(pc.equal(lmp.column("market"), "RTH"))
    assert rt.column("published_at").equals(rt.column("interval_end"))
    da = lmp.filter(pc.equal(lmp.column("market"), "DAM")).to_pydict()
    eastern = ZoneInfo("America/New_York")
    for start, published in zip(da["interval_start"], da["published_at"], strict=True):
        operating_day = start.astimezone(eastern).date()
        # PJM posts day-ahead results around 13:30 Eastern the day before.
        expected = datetime.combine(operating_day - timedelta(days=1), time(13, 30), tzinfo=eastern)
        assert published == expected
    load = tables[Dataset.LOAD]
    forecast = load.filter(pc.equal(load.column("kind"), "forecast"))
    actual = load.filter(pc.equal(load.column("kind"), "actual"))
    assert forecast.column("forecast_issued_at").null_count == 0
    assert pc.all(pc.less(forecast.column("forecast_issued_at"), forecast.column("published_at"))).as_py()
    assert pc.all(pc.less(forecast.column("published_at"), forecast.column("interval_start"))).as_py()
    assert actual.column("forecast_issued_at").null_count == actual.num_rows
    assert actual.column("published_at").equals(actual.column("interval_end"))


def test_real_scale_node_counts_sum_to_about_18_500() -> None:
    counts = default_node_counts()
    assert set(counts) == set(Iso)
    assert 18_000 <= sum(counts.values()) <= 19_000
    assert max(counts, key=lambda i: counts[i]) is Iso.PJM


REQUIRED = {
    Iso.CAISO: [
        "TH_NP15_GEN-APND",
        "TH_SP15_GEN-APND",
        "TH_ZP26_GEN-APND",
        "DLAP_PGAE-APND",
        "DLAP_SCE-APND",
        "DLAP_SDGE-APND",
        "DLAP_VEA-APND",
    ],
    Iso.ERCOT: [
        "HB_BUSAVG",
        "HB_HOUSTON",
        "HB_HUBAVG",
        "HB_NORTH",
        "HB_PAN",
        "HB_SOUTH",
        "HB_WEST",
        "LZ_AEN",
        "LZ_CPS",
        "LZ_HOUSTON",
        "LZ_LCRA",
        "LZ_NORTH",
        "LZ_RAYBN",
        "LZ_SOUTH",
        "LZ_WEST",
    ],
    Iso.PJM: [
        "WESTERN HUB",
        "EASTERN HUB",
        "AEP-DAYTON HUB",
        "N ILLINOIS HUB",
        "DOMINION HUB",
        "NEW JERSEY HUB",
        "OHIO HUB",
        "WEST INT HUB",
        "CHICAGO HUB",
        "ATSI GEN HUB",
        "AECO",
        "AEP",
        "APS",
        "ATSI",
        "BGE",
        "COMED",
        "DAY",
        "DEOK",
        "DOM",
        "DPL",
        "DUQ",
        "EKPC",
        "JCPL",
        "METED",
        "PECO",
        "PENELEC",
        "PEPCO",
        "PPL",
        "PSEG",
        "RECO",
        "OVEC",
    ],
    Iso.MISO: [
        "ILLINOIS.HUB",
        "INDIANA.HUB",
        "MICHIGAN.HUB",
        "MINN.HUB",
        "ARKANSAS.HUB",
        "LOUISIANA.HUB",
        "TEXAS.HUB",
        "MS.HUB",
    ],
    Iso.SPP: ["SPPNORTH_HUB", "SPPSOUTH_HUB", "OKGE_OKGE"],
    Iso.NYISO: [
        "CAPITL",
        "CENTRL",
        "DUNWOD",
        "GENESE",
        "HUD VL",
        "LONGIL",
        "MHK VL",
        "MILLWD",
        "N.Y.C.",
        "NORTH",
        "WEST",
        "H Q",
        "NPX",
        "O H",
        "PJM",
    ],
    Iso.ISONE: [
        ".H.INTERNAL_HUB",
        ".Z.MAINE",
        ".Z.NEWHAMPSHIRE",
        ".Z.VERMONT",
        ".Z.CONNECTICUT",
        ".Z.RHODEISLAND",
        ".Z.SEMASS",
        ".Z.WCMASS",
        ".Z.NEMASSBOST",
    ],
}


@pytest.mark.parametrize("iso", list(Iso))
def test_catalog_has_real_hub_and_zone_names_and_unique_nodes(iso: Iso) -> None:
    catalog = simulated_locations(iso, 300).to_pydict()
    names = catalog["location"]
    assert set(REQUIRED[iso]) <= set(names)
    assert len(set(names)) == len(names)
    types = Counter(catalog["location_type"])
    assert types[LocationType.NODE.value] == 300
    assert set(types) <= {t.value for t in LocationType}
    assert types[LocationType.HUB.value] + types[LocationType.INTERFACE.value] >= 1
    assert set(catalog["iso"]) == {iso.value}


def test_node_names_are_iso_styled() -> None:
    def nodes(iso: Iso) -> list[str]:
        c = simulated_locations(iso, 200).to_pydict()
        return [n for n, t in zip(c["location"], c["location_type"], strict=True) if t == "node"]

    assert all(n.endswith(("_RN", "_ALL")) or "_UNIT" in n or "_CC" in n for n in nodes(Iso.ERCOT))
    assert np.mean([n.count("_") >= 2 for n in nodes(Iso.CAISO)]) == 1.0
    assert all("." in n for n in nodes(Iso.MISO))
    assert all(n.startswith(("UN.", "LD.")) for n in nodes(Iso.ISONE))


def test_catalog_is_stable_and_prefix_consistent() -> None:
    small = simulated_locations(Iso.ERCOT, 50).to_pydict()["location"]
    large = simulated_locations(Iso.ERCOT, 500).to_pydict()["location"]
    small_nodes = [n for n in small if not n.startswith(("HB_", "LZ_"))]
    large_nodes = [n for n in large if not n.startswith(("HB_", "LZ_"))]
    assert large_nodes[:50] == small_nodes
    assert len(simulated_locations(Iso.PJM).to_pydict()["location"]) > default_node_counts()[Iso.PJM]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": utc(2024, 1, 2), "end": utc(2024, 1, 1)},
        {"start": utc(2024, 1, 1).replace(tzinfo=None), "end": utc(2024, 1, 2)},
        {"start": utc(2024, 1, 1), "end": utc(2024, 1, 2), "markets": ("DAM", "RT15")},
        {"start": utc(2024, 1, 1), "end": utc(2024, 1, 2), "nodes": 0},
        {"start": utc(2024, 1, 1), "end": utc(2024, 1, 2), "nodes": {Iso.PJM: -3}},
        {"start": utc(2024, 1, 1), "end": utc(2024, 1, 2), "isos": ()},
        {"start": utc(2024, 1, 1), "end": utc(2024, 1, 2), "seed": -1},
    ],
)
def test_bad_configs_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SimulationConfig(**kwargs)  # type: ignore[arg-type]
