"""PJM in the simulator: its map, market parameters, node names (`FAIRFORD 138 KV T2`) and RPM auction."""

from __future__ import annotations

from datetime import date

import numpy as np

from carbon254.isos import Iso
from carbon254.simulate.capacity import CapacityAuction, Period, epoch_day, month_day
from carbon254.simulate.catalog import Area, Flowgate, Geography, Hub, zones_from_areas
from carbon254.simulate.iso import IsoSimulation
from carbon254.simulate.models import IsoModel, as_product
from carbon254.simulate.names import Digits, stem
from carbon254.simulate.streams import Stream, generator

# Keys PJM's random streams: never change it (see `IsoSimulation.stream_index`).
STREAM_INDEX = 3

# PJM locational deliverability areas and the LDA each one nests in.
_LDAS: tuple[tuple[str, str | None], ...] = (
    ("RTO", None),
    ("MAAC", "RTO"),
    ("EMAAC", "MAAC"),
    ("SWMAAC", "MAAC"),
    ("PS", "EMAAC"),
    ("PS-NORTH", "PS"),
    ("DPL-SOUTH", "EMAAC"),
    ("PEPCO", "SWMAAC"),
    ("BGE", "SWMAAC"),
    ("ATSI", "RTO"),
    ("COMED", "RTO"),
    ("DEOK", "RTO"),
    ("DOM", "RTO"),
)
# PJM RPM base residual auction clearing prices ($/MW-day, UCAP) by delivery
# year (starting June 1 of the year), with the day the results were posted.
# 2024/25: RTO $28.92 (results posted 2023-02-27; S&P Global, Aug 2024); only
# the RTO price is reproduced, the LDAs that separated that year carry it too.
# 2025/26: RTO $269.92, BGE $466.35, DOM $444.26, every other LDA at the RTO
# price (PJM, 2024-07-30, as reported by Utility Dive and S&P Global).
# 2026/27: $329.17 in every LDA, the price cap (PJM, 2025-07-22).
# 2027/28: $333.44 in every LDA, the price cap (PJM, 2025-12-17, as reported
# by Camelot Energy Group).
_PUBLISHED: dict[int, tuple[date, float, dict[str, float]]] = {
    2024: (date(2023, 2, 27), 28.92, {}),
    2025: (date(2024, 7, 30), 269.92, {"BGE": 466.35, "DOM": 444.26}),
    2026: (date(2025, 7, 22), 329.17, {}),
    2027: (date(2025, 12, 17), 333.44, {}),
}


def bra_results(seed: int, year: int) -> list[Period]:
    """RPM base residual auction prices ($/MW-day) of the delivery year starting June `year`, per LDA.

    A locational deliverability area inherits its parent's price unless it separates.
    """
    start, end = month_day(year, 6), month_day(year + 1, 6)
    if year in _PUBLISHED:
        posted, rto, separated = _PUBLISHED[year]
        return [Period(lda, start, end, epoch_day(posted), separated.get(lda, rto)) for lda, _ in _LDAS]
    rng = generator(seed, STREAM_INDEX, Stream.CAPACITY, year)
    # Before the published years around the 2010s median; after them close to the latest result.
    before = year < min(_PUBLISHED)
    median = 110.0 if before else _PUBLISHED[max(_PUBLISHED)][1]
    prices: dict[str, float] = {}
    for lda, parent in _LDAS:
        if parent is None:
            rto = np.exp(rng.normal(np.log(median), 0.7 if before else 0.3))
            prices[lda] = float(np.clip(rto, 10.0, 600.0))
            continue
        separates, premium = rng.random(), np.exp(rng.normal(-1.0, 0.6))
        prices[lda] = prices[parent] * (1.0 + premium) if separates < 0.25 else prices[parent]
    # Base residual auctions are held well ahead of delivery.
    return [Period(lda, start, end, start - 320, round(min(p, 2_000.0), 2)) for lda, p in prices.items()]


def node_name(d: Digits, area: str, index: int) -> str:
    """A PJM-style pnode: `FAIRFORD 138 KV T2`, or a bare bus number (distinct for every `index`)."""
    if d.pick(4) == 0:
        # Bus numbers: an odd multiplier keeps them distinct for every index.
        return str(1_000_003 + (index * 7_919) % 89_000_000)
    kv = ("13", "18", "20", "34.5", "69", "115", "138", "230", "345", "500")[d.pick(10)]
    equipment = ("UNIT", "T", "LD", "GEN", "CT", "TR")[d.pick(6)]
    return f"{stem(d, 8)} {kv} KV {equipment}{1 + d.pick(9)}"


_AREAS = (
    Area("COMED", 0.05, 0.75, 0.05, 0.12, 0.13, "COMED"),
    Area("AEP", 0.35, 0.45, 0.08, 0.15, 0.15, "AEP"),
    Area("DAY", 0.28, 0.56, 0.03, 0.02, 0.02, "DAY"),
    Area("DEOK", 0.24, 0.45, 0.03, 0.03, 0.03, "DEOK"),
    Area("ATSI", 0.45, 0.70, 0.05, 0.08, 0.08, "ATSI"),
    Area("DUQ", 0.52, 0.60, 0.02, 0.015, 0.015, "DUQ"),
    Area("APS", 0.60, 0.50, 0.05, 0.05, 0.05, "APS"),
    Area("PENELEC", 0.62, 0.72, 0.04, 0.03, 0.02, "PENELEC"),
    Area("EKPC", 0.25, 0.30, 0.04, 0.015, 0.015, "EKPC"),
    Area("DOM", 0.72, 0.25, 0.07, 0.15, 0.16, "DOM"),
    Area("PEPCO", 0.78, 0.44, 0.02, 0.035, 0.04, "PEPCO"),
    Area("BGE", 0.81, 0.50, 0.02, 0.035, 0.04, "BGE"),
    Area("METED", 0.77, 0.62, 0.02, 0.02, 0.02, "METED"),
    Area("PPL", 0.82, 0.70, 0.03, 0.05, 0.05, "PPL"),
    Area("PECO", 0.87, 0.60, 0.02, 0.045, 0.05, "PECO"),
    Area("PSEG", 0.93, 0.70, 0.02, 0.05, 0.05, "PSEG"),
    Area("JCPL", 0.95, 0.62, 0.02, 0.03, 0.03, "JCPL"),
    Area("AECO", 0.92, 0.52, 0.02, 0.015, 0.015, "AECO"),
    Area("DPL", 0.88, 0.45, 0.03, 0.025, 0.025, "DPL"),
    Area("RECO", 0.95, 0.78, 0.01, 0.003, 0.002, "RECO"),
    Area("OVEC", 0.30, 0.37, 0.02, 0.004, 0.003, "OVEC"),
)

# fmt: off
MODEL = IsoModel(
    iso=Iso.PJM, longitude=-78.0, latitude=40.0,
    base_load_mw=81_000, cooling_mw_per_c=5_000, heating_mw_per_c=1_300,
    temp_mean_c=12.5, temp_amplitude_c=12.0, temp_diurnal_c=5.5, temp_anomaly_c=3.5, mean_load_mw=88_000,
    solar_mw=9_000, wind_mw=11_000, wind_cf=0.28, wind_night=0.15, cloudiness=-0.5,
    hydro_mw=0.0, hydro_swing=0.0,
    capacity_mw=165_000, outage_rate=0.08,
    price_level=34.0, stack_slope=3.8,
    gas_volatility=0.07, gas_daily_volatility=0.06, winter_gas=0.3,
    oversupply_u=0.20, oversupply_slope=0.8, price_floor=-100.0, shortage_cap=2_000.0, min_reserves=0.03,
    da_oversupply=0.5,
    da_shock=0.04, rt_shock=0.25, rt_df=3.0, jump_rate=0.003, jump_size=5.0,
    constraints=30, congestion_scale=10.0, loss_spread=0.03,
    as_products=(
        as_product("REG", 28.0, 0.4, 0.1),
        as_product("SYNC_RESERVE", 4.0, 0.8, 0.35, 0.5),
        as_product("NON_SYNC_RESERVE", 1.0, 1.0, 0.2, 0.7),
        as_product("SECONDARY_RESERVE", 1.5, 0.9, 0.15, 0.6),
    ),
    as_regions=(("RTO", 1.0), ("MAD", 1.1)),
)
# fmt: on

GEOGRAPHY = Geography(
    Iso.PJM,
    _AREAS,
    (
        Hub("WESTERN HUB", 0.62, 0.55, 0.12),
        Hub("EASTERN HUB", 0.90, 0.55, 0.08),
        Hub("AEP-DAYTON HUB", 0.32, 0.50, 0.12),
        Hub("N ILLINOIS HUB", 0.05, 0.75, 0.10),
        Hub("DOMINION HUB", 0.72, 0.25, 0.10),
        Hub("NEW JERSEY HUB", 0.93, 0.66, 0.07),
        Hub("OHIO HUB", 0.38, 0.55, 0.10),
        Hub("WEST INT HUB", 0.20, 0.60, 0.10),
        Hub("CHICAGO HUB", 0.07, 0.78, 0.05),
        Hub("ATSI GEN HUB", 0.45, 0.70, 0.08),
    ),
    zones_from_areas(_AREAS),
    8_600,
    (0.60, 0.55),
    (
        # Power flows west to east into the Mid-Atlantic and Dominion load
        # centres; northern Illinois wind is bottled up on windy nights.
        Flowgate("WEST TO EAST", 0.68, 0.50, 0.0, 0.03, load=0.8, noise=0.6, binding=0.3, scale=20.0),
        Flowgate("COMED WIND EXPORT", 0.15, 0.70, 0.0, 0.04, wind=0.9, noise=0.5, binding=0.2, scale=20.0),
    ),
)

SIMULATION = IsoSimulation(
    stream_index=STREAM_INDEX,
    geography=GEOGRAPHY,
    model=MODEL,
    node_name=node_name,
    capacity=CapacityAuction("BRA", bra_results),
)
