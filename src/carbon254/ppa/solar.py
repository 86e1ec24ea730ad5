"""Hourly solar generation from pvlib: a site, the sun, the weather and a PVWatts-style plant.

Each hour is evaluated at its midpoint: pvlib's solar position, its
Ineichen clear sky (Linke turbidity from the climatology pvlib ships), and
then one of three weathers:

- `"clearsky"` (default): the clear sky dimmed by a cloudiness model
  (`Cloudiness`): a daily clear-sky index k = GHI / clear-sky GHI drawn
  from a Beta distribution with the month's mean, persistent from day to
  day (a Gaussian AR(1) copula), times a small hourly noise. Its default
  for a site is a rough North American climatology (`Cloudiness.for_site`),
  calibrated so a single-axis plant in West Texas makes about 27% AC
  capacity factor and a fixed-tilt plant in upstate New York about 16%;
  days run from local solar midnight, so a cloudy afternoon does not
  brighten at 00:00 UTC.
- `"tmy"`: the typical-year files pvlib ships (Greensboro NC, Miami FL, Sand
  Point AK): the nearest station's hourly clear-sky index, matched by solar
  time and day of the year, applied to the site's clear sky, with the
  station's air temperature and wind. A stand-in in a similar climate;
  upload the site's own weather for a resource assessment. Nothing is
  downloaded.
- a `Weather` upload: GHI (and DNI/DHI, else split with Erbs), air
  temperature and wind, on the same hours or one 8,760-hour typical year.

The plant: beam and diffuse irradiance on the fixed or single-axis-tracked
(backtracking) plane (Hay-Davies), the beam through the physical incidence
angle modifier, Faiman cell temperature, PVWatts DC at `capacity_mw *
dc_ac_ratio` with a temperature coefficient, `losses` off the DC, and the
PVWatts inverter clipping at `capacity_mw` AC. Output is MWh per hour (the
average MW of the hour), faded by `degradation` per year.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib
from scipy.special import ndtr
from scipy.stats import beta as beta_distribution

from carbon254.ppa.degradation import degradation_factors
from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import US_PER_HOUR, Floats, Stamps, check_starts, check_values
from carbon254.ppa.typical_year import HOURS_TYPICAL, typical_hour

Tracking = Literal["fixed", "single_axis"]
WeatherSource = Literal["clearsky", "tmy"]

_HALF_HOUR_US = US_PER_HOUR // 2
_MIN_CLEAR_GHI = 50.0  # W/m²: below this a clear-sky index is mostly noise (dawn, dusk)


@dataclass(frozen=True, slots=True)
class SolarSite:
    """A solar plant: where it is, how big (MW AC), how it is mounted and what it loses.

    `tilt` is the panel tilt of a fixed plant (degrees from horizontal;
    default the latitude, at most 40) or the axis tilt of a tracker (default
    0); `azimuth` the panel azimuth of a fixed plant or the axis azimuth of
    a tracker (degrees, 180 = south). `dc_ac_ratio` sizes the DC array
    against the inverter; `losses` are the DC losses (soiling, wiring,
    mismatch, availability) as a fraction; `gcr` the tracker ground coverage
    ratio, `max_angle` its rotation limit (degrees); `gamma` the DC power
    temperature coefficient (per °C); `altitude` metres (default pvlib's
    lookup). Validated on construction.
    """

    latitude: float
    longitude: float
    capacity_mw: float
    dc_ac_ratio: float = 1.3
    tilt: float | None = None
    azimuth: float = 180.0
    tracking: Tracking = "fixed"
    losses: float = 0.14
    gcr: float = 0.35
    max_angle: float = 60.0
    gamma: float = -0.0037
    inverter_efficiency: float = 0.96
    altitude: float | None = None

    def __post_init__(self) -> None:
        _within("latitude", self.latitude, -90, 90)
        _within("longitude", self.longitude, -180, 180)
        _within("capacity_mw", self.capacity_mw, 0, math.inf, open_low=True)
        _within("dc_ac_ratio", self.dc_ac_ratio, 0.5, 3)
        if self.tilt is not None:
            _within("tilt", self.tilt, 0, 90)
        _within("azimuth", self.azimuth, 0, 360)
        if self.tracking not in ("fixed", "single_axis"):
            raise PpaError(f"tracking: {self.tracking!r} is not fixed or single_axis")
        _within("losses", self.losses, 0, 1, open_high=True)
        _within("gcr", self.gcr, 0, 1, open_low=True)
        _within("max_angle", self.max_angle, 0, 90, open_low=True)
        _within("gamma", self.gamma, -0.02, 0)
        _within("inverter_efficiency", self.inverter_efficiency, 0.5, 1)
        if self.altitude is not None:
            _within("altitude", self.altitude, -500, 9000)


@dataclass(frozen=True, slots=True)
class Weather:
    """Uploaded hourly weather: GHI, maybe DNI and DHI (W/m², hour means), air temperature (°C), wind (m/s).

    `starts` are hour starts (µs UTC). Either the same hours as the profile
    asked for (a superset is fine) or one 8,760-hour typical year, laid on
    any year by hour of the year (UTC). Without DNI/DHI, GHI is split with
    Erbs; without temperature or wind, 20 °C and 1 m/s.
    """

    starts: Stamps
    ghi: Floats
    dni: Floats | None = None
    dhi: Floats | None = None
    temp_air: Floats | None = None
    wind_speed: Floats | None = None

    def __post_init__(self) -> None:
        stamps = check_starts(self.starts, "weather starts")
        n = len(stamps)
        object.__setattr__(self, "starts", stamps)
        object.__setattr__(self, "ghi", check_values("weather ghi", self.ghi, n, nonnegative=True))
        if (self.dni is None) != (self.dhi is None):
            raise PpaError("weather: give both dni and dhi, or neither (GHI is then split with Erbs)")
        for name in ("dni", "dhi", "temp_air", "wind_speed"):
            values = getattr(self, name)
            if values is not None:
                nonnegative = name != "temp_air"
                object.__setattr__(
                    self, name, check_values(f"weather {name}", values, n, nonnegative=nonnegative)
                )


@dataclass(frozen=True, slots=True)
class Cloudiness:
    """Cloud cover as a daily clear-sky index k (daily GHI / clear-sky GHI, 0-1).

    `mean` is the average k (or `monthly_mean`, twelve values January to
    December), `sd` the day-to-day standard deviation of k, `persistence`
    the correlation of one day's k with the next, and `hourly_sd` the
    relative noise of each hour within a day.
    """

    mean: float = 0.75
    sd: float = 0.2
    persistence: float = 0.4
    hourly_sd: float = 0.08
    monthly_mean: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        means = self.monthly_mean if self.monthly_mean is not None else (self.mean,)
        if self.monthly_mean is not None and len(self.monthly_mean) != 12:
            raise PpaError(f"cloudiness monthly_mean: {len(self.monthly_mean)} values, need 12")
        for m in means:
            _within("cloudiness mean", m, 0, 1, open_low=True, open_high=True)
            if not 0 <= self.sd**2 < m * (1 - m):
                raise PpaError(
                    f"cloudiness sd: {self.sd:g} is too wide for a mean of {m:g} (need sd² < mean·(1 - mean))"
                )
        _within("cloudiness persistence", self.persistence, -1, 1, open_low=True, open_high=True)
        _within("cloudiness hourly_sd", self.hourly_sd, 0, 1)

    @staticmethod
    def for_site(latitude: float, longitude: float) -> Cloudiness:
        """A rough North American default: sunnier in the arid Southwest, cloudier in the North and East.

        Arid (south of 40°N and west of 100°W): k about 0.86, steady; the
        Pacific Northwest, Great Lakes and Northeast (north of 41°N, west
        of 120°W or east of 90°W): about 0.66 with grey winters; elsewhere
        0.76. Calibrated on capacity factors, not a resource assessment.
        """
        if latitude < 40 and longitude < -100:
            return Cloudiness(mean=0.86, sd=0.13, persistence=0.35)
        if latitude > 41 and (longitude < -120 or longitude > -90):
            winter, summer = 0.56, 0.72
            months = tuple(
                round(winter + (summer - winter) * (1 - math.cos(2 * math.pi * m / 12)) / 2, 3)
                for m in range(12)
            )
            return Cloudiness(mean=sum(months) / 12, sd=0.22, persistence=0.45, monthly_mean=months)
        return Cloudiness(mean=0.76, sd=0.2, persistence=0.4)

    def month_means(self) -> Floats:
        """The mean daily clear-sky index of each calendar month, January first."""
        if self.monthly_mean is not None:
            return np.asarray(self.monthly_mean, dtype=np.float64)
        return np.full(12, self.mean)


def solar_profile(
    site: SolarSite,
    starts: npt.ArrayLike,
    *,
    weather: WeatherSource | Weather = "clearsky",
    cloudiness: Cloudiness | None = None,
    seed: int = 0,
    degradation: float = 0.005,
    operation_start: int | None = None,
) -> Floats:
    """Hourly AC generation (MWh per hour) of `site` at hour starts (µs UTC).

    `weather` is "clearsky" (clear sky dimmed by `cloudiness`, default
    `Cloudiness.for_site`, drawn with `seed`), "tmy" (the nearest typical
    year pvlib ships) or an uploaded `Weather`. Output fades by `degradation`
    per operating year counted from `operation_start` (µs UTC, default the
    first hour). See the module docstring for the models.
    """
    stamps = check_starts(starts)
    mid = pd.DatetimeIndex((stamps + _HALF_HOUR_US).astype("datetime64[us]"), tz="UTC")
    altitude = (
        site.altitude
        if site.altitude is not None
        else float(pvlib.location.lookup_altitude(site.latitude, site.longitude))
    )
    location = pvlib.location.Location(site.latitude, site.longitude, altitude=altitude)
    sun = location.get_solarposition(mid)
    clear = location.get_clearsky(mid, model="ineichen", solar_position=sun)
    zenith = sun["zenith"].to_numpy(dtype=np.float64)
    clear_ghi = clear["ghi"].to_numpy(dtype=np.float64)
    day_of_year = mid.day_of_year.to_numpy()
    if isinstance(weather, Weather):
        ghi, dni, dhi, temp_air, wind = _uploaded(weather, stamps)
    elif weather == "tmy":
        ghi, temp_air, wind = _typical_year(site, stamps, clear_ghi)
        dni, dhi = None, None
    elif weather == "clearsky":
        chosen = cloudiness if cloudiness is not None else Cloudiness.for_site(site.latitude, site.longitude)
        ghi = clear_ghi * _clear_sky_index(chosen, stamps, site.longitude, seed)
        temp_air = _temperature(site.latitude, site.longitude, stamps)
        wind = np.full(len(stamps), 2.0)
        dni, dhi = None, None
    else:
        raise PpaError(f"weather: {weather!r} is not clearsky, tmy or a Weather upload")
    if dni is None or dhi is None:
        split = pvlib.irradiance.erbs(ghi, zenith, day_of_year)
        dni = np.nan_to_num(np.asarray(split["dni"], dtype=np.float64))
        dhi = np.nan_to_num(np.asarray(split["dhi"], dtype=np.float64))
    mw = _plant(site, sun, mid, ghi, dni, dhi, temp_air, wind)
    origin = int(stamps[0]) if operation_start is None else operation_start
    return np.asarray(mw * degradation_factors(stamps, degradation, origin), dtype=np.float64)


def _plant(
    site: SolarSite,
    sun: pd.DataFrame,
    mid: pd.DatetimeIndex,
    ghi: Floats,
    dni: Floats,
    dhi: Floats,
    temp_air: Floats,
    wind: Floats,
) -> Floats:
    """AC MW of the plant for each hour's irradiance (W/m²), air temperature (°C) and wind (m/s)."""
    apparent = sun["apparent_zenith"].to_numpy(dtype=np.float64)
    azimuth = sun["azimuth"].to_numpy(dtype=np.float64)
    zenith = sun["zenith"].to_numpy(dtype=np.float64)
    if site.tracking == "single_axis":
        rotation = pvlib.tracking.singleaxis(
            apparent,
            azimuth,
            axis_tilt=site.tilt if site.tilt is not None else 0.0,
            axis_azimuth=site.azimuth,
            max_angle=site.max_angle,
            backtrack=True,
            gcr=site.gcr,
        )
        surface_tilt = np.nan_to_num(np.asarray(rotation["surface_tilt"], dtype=np.float64))
        surface_azimuth = np.nan_to_num(np.asarray(rotation["surface_azimuth"], dtype=np.float64), nan=180.0)
    else:
        tilt = site.tilt if site.tilt is not None else min(abs(site.latitude), 40.0)
        surface_tilt = np.full(len(ghi), tilt)
        surface_azimuth = np.full(len(ghi), site.azimuth)
    extra = np.asarray(pvlib.irradiance.get_extra_radiation(mid), dtype=np.float64)
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt,
        surface_azimuth,
        zenith,
        azimuth,
        dni,
        ghi,
        dhi,
        dni_extra=extra,
        model="haydavies",
        albedo=0.2,
    )
    incidence = np.asarray(pvlib.irradiance.aoi(surface_tilt, surface_azimuth, zenith, azimuth))
    modifier = np.nan_to_num(np.asarray(pvlib.iam.physical(incidence), dtype=np.float64))
    direct = np.nan_to_num(np.asarray(poa["poa_direct"], dtype=np.float64))
    diffuse = np.nan_to_num(np.asarray(poa["poa_diffuse"], dtype=np.float64))
    effective = np.maximum(direct * modifier + diffuse, 0.0)
    cell = np.asarray(pvlib.temperature.faiman(direct + diffuse, temp_air, wind), dtype=np.float64)
    dc_mw = site.capacity_mw * site.dc_ac_ratio
    dc = np.asarray(pvlib.pvsystem.pvwatts_dc(effective, cell, dc_mw, site.gamma), dtype=np.float64)
    dc = np.maximum(dc, 0.0) * (1.0 - site.losses)
    # PVWatts' inverter clips at eta_nom * pdc0: a pdc0 of capacity / eta_nom clips at the AC capacity.
    ac = pvlib.inverter.pvwatts(
        dc, site.capacity_mw / site.inverter_efficiency, eta_inv_nom=site.inverter_efficiency
    )
    return np.clip(np.nan_to_num(np.asarray(ac, dtype=np.float64)), 0.0, site.capacity_mw)


def _clear_sky_index(cloudiness: Cloudiness, starts: Stamps, longitude: float, seed: int) -> Floats:
    """Each hour's clear-sky index: a persistent daily Beta draw (local solar days) times hourly noise."""
    solar_time = starts + int(longitude / 15.0 * US_PER_HOUR)
    day = solar_time // (24 * US_PER_HOUR)
    first_day = int(day[0])
    days = int(day[-1]) - first_day + 1
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    rho = cloudiness.persistence
    shocks = rng.standard_normal(days)
    z = np.empty(days)
    z[0] = shocks[0]
    innovation = math.sqrt(1.0 - rho * rho)
    for i in range(1, days):  # a few thousand days: a plain recursion is fine
        z[i] = rho * z[i - 1] + innovation * shocks[i]
    day_dates = (np.arange(first_day, first_day + days) * 86_400).astype("datetime64[s]")
    month = (day_dates.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)
    mean = cloudiness.month_means()[month]
    spread = mean * (1 - mean) / max(cloudiness.sd**2, 1e-12) - 1
    daily = np.asarray(
        beta_distribution.ppf(np.clip(ndtr(z), 1e-9, 1 - 1e-9), mean * spread, (1 - mean) * spread)
    )
    if cloudiness.sd == 0:
        daily = mean
    hourly = daily[(day - first_day).astype(np.int64)] * (
        1.0 + cloudiness.hourly_sd * rng.standard_normal(len(starts))
    )
    return np.clip(hourly, 0.0, 1.05)


def _temperature(latitude: float, longitude: float, starts: Stamps) -> Floats:
    """A rough air temperature (°C) without weather: a seasonal and a daily cycle around a latitude mean."""
    mean = 33.0 - 0.55 * abs(latitude)
    days = starts / (24 * US_PER_HOUR)
    season = np.cos(2 * np.pi * (days - 20.0) / 365.25) * (1.0 if latitude >= 0 else -1.0)
    solar_hour = (starts / US_PER_HOUR + longitude / 15.0) % 24
    daily = np.cos(2 * np.pi * (solar_hour - 15.0) / 24)
    return np.asarray(mean - 11.0 * season + 5.0 * daily, dtype=np.float64)


def _uploaded(
    weather: Weather, starts: Stamps
) -> tuple[Floats, Floats | None, Floats | None, Floats, Floats]:
    """The upload's (ghi, dni, dhi, temp_air, wind) on `starts`: by matching hours, or by typical hour."""
    at = np.searchsorted(weather.starts, starts)
    found = (at < len(weather.starts)) & (weather.starts[np.minimum(at, len(weather.starts) - 1)] == starts)
    if not found.all():
        if len(weather.starts) != HOURS_TYPICAL:
            missing = int(np.argmin(found))
            raise PpaError(
                f"weather: hour {missing} of the profile has no weather; give the same hours or one "
                "8,760-hour typical year"
            )
        at = _typical_positions(typical_hour(weather.starts), "weather")[typical_hour(starts)]

    def pick(values: Floats | None, default: float | None) -> Floats | None:
        if values is None:
            return None if default is None else np.full(len(starts), default)
        return values[at]

    ghi = weather.ghi[at]
    temp = pick(weather.temp_air, 20.0)
    wind = pick(weather.wind_speed, 1.0)
    assert temp is not None and wind is not None
    return ghi, pick(weather.dni, None), pick(weather.dhi, None), temp, wind


@dataclass(frozen=True, slots=True)
class _Station:
    """A typical-year station on a UTC typical-year clock: clear-sky index, temperature, wind."""

    latitude: float
    longitude: float
    index: Floats
    temp_air: Floats
    wind_speed: Floats


# pvlib's readers stamp TMY3 hours at their end and TMY2 hours at their start: the hour midpoint is
# the stamp minus, respectively plus, half an hour.
_STATIONS = (("723170TYA.CSV", "tmy3"), ("703165TY.csv", "tmy3"), ("12839.tm2", "tmy2"))


@cache
def _station(file: str, kind: str) -> _Station:
    """One of the typical years pvlib ships, as clear-sky index, temperature and wind by UTC typical hour."""
    path = os.path.join(os.path.dirname(pvlib.__file__), "data", file)
    if kind == "tmy3":
        data, meta = pvlib.iotools.read_tmy3(path, coerce_year=1990, map_variables=True)
        ghi = data["ghi"].to_numpy(dtype=np.float64)
        temp = data["temp_air"].to_numpy(dtype=np.float64)
        wind = data["wind_speed"].to_numpy(dtype=np.float64)
        mid = data.index - pd.Timedelta(minutes=30)
    else:
        data, meta = pvlib.iotools.read_tmy2(path)
        ghi = data["GHI"].to_numpy(dtype=np.float64)
        temp = data["DryBulb"].to_numpy(dtype=np.float64) / 10.0  # TMY2 stores tenths of °C and m/s
        wind = data["Wspd"].to_numpy(dtype=np.float64) / 10.0
        mid = data.index + pd.Timedelta(minutes=30)
    location = pvlib.location.Location(meta["latitude"], meta["longitude"], altitude=meta["altitude"])
    clear = location.get_clearsky(pd.DatetimeIndex(mid), model="ineichen")["ghi"].to_numpy(dtype=np.float64)
    utc = pd.DatetimeIndex(mid).tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]")
    starts = (utc.astype(np.int64) // US_PER_HOUR) * US_PER_HOUR
    position = _typical_positions(typical_hour(starts), file)
    # Daily index (by solar day) where the hour is too dim to say much on its own.
    solar_day = (starts + int(meta["longitude"] / 15.0 * US_PER_HOUR)) // (24 * US_PER_HOUR)
    _, day = np.unique(solar_day, return_inverse=True)
    daily = np.bincount(day, weights=ghi) / np.maximum(np.bincount(day, weights=clear), 1e-9)
    bright = clear > _MIN_CLEAR_GHI
    ratio = np.where(bright, ghi / np.where(bright, clear, 1.0), daily[day])
    index = np.clip(ratio, 0.0, 1.2)[position]
    return _Station(float(meta["latitude"]), float(meta["longitude"]), index, temp[position], wind[position])


def _typical_positions(hours: npt.NDArray[np.int64], what: str) -> npt.NDArray[np.int64]:
    """For each typical-year hour (0..8759), the position holding it; every hour must appear exactly once."""
    if len(hours) != HOURS_TYPICAL or len(np.unique(hours)) != HOURS_TYPICAL:
        raise PpaError(f"{what}: a typical year must hold each hour of a 365-day year exactly once")
    positions = np.empty(HOURS_TYPICAL, dtype=np.int64)
    positions[hours] = np.arange(HOURS_TYPICAL)
    return positions


def nearest_station(latitude: float, longitude: float) -> tuple[str, float]:
    """The typical-year file pvlib ships nearest to a site, and its great-circle distance (km)."""
    best: tuple[str, float] | None = None
    for file, kind in _STATIONS:
        station = _station(file, kind)
        km = _distance_km(latitude, longitude, station.latitude, station.longitude)
        if best is None or km < best[1]:
            best = (file, km)
    assert best is not None
    return best


def _typical_year(site: SolarSite, starts: Stamps, clear_ghi: Floats) -> tuple[Floats, Floats, Floats]:
    """GHI, temperature and wind at the site from the nearest shipped typical year, matched by solar time."""
    file, _ = nearest_station(site.latitude, site.longitude)
    station = _station(file, dict(_STATIONS)[file])
    shift_hours = round((site.longitude - station.longitude) / 15.0)
    hour = typical_hour(starts + shift_hours * US_PER_HOUR)
    return clear_ghi * station.index[hour], station.temp_air[hour], station.wind_speed[hour]


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(a, 1.0)))


def _within(
    name: str, value: float, low: float, high: float, *, open_low: bool = False, open_high: bool = False
) -> None:
    below = value <= low if open_low else value < low
    above = value >= high if open_high else value > high
    if not math.isfinite(value) or below or above:
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        raise PpaError(f"{name}: {value!r} is outside {lo}{low:g}, {high:g}{hi}")
