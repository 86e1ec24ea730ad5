"""Reads in ISO local time across both DST transitions, blocks on a holiday, resampling."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from store_tables import lmp_table, utc

from carbon254.store import ParquetStore


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ParquetStore:
    s = ParquetStore(tmp_path_factory.mktemp("time"))
    for iso in ("PJM", "ERCOT"):
        # 2025-11-01 through 2025-11-30 UTC plus the March transition week.
        s.write("lmp", lmp_table(["HUB"], utc(2025, 10, 31), 24 * 32, iso=iso, location_type="hub"))
        s.write("lmp", lmp_table(["HUB"], utc(2025, 3, 7), 24 * 5, iso=iso, location_type="hub"))
    return s


@pytest.mark.parametrize(("iso", "zone"), [("PJM", "America/New_York"), ("ERCOT", "America/Chicago")])
def test_local_days_have_23_and_25_hours(store: ParquetStore, iso: str, zone: str) -> None:
    tz = ZoneInfo(zone)
    for day, hours in (((2025, 3, 9), 23), ((2025, 11, 2), 25), ((2025, 11, 3), 24)):
        start = utc(*day).replace(tzinfo=tz)
        end = (start + timedelta(days=1)).replace(tzinfo=tz)
        t = store.read("lmp", iso, "DAM", ["HUB"], start, end, tz="iso")
        starts = t.column("interval_start").to_pylist()
        assert len(starts) == hours
        assert str(t.schema.field("interval_start").type.tz) == zone
        assert len({s.astimezone(ZoneInfo("UTC")) for s in starts}) == hours  # distinct UTC instants
        if hours == 25:
            # The repeated 01:00 hour appears twice, once in each offset.
            ones = [s for s in starts if s.hour == 1]
            assert [s.utcoffset() for s in ones] == [
                timedelta(hours=-4 if iso == "PJM" else -5),
                timedelta(hours=-5 if iso == "PJM" else -6),
            ]
        if hours == 23:
            assert all(s.hour != 2 for s in starts)


@pytest.mark.parametrize("iso", ["PJM", "ERCOT"])
def test_daily_resample_averages_each_local_day(store: ParquetStore, iso: str) -> None:
    t = store.read(
        "lmp", iso, "DAM", ["HUB"], utc(2025, 11, 1, 12), utc(2025, 11, 4, 12), tz="iso", resample="daily"
    )
    days = [s.date().isoformat() for s in t.column("interval_start").to_pylist()]
    assert days == ["2025-11-01", "2025-11-02", "2025-11-03", "2025-11-04"]  # partial end days included
    lengths = [
        # Same-zone datetime subtraction in Python is wall-clock: compare in UTC.
        (e.astimezone(UTC) - s.astimezone(UTC)).total_seconds() / 3600
        for s, e in zip(
            t.column("interval_start").to_pylist(), t.column("interval_end").to_pylist(), strict=True
        )
    ]
    assert lengths == [24.0, 25.0, 24.0, 24.0]  # buckets are whole local days
    # energy rises $1 per hour, so a day's mean is the mean of its hour indices.
    raw = store.read("lmp", iso, "DAM", ["HUB"], utc(2025, 11, 1), utc(2025, 11, 5), tz="iso")
    by_day: dict[str, list[float]] = {}
    for s, e in zip(raw.column("interval_start").to_pylist(), raw.column("energy").to_pylist(), strict=True):
        by_day.setdefault(s.date().isoformat(), []).append(e)
    assert t.column("energy")[1].as_py() == pytest.approx(sum(by_day["2025-11-02"]) / 25)


@pytest.mark.parametrize("iso", ["PJM", "ERCOT"])
def test_blocks_on_thanksgiving(store: ParquetStore, iso: str) -> None:
    # 2025-11-27 is Thanksgiving (a NERC holiday) and a Thursday.
    tz = ZoneInfo("America/New_York" if iso == "PJM" else "America/Chicago")
    day = utc(2025, 11, 27).replace(tzinfo=tz)
    nxt = utc(2025, 11, 28).replace(tzinfo=tz)

    def hours(block: str) -> list[int]:
        t = store.read("lmp", iso, "DAM", ["HUB"], day, nxt, tz="iso", block=block)
        return [s.hour + 1 for s in t.column("interval_start").to_pylist()]  # hour ending

    assert hours("onpeak") == []
    assert hours("2x16") == list(range(7, 23))
    assert hours("7x8") == [1, 2, 3, 4, 5, 6, 23, 24]
    assert len(hours("offpeak")) == 24 and len(hours("atc")) == 24
    # The day after is an ordinary Friday.
    friday = store.read("lmp", iso, "DAM", ["HUB"], nxt, nxt + timedelta(days=1), tz="iso", block="onpeak")
    assert friday.num_rows == 16


def test_monthly_onpeak_counts_business_days(store: ParquetStore) -> None:
    t = store.read(
        "lmp",
        "PJM",
        "DAM",
        ["HUB"],
        utc(2025, 11, 1, 4),
        utc(2025, 12, 1, 5),
        tz="iso",
        resample="monthly",
        block="onpeak",
    )
    assert t.num_rows == 1
    raw = store.read(
        "lmp", "PJM", "DAM", ["HUB"], utc(2025, 11, 1, 4), utc(2025, 12, 1, 5), tz="iso", block="onpeak"
    )
    local_days = Counter(s.date() for s in raw.column("interval_start").to_pylist())
    # November 2025: 20 weekdays, minus Thanksgiving.
    assert len(local_days) == 19 and set(local_days.values()) == {16}
    assert t.column("lmp")[0].as_py() == pytest.approx(sum(raw.column("lmp").to_pylist()) / raw.num_rows)


def test_utc_output_by_default(store: ParquetStore, tmp_path: Path) -> None:
    t = store.read("lmp", "ERCOT", "DAM", ["HUB"], utc(2025, 11, 2), utc(2025, 11, 3))
    assert str(t.schema.field("interval_start").type.tz) == "UTC"
    assert t.num_rows == 24
