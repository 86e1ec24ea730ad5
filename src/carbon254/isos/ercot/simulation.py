"""ERCOT in the simulator: its map, market parameters, node names (`BRIDGEVL_RN`) and ORDC adders.

ERCOT publishes its real-time reserve and reliability deployment adders (`ordc_adder`).
"""

from __future__ import annotations

from carbon254.isos import Iso
from carbon254.simulate.catalog import Area, Flowgate, Geography, Hub, LoadZone
from carbon254.simulate.iso import IsoSimulation
from carbon254.simulate.models import IsoModel, as_product
from carbon254.simulate.names import Digits, stem

# Keys ERCOT's random streams: never change it (see `IsoSimulation.stream_index`).
STREAM_INDEX = 2


def node_name(d: Digits, area: str, index: int) -> str:
    """An ERCOT-style resource node (`BRIDGEVL_RN`, `OAKCREEK_ALL`); wind farms in the west and south."""
    kind = d.pick(10)
    if kind == 0:
        return f"{stem(d, 6)}WIND_RN" if area in ("WEST", "PANHANDLE", "SOUTH") else f"{stem(d, 8)}_RN"
    if kind == 1:
        return f"{stem(d, 6)}SLR_RN"
    if kind == 2:
        return f"{stem(d, 6)}_ESS_RN"
    if kind in (3, 4):
        return f"{stem(d, 8)}_ALL"
    if kind == 5:
        return f"{stem(d, 8)}_UNIT{1 + d.pick(4)}"
    if kind == 6:
        return f"{stem(d, 8)}_CC{1 + d.pick(3)}"
    return f"{stem(d, 8)}_RN"


_AREAS = (
    Area("HOUSTON", 0.80, 0.30, 0.06, 0.20, 0.27, "LZ_HOUSTON"),
    Area("NORTH", 0.65, 0.70, 0.09, 0.24, 0.33, "LZ_NORTH"),
    Area("SOUTH", 0.52, 0.15, 0.08, 0.14, 0.12, "LZ_SOUTH"),
    Area("WEST", 0.20, 0.50, 0.10, 0.18, 0.09, "LZ_WEST"),
    Area("PANHANDLE", 0.25, 0.92, 0.06, 0.06, 0.005, "LZ_WEST"),
    Area("AEN", 0.56, 0.42, 0.03, 0.03, 0.04, "LZ_AEN"),
    Area("CPS", 0.48, 0.30, 0.03, 0.05, 0.06, "LZ_CPS"),
    Area("LCRA", 0.50, 0.48, 0.05, 0.06, 0.07, "LZ_LCRA"),
    Area("RAYBN", 0.76, 0.66, 0.03, 0.02, 0.02, "LZ_RAYBN"),
)

# fmt: off
MODEL = IsoModel(
    iso=Iso.ERCOT, longitude=-98.0, latitude=31.0,
    base_load_mw=44_500, cooling_mw_per_c=1_800, heating_mw_per_c=2_200,
    temp_mean_c=20.5, temp_amplitude_c=8.0, temp_diurnal_c=5.5, temp_anomaly_c=2.5, mean_load_mw=50_000,
    solar_mw=30_000, wind_mw=38_000, wind_cf=0.32, wind_night=0.2, cloudiness=-1.0,
    hydro_mw=0.0, hydro_swing=0.0,
    capacity_mw=78_000, outage_rate=0.08,
    price_level=43.0, stack_slope=3.9,
    gas_volatility=0.07, gas_daily_volatility=0.04, winter_gas=0.5,
    oversupply_u=0.15, oversupply_slope=1.2, price_floor=-60.0, shortage_cap=5_000.0, min_reserves=0.05,
    da_oversupply=0.1,
    da_shock=0.06, rt_shock=0.2, rt_df=2.5, jump_rate=0.002, jump_size=12.0,
    constraints=20, congestion_scale=10.0, loss_spread=0.015,
    as_products=(
        as_product("REGUP", 10.0, 0.45, 0.25),
        as_product("REGDN", 6.0, 0.45, 0.05),
        as_product("RRS", 12.0, 0.45, 0.35),
        as_product("NSPIN", 6.0, 0.55, 0.25, 0.2),
        as_product("ECRS", 9.0, 0.5, 0.3),
    ),
    as_regions=(("ERCOT", 1.0),),
    ordc_adders=True,
)
# fmt: on

GEOGRAPHY = Geography(
    Iso.ERCOT,
    _AREAS,
    (
        Hub("HB_HOUSTON", 0.80, 0.30, 0.10),
        Hub("HB_NORTH", 0.65, 0.72, 0.12),
        Hub("HB_SOUTH", 0.50, 0.20, 0.12),
        Hub("HB_WEST", 0.20, 0.50, 0.15),
        Hub("HB_PAN", 0.25, 0.92, 0.10),
        Hub("HB_HUBAVG", of_hubs=("HB_HOUSTON", "HB_NORTH", "HB_SOUTH", "HB_WEST")),
        Hub("HB_BUSAVG", of_hubs=("HB_HOUSTON", "HB_NORTH", "HB_SOUTH", "HB_WEST"), union=True),
    ),
    (
        LoadZone("COAST", 0.28),
        LoadZone("EAST", 0.04),
        LoadZone("FWEST", 0.08),
        LoadZone("NORTH", 0.02),
        LoadZone("NCENT", 0.35),
        LoadZone("SOUTH", 0.08),
        LoadZone("SCENT", 0.11),
        LoadZone("WEST", 0.04),
    ),
    1_050,
    (0.62, 0.45),
    (
        # West Texas wind and solar outrun the lines east: the West and the
        # Panhandle price low and often negative on windy nights.
        Flowgate("WEST TO NORTH", 0.38, 0.60, 0.0, wind=0.9, solar=0.3, noise=0.4, binding=0.3, scale=35.0),
        Flowgate(
            "SOUTH EXPORT",
            0.50,
            0.24,
            90.0,
            0.04,
            wind=0.8,
            solar=0.3,
            noise=0.5,
            binding=0.15,
            scale=8.0,
        ),
        Flowgate("HOUSTON IMPORT", 0.72, 0.30, 0.0, 0.03, 0.5, load=0.9, noise=0.5, binding=0.15, scale=25.0),
    ),
)

SIMULATION = IsoSimulation(
    stream_index=STREAM_INDEX,
    geography=GEOGRAPHY,
    model=MODEL,
    node_name=node_name,
)
