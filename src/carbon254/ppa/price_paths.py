"""The scenario engine's price-path model (`carbon254.scenarios.PathsStep`), drawn path by path in float32.

The model is the one `carbon254.scenarios.paths.simulate` draws for a
scenario: x = log(price / curve) starts at 0 and steps hourly, x[t] =
d * x[t-1] + sigma_h * eps[t] + J[t] with d = exp(-kappa / 24), sigma_h =
sigma / sqrt(8760) and J compound-Poisson log jumps N(jump_mean, jump_sd)
at `jump_intensity` per year; each hour is divided by the exact E[exp(x[t])],
so every hour's mean over paths is the curve, and hours whose curve price
is <= 0 move in level space (curve + scale * (ratio - 1), scale the mean
absolute curve price of the month).

What differs is only how the numbers are drawn, so that a 20-year hourly
PPA with 1,000 paths fits in seconds and a few hundred MB: paths are drawn
in chunks, in float32, each from its own random stream (path i of a seed is
the same path whatever the chunk size or thread that draws it), optionally
in antithetic pairs (the second path of a pair takes the first's diffusion
shocks with the opposite sign), the volatility is applied by the filter
itself, and a path's jumps are placed directly (a Poisson number over the
whole horizon at uniformly drawn hours: the same law as a Poisson count per
hour, without drawing one for every hour).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from carbon254.ppa.hourly import HOURS_PER_YEAR, Floats, Ints
from carbon254.scenarios import PathsStep

Floats32 = npt.NDArray[np.float32]


def path_generator(seed: int, path: int) -> np.random.Generator:
    """The random stream of path `path` of a run seeded with `seed` (independent of chunking and threads)."""
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(path,))))


def row_generators(seed: int, first: int, stop: int, antithetic: bool) -> list[np.random.Generator]:
    """The random stream of each path in [first, stop): its own, or its antithetic pair's (`first` even).

    With `antithetic`, paths 2k and 2k + 1 share one stream (the same object
    twice): the pair's diffusion shocks, then each path's jumps and further
    draws in path order.
    """
    if not antithetic:
        return [path_generator(seed, p) for p in range(first, stop)]
    if first % 2:
        raise ValueError(f"antithetic chunks start on an even path, not {first}")
    pairs = [path_generator(seed, k) for k in range(first // 2, (stop + 1) // 2)]
    return [pairs[(p - first) // 2] for p in range(first, stop)]


@dataclass(frozen=True, slots=True)
class PathModel:
    """A `PathsStep`'s model laid on one hourly curve ($/MWh), ready to draw paths.

    `offset` is log(curve) - log E[exp(x)] per hour (just the second term
    where the curve is <= 0); `low` the positions of those hours, with their
    curve and level-space scale.
    """

    step: PathsStep
    curve: Floats
    decay: float
    sigma_h: float
    jump_rate: float
    offset: Floats32
    low: Ints
    low_curve: Floats32
    low_scale: Floats32

    @staticmethod
    def of(step: PathsStep, curve: Floats, month_of_hour: Ints) -> PathModel:
        """The model of `step` around `curve` ($/MWh per hour), `month_of_hour` indexing each hour's month."""
        n = len(curve)
        decay = math.exp(-step.kappa / 24.0)
        sigma_h = step.sigma / math.sqrt(HOURS_PER_YEAR)
        rate = step.jump_intensity / HOURS_PER_YEAR
        # The same exact mean correction as the scenario engine: the variance of the filtered diffusion
        # and the cumulant of the decayed compound-Poisson jumps, hour by hour from x = 0.
        variance = lfilter([1.0], [1.0, -decay * decay], np.full(n, sigma_h * sigma_h))
        log_mean = np.asarray(variance, dtype=np.float64) / 2.0
        if rate > 0:
            u = decay ** np.arange(n, dtype=np.float64)
            log_mean = log_mean + rate * np.cumsum(np.expm1(u * step.jump_mean + u * u * step.jump_sd**2 / 2))
        positive = curve > 0
        offset = np.where(positive, np.log(np.where(positive, curve, 1.0)), 0.0) - log_mean
        low = np.flatnonzero(~positive).astype(np.int64)
        scale = np.bincount(month_of_hour, weights=np.abs(curve)) / np.maximum(np.bincount(month_of_hour), 1)
        return PathModel(
            step=step,
            curve=curve,
            decay=decay,
            sigma_h=sigma_h,
            jump_rate=rate,
            offset=offset.astype(np.float32),
            low=low,
            low_curve=curve[low].astype(np.float32),
            low_scale=scale[month_of_hour[low]].astype(np.float32),
        )

    @property
    def deterministic(self) -> bool:
        """Whether every path is the curve itself (no volatility, no jumps)."""
        return self.sigma_h == 0 and self.jump_rate == 0

    def draw(
        self,
        generators: Sequence[np.random.Generator],
        shocks: Floats32 | None = None,
        *,
        antithetic: bool = False,
    ) -> Floats32:
        """One path ($/MWh, float32) per generator (`row_generators`), as rows of a (paths x hours) matrix.

        With `antithetic`, rows 2k and 2k + 1 are a pair: the second's
        diffusion shocks are the first's with the opposite sign (each still
        follows the model; together they halve the normal draws and cancel
        much of the diffusion noise in means); jumps are drawn for each row.
        `shocks`, when given, is a (paths x hours) float32 buffer the draw may
        use as scratch (and leaves holding garbage).
        """
        n = len(self.curve)
        rows = len(generators)
        if self.deterministic:
            return np.broadcast_to(self.curve.astype(np.float32), (rows, n)).copy()
        buffer = np.empty((rows, n), dtype=np.float32) if shocks is None else shocks
        diffusion = self.sigma_h > 0
        for i, (row, generator) in enumerate(zip(buffer, generators, strict=True)):
            if not diffusion:
                row.fill(0.0)
            elif antithetic and i % 2:
                np.negative(buffer[i - 1], out=row)
            else:
                generator.standard_normal(dtype=np.float32, out=row)
        # The filter scales by sigma_h (its numerator), so jumps go in divided by it.
        gain = self.sigma_h if diffusion else 1.0
        if self.jump_rate > 0:
            for row, generator in zip(buffer, generators, strict=True):
                count = int(generator.poisson(self.jump_rate * n))
                if count:
                    at = generator.integers(0, n, count)
                    size = self.step.jump_mean + self.step.jump_sd * generator.standard_normal(count)
                    np.add.at(row, at, (size / gain).astype(np.float32))
        paths = np.asarray(
            lfilter(np.array([gain], np.float32), np.array([1.0, -self.decay], np.float32), buffer, axis=1),
            dtype=np.float32,
        )
        paths += self.offset
        np.exp(paths, out=paths)
        if len(self.low):
            ratio = paths[:, self.low]
            paths[:, self.low] = self.low_curve + self.low_scale * (ratio - np.float32(1.0))
        return paths
