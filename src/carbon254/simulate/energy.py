"""System energy prices (the system lambda plus shortage pricing), day-ahead and real-time.

The price of energy is a supply stack evaluated at utilisation (net load over
available capacity), scaled by the fuel index: flat and cheap at low
utilisation, steep near the top, and pushed below zero when renewables exceed
what the system can absorb. On top comes shortage pricing, an operating-reserve
demand curve: (cap - lambda) times the probability that reserves fall below the
minimum, which is ERCOT's ORDC and a fair stand-in for every ISO's scarcity
pricing. Day-ahead clears on forecasts with mild shocks; real time on actuals
with fat-tailed (Student-t) shocks and occasional five-minute jumps, so real
time is the day-ahead price plus a noisier spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.isos import Iso
from carbon254.simulate.catalog import ISO_INDEX
from carbon254.simulate.clock import INTERVALS_PER_DAY, hourly_mean
from carbon254.simulate.models import IsoModel
from carbon254.simulate.physical import Physical
from carbon254.simulate.processes import ar_by_day
from carbon254.simulate.streams import Stream, generator

FloatArray = npt.NDArray[np.float64]

# Minimum contingency level and reserve uncertainty, as fractions of capacity.
_MIN_RESERVES = 0.03
_RT_RESERVE_SIGMA = 0.025
_DA_RESERVE_SIGMA = 0.035


def normal_sf(x: FloatArray) -> FloatArray:
    """Upper tail of the standard normal, P(Z > x), to about 1e-7 (Abramowitz & Stegun 7.1.26)."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    tail = 0.5 * poly * np.exp(-z * z)
    return np.asarray(np.where(x >= 0.0, tail, 1.0 - tail), dtype=np.float64)


def supply_stack(model: IsoModel, utilisation: FloatArray, gas: FloatArray) -> FloatArray:
    """Marginal energy price ($/MWh) at a utilisation of available capacity; `price_level` at u = 0.5."""
    # Heat rates climb from baseload to combined cycles to peakers: roughly
    # exponential in utilisation, with a last steep step near the top.
    u = utilisation
    marginal = 0.35 + 0.65 * np.exp(2.4 * (u - 0.5)) + 4.0 * np.maximum(u - 0.85, 0.0) ** 2
    price = model.price_level * gas * marginal
    # Oversupply: renewables with production credits bid below zero, whatever gas costs.
    surplus = np.maximum(model.oversupply_u - u, 0.0) / model.oversupply_u
    price = price - model.price_level * model.oversupply_slope * surplus
    return np.asarray(np.maximum(price, model.price_floor))


def shortage_adder(model: IsoModel, reserves: FloatArray, sigma: float, energy: FloatArray) -> FloatArray:
    """ORDC-style scarcity adder ($/MWh): (cap - energy) x P(reserves below the minimum)."""
    minimum = _MIN_RESERVES * model.capacity_mw
    lolp = normal_sf((reserves - minimum) / (sigma * model.capacity_mw))
    return np.asarray(np.maximum(model.shortage_cap - energy, 0.0) * lolp)


def _student_t(rng: np.random.Generator, df: float, size: int) -> FloatArray:
    """Student-t draws scaled to unit variance."""
    return np.asarray(rng.standard_t(df, size) * np.sqrt((df - 2.0) / df))


@dataclass(frozen=True, slots=True)
class EnergyPrices:
    """System energy prices ($/MWh) of one ISO for whole UTC days.

    Day-ahead arrays are hourly, real-time ones five-minute. `rt_energy`
    already includes `rt_shortage` (ERCOT publishes it as the ORDC reserve
    adder) and `rt_reliability` (ERCOT's reliability deployment adder, zero
    elsewhere). Utilisations are hourly and dimensionless.
    """

    da_energy: FloatArray
    da_shortage: FloatArray
    da_utilisation: FloatArray
    rt_energy: FloatArray
    rt_shortage: FloatArray
    rt_reliability: FloatArray
    rt_utilisation: FloatArray


def _reliability_adder(model: IsoModel, seed: int, physical: Physical) -> FloatArray:
    """ERCOT reliability deployment adder: rare afternoon events of a few hours, $/MWh."""
    out = np.zeros(physical.days * INTERVALS_PER_DAY)
    if model.iso is not Iso.ERCOT:
        return out
    idx = ISO_INDEX[model.iso]
    for i, day in enumerate(range(physical.first_day, physical.first_day + physical.days)):
        u, start, length, size = generator(seed, idx, Stream.RELIABILITY, day).random(4)
        summer = 0.5 * (1.0 - np.cos(2.0 * np.pi * ((day % 365.2425) / 365.2425 - 20.0 / 365.2425)))
        if u < 0.005 + 0.04 * summer:
            # 20:00-24:00 UTC is mid to late afternoon in Texas; events stay inside the UTC day.
            first = int(20 * 12 + 12 * int(4 * start))
            last = min(first + 12 * (1 + int(3 * length)), INTERVALS_PER_DAY)
            out[i * INTERVALS_PER_DAY + first : i * INTERVALS_PER_DAY + last] = 2.0 - 20.0 * np.log1p(-size)
    return out


def simulate_energy(model: IsoModel, seed: int, physical: Physical) -> EnergyPrices:
    """Day-ahead (hourly) and real-time (5-minute) system energy prices in $/MWh."""
    idx = ISO_INDEX[model.iso]
    span = range(physical.first_day - 1, physical.first_day + physical.days)

    capacity_h = hourly_mean(physical.capacity)
    gas_h = hourly_mean(physical.gas)
    net_fc = physical.net_load_forecast
    u_da = net_fc / capacity_h
    da_lambda = supply_stack(model, u_da, gas_h)
    da_short = model.da_shortage_weight * shortage_adder(
        model, capacity_h - net_fc, _DA_RESERVE_SIGMA, da_lambda
    )
    da_draws = np.array([_student_t(generator(seed, idx, Stream.DA_PRICE, d), 5.0, 24) for d in span])
    da_noise = ar_by_day(da_draws, 0.7).ravel()
    da_shock = model.da_shock * model.price_level * gas_h * (0.5 + u_da) * da_noise
    da_energy = np.clip(da_lambda + da_short + da_shock, model.price_floor, model.shortage_cap)

    net = physical.net_load
    u_rt = net / physical.capacity
    rt_lambda = supply_stack(model, u_rt, physical.gas)
    rt_short = shortage_adder(model, physical.capacity - net, _RT_RESERVE_SIGMA, rt_lambda)
    shocks = []
    jumps = []
    for d in span:
        rng = generator(seed, idx, Stream.RT_PRICE, d)
        shocks.append(_student_t(rng, model.rt_df, INTERVALS_PER_DAY))
        happens = rng.random(INTERVALS_PER_DAY) < model.jump_rate
        size = rng.exponential(model.jump_size, INTERVALS_PER_DAY)
        sign = np.where(rng.random(INTERVALS_PER_DAY) < 0.85, 1.0, -1.0)
        jumps.append(happens * size * sign)
    rt_noise = ar_by_day(np.array(shocks), 0.9).ravel()
    # Jumps decay within a few intervals; undo the unit-variance scaling so a
    # jump keeps its drawn size.
    rt_jumps = ar_by_day(np.array(jumps), 0.6).ravel() / np.sqrt(1.0 - 0.36)
    level = model.price_level * physical.gas
    rt_shock = model.rt_shock * level * (0.5 + u_rt) * rt_noise + level * rt_jumps
    reliability = _reliability_adder(model, seed, physical)
    rt_energy = np.clip(rt_lambda + rt_short + reliability + rt_shock, model.price_floor, model.shortage_cap)
    return EnergyPrices(
        da_energy=np.asarray(da_energy),
        da_shortage=da_short,
        da_utilisation=u_da,
        rt_energy=np.asarray(rt_energy),
        rt_shortage=rt_short,
        rt_reliability=reliability,
        rt_utilisation=hourly_mean(u_rt),
    )
