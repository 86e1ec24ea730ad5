"""Battery wear: a cycle-depth (Wöhler) curve, the cycle life a SOC path uses, and state of health by year.

A cell's cycle life depends on how deep its cycles are: makers publish the
number of cycles to end of life (usually 80 % of the nameplate energy) at a
few depths of discharge, and the points lie close to a straight line on
log-log axes. Rainflow counting splits a state-of-charge path into cycles;
each cycle of depth d uses 1 / N(d) of the cycle life (Miner's rule). A
projection repeats a schedule's wear year after year, adds calendar fade,
and follows the capacity an owner's augmentation adds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import polars as pl

from carbon254.battery.asset import Battery, BatteryError
from carbon254.battery.rainflow import count_cycles
from carbon254.battery.schedule import Schedule

Floats = npt.NDArray[np.float64]

DAYS_PER_YEAR = 365.0
# SOC a hair above the capacity (solver round-off) still counts as a full-depth cycle, not an error.
_DEPTH_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class CycleDepthCurve:
    """Cycles to end of life as a function of depth of discharge (a fraction of capacity), log-log.

    `depths` (strictly increasing, each in (0, 1]) and `cycles` (strictly
    decreasing: deeper cycles wear faster, each positive) are a maker's
    published points; between them N(depth) is interpolated linearly in
    log(depth)-log(cycles), and beyond them the nearest segment's power law
    is extended. `end_of_life_soh` is the state of health (fraction of
    nameplate energy) the cycle counts run to, e.g. 0.8; `calendar_fade_per_year`
    the capacity lost each year whatever the cycling (fraction of nameplate
    per year, 0 when the maker's figures already include it).
    """

    depths: tuple[float, ...]
    cycles: tuple[float, ...]
    end_of_life_soh: float = 0.8
    calendar_fade_per_year: float = 0.0

    def __post_init__(self) -> None:
        if len(self.depths) != len(self.cycles):
            raise BatteryError(
                f"cycle-depth curve: {len(self.depths)} depths for {len(self.cycles)} cycle counts"
            )
        if len(self.depths) < 2:
            raise BatteryError("cycle-depth curve: depths need at least two points (a slope)")
        for depth in self.depths:
            if not (math.isfinite(depth) and 0 < depth <= 1):
                raise BatteryError(f"cycle-depth curve: depth {depth!r} must be in (0, 1]")
        for count in self.cycles:
            if not (math.isfinite(count) and count > 0):
                raise BatteryError(f"cycle-depth curve: cycles {count!r} must be a positive number")
        if any(b <= a for a, b in pairwise(self.depths)):
            raise BatteryError("cycle-depth curve: depths must be strictly increasing")
        if any(b >= a for a, b in pairwise(self.cycles)):
            raise BatteryError("cycle-depth curve: cycles must fall strictly as depth grows")
        if not (math.isfinite(self.end_of_life_soh) and 0 < self.end_of_life_soh < 1):
            raise BatteryError(f"end_of_life_soh: {self.end_of_life_soh!r} must be in (0, 1)")
        fade = self.calendar_fade_per_year
        if not (math.isfinite(fade) and 0 <= fade < 1):
            raise BatteryError(f"calendar_fade_per_year: {fade!r} must be in [0, 1)")

    @classmethod
    def from_points(
        cls,
        points: Sequence[tuple[float, float]],
        *,
        end_of_life_soh: float = 0.8,
        calendar_fade_per_year: float = 0.0,
    ) -> CycleDepthCurve:
        """A curve from (depth of discharge, cycles to end of life) pairs, sorted by depth here."""
        ordered = sorted(points)
        return cls(
            tuple(float(d) for d, _ in ordered),
            tuple(float(n) for _, n in ordered),
            end_of_life_soh,
            calendar_fade_per_year,
        )

    @classmethod
    def lithium_iron_phosphate(cls) -> CycleDepthCurve:
        """Typical LFP (lithium iron phosphate) figures: cycles to 80 % health, 1 %/year calendar fade.

        The points (100 % depth: 3,000 cycles; 80 %: 4,000; 50 %: 7,000;
        20 %: 25,000; 10 %: 60,000) are the shape LFP datasheets for
        stationary storage commonly publish at 25 °C and about 0.5C, and
        the 1 % a year calendar fade is a middle-of-the-range figure for
        cells held at moderate temperature. They are typical, not any
        particular cell's warranty; use a supplier's own curve for a real
        project.
        """
        return cls.from_points(
            [(1.0, 3_000.0), (0.8, 4_000.0), (0.5, 7_000.0), (0.2, 25_000.0), (0.1, 60_000.0)],
            end_of_life_soh=0.8,
            calendar_fade_per_year=0.01,
        )

    def cycles_to_end_of_life(self, depth: float) -> float:
        """N(depth): the cycles of this depth (fraction of capacity, (0, 1]) a cell lasts to end of life."""
        if not (math.isfinite(depth) and 0 < depth <= 1 + _DEPTH_TOLERANCE):
            raise BatteryError(f"depth {depth!r} must be in (0, 1]")
        return float(self._cycles(np.array([min(depth, 1.0)]))[0])

    def _cycles(self, depth: Floats) -> Floats:
        """N at each of `depth` (all in (0, 1]), log-log, the end segments extended as power laws."""
        x = np.log(np.asarray(self.depths))
        y = np.log(np.asarray(self.cycles))
        z = np.log(depth)
        # Which segment each depth falls in (the first or last beyond the points), then its straight line.
        segment = np.clip(np.searchsorted(x, z) - 1, 0, len(x) - 2)
        slope = (y[segment + 1] - y[segment]) / (x[segment + 1] - x[segment])
        return np.asarray(np.exp(y[segment] + slope * (z - x[segment])), dtype=np.float64)


def cycle_damage(soc_mwh: Sequence[float] | Floats, energy_mwh: float, curve: CycleDepthCurve) -> float:
    """The fraction of cycle life a state-of-charge path (MWh) uses: Σ count / N(depth) over its cycles.

    The path is divided by `energy_mwh` (the capacity depths are measured
    against) and rainflow-counted; a full cycle counts 1, a half 0.5. A
    depth above 1 (the path leaves the capacity) raises `BatteryError`.
    """
    if not (math.isfinite(energy_mwh) and energy_mwh > 0):
        raise BatteryError(f"energy_mwh: {energy_mwh!r} must be a positive number")
    path = np.asarray(soc_mwh, dtype=np.float64)
    if not np.isfinite(path).all():
        raise BatteryError(f"soc_mwh: value {int(np.argmin(np.isfinite(path)))} is not finite")
    cycles = count_cycles(path / energy_mwh)
    depth = np.array([c.range for c in cycles], dtype=np.float64)
    count = np.array([c.count for c in cycles], dtype=np.float64)
    if len(depth) and depth.max() > 1 + _DEPTH_TOLERANCE:
        raise BatteryError(
            f"soc_mwh: a cycle {depth.max() * energy_mwh:.6g} MWh deep exceeds energy_mwh {energy_mwh}"
        )
    used = depth > 0
    if not used.any():
        return 0.0
    return float((count[used] / curve._cycles(np.minimum(depth[used], 1.0))).sum())


@dataclass(frozen=True, slots=True)
class HealthYear:
    """One project year at its end: state of health, capacity (MWh), equivalent full cycles, cycle damage.

    `soh` is the original cells' energy as a fraction of the original
    nameplate; `capacity_mwh` that energy plus the augmentation installed so
    far, each tranche faded by its own age; `cycles` the year's discharged
    energy over the nameplate (equivalent full cycles); `damage` the
    fraction of cycle life the year's cycling uses.
    """

    year: int
    soh: float
    capacity_mwh: float
    cycles: float
    damage: float


@dataclass(frozen=True, slots=True)
class HealthProjection:
    """A schedule's wear repeated over a project life: one `HealthYear` per year, and end of life.

    `end_of_life_year` is the first year whose end finds the original
    capacity at or below the curve's end-of-life state of health (None: not
    within the projection). `nameplate_mwh` is the original energy.
    """

    nameplate_mwh: float
    end_of_life_soh: float
    years: tuple[HealthYear, ...]
    end_of_life_year: int | None

    def table(self) -> pl.DataFrame:
        """The years as a table: year, soh (fraction), capacity_mwh (MWh), cycles, damage (fraction)."""
        return pl.DataFrame(
            {
                "year": [y.year for y in self.years],
                "soh": [y.soh for y in self.years],
                "capacity_mwh": [y.capacity_mwh for y in self.years],
                "cycles": [y.cycles for y in self.years],
                "damage": [y.damage for y in self.years],
            },
            schema={
                "year": pl.Int64,
                "soh": pl.Float64,
                "capacity_mwh": pl.Float64,
                "cycles": pl.Float64,
                "damage": pl.Float64,
            },
        )


def state_of_health(
    schedule: Schedule, battery: Battery, curve: CycleDepthCurve, years: int
) -> HealthProjection:
    """Project a schedule's wear over `years` project years: state of health and capacity (MWh) by year.

    The schedule's SOC path (from `battery.initial_soc_mwh`) is rainflow-
    counted against the nameplate `battery.energy_mwh` and its damage scaled
    to a year (× 365 days / the horizon's days); every year is assumed to
    cycle alike. At the end of year y the original cells hold
    SOH_y = 1 − (1 − end_of_life_soh) × y × yearly damage − y × calendar fade
    of the nameplate (never below 0). Each `battery.augmentation` tranche
    (MWh) is installed at the start of its year and fades at the same rate
    from then on. Depths stay measured against the nameplate every year:
    slightly optimistic as the cells fade (the same MWh is a deeper cycle
    of less energy), conservative after augmentation (the same swing is
    spread over more cells).
    """
    if years < 1:
        raise BatteryError(f"years: {years!r} must be 1 or more")
    if len(schedule) == 0:
        raise BatteryError("schedule: no intervals to project")
    horizon_days = len(schedule) * schedule.interval_hours / 24.0
    per_year = DAYS_PER_YEAR / horizon_days
    path = np.concatenate([[battery.initial_soc_mwh], np.asarray(schedule.soc_mwh, dtype=np.float64)])
    damage = cycle_damage(path, battery.energy_mwh, curve) * per_year
    cycles = schedule.equivalent_cycles(battery.energy_mwh) * per_year
    # Capacity lost per year of age (fraction of a tranche's own nameplate): cycle wear plus calendar fade.
    fade = (1.0 - curve.end_of_life_soh) * damage + curve.calendar_fade_per_year

    def health(age: float) -> float:
        return max(0.0, 1.0 - fade * age)

    rows: list[HealthYear] = []
    end_of_life: int | None = None
    for year in range(1, years + 1):
        soh = health(year)
        installed = [step for step in battery.augmentation if step.year <= year]
        augmented = sum(step.energy_mwh * health(year - step.year + 1) for step in installed)
        rows.append(HealthYear(year, soh, battery.energy_mwh * soh + augmented, cycles, damage))
        if end_of_life is None and soh <= curve.end_of_life_soh:
            end_of_life = year
    return HealthProjection(battery.energy_mwh, curve.end_of_life_soh, tuple(rows), end_of_life)


def throughput_cost_per_mwh(curve: CycleDepthCurve, replacement_cost_per_kwh: float, depth: float) -> float:
    """The degradation cost ($/MWh discharged) a curve implies when cycling at `depth` (fraction, (0, 1]).

    Replacing the cells costs `replacement_cost_per_kwh` ($/kWh of capacity
    E); they deliver N(depth) cycles of depth × E before end of life, so
    each MWh through them costs replacement × E / (N(depth) × depth × E) =
    1000 × replacement_cost_per_kwh / (N(depth) × depth). This is the
    number to give the optimizer as `Battery.degradation_cost`.
    """
    if not (math.isfinite(replacement_cost_per_kwh) and replacement_cost_per_kwh >= 0):
        raise BatteryError(
            f"replacement_cost_per_kwh: {replacement_cost_per_kwh!r} must be a non-negative $/kWh"
        )
    if not (math.isfinite(depth) and 0 < depth <= 1):
        raise BatteryError(f"depth: {depth!r} must be in (0, 1]")
    return 1000.0 * replacement_cost_per_kwh / (curve.cycles_to_end_of_life(depth) * depth)
