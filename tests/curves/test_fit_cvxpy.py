"""The fit against an independent CVXPY formulation of the same quadratic programme.

Built separately from the library's assembly: day integrals and the
roughness integral by Gauss-Legendre quadrature (exact for these degrees),
continuity written on the unscaled derivatives, a generic conic solver.
"""

from datetime import date

import cvxpy as cp
import numpy as np
from curves_fit_helpers import next_month

from carbon254.curves import Quote, day_hours, fit_monthly_curve, parse_contract
from carbon254.timeseries.periods import Block

AS_OF = date(2026, 12, 10)
LABELS = [
    *(f"{m}27" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")),
    "Q3 27",
    "Q1 28",
]


def twenty_quotes() -> list[Quote]:
    rng = np.random.default_rng(7)
    quotes = [
        Quote(parse_contract(label, block, AS_OF), float(rng.uniform(25, 80)), i)
        for i, (label, block) in enumerate(
            [(lbl, blk) for lbl in LABELS for blk in (Block.ONPEAK, Block.OFFPEAK)], start=2
        )
    ]
    more = [("BOM", Block.ATC), ("Q4 27", Block.ATC), ("Cal28", Block.ATC), ("Sum28", Block.ONPEAK)]
    for label, block in more:
        quotes.append(Quote(parse_contract(label, block, AS_OF), float(rng.uniform(25, 80)), len(quotes) + 2))
    assert len(quotes) == 20
    return quotes


def cvxpy_monthly(quotes: list[Quote], iso: str) -> tuple[list[date], np.ndarray]:
    start = min(q.contract.start for q in quotes)
    end = max(q.contract.end for q in quotes)
    months = [start.replace(day=1)]
    while next_month(months[-1]) < end:
        months.append(next_month(months[-1]))
    cuts = {start, end, *months[1:], *(q.contract.start for q in quotes), *(q.contract.end for q in quotes)}
    knots = np.array(sorted((d - start).days for d in cuts))
    h = np.diff(knots).astype(float)
    n = len(h)
    hours = day_hours(iso, start, end)
    w = {Block.ONPEAK: hours.onpeak, Block.OFFPEAK: hours.two_by_16 + hours.seven_by_8}
    coef = {b: cp.Variable((n, 5)) for b in w}
    nodes, gauss = np.polynomial.legendre.leggauss(3)
    x01, g01 = (nodes + 1) / 2, gauss / 2

    days = np.arange(knots[-1])
    piece = np.searchsorted(knots, days, side="right") - 1
    u0 = (days - knots[piece]) / h[piece]
    # Day integral of u^k: quadrature over the day, u moving 1/h per day.
    integral = sum(g * ((u0 + x / h[piece])[:, None] ** np.arange(5)) for x, g in zip(x01, g01, strict=True))
    select = np.zeros((len(days), n))
    select[np.arange(len(days)), piece] = 1.0
    daily = {b: cp.sum(cp.multiply(select @ coef[b], integral), axis=1) for b in w}

    constraints = []
    for q in quotes:
        lo, hi = (q.contract.start - start).days, (q.contract.end - start).days
        parts = list(w) if q.contract.block is Block.ATC else [q.contract.block]
        total = sum(w[b][lo:hi].sum() for b in parts)
        constraints.append(sum(w[b][lo:hi] @ daily[b][lo:hi] for b in parts) / total == q.price)
    k = np.arange(5)
    rough = []
    for b in w:
        c = coef[b]
        for m in range(3):
            at_end = np.where(k >= m, np.array([np.prod(np.arange(kk - m + 1, kk + 1)) for kk in k]), 0.0)
            for j in range(n - 1):
                left = c[j] @ at_end / h[j] ** m
                right = c[j + 1, m] * float(np.prod(np.arange(1, m + 1))) / h[j + 1] ** m
                constraints.append(left == right)
        constraints.append(c[n - 1] @ k.astype(float) == 0)
        for x, g in zip(x01, g01, strict=True):
            second = np.where(k >= 2, k * (k - 1) * x ** np.maximum(k - 2, 0), 0.0)
            rough.append(cp.multiply(np.sqrt(g * h) / h**2 * 30.0**1.5, c @ second))
    problem = cp.Problem(cp.Minimize(cp.sum_squares(cp.hstack(rough))), constraints)
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    assert problem.status == "optimal"

    prices = np.zeros((len(months), 2))
    for i, m in enumerate(months):
        lo = max((m - start).days, 0)
        hi = (next_month(m) - start).days
        for j, b in enumerate(w):
            vals = np.asarray(daily[b].value)[lo:hi]
            prices[i, j] = w[b][lo:hi] @ vals / w[b][lo:hi].sum()
    return months, prices


def test_cvxpy_gives_the_same_monthly_prices() -> None:
    quotes = twenty_quotes()
    fit = fit_monthly_curve(quotes, iso="PJM", hub="WEST", as_of=AS_OF)
    assert not fit.implied
    months, prices = cvxpy_monthly(quotes, "PJM")
    assert list(fit.curve.months) == months
    ours = fit.curve.prices[:, :2]
    assert np.abs(ours - prices).max() < 1e-6 * np.abs(ours).max()
    assert fit.curve.months[-1] == date(2028, 12, 1)
