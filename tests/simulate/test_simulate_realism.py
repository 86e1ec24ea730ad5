"""Statistical checks that a realistic market passes and a careless one would fail."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from simulate_tables import collect, utc

from carbon254.isos import ISOS, Iso
from carbon254.schema import Dataset
from carbon254.simulate import SimulationConfig


@pytest.fixture(scope="module")
def year() -> dict[Dataset, pl.DataFrame]:
    """A year of hourly DA and RT, load, AS and ORDC for every ISO at a handful of nodes."""
    config = SimulationConfig(
        start=utc(2024, 1, 1),
        end=utc(2025, 1, 1),
        nodes=3,
        markets=("DAM", "RTH"),
        datasets=(Dataset.LMP, Dataset.LOAD, Dataset.AS_PRICE, Dataset.ORDC_ADDER),
    )
    frames = {}
    for dataset, table in collect(config).items():
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        frames[dataset] = frame
    return frames


def _local(frame: pl.DataFrame, iso: Iso) -> pl.DataFrame:
    tz = ISOS[iso].timezone
    return frame.filter(pl.col("iso") == iso.value).with_columns(
        pl.col("interval_start").dt.convert_time_zone(tz).alias("local")
    )


def test_caiso_spring_middays_go_negative(year: dict[Dataset, pl.DataFrame]) -> None:
    caiso = _local(year[Dataset.LMP], Iso.CAISO).filter(
        (pl.col("location") == "TH_SP15_GEN-APND")
        & pl.col("local").dt.month().is_in([3, 4, 5])
        & pl.col("local").dt.hour().is_between(10, 15)
    )
    assert float(np.mean(caiso["lmp"].to_numpy() < 0)) > 0.05
    summer_evening = _local(year[Dataset.LMP], Iso.CAISO).filter(
        (pl.col("location") == "TH_SP15_GEN-APND")
        & pl.col("local").dt.month().is_in([7, 8])
        & pl.col("local").dt.hour().is_between(18, 20)
    )
    assert summer_evening["lmp"].mean() > caiso["lmp"].mean()  # type: ignore[operator]


def test_ercot_has_rare_scarcity_spikes(year: dict[Dataset, pl.DataFrame]) -> None:
    hub = year[Dataset.LMP].filter((pl.col("iso") == "ERCOT") & (pl.col("location") == "HB_NORTH"))
    spikes = hub.filter(pl.col("lmp") > 1_000)
    assert 0 < spikes.height < 0.01 * hub.height
    assert hub["lmp"].max() > 2_000  # type: ignore[operator]


@pytest.mark.parametrize("iso", list(Iso))
def test_weekday_on_peak_beats_weekends(year: dict[Dataset, pl.DataFrame], iso: Iso) -> None:
    frame = _local(year[Dataset.LMP], iso).filter(pl.col("market") == "DAM")
    on_peak = frame.filter(pl.col("local").dt.weekday() <= 5).filter(
        pl.col("local").dt.hour().is_between(7, 22)
    )
    weekend = frame.filter(pl.col("local").dt.weekday() > 5)
    assert on_peak["lmp"].mean() > weekend["lmp"].mean()  # type: ignore[operator]


@pytest.mark.parametrize("iso", list(Iso))
def test_real_time_is_more_volatile_than_day_ahead(year: dict[Dataset, pl.DataFrame], iso: Iso) -> None:
    frame = year[Dataset.LMP].filter(pl.col("iso") == iso.value)
    da = frame.filter(pl.col("market") == "DAM")["lmp"].std()
    rt = frame.filter(pl.col("market") == "RTH")["lmp"].std()
    assert rt > da  # type: ignore[operator]
    # ...but real time tracks day ahead: same hours, strongly correlated.
    pivot = frame.pivot(on="market", index=["location", "interval_start"], values="lmp")
    assert pivot.select(pl.corr("DAM", "RTH")).item() > 0.6


def test_summer_and_winter_peaks_in_load(year: dict[Dataset, pl.DataFrame]) -> None:
    load = _local(year[Dataset.LOAD], Iso.PJM).filter(pl.col("kind") == "actual")
    system = load.group_by("interval_start", "local").agg(pl.col("mw").sum())
    by_month = system.group_by(pl.col("local").dt.month().alias("m")).agg(pl.col("mw").mean()).sort("m")
    monthly = dict(zip(by_month["m"].to_list(), by_month["mw"].to_list(), strict=True))
    assert monthly[7] > monthly[4] and monthly[1] > monthly[4]
    assert 75_000 < system["mw"].mean() < 100_000  # type: ignore[operator]


@pytest.mark.parametrize("iso", list(Iso))
def test_load_forecast_is_close_to_actual(year: dict[Dataset, pl.DataFrame], iso: Iso) -> None:
    load = year[Dataset.LOAD].filter(pl.col("iso") == iso.value)
    pivot = load.pivot(on="kind", index=["zone", "interval_start"], values="mw")
    error = ((pivot["forecast"] - pivot["actual"]).abs() / pivot["actual"]).mean()
    assert error is not None and 0.005 < error < 0.06  # type: ignore[operator]


def test_ordc_adders_are_mostly_zero_and_come_with_price_spikes(year: dict[Dataset, pl.DataFrame]) -> None:
    ordc = year[Dataset.ORDC_ADDER]
    positive = ordc.filter(pl.col("rt_reserve_adder") > 0)
    assert 0 < positive.height < 0.05 * ordc.height
    hourly = ordc.group_by(pl.col("interval_start").dt.truncate("1h")).agg(pl.col("rt_reserve_adder").mean())
    rt = year[Dataset.LMP].filter((pl.col("location") == "HB_NORTH") & (pl.col("market") == "RTH"))
    joined = rt.join(hourly, on="interval_start")
    tight = joined.filter(pl.col("rt_reserve_adder") > 10)["lmp"].mean()
    slack = joined.filter(pl.col("rt_reserve_adder") == 0)["lmp"].mean()
    assert tight > 3 * slack  # type: ignore[operator]


def test_ancillary_prices_are_non_negative_and_spike_with_scarcity(year: dict[Dataset, pl.DataFrame]) -> None:
    prices = year[Dataset.AS_PRICE]
    assert prices["price"].min() >= 0  # type: ignore[operator]
    ercot = prices.filter((pl.col("iso") == "ERCOT") & (pl.col("market") == "DAM"))
    assert set(ercot["product"].unique()) == {"REGUP", "REGDN", "RRS", "NSPIN", "ECRS"}
    assert ercot["price"].max() > 10 * ercot["price"].median()  # type: ignore[operator]
