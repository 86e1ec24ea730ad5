from datetime import date

import numpy as np
import pytest

from carbon254.curves import MonthlyCurve, curve_returns
from carbon254.timeseries.periods import Block


def curve(as_of: date, first: date, prices: list[float], hub: str = "WEST") -> MonthlyCurve:
    index = [first.month - 1 + i for i in range(len(prices))]
    months = tuple(date(first.year + m // 12, m % 12 + 1, 1) for m in index)
    return MonthlyCurve(
        iso="PJM",
        hub=hub,
        as_of=as_of,
        months=months,
        blocks=(Block.ONPEAK,),
        prices=np.array(prices, dtype=float)[:, None],
        hours=np.full((len(prices), 1), 320, dtype=np.int64),
        quoted_through=months[-1],
    )


def test_relative_tenors_roll_with_the_month() -> None:
    a = curve(date(2027, 1, 28), date(2027, 2, 1), [50, 40, 30, 20])  # M+1 = Feb
    b = curve(date(2027, 1, 29), date(2027, 2, 1), [55, 40, 15])  # M+1 = Feb, reaches M+3
    c = curve(date(2027, 2, 1), date(2027, 2, 1), [60, 44, 11, -5])  # M+1 = Mar
    r = curve_returns([a, b, c], Block.ONPEAK)
    assert r.tenors.tolist() == [1, 2, 3]  # b reaches only M+3 (April)
    assert r.dates == (date(2027, 1, 29), date(2027, 2, 1))
    assert r.absolute.tolist() == [[5.0, 0.0, 15 - 30], [44 - 55, 11 - 40, -5 - 15]]
    expected = [[np.log(55 / 50), 0.0, np.log(15 / 30)], [np.log(44 / 55), np.log(11 / 40), np.nan]]
    assert np.allclose(r.log, expected, equal_nan=True)


def test_log_return_of_a_non_positive_price_is_nan() -> None:
    a = curve(date(2027, 1, 28), date(2027, 2, 1), [-2.0, 40])
    b = curve(date(2027, 1, 29), date(2027, 2, 1), [3.0, 41])
    r = curve_returns([a, b], Block.ONPEAK)
    assert np.isnan(r.log[0, 0]) and r.absolute[0, 0] == 5.0 and r.log[0, 1] == pytest.approx(np.log(41 / 40))


def test_bad_inputs_are_named() -> None:
    a = curve(date(2027, 1, 28), date(2027, 2, 1), [1.0, 2])
    with pytest.raises(ValueError, match="at least two"):
        curve_returns([a], Block.ONPEAK)
    with pytest.raises(ValueError, match="must increase"):
        curve_returns([a, a], Block.ONPEAK)
    with pytest.raises(ValueError, match="one hub"):
        curve_returns([a, curve(date(2027, 1, 29), date(2027, 2, 1), [1.0], hub="EAST")], Block.ONPEAK)
    with pytest.raises(ValueError, match="no offpeak"):
        curve_returns([a, curve(date(2027, 1, 29), date(2027, 2, 1), [1.0])], Block.OFFPEAK)
    with pytest.raises(ValueError, match="does not cover M\\+1"):
        curve_returns([a, curve(date(2027, 3, 1), date(2027, 2, 1), [1.0])], Block.ONPEAK)
