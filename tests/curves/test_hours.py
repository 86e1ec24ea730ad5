from datetime import date, timedelta

import numpy as np
import pytest

from carbon254.curves import daily_block_hours, day_hours
from carbon254.timeseries.holidays import nerc_holidays
from carbon254.timeseries.periods import Block


def one_day(iso: str, day: date) -> dict[Block, int]:
    return {b: int(daily_block_hours(iso, day, day + timedelta(days=1), b)[0]) for b in Block}


@pytest.mark.parametrize("iso", ["ERCOT", "PJM"])
def test_spring_forward_day_has_23_hours_and_7x8_loses_he3(iso: str) -> None:
    h = one_day(iso, date(2024, 3, 10))  # a Sunday
    assert h == {Block.ATC: 23, Block.SEVEN_BY_8: 7, Block.TWO_BY_16: 16, Block.ONPEAK: 0, Block.OFFPEAK: 23}


@pytest.mark.parametrize("iso", ["ERCOT", "PJM"])
def test_fall_back_day_has_25_hours_and_7x8_gets_9(iso: str) -> None:
    h = one_day(iso, date(2024, 11, 3))
    assert h == {Block.ATC: 25, Block.SEVEN_BY_8: 9, Block.TWO_BY_16: 16, Block.ONPEAK: 0, Block.OFFPEAK: 25}


@pytest.mark.parametrize("iso", ["ERCOT", "PJM", "CAISO"])
def test_nerc_holiday_is_offpeak_all_day(iso: str) -> None:
    h = one_day(iso, date(2024, 7, 4))  # a Thursday
    assert (h[Block.ONPEAK], h[Block.TWO_BY_16], h[Block.SEVEN_BY_8], h[Block.ATC]) == (0, 16, 8, 24)
    assert one_day(iso, date(2024, 7, 5))[Block.ONPEAK] == 16


def test_pjm_january_2027_onpeak_hours_by_hand() -> None:
    # Jan 2027 starts on a Friday: 21 weekdays, less New Year's Day (a Friday, observed that day) = 20.
    days = [date(2027, 1, 1) + timedelta(days=i) for i in range(31)]
    business = [d for d in days if d.weekday() < 5 and d not in nerc_holidays(2027)]
    assert len(business) == 20
    assert daily_block_hours("PJM", date(2027, 1, 1), date(2027, 2, 1), Block.ONPEAK).sum() == 16 * 20 == 320


def test_base_blocks_partition_every_day_over_ten_years() -> None:
    h = day_hours("PJM", date(2025, 1, 1), date(2035, 1, 1))
    total = h.onpeak + h.two_by_16 + h.seven_by_8
    assert len(total) == 3652
    assert np.array_equal(total, h.of(Block.ATC))
    assert np.array_equal(h.of(Block.OFFPEAK), h.two_by_16 + h.seven_by_8)
    assert sorted(set(total.tolist())) == [23, 24, 25]
    assert (total == 23).sum() == 10 and (total == 25).sum() == 10
    assert np.all((h.onpeak == 0) | (h.two_by_16 == 0))
    assert total.sum() == 24 * 3652


def test_pacific_zone_changes_clocks_at_its_own_local_2am() -> None:
    h = day_hours("CAISO", date(2024, 3, 10), date(2024, 3, 12))
    assert (h.of(Block.ATC) == [23, 24]).all()


def test_empty_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="after its start"):
        day_hours("PJM", date(2024, 1, 2), date(2024, 1, 2))
