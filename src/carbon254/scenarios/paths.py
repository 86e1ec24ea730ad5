"""Stochastic hourly price paths around an hourly curve: mean-reverting log deviations with jumps.

x = log(price / curve) starts at 0 and steps hourly,
x[t] = d * x[t-1] + sigma_h[t] * eps[t] + J[t], with d = exp(-kappa / 24)
(kappa per day), sigma_h = sigma / sqrt(8760) (sigma annualized, times the
scenario's volatility factor of the hour) and J the sum of a Poisson number
(intensity per year / 8760 per hour) of N(jump_mean, jump_sd) log jumps;
mean reversion pulls jumps back out. Every hour is divided by the exact
E[exp(x[t])] of this discrete process, so each hour's mean over paths is the
curve. Hours whose curve price is <= 0, where a ratio means nothing, move in
level space: price = curve + scale * (exp(x) / E[exp(x)] - 1), with scale
the mean absolute curve price of the hour's month. The recursion runs as a
linear filter over all paths at once (SciPy `lfilter`), not a Python loop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from carbon254.scenarios.model import PathsStep

Floats = npt.NDArray[np.float64]
HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True, slots=True)
class PricePaths:
    """Simulated hourly prices of one hub: `values[path, hour]` ($/MWh) at UTC `starts` (int64 micros)."""

    iso: str
    hub: str
    starts: npt.NDArray[np.int64]
    values: Floats

    @property
    def n_paths(self) -> int:
        """Number of paths."""
        return int(self.values.shape[0])


def path_rng(seed: int, step_index: int, hub: str) -> np.random.Generator:
    """The random stream of one paths step and hub: the same seed, step and hub give the same numbers."""
    hub_key = int.from_bytes(hashlib.sha256(hub.encode()).digest()[:4], "big")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(step_index, hub_key))))


def simulate(
    step: PathsStep,
    curve: Floats,
    month: npt.NDArray[np.int64],
    vol_scale: Floats,
    rng: np.random.Generator,
) -> Floats:
    """Paths (n_paths x hours, $/MWh) around hourly `curve` ($/MWh).

    `month` indexes each hour's month (for the level-space scale of hours
    priced <= 0); `vol_scale` multiplies each hour's diffusion volatility.
    """
    n = len(curve)
    decay = float(np.exp(-step.kappa / 24.0))
    sigma_h = step.sigma / np.sqrt(HOURS_PER_YEAR) * vol_scale
    shocks = rng.standard_normal((step.n_paths, n)) * sigma_h[None, :]
    rate = step.jump_intensity / HOURS_PER_YEAR
    if rate > 0:
        counts = rng.poisson(rate, (step.n_paths, n))
        jumped = counts > 0
        k = counts[jumped].astype(np.float64)
        shocks[jumped] += k * step.jump_mean + np.sqrt(k) * step.jump_sd * rng.standard_normal(len(k))
    x = lfilter([1.0], [1.0, -decay], shocks, axis=1)
    variance = lfilter([1.0], [1.0, -decay * decay], sigma_h * sigma_h)
    log_mean = variance / 2.0
    if rate > 0:
        u = decay ** np.arange(n, dtype=np.float64)
        log_mean = log_mean + rate * np.cumsum(np.expm1(u * step.jump_mean + u * u * step.jump_sd**2 / 2))
    ratio = np.exp(x - log_mean[None, :])
    values: Floats = curve[None, :] * ratio
    low = curve <= 0
    if low.any():
        scale = np.bincount(month, weights=np.abs(curve)) / np.maximum(np.bincount(month), 1)
        values[:, low] = curve[None, low] + scale[month[low]][None, :] * (ratio[:, low] - 1.0)
    return values
