"""CAISO in the simulator: its map, market parameters and node names (`CEDARTON_3_N014`).

California's load zones are its TAC areas; southern solar loads Path 26 at midday.
"""

from __future__ import annotations

from carbon254.isos import Iso
from carbon254.simulate.catalog import Area, Flowgate, Geography, Hub, LoadZone
from carbon254.simulate.iso import IsoSimulation
from carbon254.simulate.models import IsoModel, as_product
from carbon254.simulate.names import Digits, stem

# Keys CAISO's random streams: never change it (see `IsoSimulation.stream_index`).
STREAM_INDEX = 1


def node_name(d: Digits, area: str, index: int) -> str:
    """A CAISO-style pnode: `CEDARTON_3_N014`, some `..._B1` buses."""
    if d.pick(5) == 0:
        return f"{stem(d, 7)}{1 + d.pick(4)}_{1 + d.pick(7)}_B{1 + d.pick(3)}"
    return f"{stem(d, 8)}_{1 + d.pick(7)}_N{1 + d.pick(30):03d}"


_AREAS = (
    Area("PGAE", 0.30, 0.70, 0.13, 0.46, 0.45, "DLAP_PGAE-APND"),
    Area("SCE", 0.65, 0.25, 0.10, 0.40, 0.44, "DLAP_SCE-APND"),
    Area("SDGE", 0.75, 0.05, 0.05, 0.10, 0.10, "DLAP_SDGE-APND"),
    Area("VEA", 0.95, 0.45, 0.04, 0.04, 0.01, "DLAP_VEA-APND"),
)

# fmt: off
MODEL = IsoModel(
    iso=Iso.CAISO, longitude=-120.0, latitude=36.0,
    base_load_mw=25_000, cooling_mw_per_c=1_450, heating_mw_per_c=250,
    temp_mean_c=16.5, temp_amplitude_c=7.0, temp_diurnal_c=7.0, temp_anomaly_c=2.5, mean_load_mw=25_500,
    solar_mw=16_000, wind_mw=7_500, wind_cf=0.28, wind_night=0.25, cloudiness=-1.8,
    hydro_mw=2_000, hydro_swing=0.5,
    capacity_mw=50_000, outage_rate=0.07,
    price_level=55.0, stack_slope=4.0,
    gas_volatility=0.07, gas_daily_volatility=0.04, winter_gas=0.15,
    oversupply_u=0.30, oversupply_slope=0.9, price_floor=-150.0, shortage_cap=1_000.0, min_reserves=0.03,
    da_oversupply=0.5,
    da_shock=0.05, rt_shock=0.12, rt_df=3.0, jump_rate=0.005, jump_size=5.0,
    constraints=20, congestion_scale=6.0, loss_spread=0.025,
    as_products=(
        as_product("RU", 12.0),
        as_product("RD", 8.0),
        as_product("SR", 7.0, shortage=0.3),
        as_product("NR", 2.0, 0.5, 0.15, 0.3),
    ),
    as_regions=(("AS_CAISO_EXP", 1.0), ("AS_SP26_EXP", 1.15), ("AS_NP26_EXP", 1.05)),
)
# fmt: on

GEOGRAPHY = Geography(
    Iso.CAISO,
    _AREAS,
    (
        Hub("TH_NP15_GEN-APND", 0.30, 0.72, 0.25),
        Hub("TH_ZP26_GEN-APND", 0.46, 0.45, 0.12),
        Hub("TH_SP15_GEN-APND", 0.68, 0.22, 0.22),
    ),
    (LoadZone("PGE", 0.45), LoadZone("SCE", 0.44), LoadZone("SDGE", 0.10), LoadZone("VEA", 0.01)),
    3_000,
    (0.50, 0.45),
    (
        # Southern solar fills Path 26 northbound at midday, pricing SP15 under NP15;
        # on hot evenings the flow turns and the south imports.
        Flowgate("PATH 26 NORTH", 0.50, 0.47, 90.0, solar=0.9, noise=0.5, binding=0.3, scale=12.0),
        Flowgate(
            "PATH 26 SOUTH", 0.50, 0.47, -90.0, load=0.8, solar=-0.4, noise=0.5, binding=0.08, scale=20.0
        ),
        Flowgate(
            "SAN DIEGO IMPORT", 0.72, 0.12, -90.0, 0.03, 0.4, load=0.8, noise=0.6, binding=0.2, scale=25.0
        ),
    ),
)

SIMULATION = IsoSimulation(
    stream_index=STREAM_INDEX,
    geography=GEOGRAPHY,
    model=MODEL,
    node_name=node_name,
)
