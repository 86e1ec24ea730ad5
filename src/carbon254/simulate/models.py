"""Per-ISO parameters of the simulated physical system and markets.

Levels are set so that the simulated year looks like a recent real one (annual
mean and peak load, typical hub price) without copying any real series. The
shapes and the behaviour are calibrated against real price histories: the
daily and seasonal profiles, hour-to-hour and day-to-day volatility, how often
prices spike or go negative, how close real time averages to day-ahead, and the
usual zone orderings (tests/simulate/test_simulate_calibration.py holds the
bands and where they come from). Units: MW, degrees C, $/MWh for energy,
$/MW-h for ancillary services.
"""

from __future__ import annotations

from dataclasses import dataclass

from carbon254.isos import Iso


@dataclass(frozen=True, slots=True)
class AsProduct:
    """An ancillary-service product: its ISO name and typical day-ahead price ($/MW-h).

    `shortage_share` is the fraction of the energy shortage adder that shows up
    in this product's price (reserve prices cascade in scarcity). `rt_zero` is
    how often the real-time price clears at zero.
    """

    name: str
    level: float
    volatility: float
    shortage_share: float
    rt_zero: float


@dataclass(frozen=True, slots=True)
class IsoModel:
    """Everything that makes one ISO's simulated market its own."""

    iso: Iso
    longitude: float
    latitude: float
    # Load (MW): a behavioural profile plus weather-driven heating and cooling.
    base_load_mw: float
    cooling_mw_per_c: float
    heating_mw_per_c: float
    temp_mean_c: float
    temp_amplitude_c: float
    temp_diurnal_c: float
    temp_anomaly_c: float
    mean_load_mw: float
    # Renewables (MW of capacity), their typical capacity factors, how much more
    # wind blows at night, and how cloudy the sky is (logit of cloud cover).
    # Must-take hydro (MW, mean) swings by `hydro_swing` of itself with the
    # snowmelt, highest in late spring.
    solar_mw: float
    wind_mw: float
    wind_cf: float
    wind_night: float
    cloudiness: float
    hydro_mw: float
    hydro_swing: float
    # Dispatchable capacity (MW) and its forced/planned outage rate.
    capacity_mw: float
    outage_rate: float
    # Energy price ($/MWh): level at half utilisation and how steeply offers
    # climb through the stack (log-price per unit of utilisation), fuel
    # volatility (slow, and day to day) and cold-snap gas premium, oversupply
    # behaviour (and the share of it day-ahead bids dare), shortage pricing
    # (cap, and the reserve level, as a fraction of capacity, below which
    # shortage is priced).
    price_level: float
    stack_slope: float
    gas_volatility: float
    gas_daily_volatility: float
    winter_gas: float
    oversupply_u: float
    oversupply_slope: float
    da_oversupply: float
    price_floor: float
    shortage_cap: float
    min_reserves: float
    # Noise: DA and RT shock sizes (fraction of level) and tail heaviness;
    # real-time excursions: chance per 5-minute interval at utilisation 0.6,
    # and mean size in multiples of the level.
    da_shock: float
    rt_shock: float
    rt_df: float
    jump_rate: float
    jump_size: float
    # Network: binding constraints and losses.
    constraints: int
    congestion_scale: float
    loss_spread: float
    # Ancillary services.
    as_products: tuple[AsProduct, ...]
    as_regions: tuple[tuple[str, float], ...]


def _p(name: str, level: float, vol: float = 0.35, shortage: float = 0.2, rt_zero: float = 0.1) -> AsProduct:
    return AsProduct(name, level, vol, shortage, rt_zero)


# One ISO per block, related parameters on one line: easier to compare ISOs.
# fmt: off
MODELS: dict[Iso, IsoModel] = {
    Iso.CAISO: IsoModel(
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
            _p("RU", 12.0), _p("RD", 8.0), _p("SR", 7.0, shortage=0.3), _p("NR", 2.0, 0.5, 0.15, 0.3),
        ),
        as_regions=(("AS_CAISO_EXP", 1.0), ("AS_SP26_EXP", 1.15), ("AS_NP26_EXP", 1.05)),
    ),
    Iso.ERCOT: IsoModel(
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
            _p("REGUP", 10.0, 0.45, 0.25), _p("REGDN", 6.0, 0.45, 0.05), _p("RRS", 12.0, 0.45, 0.35),
            _p("NSPIN", 6.0, 0.55, 0.25, 0.2), _p("ECRS", 9.0, 0.5, 0.3),
        ),
        as_regions=(("ERCOT", 1.0),),
    ),
    Iso.PJM: IsoModel(
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
            _p("REG", 28.0, 0.4, 0.1), _p("SYNC_RESERVE", 4.0, 0.8, 0.35, 0.5),
            _p("NON_SYNC_RESERVE", 1.0, 1.0, 0.2, 0.7), _p("SECONDARY_RESERVE", 1.5, 0.9, 0.15, 0.6),
        ),
        as_regions=(("RTO", 1.0), ("MAD", 1.1)),
    ),
    Iso.MISO: IsoModel(
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
            _p("REG", 10.0, 0.4, 0.15), _p("SPIN", 4.0, 0.6, 0.3, 0.3), _p("SUPP", 1.5, 0.8, 0.2, 0.5),
            _p("STR", 2.0, 0.8, 0.2, 0.5),
        ),
        as_regions=(("MISO", 1.0),),
    ),
    Iso.SPP: IsoModel(
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
            _p("REGUP", 9.0), _p("REGDN", 6.0), _p("SPIN", 5.0, 0.5, 0.3), _p("SUPP", 2.0, 0.7, 0.2, 0.4),
        ),
        as_regions=(("SPP", 1.0),),
    ),
    Iso.NYISO: IsoModel(
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
            _p("REG", 10.0), _p("SPIN10", 5.0, 0.6, 0.3, 0.3), _p("NSPIN10", 2.0, 0.8, 0.2, 0.5),
            _p("OR30", 1.0, 0.9, 0.15, 0.6),
        ),
        as_regions=(("WEST", 1.0), ("EAST", 1.1), ("SENY", 1.25)),
    ),
    Iso.ISONE: IsoModel(
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
            _p("REG", 15.0), _p("TMSR", 5.0, 0.7, 0.35, 0.4), _p("TMNSR", 3.0, 0.8, 0.25, 0.5),
            _p("TMOR", 1.5, 0.9, 0.2, 0.6),
        ),
        as_regions=(("ROS", 1.0), ("CT", 1.05), ("SWCT", 1.15), ("NEMABSTN", 1.1)),
    ),
}
# fmt: on
