"""MISO in the simulator: its map, market parameters, node names (`NSP.PINEBROOK2`) and planning auction."""

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

# Keys MISO's random streams: never change it (see `IsoSimulation.stream_index`).
STREAM_INDEX = 4

# MISO names nodes after the local balancing authority; several share a zone.
_LBAS: dict[str, tuple[str, ...]] = {
    "LRZ1": ("NSP", "OTP", "MP", "GRE", "MDU", "SMP"),
    "LRZ2": ("WEC", "WPS", "ALTE", "MGE", "UPPC"),
    "LRZ3": ("ALTW", "MEC", "MPW"),
    "LRZ4": ("AMIL", "CWLP", "SIPC"),
    "LRZ5": ("AMMO", "CWLD"),
    "LRZ6": ("CIN", "IPL", "SIGE", "NIPS", "BREC", "HE"),
    "LRZ7": ("CONS", "DECO"),
    "LRZ8": ("EAI",),
    "LRZ9": ("CLEC", "LAGN", "EES", "LAFA"),
    "LRZ10": ("EMBA",),
}

_ZONES = tuple(f"LRZ{i}" for i in range(1, 11))
# Season name, first month, and months long; the planning year starts in June.
_SEASONS = (("SUMMER", 6, 3), ("FALL", 9, 3), ("WINTER", 12, 3), ("SPRING", 3, 3))


# MISO planning resource auction clearing prices ($/MW-day) by planning year and
# season, footprint-wide unless a zone separated.
# 2024/25 (MISO, 2024-04-25): summer $30.00, fall $15.00, winter $0.75, spring
# $34.10; zone 5 (Missouri) cleared at CONE, $719.81, in fall and spring.
# 2025/26 (MISO, 2025-04-28, as reported by Utility Dive and RTO Insider):
# summer $666.50, fall $91.60 in North/Central and $74.09 in South (zones
# 8-10), winter $33.20, spring $69.88.
_SOUTH = ("LRZ8", "LRZ9", "LRZ10")
_PUBLISHED: dict[int, tuple[date, dict[str, float], dict[tuple[str, str], float]]] = {
    2024: (
        date(2024, 4, 25),
        {"SUMMER": 30.00, "FALL": 15.00, "WINTER": 0.75, "SPRING": 34.10},
        {("FALL", "LRZ5"): 719.81, ("SPRING", "LRZ5"): 719.81},
    ),
    2025: (
        date(2025, 4, 28),
        {"SUMMER": 666.50, "FALL": 91.60, "WINTER": 33.20, "SPRING": 69.88},
        {("FALL", zone): 74.09 for zone in _SOUTH},
    ),
}


def _season_bounds(year: int, month: int, months: int) -> tuple[int, int]:
    y = year + 1 if month < 6 else year
    end_month = month + months
    return month_day(y, month), month_day(y + (end_month - 1) // 12, (end_month - 1) % 12 + 1)


def pra_results(seed: int, year: int) -> list[Period]:
    """Planning resource auction prices ($/MW-day) of the planning year starting June `year`.

    One price per season and local resource zone, footprint-wide unless a zone separated.
    """
    out: list[Period] = []
    if year in _PUBLISHED:
        posted, seasons, separated = _PUBLISHED[year]
        for season, month, months in _SEASONS:
            start, end = _season_bounds(year, month, months)
            for zone in _ZONES:
                price = separated.get((season, zone), seasons[season])
                out.append(Period(zone, start, end, epoch_day(posted), price))
        return out
    rng = generator(seed, STREAM_INDEX, Stream.CAPACITY, year)
    latest = _PUBLISHED[max(_PUBLISHED)][1]
    published = month_day(year, 6) - 60
    for season, month, months in _SEASONS:
        start, end = _season_bounds(year, month, months)
        if year < min(_PUBLISHED):
            median, spread = (60.0 if season == "SUMMER" else 12.0), 1.0
        else:
            median, spread = latest[season], 0.5
        system = float(np.clip(np.exp(rng.normal(np.log(median), spread)), 0.5, 700.0))
        for zone in _ZONES:
            separates, premium = rng.random(), np.exp(rng.normal(-0.5, 0.7))
            price = system * (1.0 + premium) if separates < 0.2 else system
            out.append(Period(zone, start, end, published, round(min(price, 750.0), 2)))
    return out


def node_name(d: Digits, area: str, index: int) -> str:
    """A MISO-style node, named after a local balancing authority of its zone: `NSP.PINEBROOK2`."""
    lbas = _LBAS.get(area, ("MISO",))
    return f"{lbas[d.pick(len(lbas))]}.{stem(d, 9)}{1 + d.pick(9)}"


_AREAS = (
    Area("LRZ1", 0.30, 0.88, 0.10, 0.17, 0.18, None),
    Area("LRZ2", 0.55, 0.85, 0.06, 0.09, 0.10, None),
    Area("LRZ3", 0.36, 0.70, 0.06, 0.09, 0.07, None),
    Area("LRZ4", 0.50, 0.60, 0.05, 0.07, 0.07, None),
    Area("LRZ5", 0.42, 0.50, 0.04, 0.05, 0.06, None),
    Area("LRZ6", 0.62, 0.60, 0.06, 0.14, 0.14, None),
    Area("LRZ7", 0.72, 0.80, 0.05, 0.14, 0.16, None),
    Area("LRZ8", 0.35, 0.30, 0.05, 0.06, 0.05, None),
    Area("LRZ9", 0.30, 0.10, 0.10, 0.16, 0.15, None),
    Area("LRZ10", 0.50, 0.20, 0.04, 0.03, 0.02, None),
)

# fmt: off
MODEL = IsoModel(
    iso=Iso.MISO, longitude=-90.0, latitude=40.0,
    base_load_mw=63_000, cooling_mw_per_c=3_400, heating_mw_per_c=900,
    temp_mean_c=11.0, temp_amplitude_c=14.0, temp_diurnal_c=6.0, temp_anomaly_c=4.0, mean_load_mw=75_000,
    solar_mw=10_000, wind_mw=31_000, wind_cf=0.33, wind_night=0.25, cloudiness=-0.5,
    hydro_mw=0.0, hydro_swing=0.0,
    capacity_mw=136_000, outage_rate=0.09,
    price_level=32.0, stack_slope=3.5,
    gas_volatility=0.07, gas_daily_volatility=0.04, winter_gas=0.2,
    oversupply_u=0.22, oversupply_slope=0.9, price_floor=-100.0, shortage_cap=3_500.0, min_reserves=0.03,
    da_oversupply=0.5,
    da_shock=0.05, rt_shock=0.3, rt_df=3.0, jump_rate=0.004, jump_size=5.0,
    constraints=30, congestion_scale=10.0, loss_spread=0.03,
    as_products=(
        as_product("REG", 10.0, 0.4, 0.15),
        as_product("SPIN", 4.0, 0.6, 0.3, 0.3),
        as_product("SUPP", 1.5, 0.8, 0.2, 0.5),
        as_product("STR", 2.0, 0.8, 0.2, 0.5),
    ),
    as_regions=(("MISO", 1.0),),
)
# fmt: on

GEOGRAPHY = Geography(
    Iso.MISO,
    _AREAS,
    (
        Hub("ILLINOIS.HUB", 0.50, 0.60, 0.10),
        Hub("INDIANA.HUB", 0.62, 0.60, 0.10),
        Hub("MICHIGAN.HUB", 0.72, 0.80, 0.10),
        Hub("MINN.HUB", 0.30, 0.88, 0.12),
        Hub("ARKANSAS.HUB", 0.35, 0.30, 0.10),
        Hub("LOUISIANA.HUB", 0.38, 0.12, 0.10),
        Hub("TEXAS.HUB", 0.15, 0.12, 0.10),
        Hub("MS.HUB", 0.50, 0.20, 0.08),
    ),
    zones_from_areas(_AREAS),
    2_900,
    (0.50, 0.55),
    (
        Flowgate("MINNESOTA WIND EXPORT", 0.38, 0.78, -45.0, wind=0.9, noise=0.5, binding=0.25, scale=20.0),
        Flowgate("SOUTH TO NORTH", 0.45, 0.40, 90.0, load=0.7, noise=0.7, binding=0.1, scale=20.0),
    ),
)

SIMULATION = IsoSimulation(
    stream_index=STREAM_INDEX,
    geography=GEOGRAPHY,
    model=MODEL,
    node_name=node_name,
    capacity=CapacityAuction("PRA", pra_results),
)
