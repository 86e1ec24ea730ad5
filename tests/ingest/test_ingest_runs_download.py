"""SCED runs downloaded from ERCOT (a local replay of MIS and the Public API) end at the next run.

MIS serves one file per run, oldest first; the Public API serves a day of
runs in one page. Backfill and `--follow` both go through the same ingest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sced_runs import (
    AFTER_GAP,
    NOMINAL,
    REAL_DIR,
    REAL_RUN,
    RERUN,
    RUNS,
    Run,
    assert_tiled,
    ended,
    engine,
    needs_real,
    sced,
)

from carbon254.ingest.backfill import backfill
from carbon254.ingest.follow import FollowTarget, follow
from carbon254.ingest.watermark import Watermarks
from carbon254.isos import Iso
from carbon254.isos.ercot.replay import TOKEN_PATH
from carbon254.isos.ercot.reports import SCED_LMP, SOURCES, ErcotConnector, ErcotSettings, ErcotTokenAuth
from carbon254.markets.connector import DownloadTarget
from carbon254.markets.transport import IsoClient, RetryPolicy, TransportConfig
from carbon254.replay import ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore

pytestmark = needs_real
DAY = date(2026, 6, 25)
TARGET = DownloadTarget(Dataset.LMP, "SCED", SCED_LMP)
LATER = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Where derived runs are posted; the replay serves it beside the real file's directory."""
    root = tmp_path / "site"
    root.mkdir()
    return root


def publish(root: Path, *runs: Run) -> None:
    """Post runs on the replayed site (the real run is always there, from its own directory)."""
    for run in runs:
        if run is not REAL_RUN:
            (root / run.name).write_bytes(run.data())


@pytest.fixture
def server(site: Path) -> Iterator[ReplayServer]:
    with ReplayServer(routes_for(Iso.ERCOT, [REAL_DIR, site])) as s:
        yield s


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    s = open_store(tmp_path / "data")
    yield s
    s.close()


def client(server: ReplayServer, auth: ErcotTokenAuth | None = None) -> IsoClient:
    return IsoClient(
        Iso.ERCOT, TransportConfig(base_url=server.url, retry=RetryPolicy(base_s=0.01)), auth=auth
    )


def test_a_backfill_from_mis_ends_each_run_at_the_next(
    server: ReplayServer, site: Path, store: ParquetStore
) -> None:
    publish(site, *RUNS)
    connector = ErcotConnector(SOURCES, ErcotSettings())
    with client(server) as c:
        report = backfill(
            connector, c, TARGET, [DAY], engine(store, store.root), Watermarks(store.root), now=lambda: LATER
        )
    (day,) = report.days
    assert day.complete and len(day.payloads) == 4
    assert [p.entry.revisions for p in day.payloads] == [0, 80, 80, 0]
    assert_tiled(sced(store), ended(RUNS))
    # Each run is published when MIS posted it, so before the re-run's posting the real run held 5 minutes.
    real = sced(store, as_of=RERUN.published - timedelta(seconds=1))
    assert set(real.column("interval_end").to_pylist()) == {REAL_RUN.start + NOMINAL}


def test_a_backfill_from_the_api_ends_runs_given_in_one_page(
    server: ReplayServer, site: Path, store: ParquetStore
) -> None:
    publish(site, *RUNS)
    settings = ErcotSettings(api_key="key", username="user", password="pw", token_url=server.url + TOKEN_PATH)
    with client(server, ErcotTokenAuth(settings)) as c:
        report = backfill(
            ErcotConnector(SOURCES, settings),
            c,
            TARGET,
            [DAY],
            engine(store, store.root),
            Watermarks(store.root),
            now=lambda: LATER,
        )
    (day,) = report.days
    assert day.complete and len(day.payloads) == 1 and day.payloads[0].entry.rows == 4 * 80
    assert_tiled(sced(store), ended(RUNS))


def test_following_mis_cuts_the_run_stored_at_the_previous_poll(
    server: ReplayServer, site: Path, store: ParquetStore
) -> None:
    connector = ErcotConnector(SOURCES, ErcotSettings())
    ingest = engine(store, store.root)
    with client(server) as c:
        target = FollowTarget(connector, c, TARGET)
        publish(site, *RUNS[:2])
        follow([target], ingest, polls=1, now=lambda: RERUN.published + timedelta(seconds=30))
        assert_tiled(sced(store), [(REAL_RUN.start, RERUN.start), (RERUN.start, RERUN.start + NOMINAL)])
        publish(site, *RUNS[2:])
        follow([target], ingest, polls=1, now=lambda: AFTER_GAP.published + timedelta(seconds=30))
    assert_tiled(sced(store), ended(RUNS))
    assert_tiled(
        sced(store, as_of=RUNS[2].published - timedelta(seconds=1)),
        [(REAL_RUN.start, RERUN.start), (RERUN.start, RERUN.start + NOMINAL)],
    )
