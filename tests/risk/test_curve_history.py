"""Factor history from marked curves: tenor M+k of each day is the delivery month k after the as-of month."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from carbon254.curves import curve_returns
from carbon254.curves.model import MonthlyCurve
from carbon254.risk import (
    MissingHistory,
    RiskError,
    RiskFactor,
    calendar_curve_history,
    history_from_curve_returns,
)
from carbon254.timeseries.periods import Block


def _curve(as_of: date, level: float) -> MonthlyCurve:
    months = tuple(date(2026, m, 1) for m in range(6, 10))
    prices = np.array([[level + m, level / 2 + m] for m in range(4)], dtype=np.float64)
    hours = np.full((4, 2), 300, dtype=np.int64)
    return MonthlyCurve(
        "ERCOT", "HB_NORTH", as_of, months, (Block.ONPEAK, Block.OFFPEAK), prices, hours, months[-1]
    )


def test_tenors_become_delivery_months_from_the_as_of() -> None:
    curves = [_curve(date(2026, 6, d), level) for d, level in ((1, 50.0), (2, 53.0), (3, 52.0))]
    onpeak = curve_returns(curves, Block.ONPEAK)
    offpeak = curve_returns(curves, Block.OFFPEAK)
    history = history_from_curve_returns([onpeak, offpeak], "ERCOT")
    assert history.dates == (date(2026, 6, 2), date(2026, 6, 3))
    assert history.factors[:3] == (
        RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK, date(2026, 7, 1)),
        RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK, date(2026, 8, 1)),
        RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK, date(2026, 9, 1)),
    )
    july_onpeak = history.changes[:, 0].tolist()
    assert july_onpeak == [3.0, -1.0]
    july_offpeak = history.changes[
        :, history.factors.index(RiskFactor("ERCOT", "HB_NORTH", Block.OFFPEAK, date(2026, 7, 1)))
    ]
    assert july_offpeak.tolist() == [1.5, -0.5]
    with pytest.raises(RiskError, match="no curve returns"):
        history_from_curve_returns([], "ERCOT")


def test_calendar_history_puts_mark_changes_on_their_days_and_zero_between() -> None:
    # Marks on Friday 5 June, Monday 8 June and Tuesday 9 June 2026: the weekend has no change and
    # Monday carries the move since Friday.
    curves = [_curve(date(2026, 6, d), level) for d, level in ((5, 50.0), (8, 54.0), (9, 51.0))]
    days = [date(2026, 6, d) for d in range(6, 10)]
    history = calendar_curve_history(curves, (Block.ONPEAK, Block.OFFPEAK), days, location="HB North")
    july_onpeak = RiskFactor("ERCOT", "HB North", Block.ONPEAK, date(2026, 7, 1))
    july_offpeak = RiskFactor("ERCOT", "HB North", Block.OFFPEAK, date(2026, 7, 1))
    assert history.dates == tuple(days)
    assert history.changes[:, history.index(july_onpeak)].tolist() == [0.0, 0.0, 4.0, -3.0]
    assert history.changes[:, history.index(july_offpeak)].tolist() == [0.0, 0.0, 2.0, -1.5]
    assert history.levels is not None
    # Levels are the last mark's prices of each factor's month: July is the curve's second month.
    assert history.levels[history.index(july_onpeak)] == 51.0 + 1
    # Seen from a later month, the same tenor changes are those of later delivery months.
    later = calendar_curve_history(curves, (Block.ONPEAK,), days, as_of=date(2026, 7, 15))
    assert later.factors[0] == RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK, date(2026, 8, 1))
    assert later.changes[:, 0].tolist() == [0.0, 0.0, 4.0, -3.0]


def test_calendar_history_refuses_marks_that_start_too_late_or_run_past_its_days() -> None:
    curves = [_curve(date(2026, 6, d), 50.0 + d) for d in (5, 8, 9)]
    with pytest.raises(MissingHistory, match="first mark is on 2026-06-05"):
        calendar_curve_history(curves, (Block.ONPEAK,), [date(2026, 6, 5), date(2026, 6, 6)])
    with pytest.raises(RiskError, match="after the history's last day"):
        calendar_curve_history(curves, (Block.ONPEAK,), [date(2026, 6, 6), date(2026, 6, 7)])
    with pytest.raises(RiskError, match="no atc prices"):
        calendar_curve_history(curves, (Block.ATC,), [date(2026, 6, d) for d in range(6, 10)])
