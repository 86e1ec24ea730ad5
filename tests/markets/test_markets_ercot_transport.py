"""ERCOT downloads through the replay server (127.0.0.1): MIS listing + download, Public API + token.

Files served are the real NP6-788-CD file and the hand-made fixtures in
tests/markets/fixtures/ercot (see its README).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from carbon254.config import Settings
from carbon254.isos import Iso
from carbon254.isos.ercot.replay import TOKEN_PATH, doc_id
from carbon254.isos.ercot.reports import SOURCES, TARGETS, ErcotConnector, ErcotSettings, ErcotTokenAuth
from carbon254.isos.ercot.settings import TOKEN_URL, rebase
from carbon254.markets.registry import detect_report
from carbon254.markets.report import ParseError
from carbon254.markets.transport import FetchError, IsoClient, RetryPolicy, TransportConfig
from carbon254.replay.server import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset, validate
from shared_data import SHARED_DATA

REAL = SHARED_DATA / "iso" / "ercot"
FIX = Path(__file__).resolve().parent / "fixtures" / "ercot"
FALL = date(2024, 11, 3)
SPRING = date(2024, 3, 10)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer(routes_for(Iso.ERCOT, [REAL, FIX])) as s:
        yield s


def client(server: ReplayServer, auth: ErcotTokenAuth | None = None) -> IsoClient:
    config = TransportConfig(base_url=server.url, retry=RetryPolicy(base_s=0.01))
    return IsoClient(Iso.ERCOT, config, auth=auth)


def download(
    server: ReplayServer,
    dataset: Dataset,
    market: str,
    day: date,
    connector: ErcotConnector | None = None,
    auth: ErcotTokenAuth | None = None,
) -> list[pa.Table]:
    """Parse each payload fetched for the day (validated), checking its report is detectable by name."""
    with client(server, auth) as c:
        payloads = list((connector or mis_connector()).fetch(c, dataset, market, day))
    tables = []
    for payload in payloads:
        assert detect_report(Iso.ERCOT, payload.name, payload.data) is payload.report
        tables.append(validate(dataset, payload.report.parse(payload.data)))
    return tables


def mis_connector() -> ErcotConnector:
    return ErcotConnector(SOURCES, ErcotSettings())


# (dataset, market, day) -> rows per payload, in publication order.
MIS_CASES = [
    (Dataset.LMP, "DAM", FALL, [75]),
    (Dataset.LMP, "DAM", SPRING, [69]),
    (Dataset.LMP, "RT15", FALL, [32, 4]),  # the interval file, then its _retry_ re-post
    (Dataset.LMP, "RT15", SPRING, [16]),
    (Dataset.LMP, "SCED", FALL, [5, 5]),
    (Dataset.LMP, "SCED_BUS", SPRING, [3]),
    (Dataset.LMP, "DAM_LMP", FALL, [50]),
    (Dataset.AS_PRICE, "DAM", SPRING, [115]),
    (Dataset.ORDC_ADDER, "SCED", FALL, [1, 1]),
    (Dataset.LOAD, "actual", FALL, [225]),
    (Dataset.LOAD, "forecast", FALL, [45]),
]


@pytest.mark.parametrize(
    ("dataset", "market", "day", "counts"),
    MIS_CASES,
    ids=[f"{d.value}-{m}-{day}" for d, m, day, _ in MIS_CASES],
)
def test_mis_fetch_per_report(
    server: ReplayServer, dataset: Dataset, market: str, day: date, counts: list[int]
) -> None:
    tables = download(server, dataset, market, day, mis_connector())
    assert [t.num_rows for t in tables] == counts
    # Only the _csv documents are downloaded, never their _xml twins.
    csv_ids = {doc_id(f.name) for root in (REAL, FIX) if root.exists() for f in root.glob("cdr.*")}
    downloads = [r.param("doclookupId") for r in server.requests if r.path.endswith("mirDownload")]
    assert len(downloads) == len(counts) and set(downloads) <= csv_ids


def test_mis_payload_names_and_published_at(server: ReplayServer) -> None:
    with client(server) as c:
        payloads = list(mis_connector().fetch(c, Dataset.LMP, "DAM", FALL))
    assert len(payloads) == 1
    assert payloads[0].name == "cdr.00012331.0000000000000000.20241102.131212.DAMSPNP4190_csv.zip"
    assert payloads[0].published_at == datetime(2024, 11, 2, 18, 12, 12, tzinfo=UTC)  # 13:12:12 CDT
    listing = [r for r in server.requests if r.path.endswith("IceDocListJsonWS")]
    assert [r.param("reportTypeId") for r in listing] == ["12331"]


def test_mis_real_sced_file(server: ReplayServer) -> None:
    if not REAL.exists():
        pytest.skip(f"real ERCOT files absent: {REAL}")
    tables = download(server, Dataset.LMP, "SCED", date(2026, 6, 25), mis_connector())
    assert [t.num_rows for t in tables] == [80]
    assert tables[0]["lmp"][0].as_py() == 27.04


def test_mis_forecast_issue_time_from_member_name(server: ReplayServer) -> None:
    (table,) = download(server, Dataset.LOAD, "forecast", FALL, mis_connector())
    assert set(table["forecast_issued_at"].to_pylist()) == {datetime(2024, 11, 3, 5, 30, 11, tzinfo=UTC)}


def test_mis_nothing_published_yields_nothing(server: ReplayServer) -> None:
    assert download(server, Dataset.LMP, "DAM", date(2024, 1, 1), mis_connector()) == []
    assert download(server, Dataset.LMP, "SCED_BUS", date(2024, 1, 1), mis_connector()) == []


def test_mis_listing_500_then_success(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.ERROR_500, path="IceDocListJsonWS", times=2))
    tables = download(server, Dataset.AS_PRICE, "DAM", FALL, mis_connector())
    assert [t.num_rows for t in tables] == [125]
    assert sum(r.path.endswith("IceDocListJsonWS") for r in server.requests) == 3


def test_mis_download_cut_in_transit_is_retried(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.TRUNCATED, path="mirDownload"))
    tables = download(server, Dataset.LMP, "DAM_LMP", SPRING, mis_connector())
    assert [t.num_rows for t in tables] == [46]


def test_mis_short_zip_ends_in_parse_error(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.SHORT_BODY, path="mirDownload"))
    with client(server) as c:
        (payload,) = list(mis_connector().fetch(c, Dataset.LMP, "DAM", SPRING))
    with pytest.raises(ParseError, match="zip"):
        payload.report.parse(payload.data)


def test_mis_unreachable_raises_fetch_error(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.ERROR_500, path="IceDocListJsonWS", times=10))
    with client(server) as c, pytest.raises(FetchError):
        list(mis_connector().fetch(c, Dataset.LMP, "DAM", FALL))


# --- Public API with token auth ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def api_settings(server: ReplayServer) -> ErcotSettings:
    return ErcotSettings(
        api_key="sub-key", username="user@example.com", password="pw", token_url=server.url + TOKEN_PATH
    )


@pytest.mark.parametrize(
    ("dataset", "market", "day", "counts"),
    MIS_CASES,
    ids=[f"{d.value}-{m}-{day}" for d, m, day, _ in MIS_CASES],
)
def test_api_fetch_gives_the_same_rows_as_mis(
    server: ReplayServer, dataset: Dataset, market: str, day: date, counts: list[int]
) -> None:
    settings = api_settings(server)
    api = ErcotConnector(SOURCES, settings, page_size=20)
    via_api = download(server, dataset, market, day, api, ErcotTokenAuth(settings))
    via_mis = download(server, dataset, market, day, mis_connector())
    assert sum(t.num_rows for t in via_api) == sum(counts)
    if dataset is not Dataset.LOAD:  # (load pages hold wide rows: one per hour, all zones)
        assert len(via_api) == -(-sum(counts) // 20)  # pages of 20 rows
    order = [
        (c, "ascending")
        for c in ("interval_start", "location", "zone", "product", "lmp")
        if c in via_mis[0].column_names
    ]
    assert pa.concat_tables(via_api).sort_by(order).equals(pa.concat_tables(via_mis).sort_by(order))


def test_api_token_fetched_once_then_refreshed_after_expiry(server: ReplayServer) -> None:
    settings = api_settings(server)
    clock = Clock()
    auth = ErcotTokenAuth(settings, clock=clock)
    api = ErcotConnector(SOURCES, settings, page_size=30)
    with client(server, auth) as c:
        first = list(api.fetch(c, Dataset.LMP, "DAM", FALL))  # 75 rows: 3 pages
        clock.now += 3000  # still valid (refresh 5 minutes before the hour)
        list(api.fetch(c, Dataset.AS_PRICE, "DAM", FALL))
        assert auth.tokens_fetched == 1
        clock.now += 600  # past 55 minutes: refreshed before the next call
        list(api.fetch(c, Dataset.LMP, "DAM_LMP", FALL))
    assert len(first) == 3
    assert auth.tokens_fetched == 2
    token_posts = [r for r in server.requests if r.path == TOKEN_PATH]
    assert len(token_posts) == 2 and all(r.method == "POST" for r in token_posts)
    assert (
        b"grant_type=password" in token_posts[0].body
        and b"username=user%40example.com" in token_posts[0].body
    )
    api_calls = [r for r in server.requests if r.path.startswith("/api/public-reports/")]
    assert len(api_calls) == 3 + 5 + 2  # 75, 125 and 50 rows in pages of 30
    assert all(r.headers["ocp-apim-subscription-key"] == "sub-key" for r in api_calls)
    assert {r.headers["authorization"] for r in api_calls} == {
        "Bearer replay-token-1",
        "Bearer replay-token-2",
    }
    assert [r.param("page") for r in api_calls[:3]] == ["1", "2", "3"]
    assert api_calls[0].param("deliveryDateFrom") == "2024-11-03"


def test_api_401_forces_one_token_refresh(server: ReplayServer) -> None:
    settings = api_settings(server)
    clock = Clock()
    auth = ErcotTokenAuth(settings, clock=clock)
    with client(server, auth) as c:
        list(ErcotConnector(SOURCES, settings).fetch(c, Dataset.LMP, "DAM", FALL))
        auth._token = "revoked"  # the server no longer honours the cached token
        tables = list(ErcotConnector(SOURCES, settings).fetch(c, Dataset.LMP, "DAM", SPRING))
    assert len(tables) == 1 and auth.tokens_fetched == 2


def test_api_without_auth_is_refused(server: ReplayServer) -> None:
    api = ErcotConnector(SOURCES, api_settings(server))
    with client(server) as c, pytest.raises(FetchError, match="401"):
        list(api.fetch(c, Dataset.LMP, "DAM", FALL))


def test_api_page_500_then_success(server: ReplayServer) -> None:
    settings = api_settings(server)
    server.inject(Fault(FaultKind.ERROR_500, path="dam_stlmnt_pnt_prices.*page=2"))
    tables = download(
        server,
        Dataset.LMP,
        "DAM",
        FALL,
        ErcotConnector(SOURCES, settings, page_size=30),
        ErcotTokenAuth(settings),
    )
    assert [t.num_rows for t in tables] == [30, 30, 15]


def test_api_nothing_published_yields_nothing(server: ReplayServer) -> None:
    settings = api_settings(server)
    assert (
        download(
            server,
            Dataset.LMP,
            "SCED",
            date(2024, 1, 1),
            ErcotConnector(SOURCES, settings),
            ErcotTokenAuth(settings),
        )
        == []
    )


def from_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> ErcotSettings:
    """`Settings.ercot` read from exactly `env` (every other CARBON254_ERCOT_* variable unset)."""
    for name in ("API_KEY", "USERNAME", "PASSWORD", "URL", "TOKEN_URL", "API_URL"):
        monkeypatch.delenv(f"CARBON254_ERCOT_{name}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings().ercot


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not from_env(monkeypatch, {}).api_enabled
    env = {
        "CARBON254_ERCOT_API_KEY": "k",
        "CARBON254_ERCOT_USERNAME": "u",
        "CARBON254_ERCOT_PASSWORD": "p",
        "CARBON254_ERCOT_URL": "http://127.0.0.1:9000",
    }
    s = from_env(monkeypatch, env)
    assert s.api_enabled
    assert s.token_url == "http://127.0.0.1:9000" + TOKEN_PATH == rebase(TOKEN_URL, "http://127.0.0.1:9000")
    assert from_env(monkeypatch, {**env, "CARBON254_ERCOT_TOKEN_URL": "http://x/t"}).token_url == "http://x/t"
    assert ErcotConnector(SOURCES, s).auth is not None
    assert ErcotConnector(SOURCES, ErcotSettings()).auth is None
    with pytest.raises(ValueError, match="API_KEY"):
        ErcotTokenAuth(ErcotSettings())


def test_targets_cover_every_report() -> None:
    pairs = {(t.dataset, t.market) for t in TARGETS}
    assert pairs == {
        (Dataset.LMP, "DAM"),
        (Dataset.LMP, "RT15"),
        (Dataset.LMP, "SCED"),
        (Dataset.LMP, "SCED_BUS"),
        (Dataset.LMP, "DAM_LMP"),
        (Dataset.AS_PRICE, "DAM"),
        (Dataset.ORDC_ADDER, "SCED"),
        (Dataset.LOAD, "actual"),
        (Dataset.LOAD, "forecast"),
    }
