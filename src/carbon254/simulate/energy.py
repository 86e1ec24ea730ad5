"""System energy prices (the system lambda plus shortage pricing), day-ahead and real-time.

The price of energy is a supply stack evaluated at utilisation (net load over
available capacity), scaled by the fuel index. Offers climb roughly
exponentially through the fleet (nuclear and coal at night, combined cycles by
day, peakers at the top), so the night-to-evening swing in price is much wider
than the swing in load, as it is in every real market; below a threshold,
renewables with production credits push the price under zero. On top comes
shortage pricing, an operating-reserve demand curve: (cap - lambda) times the
probability that reserves fall below the minimum, which is ERCOT's ORDC and a
fair stand-in for every ISO's scarcity pricing.

Day-ahead clears on forecasts with mild shocks; real time on actuals with
fat-tailed (Student-t) shocks and short price excursions (a ramp missed, a unit
tripping, a 5-minute reserve shortage), which come more often the tighter the
system is. Day-ahead bidders know those excursions happen and price in their
expected value, and expected shortage pricing, so real time averages close to
day-ahead while being far more volatile, as in the real markets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.simulate.clock import INTERVALS_PER_DAY, hourly_mean
from carbon254.simulate.iso import simulation
from carbon254.simulate.models import IsoModel
from carbon254.simulate.physical import Physical
from carbon254.simulate.processes import ar_by_day, ar_within_day
from carbon254.simulate.streams import Stream, generator

FloatArray = npt.NDArray[np.float64]

# Reserve uncertainty, as fractions of capacity.
_RT_RESERVE_SIGMA = 0.025
_DA_RESERVE_SIGMA = 0.035
# Share of the expected shortage adder day-ahead prices carry. Scarcity pricing
# is a real-time mechanism (ERCOT's ORDC adders exist only in real time); day
# ahead sees only what traders arbitrage into it, so forecast-tight hours do
# not clear at the cap a day early.
_DA_SHORTAGE_SHARE = 0.5
# Utilisation above which emergency resources cover a share of further net load.
_EMERGENCY = 0.95
_EMERGENCY_SHARE = 0.5
# Utilisation below which the stack is flat (units at minimum load).
_MUST_RUN = 0.2
# Real-time excursions: how much likelier they are per unit of utilisation,
# the share that go up rather than down, and how fast they fade per interval.
_EXCURSION_TIGHTNESS = 6.0
_EXCURSION_UP = 0.9
_EXCURSION_DECAY = 0.75


def normal_sf(x: FloatArray) -> FloatArray:
    """Upper tail of the standard normal, P(Z > x), to about 1e-7 (Abramowitz & Stegun 7.1.26)."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    tail = 0.5 * poly * np.exp(-z * z)
    return np.asarray(np.where(x >= 0.0, tail, 1.0 - tail), dtype=np.float64)


def supply_stack(
    model: IsoModel, utilisation: FloatArray, gas: FloatArray, oversupply: float = 1.0
) -> FloatArray:
    """Marginal energy price ($/MWh) at a utilisation of available capacity; `price_level` at u = 0.5.

    `oversupply` scales how far below zero surplus renewables push the price
    (1 in real time; day-ahead bids hold back, see `IsoModel.da_oversupply`).
    """
    # Below a fifth of capacity the units left running are at their minimum
    # loads and cost about the same; lower still, only oversupply moves the price.
    u = np.maximum(utilisation, _MUST_RUN)
    marginal = np.exp(model.stack_slope * (u - 0.5)) + 4.0 * np.maximum(u - 0.85, 0.0) ** 2
    price = model.price_level * gas * marginal
    # Oversupply: renewables with production credits bid below zero, whatever gas costs.
    surplus = np.maximum(model.oversupply_u - utilisation, 0.0) / model.oversupply_u
    price = price - oversupply * model.price_level * model.oversupply_slope * surplus
    return np.asarray(np.maximum(price, model.price_floor))


def after_emergency(net_load: FloatArray, capacity: FloatArray) -> FloatArray:
    """Net load (MW) left for the market's own fleet once emergency resources answer a squeeze.

    Above `_EMERGENCY` of available capacity, demand response, emergency
    imports and voltage reduction cover half of every further MW, so the
    system runs short in real heat waves without the load ever dwarfing
    the fleet.
    """
    threshold = _EMERGENCY * capacity
    return np.asarray(net_load - _EMERGENCY_SHARE * np.maximum(net_load - threshold, 0.0))


def excursion_rate(model: IsoModel, utilisation: FloatArray) -> FloatArray:
    """Chance per 5-minute interval that a real-time price excursion starts, at a utilisation."""
    return np.asarray(model.jump_rate * np.exp(_EXCURSION_TIGHTNESS * (utilisation - 0.6)))


def expected_excursion(model: IsoModel, utilisation: FloatArray) -> FloatArray:
    """Mean real-time excursion at a utilisation, in multiples of the fuel-scaled price level.

    Each excursion adds `jump_size` (mean) times the level, up or down, and
    decays geometrically, so it is worth size / (1 - decay) intervals in all.
    """
    drift = (2.0 * _EXCURSION_UP - 1.0) * model.jump_size / (1.0 - _EXCURSION_DECAY)
    return np.asarray(excursion_rate(model, utilisation) * drift)


def shortage_adder(model: IsoModel, reserves: FloatArray, sigma: float, energy: FloatArray) -> FloatArray:
    """ORDC-style scarcity adder ($/MWh): (cap - energy) x P(reserves below the minimum)."""
    minimum = model.min_reserves * model.capacity_mw
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
    """ERCOT's reliability deployment adder (ISOs with ORDC adders): rare afternoon events, $/MWh."""
    out = np.zeros(physical.days * INTERVALS_PER_DAY)
    if not model.ordc_adders:
        return out
    idx = simulation(model.iso).stream_index
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
    idx = simulation(model.iso).stream_index
    span = range(physical.first_day - 1, physical.first_day + physical.days)

    capacity_h = hourly_mean(physical.capacity)
    gas_h = hourly_mean(physical.gas)
    net_fc = after_emergency(physical.net_load_forecast, capacity_h)
    u_da = net_fc / capacity_h
    da_lambda = supply_stack(model, u_da, gas_h, model.da_oversupply)
    da_short = _DA_SHORTAGE_SHARE * shortage_adder(model, capacity_h - net_fc, _DA_RESERVE_SIGMA, da_lambda)
    da_draws = np.array([_student_t(generator(seed, idx, Stream.DA_PRICE, d), 5.0, 24) for d in span])
    da_noise = ar_by_day(da_draws, 0.7).ravel()
    level_h = model.price_level * gas_h
    da_shock = model.da_shock * level_h * (0.5 + u_da) * da_noise
    da_premium = level_h * expected_excursion(model, u_da)
    da_energy = np.clip(da_lambda + da_short + da_premium + da_shock, model.price_floor, model.shortage_cap)

    net = after_emergency(physical.net_load, physical.capacity)
    u_rt = net / physical.capacity
    rt_lambda = supply_stack(model, u_rt, physical.gas)
    rt_short = shortage_adder(model, physical.capacity - net, _RT_RESERVE_SIGMA, rt_lambda)
    shocks, starts, sizes = [], [], []
    for d in span:
        rng = generator(seed, idx, Stream.RT_PRICE, d)
        shocks.append(_student_t(rng, model.rt_df, INTERVALS_PER_DAY))
        # Excursions fade within minutes, so each day's run from rest at
        # midnight and need no draws from the day before.
        if d >= physical.first_day:
            starts.append(rng.random(INTERVALS_PER_DAY))
            sign = np.where(rng.random(INTERVALS_PER_DAY) < _EXCURSION_UP, 1.0, -1.0)
            sizes.append(sign * rng.exponential(model.jump_size, INTERVALS_PER_DAY))
    rt_noise = ar_by_day(np.array(shocks), 0.9).ravel()
    # Excursions start more often when the system is tight.
    happens = np.array(starts).ravel() < excursion_rate(model, u_rt)
    kicks = (happens * np.array(sizes).ravel()).reshape(physical.days, INTERVALS_PER_DAY)
    # Undo the unit-variance scaling so an excursion keeps its drawn size as it fades.
    decay = _EXCURSION_DECAY
    rt_jumps = ar_within_day(kicks, decay).ravel() / np.sqrt(1.0 - decay * decay)
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
