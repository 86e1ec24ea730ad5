"""The simulator against real markets: its statistics fall in bands taken from real price histories.

A year of simulated prices is compared, location by location, with the real
series under `shared/data` (see SOURCES.md and SOURCES_EPF.md):

* NYISO real-time zonal LBMP 2022 at N.Y.C., WEST and CAPITL;
* CAISO real-time (15-minute) LMP 2020 at a PG&E node, compared with NP15;
* ERCOT HB_SOUTH day-ahead and real-time prices, June 2024 to March 2025
  (compared over the same calendar months);
* PJM COMED day-ahead zonal prices and day-ahead load forecasts, 2013-2018.

MISO, SPP and ISO-NE have no real history here, so each is held to its nearest
analog and to published facts: MISO's Illinois hub to PJM COMED across the seam
(same weather, same fleet, prices that track each other); ISO-NE's hub to
NYISO CAPITL next door (gas-fired, winter-peaking New England/New York
prices); SPP's North hub to COMED for its daily shape (little solar) and to
ERCOT HB_SOUTH for volatility, spikes and negative prices (wind-heavy plains).

Every band is computed here from the real file. Levels differ by year (gas
prices, weather), so shapes are compared scale-free (each series over its own
mean), volatility relative to its own level, spikes relative to their month,
and levels only loosely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from price_statistics import (
    HISTORIES,
    PriceStats,
    caiso_rt_2020,
    ercot_hb_south,
    nyiso_rt_2022,
    pjm_comed_da,
    price_stats,
)
from simulate_tables import collect, utc

from carbon254.isos import ISOS, Iso
from carbon254.schema import Dataset
from carbon254.simulate import SimulationConfig

# The real price histories these bands come from; without them there is nothing to compare with.
pytestmark = pytest.mark.skipif(
    not all(path.exists() for path in HISTORIES),
    reason=f"real price histories not found: {', '.join(str(p) for p in HISTORIES if not p.exists())}",
)

YEAR = 2025
# Enough nodes that every area of every ISO (PJM has 21) has one of its own,
# so every zone prices on its own nodes.
NODES = 21
# Months the ERCOT history covers (June 2024 to March 2025).
ERCOT_MONTHS = (6, 7, 8, 9, 10, 11, 12, 1, 2, 3)

REAL: dict[str, Callable[[], pl.DataFrame]] = {
    "NYISO N.Y.C. RT 2022": lambda: nyiso_rt_2022("N.Y.C."),
    "NYISO WEST RT 2022": lambda: nyiso_rt_2022("WEST"),
    "NYISO CAPITL RT 2022": lambda: nyiso_rt_2022("CAPITL"),
    "CAISO PG&E node RT 2020": caiso_rt_2020,
    "ERCOT HB_SOUTH DA 2024-25": lambda: ercot_hb_south("DAM"),
    "ERCOT HB_SOUTH RT 2024-25": lambda: ercot_hb_south("RTM"),
    "PJM COMED DA 2013-18": lambda: pjm_comed_da().select("local", "price"),
}
# Histories that span several calendar years are measured year by year, so
# their bands cover the real year-to-year spread (COMED's 2014 polar vortex
# and its calm 2016-2017 alike).
MULTI_YEAR = {"PJM COMED DA 2013-18"}


@dataclass(frozen=True)
class RealHistory:
    """Statistics of a real series: one per calendar year, or one for a single-year series."""

    years: tuple[PriceStats, ...]

    def band(self, stat: Callable[[PriceStats], float], factor: float) -> tuple[float, float]:
        """[lowest year / factor, highest year x factor] of a statistic."""
        values = [stat(y) for y in self.years]
        return min(values) / factor, max(values) * factor

    @property
    def hourly(self) -> np.ndarray:
        """Mean daily shape over the years."""
        return np.asarray(np.mean([y.hourly for y in self.years], axis=0))


def _history(name: str) -> RealHistory:
    frame = REAL[name]()
    if name not in MULTI_YEAR:
        return RealHistory((price_stats(frame),))
    with_year = frame.with_columns(pl.col("local").dt.year().alias("year"))
    years = with_year.partition_by("year", include_key=False, maintain_order=True)
    return RealHistory(tuple(price_stats(year) for year in years))


@dataclass(frozen=True)
class Analog:
    """A simulated location and market held to a real series.

    `shape` is the real series its daily and seasonal shape is compared
    with, `behaviour` the one for volatility, spikes and negative prices
    (the same unless an analog ISO borrows them from two neighbours).
    """

    iso: Iso
    location: str
    market: str
    shape: str
    behaviour: str | None = None
    months: tuple[int, ...] | None = None
    solar_dip: bool = False

    @property
    def volatility_source(self) -> str:
        return self.behaviour if self.behaviour is not None else self.shape

    def __str__(self) -> str:
        return f"{self.iso.value} {self.location} {self.market}"


ANALOGS = [
    Analog(Iso.NYISO, "N.Y.C.", "RTH", "NYISO N.Y.C. RT 2022"),
    Analog(Iso.NYISO, "WEST", "RTH", "NYISO WEST RT 2022"),
    Analog(Iso.NYISO, "CAPITL", "RTH", "NYISO CAPITL RT 2022"),
    Analog(Iso.CAISO, "TH_NP15_GEN-APND", "RTH", "CAISO PG&E node RT 2020", solar_dip=True),
    Analog(Iso.ERCOT, "HB_SOUTH", "DAM", "ERCOT HB_SOUTH DA 2024-25", months=ERCOT_MONTHS, solar_dip=True),
    Analog(Iso.ERCOT, "HB_SOUTH", "RTH", "ERCOT HB_SOUTH RT 2024-25", months=ERCOT_MONTHS, solar_dip=True),
    Analog(Iso.PJM, "COMED", "DAM", "PJM COMED DA 2013-18"),
    Analog(Iso.MISO, "ILLINOIS.HUB", "DAM", "PJM COMED DA 2013-18"),
    Analog(Iso.ISONE, ".H.INTERNAL_HUB", "RTH", "NYISO CAPITL RT 2022"),
    Analog(Iso.SPP, "SPPNORTH_HUB", "RTH", "PJM COMED DA 2013-18", "ERCOT HB_SOUTH RT 2024-25"),
]
ANALOG_IDS = [str(a) for a in ANALOGS]


@pytest.fixture(scope="module")
def real() -> dict[str, RealHistory]:
    """Statistics of every real history."""
    return {name: _history(name) for name in REAL}


@pytest.fixture(scope="module")
def year() -> dict[Dataset, pl.DataFrame]:
    """A simulated year of hourly DA and RT LMPs and load for every ISO."""
    config = SimulationConfig(
        start=utc(YEAR, 1, 1),
        end=utc(YEAR + 1, 1, 1),
        nodes=NODES,
        markets=("DAM", "RTH"),
        datasets=(Dataset.LMP, Dataset.LOAD),
    )
    frames = {}
    for dataset, table in collect(config).items():
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        frames[dataset] = frame
    return frames


def _series(year: dict[Dataset, pl.DataFrame], iso: Iso, location: str, market: str) -> pl.DataFrame:
    """One location's hourly LMPs ($/MWh) as `local` (ISO market time) and `price`."""
    lmp = year[Dataset.LMP].filter(
        (pl.col("iso") == iso.value) & (pl.col("location") == location) & (pl.col("market") == market)
    )
    assert lmp.height > 8_000, (iso, location, market)
    return lmp.select(
        pl.col("interval_start").dt.convert_time_zone(ISOS[iso].timezone).alias("local"),
        pl.col("lmp").alias("price"),
    )


def _simulated(year: dict[Dataset, pl.DataFrame], analog: Analog) -> PriceStats:
    frame = _series(year, analog.iso, analog.location, analog.market)
    if analog.months is not None:
        frame = frame.filter(pl.col("local").dt.month().is_in(analog.months))
    return price_stats(frame)


def _within(value: float, low: float, high: float, what: str) -> None:
    assert low <= value <= high, f"{what}: {value:.4g} outside [{low:.4g}, {high:.4g}]"


@pytest.mark.parametrize("analog", ANALOGS, ids=ANALOG_IDS)
def test_daily_shape_matches_the_real_market(
    year: dict[Dataset, pl.DataFrame], real: dict[str, RealHistory], analog: Analog
) -> None:
    """Evening peak, night trough and (with solar) the midday dip, as in the real hour-of-day profile."""
    sim, ref = _simulated(year, analog), real[analog.shape]
    assert np.corrcoef(sim.hourly, ref.hourly)[0, 1] >= 0.8, (sim.hourly.round(2), ref.hourly.round(2))
    _within(sim.peak_to_trough, *ref.band(lambda s: s.peak_to_trough, 1.5), "peak/trough")
    # Every real series peaks in the evening ramp (hour beginning 17-19).
    assert 16 <= sim.peak_hour <= 20, sim.hourly.round(2)
    if analog.solar_dip:
        # Solar pushes late-morning prices below the dawn shoulder and far below the evening.
        midday = sim.hourly[10:14].mean()
        assert midday < 0.95 * sim.hourly[5:8].max() and midday < 0.6 * sim.hourly.max(), sim.hourly.round(2)


@pytest.mark.parametrize("analog", ANALOGS, ids=ANALOG_IDS)
def test_seasons_peak_in_summer_and_winter(
    year: dict[Dataset, pl.DataFrame], real: dict[str, RealHistory], analog: Analog
) -> None:
    """July-August and December-February above the spring and autumn shoulders, as in the real market."""
    sim, ref = _simulated(year, analog), real[analog.shape]
    if analog.iso is Iso.CAISO:
        # California's spring is its cheap season (snowmelt hydro, solar); 2020's winter was not a peak.
        _within(
            sim.summer_over_shoulder,
            0.9,
            ref.band(lambda s: s.summer_over_shoulder, 2.0)[1],
            "summer/shoulder",
        )
        assert sim.season((7, 8)) > sim.season((4, 5)), sim.monthly
        return
    for name, value, stat in (
        ("summer/shoulder", sim.summer_over_shoulder, lambda s: s.summer_over_shoulder),
        ("winter/shoulder", sim.winter_over_shoulder, lambda s: s.winter_over_shoulder),
    ):
        # Above the shoulders where the real market peaks (everywhere but in Texas' mild winters).
        low, high = ref.band(stat, 2.0)
        _within(value, min(1.0, 1.6 * low), high, name)
    # No July below November in a normal year.
    assert sim.monthly[7] > sim.monthly[11], sim.monthly


@pytest.mark.parametrize("analog", ANALOGS, ids=ANALOG_IDS)
def test_volatility_spikes_and_negative_prices_match(
    year: dict[Dataset, pl.DataFrame], real: dict[str, RealHistory], analog: Analog
) -> None:
    """Hour-to-hour and day-to-day moves, spikes (3x the month's mean) and negative prices, as in real."""
    sim, ref = _simulated(year, analog), real[analog.volatility_source]
    _within(sim.hourly_change, *ref.band(lambda s: s.hourly_change, 2.0), "median hourly change / median")
    _within(sim.daily_change, *ref.band(lambda s: s.daily_change, 2.0), "std of daily log change")
    _within(sim.spikes, *ref.band(lambda s: s.spikes, 3.0), "share of hours above 3x the month's mean")
    low, high = ref.band(lambda s: s.negative, 4.0)
    if 4.0 * low >= 0.005:
        _within(sim.negative, low, high, "share of negative hours")
    else:
        # Where real prices go negative in under 0.5% of hours (in some year), they need only stay rare.
        _within(sim.negative, 0.0, max(high, 0.005), "share of negative hours")
    # Levels differ by year with gas prices; they only need to be the same kind of number.
    _within(sim.mean, *ref.band(lambda s: s.mean, 2.5), "mean $/MWh")


@pytest.fixture(scope="module")
def ercot_pair() -> dict[str, float]:
    """Real time over day-ahead at ERCOT HB_SOUTH, the one real pair here: means and standard deviations."""
    da, rt = ercot_hb_south("DAM"), ercot_hb_south("RTM")
    pair = da.join(rt, on="local", suffix="_rt")
    return {
        "mean_ratio": float(pair["price_rt"].mean() / pair["price"].mean()),  # type: ignore[operator]
        "std_ratio": float(pair["price_rt"].std() / pair["price"].std()),  # type: ignore[operator]
    }


@pytest.mark.parametrize("iso", list(Iso))
def test_real_time_averages_close_to_day_ahead(
    year: dict[Dataset, pl.DataFrame], ercot_pair: dict[str, float], iso: Iso
) -> None:
    """At every hub and zone real time averages within a few percent of day-ahead, and swings wider.

    The bands come from ERCOT HB_SOUTH, where real time averaged 0.98 of
    day-ahead with about twice its standard deviation (ERCOT's real-time-only
    scarcity adders make its swing the widest; elsewhere real time need only
    swing wider than day-ahead).
    """
    ercot = ercot_pair
    # Hubs, zones and interfaces: a node near zero on average would make any ratio meaningless.
    lmp = year[Dataset.LMP].filter((pl.col("iso") == iso.value) & (pl.col("location_type") != "node"))
    per_location = lmp.group_by("location", "market").agg(
        pl.col("lmp").mean().alias("mean"), pl.col("lmp").std().alias("std")
    )
    wide = per_location.pivot(on="market", index="location", values=["mean", "std"])
    ratio = wide["mean_RTH"] / wide["mean_DAM"]
    low, high = ercot["mean_ratio"] - 0.08, ercot["mean_ratio"] + 0.08
    assert ratio.is_between(low, high).all(), wide.filter(~ratio.is_between(low, high))
    swing = float((wide["std_RTH"] / wide["std_DAM"]).median())  # type: ignore[arg-type]
    if iso is Iso.ERCOT:
        _within(swing, ercot["std_ratio"] / 1.6, ercot["std_ratio"] * 1.6, "std RT / std DA")
    else:
        assert swing > 1.0, swing


def _mean(year: dict[Dataset, pl.DataFrame], iso: Iso, location: str, market: str = "RTH") -> float:
    return float(_series(year, iso, location, market)["price"].mean())  # type: ignore[arg-type]


def test_new_york_city_and_long_island_price_above_upstate(year: dict[Dataset, pl.DataFrame]) -> None:
    """In 2022 N.Y.C. averaged 1.54x WEST in real time; downstate sits above every upstate zone."""
    real_ratio = float(nyiso_rt_2022("N.Y.C.")["price"].mean() / nyiso_rt_2022("WEST")["price"].mean())  # type: ignore[operator]
    upstate = max(_mean(year, Iso.NYISO, z) for z in ("WEST", "GENESE", "CENTRL", "NORTH", "MHK VL"))
    downstate = min(_mean(year, Iso.NYISO, z) for z in ("N.Y.C.", "LONGIL"))
    assert downstate > upstate
    _within(
        _mean(year, Iso.NYISO, "N.Y.C.") / _mean(year, Iso.NYISO, "WEST"), 1.05, real_ratio, "N.Y.C. / WEST"
    )


def test_sp15_prices_under_np15_as_southern_solar_congests_path_26(year: dict[Dataset, pl.DataFrame]) -> None:
    """SP15 has averaged a few percent under NP15 in recent years, most of all at spring middays."""
    sp15 = _series(year, Iso.CAISO, "TH_SP15_GEN-APND", "DAM")
    np15 = _series(year, Iso.CAISO, "TH_NP15_GEN-APND", "DAM")
    spread = sp15.join(np15, on="local", suffix="_np15").with_columns(
        (pl.col("price") - pl.col("price_np15")).alias("spread")
    )
    level = float(np15["price"].mean())  # type: ignore[arg-type]
    _within(float(spread["spread"].mean()) / level, -0.15, 0.0, "mean (SP15 - NP15) / NP15")  # type: ignore[arg-type]
    spring_midday = spread.filter(
        pl.col("local").dt.month().is_in([3, 4, 5]) & pl.col("local").dt.hour().is_between(10, 14)
    )
    assert spring_midday["spread"].mean() < spread["spread"].mean()  # type: ignore[operator]


def test_ercot_west_is_more_volatile_and_more_often_negative_than_houston(
    year: dict[Dataset, pl.DataFrame],
) -> None:
    def behaviour(hub: str) -> tuple[float, float]:
        price = _series(year, Iso.ERCOT, hub, "RTH")["price"]
        return float(price.std() / price.mean()), float((price < 0).mean())  # type: ignore[operator]

    west_cv, west_negative = behaviour("HB_WEST")
    houston_cv, houston_negative = behaviour("HB_HOUSTON")
    assert west_cv > houston_cv
    assert west_negative > 2 * houston_negative


# Published clearing prices ($/MW-day); see `carbon254.simulate.capacity` for the sources.
PJM_BRA = [
    (2024, "RTO", 28.92),
    (2025, "RTO", 269.92),
    (2025, "BGE", 466.35),
    (2025, "DOM", 444.26),
    (2025, "COMED", 269.92),
    (2026, "RTO", 329.17),
    (2026, "BGE", 329.17),
    (2026, "DOM", 329.17),
]
MISO_PRA_SUMMER = [(2024, 30.00), (2025, 666.50)]


def test_capacity_prices_are_the_published_auction_results() -> None:
    config = SimulationConfig(
        start=utc(2024, 6, 1),
        end=utc(2027, 5, 1),
        isos=(Iso.PJM, Iso.MISO),
        nodes=1,
        datasets=(Dataset.CAPACITY_PRICE,),
    )
    capacity = pl.from_arrow(collect(config)[Dataset.CAPACITY_PRICE])
    assert isinstance(capacity, pl.DataFrame)

    def price(iso: Iso, zone: str, start: datetime) -> float:
        rows = capacity.filter(
            (pl.col("iso") == iso.value)
            & (pl.col("zone") == zone)
            & (pl.col("delivery_start") == start.replace(tzinfo=ZoneInfo(ISOS[iso].timezone)).astimezone(UTC))
        )
        assert rows.height == 1, (iso, zone, start)
        return float(rows["price"][0])

    for delivery_year, lda, published in PJM_BRA:
        assert price(Iso.PJM, lda, datetime(delivery_year, 6, 1)) == pytest.approx(published, abs=0.005)
    for delivery_year, published in MISO_PRA_SUMMER:
        for zone in ("LRZ1", "LRZ4", "LRZ9"):
            assert price(Iso.MISO, zone, datetime(delivery_year, 6, 1)) == pytest.approx(published, abs=0.005)


def test_comed_load_has_the_real_daily_and_seasonal_shape(year: dict[Dataset, pl.DataFrame]) -> None:
    """The COMED zone's day-ahead load forecast against the real one, and prices rising with load."""
    real = pjm_comed_da()
    load = year[Dataset.LOAD].filter((pl.col("iso") == "PJM") & (pl.col("kind") == "forecast"))
    system = load.group_by("interval_start").agg(pl.col("mw").sum().alias("system_mw"))
    comed = load.filter(pl.col("zone") == "COMED").join(system, on="interval_start")
    comed = comed.select(
        pl.col("interval_start").dt.convert_time_zone("America/New_York").alias("local"),
        pl.col("mw").alias("comed_mw"),
        "system_mw",
    )

    def profile(frame: pl.DataFrame, column: str, by: pl.Expr) -> np.ndarray:
        means = frame.group_by(by.alias("k")).agg(pl.col(column).mean()).sort("k")[column].to_numpy()
        return np.asarray(means / frame[column].mean())

    hour, month = pl.col("local").dt.hour(), pl.col("local").dt.month()
    sim_hours, real_hours = profile(comed, "comed_mw", hour), profile(real, "comed_mw", hour)
    assert np.corrcoef(sim_hours, real_hours)[0, 1] >= 0.9
    real_swing = real_hours.max() / real_hours.min()
    _within(sim_hours.max() / sim_hours.min(), real_swing / 1.25, real_swing * 1.25, "load peak/trough")
    sim_months = profile(comed, "comed_mw", month)
    assert sim_months[[6, 7]].mean() > sim_months[[3, 4, 9, 10]].mean()  # July-August over the shoulders
    real_share = float(real["comed_mw"].mean() / real["system_mw"].mean())  # type: ignore[operator]
    share = float(comed["comed_mw"].mean() / comed["system_mw"].mean())  # type: ignore[operator]
    _within(share, real_share * 0.75, real_share * 1.25, "COMED share of PJM load")

    # Day-ahead prices rise with the load they clear against (real rank correlation 0.71).
    real_rho = real.select(pl.corr("price", "system_mw", method="spearman")).item()
    prices = _series(year, Iso.PJM, "COMED", "DAM").join(comed, on="local")
    rho = prices.select(pl.corr("price", "system_mw", method="spearman")).item()
    _within(rho, real_rho - 0.2, 1.0, "rank correlation of price with load")
