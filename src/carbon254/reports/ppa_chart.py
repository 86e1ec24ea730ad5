"""A PPA's Monte Carlo NPV distribution as a histogram, with its P-levels marked.

One panel: the per-path NPVs in millions of dollars, vertical lines at the
P90 / P50 / P10 NPVs (the values exceeded on 90%, 50% and 10% of paths),
the mean, and the deterministic value on the curve, so a developer sees at
a glance how far the contract can swing and which way it leans.
"""

from __future__ import annotations

from io import BytesIO

import numpy as np
from matplotlib.figure import Figure

from carbon254.ppa import PpaDistribution, PpaError

_BAR_COLOR = "#5d8aa8"
_LEVEL_COLOR = "#c0392b"
_MEAN_COLOR = "#17202a"
_CURVE_COLOR = "#229954"
_MILLION = 1e6


def npv_histogram(distribution: PpaDistribution, title: str, bins: int = 40) -> Figure:
    """A histogram of the per-path NPV ($ million) of `distribution` with P90, P50, P10, mean, curve value.

    `bins` is the number of histogram bars (at least 1). Raises `PpaError`
    when the distribution has no finite NPV.
    """
    if bins < 1:
        raise PpaError(f"bins: {bins!r} must be at least 1")
    npv = np.asarray(distribution.npv, dtype=np.float64)
    npv = npv[np.isfinite(npv)]
    if len(npv) == 0:
        raise PpaError("distribution: no finite NPV to draw")
    # A bare Figure (no pyplot): no global backend state, safe on a server's worker threads.
    figure = Figure(figsize=(9, 5), dpi=110)
    axes = figure.subplots()
    axes.hist(npv / _MILLION, bins=bins, color=_BAR_COLOR, alpha=0.85, label=f"{len(npv):,} paths")
    levels = (("P90", 0.9, ":"), ("P50", 0.5, "-"), ("P10", 0.1, "--"))
    for label, probability, style in levels:
        value = float(np.percentile(npv, 100.0 * (1.0 - probability)))
        axes.axvline(
            value / _MILLION,
            color=_LEVEL_COLOR,
            linestyle=style,
            linewidth=1.4,
            label=f"{label} {value / _MILLION:,.2f}",
        )
    mean = float(npv.mean())
    axes.axvline(mean / _MILLION, color=_MEAN_COLOR, linewidth=1.2, label=f"mean {mean / _MILLION:,.2f}")
    curve = distribution.deterministic.npv
    axes.axvline(
        curve / _MILLION,
        color=_CURVE_COLOR,
        linestyle="-.",
        linewidth=1.2,
        label=f"on the curve {curve / _MILLION:,.2f}",
    )
    axes.set_xlabel(f"NPV to the {distribution.side} ($ million)")
    axes.set_ylabel("paths")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    return figure


def npv_png(distribution: PpaDistribution, title: str, bins: int = 40) -> bytes:
    """`npv_histogram` as PNG bytes."""
    figure = npv_histogram(distribution, title, bins)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
