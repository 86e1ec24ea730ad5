"""Generation: pvlib solar with realistic capacity factors, wind power curves, uploaded shapes, P-levels."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.ppa import (
    Cloudiness,
    PowerCurve,
    PpaError,
    SolarSite,
    VolumeUncertainty,
    Weather,
    nearest_station,
    shape_profile,
    solar_profile,
    wind_profile,
)

from .hours import US_PER_HOUR, hours, us, years

WEST_TEXAS = SolarSite(31.9, -102.1, 100.0, tracking="single_axis")
ALBANY = SolarSite(42.65, -73.75, 100.0)


@pytest.fixture(scope="module")
def year() -> np.ndarray:
    return years(2025, 1)


def test_capacity_factors_look_real_and_output_stays_within_the_inverter(year: np.ndarray) -> None:
    texas = solar_profile(WEST_TEXAS, year, degradation=0.0)
    albany = solar_profile(ALBANY, year, degradation=0.0)
    # Single-axis in West Texas makes 25-30% AC; fixed tilt in upstate New York about 14-18%.
    assert 0.25 <= texas.mean() / 100 <= 0.30
    assert 0.13 <= albany.mean() / 100 <= 0.18
    assert texas.max() <= 100.0 and texas.min() >= 0.0
    # DC/AC 1.3 clips at the inverter's 100 MW around noon on the clearest days.
    assert texas.max() == pytest.approx(100.0)
    assert np.isclose(texas, 100.0).sum() > 30


def test_no_output_at_night_and_the_peak_near_local_solar_noon(year: np.ndarray) -> None:
    texas = solar_profile(WEST_TEXAS, year, degradation=0.0)
    hour_utc = (year // US_PER_HOUR) % 24
    by_hour = np.bincount(hour_utc, weights=texas) / np.bincount(hour_utc)
    # Solar noon at 102.1°W is about 18:48 UTC; local midnight is 06:48 UTC.
    assert by_hour[4:11].max() == 0.0
    middle = (np.arange(24) + 0.5 - 6.8) % 24 + 6.8  # hour midpoints, unwrapped around 18:48
    centroid = float(np.dot(middle, by_hour) / by_hour.sum())
    assert 18.3 <= centroid <= 19.3


def test_clear_sky_is_an_upper_bound_and_the_cloudiness_seed_is_reproducible(year: np.ndarray) -> None:
    clear = solar_profile(
        ALBANY, year, cloudiness=Cloudiness(mean=0.999, sd=0.0, hourly_sd=0.0), degradation=0
    )
    cloudy = solar_profile(ALBANY, year, seed=1, degradation=0.0)
    assert cloudy.sum() < 0.75 * clear.sum()
    assert np.array_equal(cloudy, solar_profile(ALBANY, year, seed=1, degradation=0.0))
    assert not np.array_equal(cloudy, solar_profile(ALBANY, year, seed=2, degradation=0.0))


def test_degradation_fades_output_by_the_rate_each_operating_year() -> None:
    starts = years(2025, 3)
    fresh = solar_profile(WEST_TEXAS, starts, degradation=0.0)
    aged = solar_profile(WEST_TEXAS, starts, degradation=0.01)
    year_index = np.searchsorted([us("2026-01-01T00:00"), us("2027-01-01T00:00")], starts, side="right")
    lit = fresh > 0
    np.testing.assert_allclose(aged[lit] / fresh[lit], 0.99 ** year_index[lit], rtol=1e-12)


def test_typical_year_weather_uses_the_nearest_station_pvlib_ships(year: np.ndarray) -> None:
    assert nearest_station(36.07, -79.8)[0] == "723170TYA.CSV"  # Greensboro NC
    assert nearest_station(25.9, -80.3)[0] == "12839.tm2"  # Miami FL
    greensboro = solar_profile(SolarSite(36.1, -79.95, 50.0), year, weather="tmy", degradation=0.0)
    assert 0.17 <= greensboro.mean() / 50 <= 0.23
    # The typical year repeats whatever the calendar year.
    next_year = solar_profile(SolarSite(36.1, -79.95, 50.0), years(2027, 1), weather="tmy", degradation=0.0)
    assert abs(next_year.sum() / greensboro.sum() - 1) < 0.01


def test_uploaded_weather_on_the_same_hours_or_as_a_typical_year(year: np.ndarray) -> None:
    hour = (year // US_PER_HOUR) % 24
    # A crude clear day: sun between 13:00 and 23:00 UTC over West Texas.
    ghi = np.where((hour >= 13) & (hour <= 23), 800 * np.sin(np.pi * (hour - 12) / 12), 0.0)
    weather = Weather(year, ghi, temp_air=np.full(len(year), 25.0), wind_speed=np.full(len(year), 3.0))
    same = solar_profile(WEST_TEXAS, year, weather=weather, degradation=0.0)
    assert same.max() > 50.0 and same[(hour >= 3) & (hour <= 10)].max() == 0.0
    later = years(2028, 1)  # a leap year: 29 February repeats the 28th
    typical = solar_profile(WEST_TEXAS, later, weather=weather, degradation=0.0)
    assert typical.sum() > 0.9 * same.sum()
    with pytest.raises(PpaError, match="weather: hour 0 of the profile has no weather"):
        solar_profile(WEST_TEXAS, later, weather=Weather(year[:100], ghi[:100]))
    leap = years(2024, 1)[:8760]  # 8,760 hours of a leap year: 29 February and 28 February collide
    with pytest.raises(PpaError, match="weather: a typical year must hold each hour"):
        solar_profile(WEST_TEXAS, year, weather=Weather(leap, np.zeros(8760)))
    with pytest.raises(PpaError, match="weather: give both dni and dhi"):
        Weather(year, ghi, dni=ghi)
    with pytest.raises(PpaError, match="weather ghi: hour 0 is negative"):
        Weather(year[:2], np.array([-1.0, 0.0]))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("capacity_mw", 0.0, "capacity_mw: 0.0 is outside (0, inf]"),
        ("latitude", 95.0, "latitude: 95.0 is outside [-90, 90]"),
        ("losses", 1.0, "losses: 1.0 is outside [0, 1)"),
        ("tracking", "dual_axis", "tracking: 'dual_axis' is not fixed or single_axis"),
    ],
)
def test_bad_solar_sites_are_refused_naming_the_field(field: str, value: object, message: str) -> None:
    values: dict[str, object] = {"latitude": 30.0, "longitude": -100.0, "capacity_mw": 10.0, field: value}
    with pytest.raises(PpaError) as error:
        SolarSite(**values)  # type: ignore[arg-type]
    assert message in str(error.value)


def test_wind_power_curve_by_hand() -> None:
    curve = PowerCurve(np.array([3.0, 5.0, 10.0, 20.0]), np.array([0.0, 1.0, 3.0, 3.0]), cut_out=20.0)
    speed = np.array([0.0, 3.0, 4.0, 7.5, 10.0, 15.0, 20.0, 20.5])
    # Rated 3 MW: 4 m/s is half-way to 1/3 of rated, 7.5 m/s half-way from 1/3 to 1.
    assert curve.fraction(speed).tolist() == pytest.approx([0, 0, 1 / 6, 2 / 3, 1, 1, 1, 0])
    mwh = wind_profile(curve, speed, 150.0, losses=0.1)
    assert mwh.tolist() == pytest.approx([0, 0, 22.5, 90, 135, 135, 135, 0])
    generic = PowerCurve.generic()
    assert generic.fraction([2.0, 12.0, 24.0, 26.0]).tolist() == [0.0, 1.0, 1.0, 0.0]


def test_wind_speeds_are_sheared_to_hub_height_and_degradation_needs_hours() -> None:
    curve = PowerCurve(np.array([0.0, 20.0]), np.array([0.0, 20.0]))  # output proportional to speed
    sheared = wind_profile(curve, np.array([5.0]), 20.0, measured_height=10.0, hub_height=100.0, losses=0.0)
    assert sheared[0] == pytest.approx(5.0 * 10 ** (1 / 7))
    starts = np.array([us("2025-01-01T00:00"), us("2026-01-01T00:00")])
    aged = wind_profile(curve, np.array([10.0, 10.0]), 20.0, starts=starts, losses=0.0, degradation=0.02)
    assert aged.tolist() == pytest.approx([10.0, 9.8])
    with pytest.raises(PpaError, match="starts: needed to count operating years"):
        wind_profile(curve, np.array([10.0]), 20.0, degradation=0.02)
    with pytest.raises(PpaError, match="power curve speeds: must be >= 0 and strictly increasing"):
        PowerCurve(np.array([3.0, 3.0]), np.array([0.0, 1.0]))


def test_shape_profile_lays_an_8760_on_any_year_and_takes_hourly_shapes_as_given() -> None:
    shape = np.arange(8760, dtype=np.float64)
    leap = hours("2028-02-28T00:00", 72)  # 28 Feb, 29 Feb, 1 Mar of a leap year
    laid = shape_profile(shape, leap, scale=2.0)
    feb28 = 58 * 24
    assert laid[:24].tolist() == [2.0 * (feb28 + h) for h in range(24)]
    assert laid[24:48].tolist() == laid[:24].tolist()  # 29 February repeats the 28th
    assert laid[48] == 2.0 * 59 * 24  # 1 March is the typical year's day 59
    central = shape_profile(shape, hours("2025-01-01T06:00", 1), utc_offset_hours=-6)
    assert central.tolist() == [0.0]  # 06:00 UTC is midnight in US Central standard time
    direct = np.array([1.0, 2.0, 3.0])
    assert shape_profile(direct, hours("2025-01-01T00:00", 3)).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(PpaError, match="shape: 5 values; need one per hour start"):
        shape_profile(np.ones(5), hours("2025-01-01T00:00", 3))


def test_volume_uncertainty_p_levels_by_hand() -> None:
    one = VolumeUncertainty(interannual_sd=0.05)
    assert one.p_level(0.5) == 1.0
    assert one.p_level(0.9) == pytest.approx(1 - 1.2815515655 * 0.05, rel=1e-9)
    assert one.p_level(0.99) == pytest.approx(1 - 2.3263478740 * 0.05, rel=1e-9)
    both = VolumeUncertainty(interannual_sd=0.06, long_term_sd=0.04)
    # Over 10 years the weather averages out: sd = sqrt(0.04² + 0.06² / 10).
    assert both.sd(10) == pytest.approx((0.04**2 + 0.06**2 / 10) ** 0.5)
    assert both.p_level(0.9, years=10) == pytest.approx(1 - 1.2815515655 * both.sd(10), rel=1e-9)
    with pytest.raises(PpaError, match=r"exceedance: 1\.5 must be a probability"):
        one.p_level(1.5)
    with pytest.raises(PpaError, match=r"interannual_sd: -0\.1 must be a fraction"):
        VolumeUncertainty(-0.1)
