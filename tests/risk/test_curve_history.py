"""Factor history from marked curves: tenor M+k of each day is the delivery month k after the as-of month."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from carbon254.curves import curve_returns
from carbon254.curves.model import MonthlyCurve
from carbon254.risk import RiskError, RiskFactor, history_from_curve_returns
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
