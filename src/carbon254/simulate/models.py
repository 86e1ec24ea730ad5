"""The parameters of a simulated ISO's physical system and markets.

Each ISO's values are declared in its package (`carbon254.isos.<iso>.simulation`).
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
    # ERCOT-style operating reserve demand curve: the real-time shortage adder and the
    # reliability deployment adder are published as the `ordc_adder` dataset.
    ordc_adders: bool = False


def as_product(
    name: str, level: float, vol: float = 0.35, shortage: float = 0.2, rt_zero: float = 0.1
) -> AsProduct:
    """An ancillary-service product priced around `level` $/MW-h (see `AsProduct` for the rest)."""
    return AsProduct(name, level, vol, shortage, rt_zero)
