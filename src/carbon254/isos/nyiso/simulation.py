"""NYISO in the simulator: its map, market parameters and node names (`KINGDALE GT 03`)."""

from __future__ import annotations

from carbon254.isos import Iso
from carbon254.simulate.catalog import Area, Flowgate, Geography, Hub, zones_from_areas
from carbon254.simulate.iso import IsoSimulation
from carbon254.simulate.models import IsoModel, as_product
from carbon254.simulate.names import Digits, stem

# Keys NYISO's random streams: never change it (see `IsoSimulation.stream_index`).
STREAM_INDEX = 6


def node_name(d: Digits, area: str, index: int) -> str:
    """A NYISO-style generator: `KINGDALE GT 03`, `BIRCHTON___2`."""
    if d.pick(3) == 0:
        return f"{stem(d, 10)}___{1 + d.pick(9)}"
    kind = ("GT", "ST", "CC", "CT", "HY", "WT", "IC")[d.pick(7)]
    return f"{stem(d, 10)} {kind} {1 + d.pick(12):02d}"


_AREAS = (
    Area("WEST", 0.10, 0.60, 0.06, 0.14, 0.10, "WEST"),
    Area("GENESE", 0.26, 0.65, 0.04, 0.07, 0.06, "GENESE"),
    Area("CENTRL", 0.45, 0.65, 0.06, 0.12, 0.09, "CENTRL"),
    Area("NORTH", 0.62, 0.95, 0.05, 0.08, 0.03, "NORTH"),
    Area("MHK VL", 0.65, 0.72, 0.04, 0.07, 0.05, "MHK VL"),
    Area("CAPITL", 0.80, 0.70, 0.03, 0.08, 0.07, "CAPITL"),
    Area("HUD VL", 0.80, 0.40, 0.03, 0.08, 0.06, "HUD VL"),
    Area("MILLWD", 0.82, 0.30, 0.01, 0.02, 0.02, "MILLWD"),
    Area("DUNWOD", 0.84, 0.24, 0.01, 0.03, 0.04, "DUNWOD"),
    Area("N.Y.C.", 0.85, 0.14, 0.02, 0.20, 0.32, "N.Y.C."),
    Area("LONGIL", 0.95, 0.12, 0.02, 0.11, 0.13, "LONGIL"),
)

# fmt: off
MODEL = IsoModel(
    iso=Iso.NYISO, longitude=-75.0, latitude=42.5,
    base_load_mw=16_000, cooling_mw_per_c=1_300, heating_mw_per_c=220,
    temp_mean_c=10.5, temp_amplitude_c=12.0, temp_diurnal_c=5.0, temp_anomaly_c=3.5, mean_load_mw=17_000,
    solar_mw=5_000, wind_mw=2_500, wind_cf=0.28, wind_night=0.1, cloudiness=-0.3,
    hydro_mw=0.0, hydro_swing=0.0,
    capacity_mw=34_000, outage_rate=0.08,
    price_level=44.0, stack_slope=4.0,
    gas_volatility=0.07, gas_daily_volatility=0.12, winter_gas=1.2,
    oversupply_u=0.15, oversupply_slope=0.6, price_floor=-100.0, shortage_cap=1_500.0, min_reserves=0.03,
    da_oversupply=0.5,
    da_shock=0.05, rt_shock=0.2, rt_df=3.0, jump_rate=0.004, jump_size=6.0,
    constraints=12, congestion_scale=10.0, loss_spread=0.04,
    as_products=(
        as_product("REG", 10.0),
        as_product("SPIN10", 5.0, 0.6, 0.3, 0.3),
        as_product("NSPIN10", 2.0, 0.8, 0.2, 0.5),
        as_product("OR30", 1.0, 0.9, 0.15, 0.6),
    ),
    as_regions=(("WEST", 1.0), ("EAST", 1.1), ("SENY", 1.25)),
)
# fmt: on

GEOGRAPHY = Geography(
    Iso.NYISO,
    _AREAS,
    (
        Hub("H Q", 0.65, 0.97, 0.12, interface=True),
        Hub("NPX", 0.88, 0.55, 0.18, interface=True),
        Hub("O H", 0.12, 0.72, 0.15, interface=True),
        Hub("PJM", 0.60, 0.50, 0.20, interface=True),
    ),
    zones_from_areas(_AREAS),
    700,
    (0.70, 0.35),
    (
        # Upstate supply reaches the east over Central-East and New York City
        # over the Dunwoodie lines: N.Y.C. and Long Island price above upstate.
        Flowgate("CENTRAL EAST", 0.72, 0.62, 0.0, load=0.3, wind=0.5, noise=0.7, binding=0.4, scale=35.0),
        Flowgate("DUNWOODIE SOUTH", 0.85, 0.19, -90.0, 0.03, load=0.9, noise=0.5, binding=0.35, scale=45.0),
        Flowgate("WEST EXPORT", 0.20, 0.60, 0.0, 0.04, wind=0.7, noise=0.7, binding=0.08, scale=18.0),
    ),
)

SIMULATION = IsoSimulation(
    stream_index=STREAM_INDEX,
    geography=GEOGRAPHY,
    model=MODEL,
    node_name=node_name,
)
