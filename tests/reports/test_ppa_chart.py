"""The PPA NPV histogram: every path counted, P-levels, mean and curve value where they are, PNG bytes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from carbon254.ppa import DiscountCurve, PpaDistribution, PpaError, parse_contract, simulate_ppa
from carbon254.reports.ppa_chart import npv_histogram, npv_png
from carbon254.scenarios import PathsStep

US_PER_HOUR = 3_600_000_000
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00Z


def _distribution() -> PpaDistribution:
    starts = START_US + np.arange(24 * 60, dtype=np.int64) * US_PER_HOUR
    hour = (starts // US_PER_HOUR) % 24
    curve = 40 + 15 * np.cos(2 * np.pi * (hour - 21) / 24)
    solar = np.clip(np.sin(np.pi * (hour - 13) / 11), 0, None) * 200.0
    return simulate_ppa(
        parse_contract({"type": "collar", "floor": 30, "cap": 50}),
        starts,
        curve,
        solar,
        DiscountCurve.flat(0.07),
        model=PathsStep(n_paths=300, sigma=6.0),
        seed=2,
        side="seller",
    )


def test_png_bytes() -> None:
    png = npv_png(_distribution(), "200 MW solar collar at HB_WEST")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000


def test_every_path_is_in_a_bar_and_the_levels_sit_at_their_values() -> None:
    distribution = _distribution()
    figure = npv_histogram(distribution, "collar", bins=25)
    (axes,) = figure.axes
    bars = [p for p in axes.patches if isinstance(p, Rectangle)]
    assert len(bars) == 25
    assert sum(bar.get_height() for bar in bars) == distribution.n_paths
    lines = {line.get_label().split(" ")[0]: line for line in axes.lines}
    assert set(lines) == {"P90", "P50", "P10", "mean", "on"}
    millions = distribution.npv / 1e6
    assert lines["P90"].get_xdata()[0] == pytest.approx(np.percentile(millions, 10))
    assert lines["P10"].get_xdata()[0] == pytest.approx(np.percentile(millions, 90))
    assert lines["mean"].get_xdata()[0] == pytest.approx(millions.mean())
    assert lines["on"].get_xdata()[0] == pytest.approx(distribution.deterministic.npv / 1e6)
    assert axes.get_xlabel() == "NPV to the seller ($ million)"
    assert axes.get_title() == "collar"


def test_nothing_to_draw_or_no_bins_is_refused() -> None:
    distribution = _distribution()
    with pytest.raises(PpaError, match="bins: 0 must be at least 1"):
        npv_histogram(distribution, "", bins=0)
    empty = dataclasses.replace(distribution, npv=np.full(3, np.nan))
    with pytest.raises(PpaError, match="distribution: no finite NPV to draw"):
        npv_histogram(empty, "")
