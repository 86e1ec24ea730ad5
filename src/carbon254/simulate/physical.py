"""The physical system behind the prices: weather, load, solar, wind and available capacity.

Prices are derived from net load (load minus solar minus wind) against available
capacity, so the usual shapes emerge rather than being painted on: summer and
winter peaks from cooling and heating load, lower weekends, CAISO's duck curve
and spring midday oversupply from solar, night-time oversupply in the wind
ISOs, and scarcity when a hot evening meets forced outages. The same load
series is published in the `load` dataset, so prices and load agree.

Everything here is system-wide (one value per ISO and instant) and computed for
whole UTC days; see `processes` for how persistence survives random access.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.isos import ISOS
from carbon254.simulate.clock import (
    FIVE_MINUTES,
    INTERVALS_PER_DAY,
    INTERVALS_PER_HOUR,
    US_PER_DAY,
    US_PER_HOUR,
    LocalTime,
    hourly_mean,
    local_time,
)
from carbon254.simulate.iso import simulation
from carbon254.simulate.models import IsoModel
from carbon254.simulate.processes import ar_by_day, interpolate_days, ma_by_day
from carbon254.simulate.streams import Stream, generator

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Day-scale factors: (index in the daily draw, AR coefficient per day, days of memory).
_TEMPERATURE = (0, 0.6, 10)
_GAS = (1, 0.93, 45)
_OUTAGE = (2, 0.80, 14)
_CLOUD = (3, 0.40, 4)
_WIND = (4, 0.55, 7)
_GAS_DAY = (5, 0.3, 2)
_DAILY_DRAWS = 6
_MEMORY = 45

# Coldest day of the year is about January 20th.
_COLDEST = 2.0 * np.pi * 20.0 / 365.2425
FORECAST_ERROR = 0.025  # day-ahead load forecast error, fraction of load
# How much wider temperature anomalies are in deep winter (and narrower in high
# summer) than on average.
_WINTER_SPREAD = 0.3
# Hydro output peaks with the snowmelt, around the end of May.
_SNOWMELT = 2.0 * np.pi * 150.0 / 365.2425


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function, vectorised."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Physical:
    """System state of one ISO over whole UTC days [first_day, first_day + days).

    Five-minute arrays have days*288 values, hourly ones days*24. MW throughout;
    `gas` is a dimensionless fuel-price index (1 = normal). `hydro` is
    run-of-river and must-take hydro (and the imports that follow the same
    snowmelt), scheduled a day ahead, so forecasts include it as it is.
    Forecasts are the day-ahead view of the hourly means.
    """

    first_day: int
    days: int
    five: IntArray
    hours: IntArray
    local_five: LocalTime
    local_hours: LocalTime
    load: FloatArray
    solar: FloatArray
    wind: FloatArray
    hydro: FloatArray
    capacity: FloatArray
    gas: FloatArray
    load_forecast: FloatArray
    solar_forecast: FloatArray
    wind_forecast: FloatArray

    @property
    def net_load(self) -> FloatArray:
        """Load minus solar, wind and must-take hydro, MW, 5-minute."""
        return np.asarray(self.load - self.solar - self.wind - self.hydro)

    @property
    def net_load_forecast(self) -> FloatArray:
        """Day-ahead forecast of net load, MW, hourly."""
        hydro = hourly_mean(self.hydro)
        return np.asarray(self.load_forecast - self.solar_forecast - self.wind_forecast - hydro)


def _daily_factors(model: IsoModel, seed: int, first_day: int, days: int) -> FloatArray:
    """Persistent day factors for days [first_day - 1, first_day + days]: shape (6, days + 2)."""
    idx = simulation(model.iso).stream_index
    span = range(first_day - 1 - _MEMORY, first_day + days + 1)
    z = np.array([generator(seed, idx, Stream.DAILY, d).standard_normal(_DAILY_DRAWS) for d in span]).T
    out = np.empty((_DAILY_DRAWS, days + 2))
    for row, phi, memory in (_TEMPERATURE, _GAS, _OUTAGE, _CLOUD, _WIND, _GAS_DAY):
        out[row] = ma_by_day(z[row, _MEMORY - memory :], phi, memory)
    return out


def _behaviour(hour: FloatArray, weekday: IntArray, season: FloatArray) -> FloatArray:
    """Non-weather load shape by local hour: night trough, morning ramp, evening peak; lower weekends.

    The evening peak comes with dusk (lights, cooking, homes filling up), so it
    is sharper and earlier in winter, around 17:00-18:00, than in summer;
    winter mornings add a peak of their own before sunrise. `season` is +1 in
    deep winter and -1 in high summer.
    """

    def bump(centre: FloatArray | float, width: FloatArray | float, h: FloatArray) -> FloatArray:
        return np.asarray(np.exp(-(((h - centre) / width) ** 2)))

    weekend = weekday >= 5
    h = np.where(weekend, hour - 1.0, hour)  # weekends wake up later
    awake = sigmoid((h - 6.5) / 0.7) - sigmoid((h - 22.5) / 0.9)
    winter = np.maximum(season, 0.0)
    morning = (0.03 + 0.03 * winter) * bump(7.5, 1.4, h)
    evening = 0.07 * bump(19.0 - 1.2 * season, 1.8 - 0.4 * season, hour)
    shape = 0.80 + 0.13 * awake + morning + evening
    return np.asarray(np.where(weekend, 0.93 * shape, shape))


def _softplus(x: FloatArray, width: float) -> FloatArray:
    return np.asarray(width * np.logaddexp(0.0, x / width))


def simulate_physical(model: IsoModel, seed: int, first_day: int, days: int) -> Physical:
    """Weather-driven load, renewables and available capacity (MW) for whole UTC days."""
    idx = simulation(model.iso).stream_index
    tz = ISOS[model.iso].timezone
    five = (
        first_day * INTERVALS_PER_DAY + np.arange(days * INTERVALS_PER_DAY, dtype=np.int64)
    ) * FIVE_MINUTES
    hours = five[::INTERVALS_PER_HOUR]
    local5 = local_time(five, tz)
    local1 = local_time(hours, tz)
    phase = local5.year_phase
    # Solar time follows the sun, not the clock: UTC shifted by longitude.
    solar_hour = ((five % US_PER_DAY) / US_PER_HOUR + model.longitude / 15.0) % 24.0

    daily = _daily_factors(model, seed, first_day, days)
    per5 = interpolate_days(daily, INTERVALS_PER_DAY)
    temp_z, gas_z, outage_z, cloud_z, wind_z, gas_day_z = per5

    span = range(first_day - 1, first_day + days)
    noise = np.array(
        [generator(seed, idx, Stream.PHYSICAL, d).standard_normal((3, INTERVALS_PER_DAY)) for d in span]
    )
    load_noise = ar_by_day(noise[:, 0], 0.985).ravel()
    wind_noise = ar_by_day(noise[:, 1], 0.99).ravel()
    cloud_noise = ar_by_day(noise[:, 2], 0.95).ravel()

    season = np.cos(phase - _COLDEST)  # +1 deep winter, -1 high summer
    # Weather is more changeable in winter than in summer: at mid-latitudes the
    # spread of daily temperature anomalies is nearly twice as wide in January
    # as in July, which is why cold snaps move prices more than heat waves do.
    anomaly = model.temp_anomaly_c * (1.0 + _WINTER_SPREAD * season) * temp_z
    daily_temperature = model.temp_mean_c - model.temp_amplitude_c * season + anomaly
    diurnal = model.temp_diurnal_c * np.cos(2.0 * np.pi * (solar_hour - 15.0) / 24.0)
    behaviour = _behaviour(local5.hour, local5.weekday, season)
    # Cooling follows the afternoon heat; heating follows the day's cold more
    # than the night's (buildings store heat, thermostats set back at night).
    # Both scale with how many people are up and about.
    weather = model.cooling_mw_per_c * _softplus(daily_temperature + diurnal - 20.0, 2.0)
    weather = weather + model.heating_mw_per_c * _softplus(14.0 - daily_temperature - 0.3 * diurnal, 2.0)
    load = (model.base_load_mw * behaviour + weather * behaviour / 0.9) * (1.0 + 0.015 * load_noise)

    declination = 0.409 * np.sin(phase - 1.39)
    lat = np.radians(model.latitude)
    angle = (solar_hour - 12.0) * np.pi / 12.0
    sin_elevation = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(angle)
    cloud = sigmoid(model.cloudiness + 0.6 * season + 1.0 * cloud_z + 0.5 * cloud_noise)
    # Tracking arrays give a flat-topped day, hence the exponent below one.
    solar = model.solar_mw * 0.85 * np.maximum(sin_elevation, 0.0) ** 0.6 * (1.0 - 0.75 * cloud)

    logit_cf = (
        np.log(model.wind_cf / (1.0 - model.wind_cf))
        + 2.0 * model.wind_night * np.cos(2.0 * np.pi * (local5.hour - 3.0) / 24.0)
        + 0.35 * np.cos(phase - 1.6)  # windiest in spring
        + 0.9 * wind_z
        + 0.35 * wind_noise
    )
    wind = model.wind_mw * sigmoid(logit_cf)
    hydro = model.hydro_mw * (1.0 + model.hydro_swing * np.cos(phase - _SNOWMELT))

    # Planned maintenance in spring and autumn, forced outages that cluster,
    # and extra trips in cold snaps (frozen instruments, gas curtailments).
    # Heat waves derate thermal plants (warm cooling water, hot air) just as demand peaks.
    cold = np.maximum(-temp_z - 1.5, 0.0) * np.maximum(season, 0.0)
    heat = np.maximum(temp_z - 1.5, 0.0) * np.maximum(-season, 0.0)
    outage = (
        model.outage_rate * (1.0 + 0.3 * np.cos(2.0 * phase - 3.4)) * np.exp(0.35 * outage_z)
        + 0.05 * cold
        + 0.03 * heat
    )
    capacity = model.capacity_mw * (1.0 - np.minimum(outage, 0.6))

    # Fuel: a slow index, day-to-day trading noise that is wildest in winter
    # (pipeline-constrained hubs), a winter premium, and spikes in cold snaps.
    winter = np.maximum(season, 0.0)
    day_vol = model.gas_daily_volatility * (0.5 + winter)
    gas = (
        np.exp(model.gas_volatility * gas_z - 0.5 * model.gas_volatility**2)
        * np.exp(day_vol * gas_day_z - 0.5 * day_vol**2)
        * (1.0 + 0.12 * winter * winter)
        * (1.0 + model.winter_gas * np.maximum(-temp_z - 0.5, 0.0) * winter)
    )

    fc = np.array([generator(seed, idx, Stream.FORECAST, d).standard_normal((3, 24)) for d in span])
    load_h = hourly_mean(load)
    solar_h = hourly_mean(solar)
    wind_h = hourly_mean(wind)
    load_forecast = load_h * (1.0 + FORECAST_ERROR * ar_by_day(fc[:, 0], 0.9).ravel())
    wind_cf_h = np.clip(wind_h / model.wind_mw, 1e-4, 1.0 - 1e-4)
    wind_forecast = model.wind_mw * sigmoid(
        np.log(wind_cf_h / (1.0 - wind_cf_h)) + 0.3 * ar_by_day(fc[:, 1], 0.95).ravel()
    )
    solar_forecast = solar_h * np.exp(0.12 * ar_by_day(fc[:, 2], 0.9).ravel())

    return Physical(
        first_day=first_day,
        days=days,
        five=five,
        hours=hours,
        local_five=local5,
        local_hours=local1,
        load=load,
        solar=solar,
        wind=wind,
        hydro=hydro,
        capacity=capacity,
        gas=gas,
        load_forecast=load_forecast,
        solar_forecast=solar_forecast,
        wind_forecast=wind_forecast,
    )
