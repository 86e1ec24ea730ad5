"""Typed errors and retries against a real `carbon254 serve`: each failure as the class it means."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_proxy import FaultProxy
from live_service import LiveService, make_keys

from carbon254.client import (
    AsyncClient,
    AuthError,
    Client,
    InvalidRequest,
    NotEntitled,
    NotFound,
    RateLimited,
    ServerError,
)

LMP = {
    "iso": "PJM",
    "market": "DAM",
    "locations": ["WESTERN HUB"],
    "start": "2024-01-01",
    "end": "2024-01-02",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with LiveService.seeded(tmp_path_factory.mktemp("sdk-errors")) as live:
        yield live


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CARBON254_API_KEY", raising=False)
    monkeypatch.delenv("CARBON254_URL", raising=False)
    monkeypatch.setenv("CARBON254_CONFIG", str(tmp_path / "absent.toml"))


def both_clients(
    base_url: str, api_key: str | None, query: dict[str, object] | None = None, **options: object
) -> list[Exception]:
    """The errors the sync and the async client raise for an LMP query (LMP unless `query` says)."""
    raised: list[Exception] = []
    asked = {**LMP, **(query or {})}
    with Client(base_url=base_url, api_key=api_key, **options) as client:  # type: ignore[arg-type]
        try:
            client.lmp(**asked)  # type: ignore[call-overload]
        except Exception as exc:
            raised.append(exc)

    async def run() -> None:
        async with AsyncClient(base_url=base_url, api_key=api_key, **options) as aclient:  # type: ignore[arg-type]
            try:
                await aclient.lmp(**asked)  # type: ignore[call-overload]
            except Exception as exc:
                raised.append(exc)

    asyncio.run(run())
    return raised


@pytest.mark.parametrize("key", [None, "c254_0000000000000000_wrong"])
def test_missing_or_wrong_credentials_are_auth_errors(service: LiveService, key: str | None) -> None:
    raised = both_clients(service.base_url, key)
    assert len(raised) == 2 and all(isinstance(e, AuthError) and e.status == 401 for e in raised)
    assert "API key" in str(raised[0]) or "credentials" in str(raised[0])


def test_outside_the_entitlements_is_not_entitled(service: LiveService) -> None:
    raised = both_clients(service.base_url, service.keys.ercot)
    assert len(raised) == 2 and all(isinstance(e, NotEntitled) and e.status == 403 for e in raised)
    assert "PJM" in str(raised[0])


def test_unknown_names_are_not_found_with_suggestions(service: LiveService) -> None:
    raised = both_clients(service.base_url, service.keys.full, {"locations": ["WESTERN HUBB"]})
    assert len(raised) == 2 and all(isinstance(e, NotFound) and e.status == 404 for e in raised)
    found = raised[0]
    assert isinstance(found, NotFound)
    assert found.parameter == "locations" and "WESTERN HUB" in found.suggestions


def test_bad_parameters_are_invalid_requests_naming_the_parameter(service: LiveService) -> None:
    raised = both_clients(service.base_url, service.keys.full, {"start": "2024-01-05"})
    assert len(raised) == 2 and all(isinstance(e, InvalidRequest) and e.status == 422 for e in raised)
    assert all(isinstance(e, InvalidRequest) and e.parameter in ("start", "end") for e in raised)
    with Client(base_url=service.base_url, api_key=service.keys.full) as client:
        with pytest.raises(InvalidRequest, match=r"resample"):
            client.lmp(**LMP, resample="fortnightly")
        with pytest.raises(ValueError, match="frame"):
            client.lmp(**LMP, frame="excel")  # type: ignore[call-overload]


def test_rate_limits_are_retried_after_retry_after_then_raised(tmp_path: Path, service: LiveService) -> None:
    limits = {"CARBON254_RATE_LIMIT_PER_S": "1", "CARBON254_RATE_LIMIT_BURST": "1"}
    with LiveService(service.data_dir, service.keys, env=limits) as limited:
        with Client(base_url=limited.base_url, api_key=service.keys.full, retries=0) as impatient:
            impatient.lmp(**LMP)
            with pytest.raises(RateLimited) as limited_error:
                impatient.lmp(**LMP)
        assert limited_error.value.retry_after_s is not None and limited_error.value.retry_after_s >= 1
        with Client(base_url=limited.base_url, api_key=service.keys.full, retries=3) as patient:
            assert len(patient.lmp(**LMP)) == 24  # waited for the bucket, as Retry-After said
        time.sleep(1.1)  # a full bucket again: one request passes, the next is refused
        raised = both_clients(limited.base_url, service.keys.full, retries=0)
        assert [type(e) for e in raised] == [RateLimited]  # the async client's came second: refused


def test_server_errors_are_retried_then_raised(service: LiveService) -> None:
    with FaultProxy(service.base_url, failures=2, status=503, retry_after="0") as proxy:
        with Client(base_url=proxy.url, api_key=service.keys.full, retries=3) as client:
            assert len(client.lmp(**LMP)) == 24
        assert proxy.requests == 3
    with FaultProxy(service.base_url, failures=-1, status=502) as proxy:
        raised = both_clients(proxy.url, service.keys.full, retries=1)
        assert len(raised) == 2 and all(isinstance(e, ServerError) and e.status == 502 for e in raised)
        assert "injected outage" in str(raised[0])
        assert proxy.requests == 4  # two attempts per client


def test_no_answer_is_a_server_error_not_a_hang() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        raised = both_clients(url, "c254_x_y", timeout_s=0.3, retries=0)
    assert len(raised) == 2 and all(isinstance(e, ServerError) and e.status is None for e in raised)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, not listening: refused
    raised = both_clients(url, "c254_x_y", retries=1)
    assert all(isinstance(e, ServerError) and "no answer" in str(e) for e in raised)


def test_keys_resolve_from_arguments_environment_then_file(
    service: LiveService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "client.toml"
    config.write_text(f'base_url = "{service.base_url}"\napi_key = "{service.keys.ercot}"\n')
    monkeypatch.setenv("CARBON254_CONFIG", str(config))
    with Client() as from_file, pytest.raises(NotEntitled):
        from_file.lmp(**LMP)  # the file's key: ERCOT only
    monkeypatch.setenv("CARBON254_API_KEY", service.keys.full)
    with Client() as from_env:
        assert len(from_env.lmp(**LMP)) == 24
    with Client(api_key=service.keys.ercot) as from_argument, pytest.raises(NotEntitled):
        from_argument.lmp(**LMP)
    config.write_text("api_key = 42\n")
    with pytest.raises(ValueError, match="must be a string"):
        Client()


def test_a_second_tenant_key_file_is_unchanged_by_the_sdk(service: LiveService, tmp_path: Path) -> None:
    # Keys made for another data dir are unknown here: 401, never a 500.
    other = make_keys(tmp_path)
    raised = both_clients(service.base_url, other.full)
    assert all(isinstance(e, AuthError) for e in raised)
