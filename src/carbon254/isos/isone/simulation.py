"""ISO-NE in the simulator: its map, market parameters and node names (`UN.ROCKPORT345 ROC2`)."""

from __future__ import annotations

from carbon254.isos import Iso
from carbon254.simulate.catalog import Area, Flowgate, Geography, Hub, LoadZone
from carbon254.simulate.iso import IsoSimulation
from carbon254.simulate.models import IsoModel, as_product
from carbon254.simulate.names import Digits, stem

# Keys ISONE's random streams: never change it (see `IsoSimulation.stream_index`).
STREAM_INDEX = 7


def node_name(d: Digits, area: str, index: int) -> str:
    """An ISO-NE-style node: units `UN.ROCKPORT345 ROC2`, loads `LD.ROCKPORT13.8`."""
    word = stem(d, 8)
    kv = ("13.8", "23", "34.5", "69", "115", "345")[d.pick(6)]
    if d.pick(10) < 3:
        return f"LD.{word:<8}{kv}"
    return f"UN.{word:<8}{kv} {word[:3]}{1 + d.pick(9)}"


_AREAS = (
    Area("ME", 0.75, 0.90, 0.06, 0.14, 0.09, ".Z.MAINE"),
    Area("NH", 0.60, 0.70, 0.04, 0.10, 0.09, ".Z.NEWHAMPSHIRE"),
    Area("VT", 0.40, 0.75, 0.04, 0.07, 0.04, ".Z.VERMONT"),
    Area("WCMA", 0.35, 0.45, 0.04, 0.12, 0.11, ".Z.WCMASS"),
    Area("NEMA", 0.70, 0.50, 0.02, 0.16, 0.20, ".Z.NEMASSBOST"),
    Area("SEMA", 0.75, 0.35, 0.03, 0.13, 0.13, ".Z.SEMASS"),
    Area("RI", 0.62, 0.30, 0.02, 0.07, 0.06, ".Z.RHODEISLAND"),
    Area("CT", 0.40, 0.25, 0.05, 0.21, 0.27, ".Z.CONNECTICUT"),
)

# fmt: off
MODEL = IsoModel(
    iso=Iso.ISONE, longitude=-71.5, latitude=42.5,
    base_load_mw=12_800, cooling_mw_per_c=1_300, heating_mw_per_c=160,
    temp_mean_c=9.5, temp_amplitude_c=12.0, temp_diurnal_c=5.0, temp_anomaly_c=3.5, mean_load_mw=13_200,
    solar_mw=5_000, wind_mw=1_400, wind_cf=0.30, wind_night=0.1, cloudiness=-0.3,
    hydro_mw=0.0, hydro_swing=0.0,
    capacity_mw=27_000, outage_rate=0.08,
    price_level=44.0, stack_slope=4.0,
    gas_volatility=0.07, gas_daily_volatility=0.12, winter_gas=1.2,
    oversupply_u=0.15, oversupply_slope=0.6, price_floor=-150.0, shortage_cap=1_000.0, min_reserves=0.03,
    da_oversupply=0.5,
    da_shock=0.04, rt_shock=0.2, rt_df=3.0, jump_rate=0.003, jump_size=5.0,
    constraints=10, congestion_scale=10.0, loss_spread=0.03,
    as_products=(
        as_product("REG", 15.0),
        as_product("TMSR", 5.0, 0.7, 0.35, 0.4),
        as_product("TMNSR", 3.0, 0.8, 0.25, 0.5),
        as_product("TMOR", 1.5, 0.9, 0.2, 0.6),
    ),
    as_regions=(("ROS", 1.0), ("CT", 1.05), ("SWCT", 1.15), ("NEMABSTN", 1.1)),
)
# fmt: on

GEOGRAPHY = Geography(
    Iso.ISONE,
    _AREAS,
    (Hub(".H.INTERNAL_HUB", 0.50, 0.45, 0.22),),
    tuple(LoadZone(a.zone or a.name, a.load_share) for a in _AREAS),
    1_150,
    (0.55, 0.45),
    (
        Flowgate("MAINE EXPORT", 0.65, 0.80, -90.0, 0.04, wind=0.6, noise=0.7, binding=0.15, scale=15.0),
        Flowgate("BOSTON IMPORT", 0.66, 0.47, 0.0, 0.03, 0.4, load=0.8, noise=0.6, binding=0.08, scale=15.0),
    ),
)

SIMULATION = IsoSimulation(
    stream_index=STREAM_INDEX,
    geography=GEOGRAPHY,
    model=MODEL,
    node_name=node_name,
)
