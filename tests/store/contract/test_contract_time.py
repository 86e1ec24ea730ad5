"""Local time across both DST transitions, delivery blocks on a holiday, resampling: one calendar for all.

A backend selects rows; presenting them (blocks, buckets, zones) is the
shared `carbon254.timeseries` code, which the last test pins down.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from contract_backends import make_backend
from store_tables import lmp_table, utc

from carbon254.schema import spec
from carbon254.store import Store, backend_schemes
from carbon254.timeseries import present


@pytest.fixture(scope="module", params=backend_schemes())
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Each backend with November 2025 and the March 2025 DST week at one hub of PJM and ERCOT."""
    s = make_backend(request.param, tmp_path_factory.mktemp("time")).open()
    for iso in ("PJM", "ERCOT"):
        # 2025-11-01 through 2025-11-30 UTC plus the March transition week.
        s.write("lmp", lmp_table(["HUB"], utc(2025, 10, 31), 24 * 32, iso=iso, location_type="hub"))
        s.write("lmp", lmp_table(["HUB"], utc(2025, 3, 7), 24 * 5, iso=iso, location_type="hub"))
    yield s
    s.close()


@pytest.mark.parametrize(("iso", "zone"), [("PJM", "America/New_York"), ("ERCOT", "America/Chicago")])
def test_local_days_have_23_and_25_hours(store: Store, iso: str, zone: str) -> None:
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
            # The repeated 01:00 hour appears twice, once in each offset: two UTC intervals.
            ones = [s for s in starts if s.hour == 1]
            assert [s.utcoffset() for s in ones] == [
                timedelta(hours=-4 if iso == "PJM" else -5),
                timedelta(hours=-5 if iso == "PJM" else -6),
            ]
            assert ones[1].astimezone(UTC) - ones[0].astimezone(UTC) == timedelta(hours=1)
        if hours == 23:
            assert all(s.hour != 2 for s in starts)


@pytest.mark.parametrize("iso", ["PJM", "ERCOT"])
def test_daily_buckets_are_local_days_and_average_their_hours(store: Store, iso: str) -> None:
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
    # Hourly intervals are regular, so a day's mean is the plain mean of its 25 hours.
    raw = store.read("lmp", iso, "DAM", ["HUB"], utc(2025, 11, 1), utc(2025, 11, 5), tz="iso")
    by_day: dict[str, list[float]] = {}
    for s, e in zip(raw.column("interval_start").to_pylist(), raw.column("energy").to_pylist(), strict=True):
        by_day.setdefault(s.date().isoformat(), []).append(e)
    assert len(by_day["2025-11-02"]) == 25
    assert t.column("energy")[1].as_py() == pytest.approx(sum(by_day["2025-11-02"]) / 25)


@pytest.mark.parametrize("iso", ["PJM", "ERCOT"])
def test_blocks_on_thanksgiving(store: Store, iso: str) -> None:
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


def test_blocks_on_dst_days(store: Store) -> None:
    """7x8 has nine hours on the fall-back Sunday (HE2 twice) and seven on the spring-forward one."""
    tz = ZoneInfo("America/New_York")
    for day, seven_by_eight, two_by_sixteen in (((2025, 11, 2), 9, 16), ((2025, 3, 9), 7, 16)):
        start = utc(*day).replace(tzinfo=tz)
        end = (start + timedelta(days=1)).replace(tzinfo=tz)
        assert store.read("lmp", "PJM", "DAM", ["HUB"], start, end, block="7x8").num_rows == seven_by_eight
        assert store.read("lmp", "PJM", "DAM", ["HUB"], start, end, block="2x16").num_rows == two_by_sixteen
        assert store.read("lmp", "PJM", "DAM", ["HUB"], start, end, block="onpeak").num_rows == 0


def test_monthly_onpeak_counts_business_days(store: Store) -> None:
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


def test_utc_output_by_default(store: Store) -> None:
    t = store.read("lmp", "ERCOT", "DAM", ["HUB"], utc(2025, 11, 2), utc(2025, 11, 3))
    assert str(t.schema.field("interval_start").type.tz) == "UTC"
    assert t.num_rows == 24


@pytest.mark.parametrize(
    ("tz", "resample", "block"),
    [
        ("iso", None, None),
        ("Europe/London", None, None),
        (None, None, "onpeak"),
        ("iso", None, "7x8"),
        (None, "hourly", None),
        ("iso", "daily", None),
        ("UTC", "daily", "offpeak"),
        ("iso", "monthly", "2x16"),
    ],
)
@pytest.mark.parametrize("iso", ["PJM", "ERCOT"])
def test_presentation_is_the_shared_calendar_code(
    store: Store, iso: str, tz: str | None, resample: str | None, block: str | None
) -> None:
    """Whatever the backend, `read` with tz/resample/block is `timeseries.present` of the plain read."""
    window = (utc(2025, 10, 31), utc(2025, 12, 1))
    plain = store.read("lmp", iso, "DAM", ["HUB"], *window)
    presented = store.read("lmp", iso, "DAM", ["HUB"], *window, tz=tz, resample=resample, block=block)
    expected = present(plain, spec("lmp"), iso, tz=tz, resample=resample, block=block)
    assert presented.num_rows > 0
    assert presented.equals(expected)
