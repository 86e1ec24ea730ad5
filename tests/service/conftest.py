"""Fixtures for the service tests: a real embedded store in a tmp dir, filled with small LMP tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.schema import TIMESTAMP
from carbon254.service import create_app
from carbon254.store import Source, Store, open_store

# Two weeks of hours around the US spring-forward (2024-03-10), so local-time
# presentation is checked on both sides of a DST change.
START = datetime(2024, 3, 1, tzinfo=UTC)
HOURS = 14 * 24

MakeLmp = Callable[..., pa.Table]


def make_lmp_table(
    iso: str,
    market: str,
    location: str,
    start: datetime = START,
    hours: int = HOURS,
    *,
    location_type: str = "hub",
    congestion: float = 1.5,
    offset: float = 0.0,
    published_at: datetime | None = None,
) -> pa.Table:
    """Hourly canonical LMP rows: energy 20 + hour-of-day $/MWh, fixed congestion, loss 0.25."""
    first = np.datetime64(start.replace(tzinfo=None), "us")
    starts = first + np.arange(hours) * np.timedelta64(3600, "s")
    energy = 20.0 + (np.arange(hours) % 24) + offset
    cong = np.full(hours, congestion)
    loss = np.full(hours, 0.25)
    published = pa.array([published_at] * hours, TIMESTAMP) if published_at else pa.nulls(hours, TIMESTAMP)
    return pa.table(
        {
            "iso": [iso] * hours,
            "market": [market] * hours,
            "location": [location] * hours,
            "location_type": [location_type] * hours,
            "interval_start": pa.array(starts).cast(TIMESTAMP),
            "interval_end": pa.array(starts + np.timedelta64(3600, "s")).cast(TIMESTAMP),
            "lmp": energy + cong + loss,
            "energy": energy,
            "congestion": cong,
            "loss": loss,
            "published_at": published,
        }
    )


@pytest.fixture(scope="session")
def make_lmp() -> MakeLmp:
    """The table builder, for tests that write their own rows."""
    return make_lmp_table


def fill(store: Store) -> None:
    """The shared data set: PJM and ERCOT hubs/zones, one simulated ERCOT node."""
    published = START - timedelta(days=1)
    store.write("lmp", make_lmp_table("PJM", "DAM", "WESTERN HUB", published_at=published))
    store.write("lmp", make_lmp_table("PJM", "DAM", "EASTERN HUB", congestion=3.0, published_at=published))
    store.write("lmp", make_lmp_table("PJM", "DAM", "PSEG", location_type="zone", published_at=published))
    store.write("lmp", make_lmp_table("PJM", "RTH", "WESTERN HUB", offset=2.0, published_at=published))
    store.write("lmp", make_lmp_table("ERCOT", "DAM", "HB_NORTH", published_at=published))
    store.write(
        "lmp",
        make_lmp_table("ERCOT", "DAM", "SIM_NODE_1", location_type="node", published_at=published),
        source=Source.SIMULATED,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-data")


@pytest.fixture(scope="module")
def store(data_dir: Path) -> Iterator[Store]:
    """A store with the shared data set, read-only for the tests that use it."""
    s = open_store(data_dir)
    fill(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    # Small limits so the limit checks are cheap to hit.
    return Settings(data_dir=data_dir, max_range_days=400, max_locations=3, auth=AuthMode.OFF)


@pytest.fixture(scope="module")
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def fresh_store(tmp_path: Path) -> Iterator[Store]:
    """An empty store of the test's own, for tests that write."""
    s = open_store(tmp_path)
    yield s
    s.close()


@pytest.fixture
def fresh_client(tmp_path: Path, fresh_store: Store) -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), fresh_store), raise_server_exceptions=False
    ) as c:
        yield c
