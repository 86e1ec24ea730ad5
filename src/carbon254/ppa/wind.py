"""Hourly wind generation from a turbine power curve and a wind-speed series.

Speeds measured at one height are carried to the hub height with the power
law (v_hub = v * (hub / measured) ** shear); each hour's output is the
power curve at that speed (linear between its points, zero below the first
and above the cut-out), as a fraction of the curve's rated power, times the
plant's capacity, less `losses` (wakes, availability, electrical), faded by
`degradation` per operating year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.ppa.degradation import degradation_factors
from carbon254.ppa.errors import PpaError
from carbon254.ppa.hourly import Floats, check_starts, check_values


@dataclass(frozen=True, slots=True)
class PowerCurve:
    """A turbine's power curve: output (MW, or any unit) at wind speeds (m/s), rated = the largest output.

    `speeds` strictly increasing and >= 0; output >= 0; `cut_out` (m/s) is
    where the turbine stops (default: the last speed of the curve).
    """

    speeds: Floats
    power: Floats
    cut_out: float | None = None

    def __post_init__(self) -> None:
        speeds = np.asarray(self.speeds, dtype=np.float64)
        power = np.asarray(self.power, dtype=np.float64)
        if speeds.ndim != 1 or len(speeds) < 2 or len(speeds) != len(power):
            raise PpaError(
                f"power curve: {len(speeds)} speeds for {len(power)} outputs; need two or more pairs"
            )
        if not (np.isfinite(speeds).all() and np.isfinite(power).all()):
            raise PpaError("power curve: speeds and outputs must be finite")
        if (speeds < 0).any() or (np.diff(speeds) <= 0).any():
            raise PpaError("power curve speeds: must be >= 0 and strictly increasing (m/s)")
        if (power < 0).any() or power.max() <= 0:
            raise PpaError("power curve power: outputs must be >= 0 with a positive rated output")
        if self.cut_out is not None and not (math.isfinite(self.cut_out) and self.cut_out > speeds[0]):
            raise PpaError(f"power curve cut_out: {self.cut_out!r} m/s must be above the first speed")
        object.__setattr__(self, "speeds", speeds)
        object.__setattr__(self, "power", power)

    @staticmethod
    def generic() -> PowerCurve:
        """A generic onshore curve: cut-in 3 m/s, rated at 12 m/s (cubic in between), cut-out 25 m/s."""
        ramp = np.arange(3.0, 12.01, 0.5)
        fraction = (ramp**3 - 27.0) / (12.0**3 - 27.0)
        speeds = np.concatenate(([0.0, 2.99], ramp, [25.0]))
        return PowerCurve(speeds, np.concatenate(([0.0, 0.0], fraction, [1.0])), cut_out=25.0)

    def fraction(self, speed: npt.ArrayLike) -> Floats:
        """Output as a fraction of rated power at each wind speed (m/s)."""
        v = np.asarray(speed, dtype=np.float64)
        out = np.interp(v, self.speeds, self.power / self.power.max(), left=0.0, right=0.0)
        cut_out = self.cut_out if self.cut_out is not None else float(self.speeds[-1])
        return np.asarray(np.where(v > cut_out, 0.0, out), dtype=np.float64)


def wind_profile(
    curve: PowerCurve,
    wind_speed: npt.ArrayLike,
    capacity_mw: float,
    *,
    starts: npt.ArrayLike | None = None,
    measured_height: float | None = None,
    hub_height: float | None = None,
    shear: float = 1.0 / 7.0,
    losses: float = 0.1,
    degradation: float = 0.0,
) -> Floats:
    """Hourly generation (MWh per hour) of a `capacity_mw` wind plant from hourly wind speeds (m/s).

    Give both `measured_height` and `hub_height` (m) to shear the speeds up
    to the hub. `starts` (µs UTC hour starts) are needed only for
    `degradation` (a yearly fraction). Raises `PpaError` naming a bad input.
    """
    speed = np.asarray(wind_speed, dtype=np.float64)
    speed = check_values("wind_speed", speed, len(speed), nonnegative=True)
    if not (math.isfinite(capacity_mw) and capacity_mw > 0):
        raise PpaError(f"capacity_mw: {capacity_mw!r} must be positive")
    if not (math.isfinite(losses) and 0 <= losses < 1):
        raise PpaError(f"losses: {losses!r} must be a fraction in [0, 1)")
    if (measured_height is None) != (hub_height is None):
        raise PpaError("measured_height/hub_height: give both to shear the speeds, or neither")
    if measured_height is not None and hub_height is not None:
        if not (measured_height > 0 and hub_height > 0):
            raise PpaError("measured_height/hub_height: heights must be positive (m)")
        if not (math.isfinite(shear) and 0 <= shear < 1):
            raise PpaError(f"shear: {shear!r} must be an exponent in [0, 1)")
        speed = speed * (hub_height / measured_height) ** shear
    mwh = curve.fraction(speed) * capacity_mw * (1.0 - losses)
    if degradation:
        if starts is None:
            raise PpaError("starts: needed to count operating years for degradation")
        stamps = check_starts(starts)
        if len(stamps) != len(mwh):
            raise PpaError(f"starts: {len(stamps)} hour starts for {len(mwh)} wind speeds")
        mwh = mwh * degradation_factors(stamps, degradation)
    return np.asarray(mwh, dtype=np.float64)
