"""The SDK sends relative bounds (`today-30d`, `now-6h`) as they are, whole, and gets the service's rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from carbon254.client import Client, InvalidRequest
from carbon254.client.queries import LmpQuery, split_window
from carbon254.schema import TIMESTAMP
from carbon254.store import open_store
from carbon254.timeseries import bounds

CLOCK = datetime(2025, 1, 11, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("today-400d", "today"),
        ("now-6h", "now"),
        ("2024-01-01", "today"),  # one relative bound: the service alone knows where it falls
        (date(2024, 1, 1), "today+1d"),
    ],
)
def test_a_window_with_a_relative_bound_is_sent_whole(start: str | date, end: str) -> None:
    assert split_window(start, end, 30) == [(start, end)]
    query = LmpQuery(iso="ERCOT", market="DAM", start=start, end=end)
    assert query.params()["end"] == end


def test_absolute_windows_are_still_split() -> None:
    assert split_window("2024-01-01", "2024-03-01", 30) == [
        (date(2024, 1, 1), date(2024, 1, 31)),
        (date(2024, 1, 31), date(2024, 3, 1)),
    ]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Ten days of hourly ERCOT day-ahead prices up to the (fixed) clock's day."""
    monkeypatch.setattr(bounds, "utc_now", lambda: CLOCK)
    starts = [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(10 * 24)]
    store = open_store(tmp_path)
    store.write(
        "lmp",
        pa.table(
            {
                "iso": ["ERCOT"] * len(starts),
                "market": ["DAM"] * len(starts),
                "location": ["HB_NORTH"] * len(starts),
                "interval_start": pa.array(starts, TIMESTAMP),
                "interval_end": pa.array([s + timedelta(hours=1) for s in starts], TIMESTAMP),
                "lmp": [float(h % 24) for h in range(len(starts))],
            }
        ),
    )
    store.close()
    return tmp_path


def test_relative_bounds_through_the_sdk(data_dir: Path) -> None:
    with Client.local(data_dir, chunk_days=1) as client:
        relative = client.lmp(iso="ERCOT", market="DAM", locations="HB_NORTH", start="today-3d", end="today")
        absolute = client.lmp(
            iso="ERCOT", market="DAM", locations="HB_NORTH", start="2025-01-08", end="2025-01-11"
        )
        recent = client.lmp(
            iso="ERCOT", market="DAM", locations="HB_NORTH", start="now-36h", end="now", tz="iso"
        )
        with pytest.raises(InvalidRequest, match="unknown unit 'x'") as raised:
            client.lmp(iso="ERCOT", market="DAM", start="today-3x", end="today")
    assert len(relative) == 72 and relative.equals(absolute)
    assert raised.value.parameter == "start"
    # 2025-01-10 00:00 to 2025-01-11 00:00 UTC: the rows stop at the end of the data.
    assert len(recent) == 24
    assert str(recent["interval_start"].iloc[0]) == "2025-01-09 18:00:00-06:00"
