"""Per-ISO parameters of the simulated physical system and markets.

Levels are set so that the simulated year looks like a recent real one at a
glance (annual mean and peak load, typical hub price, how often prices go
negative or spike) without copying any real series. Units: MW, degrees C,
$/MWh for energy, $/MW-h for ancillary services.
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
    solar_mw: float
    wind_mw: float
    wind_cf: float
    wind_night: float
    cloudiness: float
    # Dispatchable capacity (MW) and its forced/planned outage rate.
    capacity_mw: float
    outage_rate: float
    # Energy price ($/MWh): level near median utilisation, fuel volatility and
    # winter gas premium, oversupply behaviour, shortage pricing.
    price_level: float
    gas_volatility: float
    winter_gas: float
    oversupply_u: float
    oversupply_slope: float
    price_floor: float
    shortage_cap: float
    da_shortage_weight: float
    # Noise: DA and RT shock sizes (fraction of level) and tail heaviness.
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
        solar_mw=19_000, wind_mw=7_500, wind_cf=0.28, wind_night=0.25, cloudiness=-1.8,
        capacity_mw=50_000, outage_rate=0.07,
        price_level=55.0, gas_volatility=0.20, winter_gas=0.15,
        oversupply_u=0.30, oversupply_slope=2.0, price_floor=-150.0, shortage_cap=1_000.0,
        da_shortage_weight=0.25,
        da_shock=0.05, rt_shock=0.2, rt_df=3.0, jump_rate=0.003, jump_size=2.5,
        constraints=20, congestion_scale=20.0, loss_spread=0.025,
        as_products=(
            _p("RU", 12.0), _p("RD", 8.0), _p("SR", 7.0, shortage=0.3), _p("NR", 2.0, 0.5, 0.15, 0.3),
        ),
        as_regions=(("AS_CAISO_EXP", 1.0), ("AS_SP26_EXP", 1.15), ("AS_NP26_EXP", 1.05)),
    ),
    Iso.ERCOT: IsoModel(
        iso=Iso.ERCOT, longitude=-98.0, latitude=31.0,
        base_load_mw=44_500, cooling_mw_per_c=2_150, heating_mw_per_c=1_900,
        temp_mean_c=20.5, temp_amplitude_c=8.0, temp_diurnal_c=5.5, temp_anomaly_c=2.5, mean_load_mw=50_000,
        solar_mw=24_000, wind_mw=38_000, wind_cf=0.32, wind_night=0.30, cloudiness=-1.0,
        capacity_mw=79_000, outage_rate=0.08,
        price_level=43.0, gas_volatility=0.25, winter_gas=0.35,
        oversupply_u=0.22, oversupply_slope=1.2, price_floor=-60.0, shortage_cap=5_000.0,
        da_shortage_weight=0.4,
        da_shock=0.06, rt_shock=0.2, rt_df=2.5, jump_rate=0.003, jump_size=3.0,
        constraints=20, congestion_scale=25.0, loss_spread=0.015,
        as_products=(
            _p("REGUP", 10.0, 0.45, 0.25), _p("REGDN", 6.0, 0.45, 0.05), _p("RRS", 12.0, 0.45, 0.35),
            _p("NSPIN", 6.0, 0.55, 0.25, 0.2), _p("ECRS", 9.0, 0.5, 0.3),
        ),
        as_regions=(("ERCOT", 1.0),),
    ),
    Iso.PJM: IsoModel(
        iso=Iso.PJM, longitude=-78.0, latitude=40.0,
        base_load_mw=81_000, cooling_mw_per_c=4_600, heating_mw_per_c=2_000,
        temp_mean_c=12.5, temp_amplitude_c=12.0, temp_diurnal_c=5.5, temp_anomaly_c=3.5, mean_load_mw=88_000,
        solar_mw=9_000, wind_mw=11_000, wind_cf=0.28, wind_night=0.15, cloudiness=-0.5,
        capacity_mw=165_000, outage_rate=0.08,
        price_level=34.0, gas_volatility=0.22, winter_gas=0.45,
        oversupply_u=0.20, oversupply_slope=0.8, price_floor=-100.0, shortage_cap=2_000.0,
        da_shortage_weight=0.25,
        da_shock=0.04, rt_shock=0.25, rt_df=3.0, jump_rate=0.0015, jump_size=2.0,
        constraints=30, congestion_scale=25.0, loss_spread=0.03,
        as_products=(
            _p("REG", 28.0, 0.4, 0.1), _p("SYNC_RESERVE", 4.0, 0.8, 0.35, 0.5),
            _p("NON_SYNC_RESERVE", 1.0, 1.0, 0.2, 0.7), _p("SECONDARY_RESERVE", 1.5, 0.9, 0.15, 0.6),
        ),
        as_regions=(("RTO", 1.0), ("MAD", 1.1)),
    ),
    Iso.MISO: IsoModel(
        iso=Iso.MISO, longitude=-90.0, latitude=40.0,
        base_load_mw=63_000, cooling_mw_per_c=4_000, heating_mw_per_c=1_700,
        temp_mean_c=11.0, temp_amplitude_c=14.0, temp_diurnal_c=6.0, temp_anomaly_c=4.0, mean_load_mw=75_000,
        solar_mw=10_000, wind_mw=31_000, wind_cf=0.33, wind_night=0.25, cloudiness=-0.5,
        capacity_mw=138_000, outage_rate=0.09,
        price_level=32.0, gas_volatility=0.22, winter_gas=0.3,
        oversupply_u=0.22, oversupply_slope=0.9, price_floor=-100.0, shortage_cap=3_500.0,
        da_shortage_weight=0.25,
        da_shock=0.05, rt_shock=0.22, rt_df=3.0, jump_rate=0.0015, jump_size=2.0,
        constraints=30, congestion_scale=30.0, loss_spread=0.03,
        as_products=(
            _p("REG", 10.0, 0.4, 0.15), _p("SPIN", 4.0, 0.6, 0.3, 0.3), _p("SUPP", 1.5, 0.8, 0.2, 0.5),
            _p("STR", 2.0, 0.8, 0.2, 0.5),
        ),
        as_regions=(("MISO", 1.0),),
    ),
    Iso.SPP: IsoModel(
        iso=Iso.SPP, longitude=-98.0, latitude=37.0,
        base_load_mw=28_500, cooling_mw_per_c=1_350, heating_mw_per_c=750,
        temp_mean_c=15.0, temp_amplitude_c=12.0, temp_diurnal_c=7.0, temp_anomaly_c=3.5, mean_load_mw=32_000,
        solar_mw=1_500, wind_mw=36_000, wind_cf=0.36, wind_night=0.30, cloudiness=-0.8,
        capacity_mw=60_000, outage_rate=0.09,
        price_level=37.0, gas_volatility=0.25, winter_gas=0.3,
        oversupply_u=0.16, oversupply_slope=1.0, price_floor=-100.0, shortage_cap=1_100.0,
        da_shortage_weight=0.25,
        da_shock=0.06, rt_shock=0.28, rt_df=3.0, jump_rate=0.002, jump_size=2.5,
        constraints=20, congestion_scale=35.0, loss_spread=0.03,
        as_products=(
            _p("REGUP", 9.0), _p("REGDN", 6.0), _p("SPIN", 5.0, 0.5, 0.3), _p("SUPP", 2.0, 0.7, 0.2, 0.4),
        ),
        as_regions=(("SPP", 1.0),),
    ),
    Iso.NYISO: IsoModel(
        iso=Iso.NYISO, longitude=-75.0, latitude=42.5,
        base_load_mw=16_300, cooling_mw_per_c=1_050, heating_mw_per_c=220,
        temp_mean_c=10.5, temp_amplitude_c=12.0, temp_diurnal_c=5.0, temp_anomaly_c=3.5, mean_load_mw=17_000,
        solar_mw=2_000, wind_mw=2_500, wind_cf=0.28, wind_night=0.1, cloudiness=-0.3,
        capacity_mw=34_000, outage_rate=0.08,
        price_level=44.0, gas_volatility=0.25, winter_gas=0.7,
        oversupply_u=0.15, oversupply_slope=0.6, price_floor=-100.0, shortage_cap=1_500.0,
        da_shortage_weight=0.25,
        da_shock=0.05, rt_shock=0.2, rt_df=3.0, jump_rate=0.002, jump_size=2.5,
        constraints=12, congestion_scale=45.0, loss_spread=0.04,
        as_products=(
            _p("REG", 10.0), _p("SPIN10", 5.0, 0.6, 0.3, 0.3), _p("NSPIN10", 2.0, 0.8, 0.2, 0.5),
            _p("OR30", 1.0, 0.9, 0.15, 0.6),
        ),
        as_regions=(("WEST", 1.0), ("EAST", 1.1), ("SENY", 1.25)),
    ),
    Iso.ISONE: IsoModel(
        iso=Iso.ISONE, longitude=-71.5, latitude=42.5,
        base_load_mw=12_800, cooling_mw_per_c=850, heating_mw_per_c=160,
        temp_mean_c=9.5, temp_amplitude_c=12.0, temp_diurnal_c=5.0, temp_anomaly_c=3.5, mean_load_mw=13_200,
        solar_mw=1_500, wind_mw=1_400, wind_cf=0.30, wind_night=0.1, cloudiness=-0.3,
        capacity_mw=27_000, outage_rate=0.08,
        price_level=44.0, gas_volatility=0.28, winter_gas=0.9,
        oversupply_u=0.15, oversupply_slope=0.6, price_floor=-150.0, shortage_cap=1_000.0,
        da_shortage_weight=0.25,
        da_shock=0.04, rt_shock=0.2, rt_df=3.0, jump_rate=0.0015, jump_size=2.0,
        constraints=10, congestion_scale=15.0, loss_spread=0.03,
        as_products=(
            _p("REG", 15.0), _p("TMSR", 5.0, 0.7, 0.35, 0.4), _p("TMNSR", 3.0, 0.8, 0.25, 0.5),
            _p("TMOR", 1.5, 0.9, 0.2, 0.6),
        ),
        as_regions=(("ROS", 1.0), ("CT", 1.05), ("SWCT", 1.15), ("NEMABSTN", 1.1)),
    ),
}
# fmt: on
