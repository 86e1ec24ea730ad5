from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from tests.curves.test_hpfc import ZONE, curve, month_hours

from carbon254.curves import build_hpfc, extend_curve
from carbon254.timeseries.periods import Block

BLOCKS = (Block.ONPEAK, Block.OFFPEAK)


def marked(months: int = 18) -> np.ndarray:
    # Prices that tell every month and block apart: 100 * month number + 1 for offpeak.
    return np.array([[100.0 * i, 100.0 * i + 1] for i in range(months)])


def test_new_months_repeat_the_last_marked_year_escalated_per_year_beyond_it() -> None:
    base = curve(marked(), BLOCKS, first=date(2024, 1, 1), months=18)
    extended = extend_curve(base, date(2027, 2, 14), escalation=0.03)
    assert extended.months[-1] == date(2027, 2, 1)
    assert len(extended.months) == 18 + 20
    # The last marked year is months 6..17 (2024-07 .. 2025-06); 2025-07 repeats 2024-07 (index 6) x 1.03.
    july = extended.months.index(date(2025, 7, 1))
    assert extended.prices[july].tolist() == pytest.approx([600 * 1.03, 601 * 1.03])
    june_26 = extended.months.index(date(2026, 6, 1))
    assert extended.prices[june_26].tolist() == pytest.approx([1700 * 1.03, 1701 * 1.03])
    july_26 = extended.months.index(date(2026, 7, 1))
    assert extended.prices[july_26].tolist() == pytest.approx([600 * 1.03**2, 601 * 1.03**2])
    # Marked months are untouched, and the quoted horizon does not move.
    assert np.array_equal(extended.prices[:18], base.prices)
    assert extended.quoted_through == base.quoted_through


def test_new_months_carry_the_real_block_hours_of_the_market_clock() -> None:
    base = curve(marked(12), BLOCKS, first=date(2024, 1, 1), months=12)
    extended = extend_curve(base, date(2026, 12, 1))
    expected = month_hours("ERCOT", ZONE, date(2025, 1, 1), date(2027, 1, 1), BLOCKS)
    assert np.array_equal(extended.hours[12:], expected)
    # DST months: March and November of 2025 hold 743 and 721 hours in all.
    assert extended.hours[12 + 2].sum() == 743 and extended.hours[12 + 10].sum() == 721
    hourly = build_hpfc(extended)
    assert len(hourly.starts) == int(extended.hours.sum())


def test_a_curve_that_already_reaches_the_month_is_returned_unchanged() -> None:
    base = curve(marked(12), BLOCKS)
    assert extend_curve(base, date(2024, 12, 31)) is base


def test_extending_needs_a_full_year_and_a_sane_rate() -> None:
    with pytest.raises(ValueError, match="full year"):
        extend_curve(curve(marked(6), BLOCKS, months=6), date(2030, 1, 1))
    with pytest.raises(ValueError, match="escalation"):
        extend_curve(curve(marked(12), BLOCKS), date(2030, 1, 1), escalation=-1.5)
