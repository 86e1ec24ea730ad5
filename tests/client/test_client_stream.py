"""Streaming through the SDK against a real `carbon254 serve`: ticks, refusals, resume after a restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, time, timedelta

import pyarrow as pa
import pytest
from live_service import LiveService

from carbon254.client import AsyncClient, Client, InvalidRequest, NotEntitled, NotFound, Tick
from carbon254.client.stream import since_instant
from carbon254.schema import TIMESTAMP
from carbon254.store import open_store

NODES = ("HB_NORTH", "HB_WEST")
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
WAIT_S = 20.0  # bound of every wait below; reached only when a test fails


def interval(n: int) -> datetime:
    return FIRST + timedelta(minutes=5 * n)


def rt5_rows(n: int, offset: float = 0.0) -> pa.Table:
    """ERCOT RT5 prices ($/MWh) of interval `n` at both nodes."""
    start = interval(n).replace(tzinfo=None)
    count = len(NODES)
    energy = [20.0 + n + offset + i for i in range(count)]
    return pa.table(
        {
            "iso": ["ERCOT"] * count,
            "market": ["RT5"] * count,
            "location": list(NODES),
            "location_type": ["hub"] * count,
            "interval_start": pa.array([start] * count, TIMESTAMP),
            "interval_end": pa.array([start + timedelta(minutes=5)] * count, TIMESTAMP),
            "lmp": [e + 1.5 for e in energy],
            "energy": energy,
            "congestion": [1.0] * count,
            "loss": [0.5] * count,
            "published_at": pa.nulls(count, TIMESTAMP),
        }
    )


def commit(service: LiveService, n: int, offset: float = 0.0) -> None:
    """Write interval `n` to the served store, as an `ingest` process beside the service would."""
    store = open_store(service.data_dir)
    try:
        store.write("lmp", rt5_rows(n, offset))
    finally:
        store.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with LiveService.seeded(tmp_path_factory.mktemp("sdk-stream")) as live:
        yield live


async def take(ticks: AsyncIterator[Tick], count: int) -> list[Tick]:
    got: list[Tick] = []
    async with asyncio.timeout(WAIT_S):
        async for tick in ticks:
            got.append(tick)
            if len(got) == count:
                return got
    return got


def test_async_stream_delivers_committed_rows_and_resumes_across_a_restart(service: LiveService) -> None:
    async def run() -> list[Tick]:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as client:
            ticks = client.stream(iso="ERCOT", market="RT5", locations=list(NODES))
            # The first ticks arrive only once subscribed: commit from a thread until one does.
            first_commit = threading.Timer(1.0, commit, args=(service, 0))
            first_commit.start()
            got = await take(ticks, 2)
            # The service goes away; two intervals are committed while it is down, one after.
            await asyncio.to_thread(service.stop)
            await asyncio.to_thread(commit, service, 1)
            await asyncio.to_thread(commit, service, 2)
            await asyncio.to_thread(service.start)
            threading.Timer(2.0, commit, args=(service, 3)).start()
            got += await take(ticks, 6)
            await ticks.aclose()
            return got

    got = asyncio.run(run())
    keys = [(t.interval_start, t.location) for t in got]
    assert keys == [(interval(n), node) for n in range(4) for node in NODES]  # no gap, no repeat
    first = got[0]
    assert first.dataset == "lmp" and first.iso == "ERCOT" and first.market == "RT5"
    assert first.lmp == pytest.approx(21.5) and first.values["congestion"] == 1.0
    assert any(t.replay for t in got[2:6])  # the intervals committed while down came as a replay


def test_a_revised_interval_arrives_again_with_its_new_values(service: LiveService) -> None:
    async def run() -> list[Tick]:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as client:
            ticks = client.stream(iso="ERCOT", market="RT5", locations=[NODES[0]])
            threading.Timer(1.0, commit, args=(service, 10)).start()
            got = await take(ticks, 1)
            await asyncio.to_thread(commit, service, 10, 100.0)
            got += await take(ticks, 1)
            await ticks.aclose()
            return got

    original, revised = asyncio.run(run())
    assert original.interval_start == revised.interval_start == interval(10)
    assert revised.lmp == pytest.approx(original.lmp + 100.0)  # type: ignore[operator]


def test_the_blocking_client_streams_too(service: LiveService) -> None:
    with Client(base_url=service.base_url, api_key=service.keys.full) as client:
        threading.Timer(1.0, commit, args=(service, 20)).start()
        ticks = client.stream(iso="ERCOT", market="RT5", locations=[NODES[1]])
        tick = next(ticks)
        ticks.close()
    assert (tick.interval_start, tick.location) == (interval(20), NODES[1])


def test_refused_subscriptions_raise_typed_errors(service: LiveService) -> None:
    async def first_error(key: str, **subscription: object) -> Exception:
        async with AsyncClient(base_url=service.base_url, api_key=key) as client:
            try:
                async with asyncio.timeout(WAIT_S):
                    async for _ in client.stream(**subscription):  # type: ignore[arg-type]
                        pass
            except Exception as exc:
                return exc
        raise AssertionError("the stream ended without an error")

    denied = asyncio.run(first_error(service.keys.ercot, iso="PJM", market="RT5"))
    assert isinstance(denied, NotEntitled)
    unknown = asyncio.run(first_error(service.keys.full, iso="ERCOT", market="RT7"))
    assert isinstance(unknown, NotFound) and "RT5" in unknown.suggestions


def test_since_may_be_iso_8601_text(service: LiveService) -> None:
    for n in (40, 41, 42):
        commit(service, n)

    async def first_async() -> Tick:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as client:
            ticks = client.stream(iso="ERCOT", market="RT5", locations=NODES[0], since="2026-01-01T03:20:00Z")
            try:
                return (await take(ticks, 1))[0]
            finally:
                await ticks.aclose()

    replayed = asyncio.run(first_async())
    assert (replayed.interval_start, replayed.replay) == (interval(41), True)  # 03:20 is interval 40
    with Client(base_url=service.base_url, api_key=service.keys.full) as client:
        # Without an offset the time is UTC, as the service reads it.
        ticks = client.stream(iso="ERCOT", market="RT5", locations=NODES[1], since="2026-01-01T03:25")
        tick = next(ticks)
        ticks.close()
    assert (tick.interval_start, tick.location, tick.replay) == (interval(42), NODES[1], True)


def test_since_may_be_relative_to_the_clock() -> None:
    before = datetime.now(UTC)
    resolved = since_instant("now-6h")
    after = datetime.now(UTC)
    # `now` counts whole seconds, as the service reads it.
    earliest = before.replace(microsecond=0) - timedelta(hours=6)
    assert resolved is not None and earliest <= resolved <= after - timedelta(hours=6)
    # `today` is midnight UTC: the day before's, whichever side of midnight the call fell.
    yesterdays = {datetime.combine(t.date() - timedelta(days=1), time(), tzinfo=UTC) for t in (before, after)}
    assert since_instant("today-1d") in yesterdays


@pytest.mark.parametrize("since", ["yesterday-ish", "now-6x", "2026-13-01", 1_767_225_600])
def test_an_unreadable_since_is_refused_before_connecting(since: object) -> None:
    # Nothing listens on the discard port: a connection attempt would fail differently.
    with (
        Client(base_url="http://127.0.0.1:9", api_key="c254_abc_def") as client,
        pytest.raises(InvalidRequest) as refused,
    ):
        client.stream(iso="ERCOT", market="RT5", since=since)  # type: ignore[arg-type]
    assert refused.value.parameter == "since" and "since" in str(refused.value)

    async def refused_async() -> InvalidRequest:
        async with AsyncClient(base_url="http://127.0.0.1:9", api_key="c254_abc_def") as client:
            with pytest.raises(InvalidRequest) as caught:
                client.stream(iso="ERCOT", market="RT5", since=since)  # type: ignore[arg-type]
            return caught.value

    assert asyncio.run(refused_async()).parameter == "since"
