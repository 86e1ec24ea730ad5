"""Constraint shadow prices ($/MWh): mostly zero, binding when flows push past their limits.

Each constraint's flow is a fixed mix of system drivers (load, wind, solar
relative to normal) plus its own persistent noise; it binds when the flow
exceeds a threshold and its shadow price grows with the excess. Wind-driven
constraints bind on windy nights, load-driven ones on hot afternoons, so
congestion has the timing a trader would expect. Real-time flows share the
day-ahead noise plus their own, and real-time shadow prices are steeper, so
real-time congestion is related to day-ahead but more volatile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.simulate.catalog import ISO_INDEX
from carbon254.simulate.clock import INTERVALS_PER_HOUR
from carbon254.simulate.models import IsoModel
from carbon254.simulate.network import Constraints
from carbon254.simulate.physical import Physical
from carbon254.simulate.processes import ar_by_day
from carbon254.simulate.streams import Stream, generator

FloatArray = npt.NDArray[np.float64]

_RT_STEEPNESS = 1.25


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


def _bind(flow: FloatArray, c: Constraints, steepness: float) -> FloatArray:
    excess = np.maximum(flow - c.threshold[:, None], 0.0)
    return np.asarray(np.minimum(steepness * c.scale[:, None] * excess, c.cap[:, None]))


def _noise(seed: int, iso_index: int, stream: Stream, first_day: int, days: int, k: int) -> FloatArray:
    span = range(first_day - 1, first_day + days)
    draws = np.array([generator(seed, iso_index, stream, d).standard_normal((k, 24)) for d in span])
    return ar_by_day(draws.transpose(1, 0, 2), 0.85).reshape(k, days * 24)


def simulate_shadow_prices(
    model: IsoModel, constraints: Constraints, seed: int, physical: Physical
) -> ShadowPrices:
    """Day-ahead (hourly, on forecasts) and real-time (5-minute, on actuals) shadow prices in $/MWh."""
    idx = ISO_INDEX[model.iso]
    k = constraints.count
    da_noise = _noise(seed, idx, Stream.DA_CONGESTION, physical.first_day, physical.days, k)
    rt_own = _noise(seed, idx, Stream.RT_CONGESTION, physical.first_day, physical.days, k)
    rt_noise = np.repeat(0.8 * da_noise + 0.6 * rt_own, INTERVALS_PER_HOUR, axis=1)

    da_drivers = _drivers(model, physical.load_forecast, physical.wind_forecast, physical.solar_forecast)
    da_flow = constraints.drivers @ da_drivers + constraints.noise[:, None] * da_noise
    rt_drivers = _drivers(model, physical.load, physical.wind, physical.solar)
    rt_flow = constraints.drivers @ rt_drivers + constraints.noise[:, None] * rt_noise
    return ShadowPrices(da=_bind(da_flow, constraints, 1.0), rt=_bind(rt_flow, constraints, _RT_STEEPNESS))
