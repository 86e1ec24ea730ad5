"""Prices hang together: components add up, RTH averages RT5, hubs average nodes, congestion is low-rank."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pytest
from simulate_tables import collect, utc

from carbon254.isos import Iso
from carbon254.schema import Dataset
from carbon254.simulate import SimulationConfig, build_network

SEED = 254
NODES = 25


@pytest.fixture(scope="module")
def runs() -> dict[Iso, pl.DataFrame]:
    """Two days of every market, the second day also at 5 minutes, for every ISO."""
    config = SimulationConfig(
        start=utc(2024, 7, 15),
        end=utc(2024, 7, 17),
        nodes=NODES,
        rt5_start=utc(2024, 7, 16),
        seed=SEED,
        datasets=(Dataset.LMP,),
    )
    lmp = pl.from_arrow(collect(config)[Dataset.LMP])
    assert isinstance(lmp, pl.DataFrame)
    return {iso: lmp.filter(pl.col("iso") == iso.value) for iso in Iso}


def _matrix(frame: pl.DataFrame, locations: tuple[str, ...], column: str) -> npt.NDArray[np.float64]:
    """(locations, intervals) matrix of a column, in network order."""
    wide = frame.pivot(on="interval_start", index="location", values=column, sort_columns=True)
    ordered = pl.DataFrame({"location": list(locations)}).join(
        wide, on="location", how="left", maintain_order="left"
    )
    return ordered.drop("location").to_numpy()


@pytest.mark.parametrize("iso", list(Iso))
def test_lmp_is_the_sum_of_cent_rounded_components(runs: dict[Iso, pl.DataFrame], iso: Iso) -> None:
    frame = runs[iso]
    total = frame["energy"] + frame["congestion"] + frame["loss"]
    assert (frame["lmp"] - total).abs().max() < 1e-9  # type: ignore[operator]
    for column in ("lmp", "energy", "congestion", "loss"):
        cents = frame[column].to_numpy() * 100
        assert np.abs(cents - np.rint(cents)).max() < 1e-6
    # The system energy component is the same at every location.
    per_interval = frame.group_by("market", "interval_start").agg(pl.col("energy").n_unique().alias("n"))
    assert per_interval["n"].max() == 1


@pytest.mark.parametrize("iso", list(Iso))
def test_rth_is_the_mean_of_rt5(runs: dict[Iso, pl.DataFrame], iso: Iso) -> None:
    frame = runs[iso]
    rt5 = (
        frame.filter(pl.col("market") == "RT5")
        .group_by("location", pl.col("interval_start").dt.truncate("1h").alias("hour"))
        .agg(
            pl.len().alias("n"),
            *(pl.col(c).mean().alias(f"{c}_5") for c in ("lmp", "energy", "congestion", "loss")),
        )
    )
    rth = frame.filter(pl.col("market") == "RTH").rename({"interval_start": "hour"})
    joined = rth.join(rt5, on=["location", "hour"], how="inner")
    assert joined.height == rth.filter(pl.col("hour") >= utc(2024, 7, 16)).height > 0
    assert (joined["n"] == 12).all()
    for c in ("lmp", "energy", "congestion", "loss"):
        assert (joined[c] - joined[f"{c}_5"]).abs().max() < 1e-9  # type: ignore[operator]


@pytest.mark.parametrize("iso", list(Iso))
def test_hubs_and_zones_are_weighted_averages_of_their_nodes(runs: dict[Iso, pl.DataFrame], iso: Iso) -> None:
    network = build_network(iso, NODES, SEED)
    frame = runs[iso].filter(pl.col("market") == "DAM")
    agg = network.locations[: network.aggregates]
    nodes = network.locations[network.aggregates :]
    for column in ("energy", "congestion", "loss"):
        expected = network.weights @ _matrix(frame, nodes, column)
        # Each side is rounded to cents once: at most a cent apart.
        assert np.abs(_matrix(frame, agg, column) - expected).max() <= 0.01 + 1e-9
    expected_lmp = network.weights @ _matrix(frame, nodes, "lmp")
    assert np.abs(_matrix(frame, agg, "lmp") - expected_lmp).max() <= 0.03 + 1e-9


@pytest.mark.parametrize("iso", [Iso.PJM, Iso.ERCOT, Iso.NYISO])
@pytest.mark.parametrize("market", ["DAM", "RTH", "RT5"])
def test_congestion_lies_in_the_span_of_the_shift_factors(
    runs: dict[Iso, pl.DataFrame], iso: Iso, market: str
) -> None:
    network = build_network(iso, NODES, SEED)
    frame = runs[iso].filter(pl.col("market") == market)
    congestion = _matrix(frame, network.locations, "congestion")
    assert np.abs(congestion).max() > 0.5  # something binds in two summer days
    # Recover shadow prices from the shift factors; what is left is rounding:
    # half a cent, plus the one-cent hand-backs that make RT5 average to RTH.
    sf = network.shift_factors
    shadow, *_ = np.linalg.lstsq(sf, congestion, rcond=None)
    rounding = 0.015 if market == "RT5" else 0.005
    assert np.abs(sf @ shadow - congestion).max() < 2 * rounding + 0.005
    # Equivalently, the location x time congestion matrix has rank at most the
    # number of constraints once rounding noise is ignored.
    singular = np.linalg.svd(congestion, compute_uv=False)
    noise_floor = 0.01 * np.sqrt(congestion.size)
    assert int(np.sum(singular > noise_floor)) <= network.constraints.count


def test_nearby_nodes_move_together() -> None:
    network = build_network(Iso.ERCOT, 400, SEED)
    lmp = collect(
        SimulationConfig(
            start=utc(2024, 5, 1),
            end=utc(2024, 5, 8),
            isos=(Iso.ERCOT,),
            nodes=400,
            markets=("DAM",),
            datasets=(Dataset.LMP,),
            seed=SEED,
        )
    )[Dataset.LMP]
    frame = pl.from_arrow(lmp)
    assert isinstance(frame, pl.DataFrame)
    congestion = _matrix(frame, network.locations[network.aggregates :], "congestion")
    sf = network.shift_factors[network.aggregates :]
    distance = np.linalg.norm(sf[:, None, :] - sf[None, :, :], axis=2)
    np.fill_diagonal(distance, np.inf)
    nearest = distance.argmin(axis=1)
    active = congestion.std(axis=1) > 0.5
    corr = [
        np.corrcoef(congestion[i], congestion[j])[0, 1]
        for i, j in enumerate(nearest)
        if active[i] and active[j]
    ]
    assert len(corr) > 50
    assert float(np.median(corr)) > 0.9


def test_batches_are_location_major_and_sorted_in_time() -> None:
    lmp = collect(
        SimulationConfig(
            start=utc(2024, 3, 1), end=utc(2024, 3, 2), isos=(Iso.CAISO,), nodes=3, markets=("DAM",)
        )
    )[Dataset.LMP]
    frame = pl.from_arrow(lmp)
    assert isinstance(frame, pl.DataFrame)
    assert (
        frame.group_by("location", maintain_order=True)
        .agg(pl.col("interval_start").is_sorted())["interval_start"]
        .all()
    )
    assert isinstance(lmp, pa.Table)
