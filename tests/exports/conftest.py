"""Export tests: a real embedded store with LMPs (across a DST change) and ORDC adders, a REST app over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from export_data import LOCATIONS, lmp_table, ordc_table
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import Store, open_store


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("export-data")


@pytest.fixture(scope="module")
def store(data_dir: Path) -> Iterator[Store]:
    s = open_store(data_dir)
    for index, location in enumerate(LOCATIONS):
        s.write("lmp", lmp_table(location, index))
    s.write("ordc_adder", ordc_table())
    yield s
    s.close()


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, max_range_days=400, max_locations=4, auth=AuthMode.OFF)


@pytest.fixture(scope="module")
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as c:
        yield c
