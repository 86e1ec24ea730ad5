"""Every download target of every ISO fetches and parses through its replay site.

The per-ISO tests check values; this checks coverage: no (dataset, market)
an ISO's connector offers is left without a transport path that works
against that ISO's URL layout, on some day the test files hold.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from carbon254.config import Settings
from carbon254.isos import Iso
from carbon254.isos.isone.settings import IsoneSettings
from carbon254.isos.miso import reports as miso
from carbon254.isos.pjm.settings import PjmSettings
from carbon254.markets.connector import Connector, DownloadTarget
from carbon254.markets.registry import connector_for
from carbon254.markets.transport import FetchError, IsoClient, RetryPolicy, TransportConfig
from carbon254.replay import ReplayServer
from carbon254.replay.sites import routes_for
from shared_data import SHARED_DATA

FIXTURES = Path(__file__).parent / "fixtures"
REAL = SHARED_DATA / "iso"
_DAY = re.compile(r"(20\d{2})(\d{2})(\d{2})")


def roots(iso: Iso) -> list[Path]:
    return [p for p in (FIXTURES / iso.value.lower(), REAL / iso.value.lower()) if p.is_dir()]


def candidate_days(iso: Iso) -> list[date]:
    """Days named in the ISO's test files, and the day either side (files are often posted the day before)."""
    days: set[date] = set()
    for root in roots(iso):
        for path in root.iterdir():
            for y, m, d in _DAY.findall(path.name):
                try:
                    named = date(int(y), int(m), int(d))
                except ValueError:
                    continue
                days |= {named - timedelta(days=1), named, named + timedelta(days=1)}
    return sorted(days)


def connector(iso: Iso, day: date) -> Connector:
    """The ISO's connector, with test credentials where the ISO needs them and MISO's clock on `day`."""
    if iso is Iso.MISO:  # its load feed only serves the current day
        return miso.MisoConnector(clock=lambda: datetime(day.year, day.month, day.day, 15, tzinfo=UTC))
    return connector_for(iso, SETTINGS)


SETTINGS = Settings(
    pjm=PjmSettings(api_key="test-key"), isone=IsoneSettings(username="user", password="secret")
)
TARGETS = [(iso, t) for iso in Iso for t in connector_for(iso, SETTINGS).targets]


@pytest.mark.parametrize(
    ("iso", "target"), TARGETS, ids=[f"{i.value}-{t.dataset.value}-{t.market}" for i, t in TARGETS]
)
def test_target_downloads_and_parses_on_some_test_day(iso: Iso, target: DownloadTarget) -> None:
    found = roots(iso)
    if not found:
        pytest.skip(f"no files for {iso.value}")
    with ReplayServer(routes_for(iso, found)) as server:
        config = TransportConfig(base_url=server.url, retry=RetryPolicy(attempts=1), timeout_s=5)
        for day in candidate_days(iso):
            conn = connector(iso, day)
            with IsoClient(iso, config, auth=getattr(conn, "auth", None)) as client:
                try:
                    payloads = list(conn.fetch(client, target.dataset, target.market, day))
                except FetchError:
                    continue
            rows = sum(p.report.parse(p.data).num_rows for p in payloads)
            if rows:
                assert all(p.report.dataset is target.dataset for p in payloads)
                return
    pytest.fail(f"{iso.value} {target.dataset.value}/{target.market}: no test day downloads any rows")
