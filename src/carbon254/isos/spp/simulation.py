"""SPP in the simulator: its map, market parameters and node names (`OKGE_REDMESA_UNIT1`)."""

from __future__ import annotations

from carbon254.isos import Iso
from carbon254.simulate.catalog import Area, Flowgate, Geography, Hub, LoadZone
from carbon254.simulate.iso import IsoSimulation
from carbon254.simulate.models import IsoModel, as_product
from carbon254.simulate.names import Digits, stem

# Keys SPP's random streams: never change it (see `IsoSimulation.stream_index`).
STREAM_INDEX = 5


def node_name(d: Digits, area: str, index: int) -> str:
    """An SPP-style settlement location, prefixed by its area: `OKGE_REDMESA_UNIT1`."""
    kind = d.pick(3)
    if kind == 0:
        return f"{area}_{stem(d, 8)}_UNIT{1 + d.pick(4)}"
    if kind == 1:
        return f"{area}_{stem(d, 8)}{1 + d.pick(9)}"
    return f"{area}_{stem(d, 9)}"


_AREAS = (
    Area("NPPD", 0.35, 0.80, 0.08, 0.08, 0.07, "NPPD_NPPD"),
    Area("OPPD", 0.60, 0.78, 0.03, 0.04, 0.06, "OPPD_OPPD"),
    Area("LES", 0.55, 0.75, 0.02, 0.02, 0.02, "LES_LES"),
    Area("KCPL", 0.75, 0.62, 0.03, 0.07, 0.08, "KCPL_KCPL"),
    Area("WR", 0.55, 0.60, 0.07, 0.13, 0.13, "WR_WR"),
    Area("SECI", 0.30, 0.58, 0.05, 0.04, 0.03, "SECI_SECI"),
    Area("EDE", 0.80, 0.50, 0.02, 0.03, 0.03, "EDE_EDE"),
    Area("GRDA", 0.72, 0.45, 0.03, 0.03, 0.03, "GRDA_GRDA"),
    Area("INDN", 0.78, 0.64, 0.01, 0.01, 0.01, "INDN_INDN"),
    Area("SPRM", 0.85, 0.52, 0.02, 0.02, 0.02, "SPRM_SPRM"),
    Area("OKGE", 0.55, 0.35, 0.05, 0.12, 0.13, "OKGE_OKGE"),
    Area("WFEC", 0.43, 0.32, 0.06, 0.06, 0.04, "WFEC_WFEC"),
    Area("CSWS", 0.75, 0.20, 0.07, 0.16, 0.18, "AEPM_CSWS"),
    Area("SPS", 0.20, 0.30, 0.08, 0.19, 0.11, "SPS_SPS"),
)

# fmt: off
MODEL = IsoModel(
    iso=Iso.SPP, longitude=-98.0, latitude=37.0,
    base_load_mw=28_500, cooling_mw_per_c=1_450, heating_mw_per_c=750,
    temp_mean_c=15.0, temp_amplitude_c=12.0, temp_diurnal_c=7.0, temp_anomaly_c=3.5, mean_load_mw=32_000,
    solar_mw=1_500, wind_mw=28_000, wind_cf=0.36, wind_night=0.2, cloudiness=-0.8,
    hydro_mw=0.0, hydro_swing=0.0,
    capacity_mw=60_000, outage_rate=0.09,
    price_level=37.0, stack_slope=3.0,
    gas_volatility=0.07, gas_daily_volatility=0.04, winter_gas=0.3,
    oversupply_u=0.12, oversupply_slope=1.0, price_floor=-100.0, shortage_cap=1_100.0, min_reserves=0.03,
    da_oversupply=0.5,
    da_shock=0.06, rt_shock=0.2, rt_df=3.0, jump_rate=0.005, jump_size=6.0,
    constraints=20, congestion_scale=10.0, loss_spread=0.03,
    as_products=(
        as_product("REGUP", 9.0),
        as_product("REGDN", 6.0),
        as_product("SPIN", 5.0, 0.5, 0.3),
        as_product("SUPP", 2.0, 0.7, 0.2, 0.4),
    ),
    as_regions=(("SPP", 1.0),),
)
# fmt: on

GEOGRAPHY = Geography(
    Iso.SPP,
    _AREAS,
    (
        Hub("SPPNORTH_HUB", 0.60, 0.70, 0.20),
        Hub("SPPSOUTH_HUB", 0.50, 0.33, 0.20),
    ),
    tuple(LoadZone(a.name, a.load_share) for a in _AREAS),
    1_100,
    (0.55, 0.50),
    (
        # Western and northern wind outruns the lines to the eastern load.
        Flowgate("WEST TO EAST", 0.42, 0.55, 0.0, wind=0.9, noise=0.4, binding=0.3, scale=20.0),
        Flowgate(
            "NORTH TO SOUTH", 0.55, 0.50, -90.0, load=0.5, wind=0.5, noise=0.5, binding=0.15, scale=15.0
        ),
    ),
)

SIMULATION = IsoSimulation(
    stream_index=STREAM_INDEX,
    geography=GEOGRAPHY,
    model=MODEL,
    node_name=node_name,
)
