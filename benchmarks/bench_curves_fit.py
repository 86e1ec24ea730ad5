"""The maximum smoothness curve fit (sparse KKT solve) against a straightforward CVXPY formulation.

Case: one PJM hub marked on 2026-12-10 with 60 quotes priced off a known
monthly onpeak/offpeak curve (so they are consistent): BOM and 18 months
onpeak and offpeak, 8 quarters alternating onpeak/offpeak, 4 seasons ATC
and 5 calendar years onpeak and offpeak; quarters, seasons and calendars
overlap. Ours is `fit_monthly_curve` end to end (block hours, reconciliation,
KKT assembly, LU solve, monthly prices), median of 25 runs. The baseline
builds the same QP in CVXPY (same piecewise quartic coefficients, roughness
objective, continuity, end and quote constraints) and solves it with the
default solver, median of 5 runs, including building the problem. Both must
give the same monthly prices (max abs difference < 1e-4 $/MWh).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import cvxpy
import numpy as np
import numpy.typing as npt

from carbon254.curves import CurveFit, Quote, day_hours, fit_monthly_curve, parse_contract
from carbon254.timeseries.periods import Block

AS_OF = date(2026, 12, 10)
ISO = "PJM"
OURS_RUNS = 25
CVXPY_RUNS = 5
Floats = npt.NDArray[np.float64]
# CVXPY's atoms are re-exported dynamically, which its type hints do not describe.
cp: Any = cvxpy


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _contracts() -> list[tuple[str, Block]]:
    both = (Block.ONPEAK, Block.OFFPEAK)
    months = [date(2027 + i // 12, i % 12 + 1, 1) for i in range(18)]
    quarters = ["Q3 28", "Q4 28", "Q1 29", "Q2 29", "Q3 29", "Q4 29", "Q1 30", "Q2 30"]
    return [
        *(("BOM", b) for b in both),
        *((f"{m:%b%y}", b) for m in months for b in both),
        *((q, both[i % 2]) for i, q in enumerate(quarters)),
        *((s, Block.ATC) for s in ("Sum28", "Win29", "Sum29", "Win30")),
        *((f"Cal{y}", b) for y in range(28, 33) for b in both),
    ]


def quotes() -> list[Quote]:
    """60 consistent quotes priced off a seasonal monthly onpeak/offpeak curve ($/MWh)."""
    start, end = date(2026, 12, 11), date(2033, 1, 1)
    hours = day_hours(ISO, start, end)
    day_month = np.arange(np.datetime64(start), np.datetime64(end)).astype("datetime64[M]").astype(np.int64)
    month_no = day_month % 12
    offpeak = 32 + 9 * np.cos(2 * np.pi * (month_no - 7) / 12) + 0.02 * (day_month - day_month[0])
    onpeak = offpeak * 1.45 + 6 * np.isin(month_no, (6, 7))
    out = []
    for line, (label, block) in enumerate(_contracts(), start=2):
        c = parse_contract(label, block, AS_OF)
        lo, hi = (c.start - start).days, (c.end - start).days
        w_on = hours.onpeak[lo:hi] * (block is not Block.OFFPEAK)
        w_off = (hours.two_by_16 + hours.seven_by_8)[lo:hi] * (block is not Block.ONPEAK)
        price = (w_on @ onpeak[lo:hi] + w_off @ offpeak[lo:hi]) / (w_on.sum() + w_off.sum())
        out.append(Quote(c, float(price), line))
    return out


def cvxpy_monthly(quotes: list[Quote], fit: CurveFit) -> Floats:
    """Solve the same QP with CVXPY on the fit's knots and base blocks; monthly onpeak/offpeak prices."""
    start = fit.start
    knots = fit.knots.astype(np.int64)
    h = np.diff(fit.knots)
    n = len(h)
    end = date.fromordinal(start.toordinal() + int(knots[-1]))
    hours = day_hours(ISO, start, end)
    w = {Block.ONPEAK: hours.onpeak, Block.OFFPEAK: hours.two_by_16 + hours.seven_by_8}
    coef = {b: cp.Variable((n, 5)) for b in w}
    days = np.arange(knots[-1])
    piece = np.searchsorted(knots, days, side="right") - 1
    a = (days - knots[piece]) / h[piece]
    k = np.arange(5)
    # Integral over a day of u^k, u = (t - t_j) / h_j.
    hd = h[piece, None]
    integral = hd / (k + 1) * ((a[:, None] + 1 / hd) ** (k + 1) - a[:, None] ** (k + 1))
    select = np.zeros((len(days), n))
    select[days, piece] = 1.0
    daily = {b: cp.sum(cp.multiply(select @ coef[b], integral), axis=1) for b in w}
    constraints = []
    for q in quotes:
        lo, hi = (q.contract.start - start).days, (q.contract.end - start).days
        parts = list(w) if q.contract.block is Block.ATC else [q.contract.block]
        total = sum(float(w[b][lo:hi].sum()) for b in parts)
        constraints.append(sum(w[b][lo:hi] @ daily[b][lo:hi] for b in parts) / total == q.price)
    falling = [np.array([np.prod(np.arange(kk - m + 1, kk + 1)) if kk >= m else 0.0 for kk in k]) for m in k]
    nodes, gauss = np.polynomial.legendre.leggauss(3)
    rough = []
    for b in w:
        c = coef[b]
        for m in range(3):
            for j in range(n - 1):
                right = c[j + 1, m] * falling[m][m] / h[j + 1] ** m
                constraints.append(c[j] @ falling[m] / h[j] ** m == right)
        constraints.append(c[n - 1] @ falling[1] == 0)
        for x, g in zip((nodes + 1) / 2, gauss / 2, strict=True):
            second = np.where(k >= 2, k * (k - 1) * x ** np.maximum(k - 2, 0), 0.0)
            rough.append(cp.multiply(np.sqrt(g * h) / h**2 * float(np.mean(h)) ** 1.5, c @ second))
    problem = cp.Problem(cp.Minimize(cp.sum_squares(cp.hstack(rough))), constraints)
    problem.solve()
    months = fit.curve.months
    prices = np.zeros((len(months), 2))
    for i, month in enumerate(months):
        lo, hi = max((month - start).days, 0), (_next_month(month) - start).days
        for j, b in enumerate(w):
            prices[i, j] = w[b][lo:hi] @ np.asarray(daily[b].value)[lo:hi] / w[b][lo:hi].sum()
    return prices


def _median_seconds(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@dataclass(frozen=True, slots=True)
class FitTiming:
    """The 60-quote fit, ours against CVXPY: median seconds of each and the largest price gap ($/MWh)."""

    quotes: int
    implied: int
    months: int
    ours_s: float
    cvxpy_s: float
    max_diff: float


def measure() -> FitTiming:
    """Median fit times of ours and CVXPY on the 60-quote case; raises if their prices differ by 1e-4."""
    case = quotes()

    def ours() -> CurveFit:
        return fit_monthly_curve(case, iso=ISO, hub="WESTERN HUB", as_of=AS_OF)

    fit = ours()  # warm the block-hour and time-zone caches, as a running service would have them
    kept = [q for q in case if all(q is not i.quote for i in fit.implied)]
    ours_s = _median_seconds(OURS_RUNS, ours)
    baseline: list[Floats] = []
    cvxpy_s = _median_seconds(CVXPY_RUNS, lambda: baseline.append(cvxpy_monthly(kept, fit)))
    diff = float(np.abs(fit.curve.prices[:, :2] - baseline[-1]).max())
    if diff >= 1e-4:
        raise AssertionError(f"CVXPY and the KKT solve disagree by {diff} $/MWh")
    return FitTiming(len(case), len(fit.implied), len(fit.curve.months), ours_s, cvxpy_s, diff)
