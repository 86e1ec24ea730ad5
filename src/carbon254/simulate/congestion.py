"""Constraint shadow prices ($/MWh): mostly zero, binding when flows push past their limits.

Each constraint's flow is a fixed mix of system drivers (load, wind, solar
relative to normal) plus its own persistent noise; it binds when the flow
exceeds a threshold and its shadow price grows with the excess. Wind-driven
constraints bind on windy nights, load-driven ones on hot afternoons, so
congestion has the timing a trader would expect. Real-time flows share most of
the day-ahead noise plus their own. The day-ahead shadow price is what real
time is expected to pay given what is known the day before, so day-ahead
congestion averages what real time does but is smoother, and real-time
congestion is related to it but more volatile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.simulate.clock import INTERVALS_PER_HOUR
from carbon254.simulate.energy import normal_sf
from carbon254.simulate.iso import simulation
from carbon254.simulate.models import IsoModel
from carbon254.simulate.network import Constraints
from carbon254.simulate.physical import Physical
from carbon254.simulate.processes import ar_by_day
from carbon254.simulate.streams import Stream, generator

FloatArray = npt.NDArray[np.float64]

_RT_STEEPNESS = 1.25
# Real-time flow noise: the share carried over from the day-ahead view, and the
# unforeseen rest (unit variance together).
_DA_SHARE = 0.8
_RT_SURPRISE = 0.6
# Spread of the forecast error in a constraint's drivers, in flow units.
_DRIVER_ERROR = 0.1


@dataclass(frozen=True, slots=True)
class ShadowPrices:
    """Shadow prices ($/MWh, >= 0) per constraint: day-ahead (K, hours), real-time (K, 5-minute)."""

    da: FloatArray
    rt: FloatArray


def _drivers(model: IsoModel, load: FloatArray, wind: FloatArray, solar: FloatArray) -> FloatArray:
    """Load, wind and solar as rough z-scores around their normal levels: shape (3, n)."""
    solar_cf = solar / model.solar_mw if model.solar_mw > 0 else np.zeros_like(solar)
    return np.vstack(
        [
            (load / model.mean_load_mw - 1.0) / 0.2,
            (wind / model.wind_mw - model.wind_cf) / 0.2,
            (solar_cf - 0.2) / 0.25,
        ]
    )


def _bind(flow: FloatArray, c: Constraints) -> FloatArray:
    excess = np.maximum(flow - c.threshold[:, None], 0.0)
    return np.asarray(np.minimum(_RT_STEEPNESS * c.scale[:, None] * excess, c.cap[:, None]))


def _expected_bind(flow: FloatArray, sigma: FloatArray, c: Constraints) -> FloatArray:
    """Mean shadow price when the flow is normal around `flow` with spread `sigma` (per constraint)."""
    sd = sigma[:, None]
    d = (flow - c.threshold[:, None]) / sd
    density = np.exp(-0.5 * d * d) / np.sqrt(2.0 * np.pi)
    excess = sd * (density + d * (1.0 - normal_sf(d)))
    return np.asarray(np.minimum(_RT_STEEPNESS * c.scale[:, None] * excess, c.cap[:, None]))


def _noise(seed: int, iso_index: int, stream: Stream, first_day: int, days: int, k: int) -> FloatArray:
    span = range(first_day - 1, first_day + days)
    draws = np.array([generator(seed, iso_index, stream, d).standard_normal((k, 24)) for d in span])
    return ar_by_day(draws.transpose(1, 0, 2), 0.85).reshape(k, days * 24)


def simulate_shadow_prices(
    model: IsoModel, constraints: Constraints, seed: int, physical: Physical
) -> ShadowPrices:
    """Day-ahead (hourly, on forecasts) and real-time (5-minute, on actuals) shadow prices in $/MWh."""
    idx = simulation(model.iso).stream_index
    k = constraints.count
    da_noise = _noise(seed, idx, Stream.DA_CONGESTION, physical.first_day, physical.days, k)
    rt_own = _noise(seed, idx, Stream.RT_CONGESTION, physical.first_day, physical.days, k)
    rt_noise = np.repeat(_DA_SHARE * da_noise + _RT_SURPRISE * rt_own, INTERVALS_PER_HOUR, axis=1)

    da_drivers = _drivers(model, physical.load_forecast, physical.wind_forecast, physical.solar_forecast)
    da_flow = constraints.drivers @ da_drivers + _DA_SHARE * constraints.noise[:, None] * da_noise
    rt_drivers = _drivers(model, physical.load, physical.wind, physical.solar)
    rt_flow = constraints.drivers @ rt_drivers + constraints.noise[:, None] * rt_noise
    # What the day ahead cannot know: the real-time noise, and a little forecast error in the drivers.
    surprise = np.sqrt((_RT_SURPRISE * constraints.noise) ** 2 + _DRIVER_ERROR**2)
    return ShadowPrices(da=_expected_bind(da_flow, surprise, constraints), rt=_bind(rt_flow, constraints))
