"""Hostile GraphQL against a real uvicorn server: each request of the corpus is refused quickly, and
meanwhile the server keeps answering `/health` and stops promptly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from graphql_hostile import CORPUS, HostileRequest, fragment_bomb
from uvicorn_server import Server, uvicorn_server

from carbon254.store import open_store

QUICK_S = 2.0  # a refusal's budget, with room for a busy test machine
HEALTH_S = 1.0  # /health must answer within this while hostile requests run


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with uvicorn_server(tmp_path_factory.mktemp("hostile")) as running:
        yield running


def _post(http: httpx.Client, request: HostileRequest) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = http.post("/graphql", content=request.body(), headers={"Content-Type": "application/json"})
    return response, time.monotonic() - started


def test_the_29_level_fragment_bomb_is_refused_within_a_second(server: Server) -> None:
    bomb = fragment_bomb(29)
    assert len(bomb.encode()) < 1_600  # the 1.5 KB, standing for 2^28 fields
    with httpx.Client(base_url=server.base_url, timeout=5.0) as http:
        response, elapsed = _post(http, HostileRequest("bomb", bomb))
    assert response.status_code == 400
    assert elapsed < 1.0
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == (
        "the query has 536,870,911 fragment spreads, with each fragment expanded; at most 100 are allowed"
    )


@pytest.mark.parametrize("hostile", CORPUS, ids=[request.name for request in CORPUS])
def test_each_hostile_request_is_refused_quickly(server: Server, hostile: HostileRequest) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        response, elapsed = _post(http, hostile)
    assert 400 <= response.status_code < 500, response.text[:500]
    assert elapsed < QUICK_S, f"{hostile.name} took {elapsed:.2f} s"
    body = response.json()
    messages = [e["message"] for e in body["errors"]] if "errors" in body else [body["message"]]
    assert all(len(message) < 300 for message in messages), messages  # no echo of the document


def _hammer(base_url: str, requests: list[HostileRequest], stop: threading.Event, sent: list[int]) -> None:
    """Send `requests` round and round until `stop`, counting answers; connection errors end the loop."""
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        while not stop.is_set():
            for request in requests:
                if stop.is_set():
                    return
                try:
                    _post(http, request)
                except httpx.TransportError:
                    return
                sent.append(1)


def _hammering(base_url: str, workers: int = 3) -> tuple[threading.Event, list[int], list[threading.Thread]]:
    stop, sent = threading.Event(), []
    threads = [
        threading.Thread(target=_hammer, args=(base_url, CORPUS[i::workers], stop, sent), daemon=True)
        for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    return stop, sent, threads


def _health_latencies(base_url: str, seconds: float) -> list[float]:
    """Latencies of `/health`, asked every 50 ms for `seconds`; fails on a non-200 or a timeout."""
    latencies: list[float] = []
    with httpx.Client(base_url=base_url, timeout=HEALTH_S) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert http.get("/health").status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
    return latencies


def test_health_answers_within_a_second_while_the_corpus_runs(server: Server) -> None:
    stop, sent, threads = _hammering(server.base_url)
    try:
        time.sleep(0.3)  # the hammers are sending
        latencies = _health_latencies(server.base_url, seconds=4.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(sent) >= len(CORPUS) // 2  # the hostile requests did run meanwhile
    assert max(latencies) < HEALTH_S


def test_health_answers_while_a_large_query_is_answered(
    server: Server, make_lmp: Callable[..., pa.Table]
) -> None:
    # Completing rows is CPU work in proportion to the rows: seconds for these 60,000.
    writer = open_store(server.data_dir)
    try:
        for hub in range(6):
            rows = make_lmp("PJM", "DAM", f"HUB_{hub}", datetime(2022, 1, 1, tzinfo=UTC), 10_000)
            writer.write("lmp", rows)
    finally:
        writer.close()
    query = (
        '{ lmp(iso: "PJM", market: "DAM", start: "2022-01-01", end: "2023-03-01") '
        "{ intervalStart intervalEnd location lmp energy congestion loss } }"
    )
    answer: list[tuple[httpx.Response, float]] = []

    def ask() -> None:
        with httpx.Client(base_url=server.base_url, timeout=120.0) as http:
            started = time.monotonic()
            response = http.post("/graphql", json={"query": query})
            answer.append((response, time.monotonic() - started))

    asking = threading.Thread(target=ask)
    asking.start()
    latencies: list[float] = []
    with httpx.Client(base_url=server.base_url, timeout=120.0) as http:
        while asking.is_alive():
            started = time.monotonic()
            assert http.get("/health").status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
    asking.join()
    response, seconds = answer[0]
    assert response.status_code == 200
    assert len(response.json()["data"]["lmp"]) == 60_000
    # Were the query run on the event loop, one /health would wait for (most of) all of it. Off
    # the loop, the longest wait is a garbage collection's pause: a fraction of it, busy machine
    # or not (both scale alike).
    assert len(latencies) >= 10
    assert max(latencies) < seconds / 4, (max(latencies), seconds)


def test_sigterm_while_the_corpus_runs_stops_the_server_promptly(tmp_path: Path) -> None:
    with uvicorn_server(tmp_path) as running:
        stop, sent, threads = _hammering(running.base_url)
        try:
            deadline = time.monotonic() + 10
            while len(sent) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            running.process.send_signal(signal.SIGTERM)
            try:
                code = running.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the server was still running 5 s after SIGTERM: {running.log.read_text()}")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
    assert code == 0, running.log.read_text()
