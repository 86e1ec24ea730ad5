"""Shared checks of fitted curves: the interface formula that the CLI and the README rely on."""

from __future__ import annotations

from datetime import date

import numpy as np

from carbon254.curves import MonthlyCurve, Quote


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def reprice(curve: MonthlyCurve, quote: Quote) -> float:
    """sum_m H_m p_m / sum_m H_m over the curve months the quote's contract covers, from the output."""
    c = quote.contract
    j = curve.blocks.index(c.block)
    rows = [i for i, m in enumerate(curve.months) if m < c.end and next_month(m) > c.start]
    hours = curve.hours[rows, j].astype(np.float64)
    return float((hours * curve.prices[rows, j]).sum() / hours.sum())


def assert_reproduces(curve: MonthlyCurve, quotes: list[Quote], rel: float = 1e-9) -> None:
    for q in quotes:
        got = reprice(curve, q)
        assert abs(got - q.price) <= rel * max(1.0, abs(q.price)), f"{q.name} reprices to {got}"
