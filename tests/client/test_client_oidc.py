"""SDK OIDC sign-in (`carbon254.client.oidc`) against a real OAuth provider and a real service process.

The provider (`oidc_provider.OidcProvider`) issues JWTs the service verifies
through its JWKS; the service runs under uvicorn with `auth=required`,
trusting that provider, with tenant `acme` in its metadata database.
"""

from __future__ import annotations

import asyncio
import json
import stat
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

# The service tests' helpers (tenant creation, a uvicorn service process), shared rather than copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from auth_setup import make_tenant_key
from stream_servers import ServiceProcess

from carbon254.client import AsyncClient, Client, Tick
from carbon254.client.oidc import ClientCredentials, DeviceCode, OidcError
from carbon254.config import AuthMode, Settings
from carbon254.schema import TIMESTAMP
from carbon254.store import open_store
from oidc_provider import OidcProvider

SHORT_LIFETIME_S = 2.0
# A 2 s token is renewed once half its lifetime has passed (the leeway is capped at half the lifetime).
PAST_HALF_LIFE_S = 1.2


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as idp:
        yield idp


@pytest.fixture(scope="module")
def service(provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A uvicorn service with `auth=required` trusting `provider`; tenant `acme` exists, `ghost` does not."""
    root = tmp_path_factory.mktemp("oidc-service")
    data_dir = root / "data"
    settings = Settings(
        data_dir=data_dir,
        auth=AuthMode.REQUIRED,
        oidc_issuer=provider.issuer,
        oidc_audience=provider.audience,
        oidc_jwks_url=provider.jwks_url,
        oidc_tenant_claim=provider.tenant_claim,
    )
    make_tenant_key(settings, "acme")
    env = {
        "CARBON254_AUTH": AuthMode.REQUIRED.value,
        "CARBON254_OIDC_ISSUER": provider.issuer,
        "CARBON254_OIDC_AUDIENCE": provider.audience,
        "CARBON254_OIDC_JWKS_URL": provider.jwks_url,
        "CARBON254_OIDC_TENANT_CLAIM": provider.tenant_claim,
    }
    with ServiceProcess(data_dir, root / "server.log", env=env) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_provider(provider: OidcProvider) -> OidcProvider:
    """Each test starts from the provider's defaults with zeroed counters."""
    provider.reset()
    return provider


def client_credentials(provider: OidcProvider, **options: object) -> ClientCredentials:
    """Client-credentials auth for the provider's registered service account."""
    return ClientCredentials(
        provider.token_url,
        provider.client_id,
        provider.client_secret,
        audience=provider.audience,
        **options,  # type: ignore[arg-type]
    )


def api(service: ServiceProcess, auth: httpx.Auth | None) -> httpx.Client:
    return httpx.Client(base_url=service.base, auth=auth, timeout=30)


def bearer_of(response: httpx.Response) -> str:
    """The token a response's request carried."""
    return response.request.headers["Authorization"].removeprefix("Bearer ")


class Browser:
    """The user at a browser: a device-flow `prompt` that signs in (or refuses) in a thread of its own.

    It records each prompt; once the SDK has polled the token endpoint
    `after_polls` times for the shown code, it calls `provider.approve` (or
    `deny`/`expire`, per `action`), as a user finishing sign-in would.
    `slow_down` makes the provider answer the first poll with `slow_down`.
    """

    def __init__(
        self, provider: OidcProvider, action: str = "approve", after_polls: int = 1, slow_down: bool = False
    ) -> None:
        self.provider = provider
        self.action = action
        self.after_polls = after_polls
        self.slow_down = slow_down
        self.prompts: list[tuple[str, str, str | None]] = []
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def __call__(self, verification_uri: str, user_code: str, verification_uri_complete: str | None) -> None:
        self.prompts.append((verification_uri, user_code, verification_uri_complete))
        if self.slow_down:
            self.provider.slow_down_next(user_code)
        thread = threading.Thread(target=self._act, args=(user_code,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _act(self, user_code: str) -> None:
        try:
            self.provider.wait_for_polls(user_code, self.after_polls)
            getattr(self.provider, self.action)(user_code)
        except BaseException as exc:
            self.errors.append(exc)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=30)
        assert not self.errors, self.errors


def no_prompt(verification_uri: str, user_code: str, verification_uri_complete: str | None) -> None:
    raise AssertionError(f"a sign-in prompt was shown ({user_code}) where a cached token should be used")


def device_code(provider: OidcProvider, prompt: object, **options: object) -> DeviceCode:
    return DeviceCode(
        provider.device_authorization_url,
        provider.token_url,
        provider.device_client_id,
        audience=provider.audience,
        scope=["openid", "offline_access"],
        prompt=prompt,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


# --- client credentials ------------------------------------------------------------------------------


def test_client_credentials_token_is_obtained_and_accepted(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    with api(service, None) as anonymous:
        assert anonymous.get("/v1/locations").status_code == 401
    with api(service, client_credentials(provider, scope="lmp:read")) as client:
        response = client.get("/v1/locations")
    assert response.status_code == 200, response.text
    assert "data" in response.json()
    assert provider.grants == {"client_credentials": 1}
    (form,) = provider.token_requests
    # The secret travels in the Basic header, never in the body.
    assert form == {"grant_type": "client_credentials", "scope": "lmp:read", "audience": provider.audience}


def test_client_credentials_token_is_cached(provider: OidcProvider, service: ServiceProcess) -> None:
    with api(service, client_credentials(provider)) as client:
        responses = [client.get("/v1/locations") for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert len({bearer_of(r) for r in responses}) == 1
    assert provider.grants["client_credentials"] == 1


def test_concurrent_threads_share_one_grant(provider: OidcProvider, service: ServiceProcess) -> None:
    with api(service, client_credentials(provider)) as client, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: client.get("/v1/locations").status_code, range(16)))
    assert statuses == [200] * 16
    assert provider.grants["client_credentials"] == 1


def test_client_credentials_token_is_renewed_before_it_expires(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    provider.token_lifetime_s = SHORT_LIFETIME_S
    with api(service, client_credentials(provider)) as client:
        first = client.get("/v1/locations")
        time.sleep(PAST_HALF_LIFE_S)
        second = client.get("/v1/locations")
    assert (first.status_code, second.status_code) == (200, 200)
    assert bearer_of(first) != bearer_of(second)
    assert provider.grants["client_credentials"] == 2


def test_a_refused_cached_token_is_renewed_once_and_the_request_retried(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    # Tokens for tenant `ghost` are refused by the service (no such tenant there).
    provider.register_client(provider.client_id, provider.client_secret, tenant="ghost")
    with api(service, client_credentials(provider)) as client:
        refused = client.get("/v1/locations")
        # A token fetched for this very request is not fetched again: the 401 is the answer.
        assert refused.status_code == 401
        assert provider.grants["client_credentials"] == 1
        provider.register_client(provider.client_id, provider.client_secret, tenant="acme")
        retried = client.get("/v1/locations")
    assert retried.status_code == 200, retried.text
    assert provider.grants["client_credentials"] == 2
    # Token requests go through the auth's own client: the caller's history holds only the refused call.
    assert [(r.request.url.path, r.status_code) for r in retried.history] == [("/v1/locations", 401)]


def test_wrong_secret_is_an_oidc_error_without_the_secret(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    secret = "not-the-secret-3f9a1c"
    auth = ClientCredentials(provider.token_url, provider.client_id, secret)
    with api(service, auth) as client, pytest.raises(OidcError) as refused:
        client.get("/v1/locations")
    error = refused.value
    assert (error.error, error.status) == ("invalid_client", 401)
    assert error.description == "client authentication failed: unknown client or bad secret"
    assert "client authentication failed" in str(error)
    for shown in (str(error), repr(error), repr(auth)):
        assert secret not in shown
    assert provider.grants["client_credentials"] == 0


def test_unknown_audience_is_the_providers_error(provider: OidcProvider) -> None:
    auth = ClientCredentials(provider.token_url, provider.client_id, provider.client_secret, audience="other")
    with httpx.Client(auth=auth) as client, pytest.raises(OidcError) as refused:
        client.get(provider.issuer)
    assert (refused.value.error, refused.value.status) == ("invalid_target", 400)


def test_endpoints_must_be_https_off_loopback() -> None:
    with pytest.raises(ValueError, match="https"):
        ClientCredentials("http://idp.example/oauth/token", "id", "secret")
    with pytest.raises(ValueError, match="non-empty"):
        ClientCredentials("https://idp.example/oauth/token", "id", "")
    with pytest.raises(ValueError, match="leeway_s"):
        ClientCredentials("https://idp.example/oauth/token", "id", "secret", leeway_s=-1)


# --- device authorization ----------------------------------------------------------------------------


def test_device_flow_polls_while_pending_then_gets_a_token(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    browser = Browser(provider, after_polls=2)
    auth = device_code(provider, browser)
    with api(service, auth) as client:
        first = client.get("/v1/locations")
        second = client.get("/v1/locations")
    browser.join()
    assert (first.status_code, second.status_code) == (200, 200)
    ((uri, user_code, complete),) = browser.prompts
    assert uri == provider.verification_uri
    assert user_code == provider.user_codes[0]
    assert complete == f"{provider.verification_uri}?user_code={user_code}"
    assert provider.answers["authorization_pending"] >= 2
    assert provider.grants == {"device_code": 1}
    assert provider.device_authorizations == 1


def test_a_long_sign_in_is_not_cut_short_by_the_callers_redirect_limit(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    # httpx counts auth-flow exchanges against max_redirects: polls must not be among them.
    browser = Browser(provider, after_polls=8)
    with httpx.Client(base_url=service.base, auth=device_code(provider, browser), max_redirects=3) as client:
        response = client.get("/v1/locations")
    browser.join()
    assert response.status_code == 200
    assert response.history == []
    assert provider.polls(browser.prompts[0][1]) == 9


def test_device_flow_honours_slow_down(provider: OidcProvider, service: ServiceProcess) -> None:
    # After a slow_down the provider answers slow_down again to any poll sooner than interval + 5 s.
    browser = Browser(provider, after_polls=1, slow_down=True)
    with api(service, device_code(provider, browser)) as client:
        response = client.get("/v1/locations")
    browser.join()
    assert response.status_code == 200
    assert provider.answers["slow_down"] == 1
    assert provider.polls(browser.prompts[0][1]) == 2


@pytest.mark.parametrize(
    ("action", "error", "description"),
    [
        ("deny", "access_denied", "the user declined the sign-in request"),
        ("expire", "expired_token", "the device code has expired; start the sign-in again"),
    ],
)
def test_device_flow_refusals_are_oidc_errors(
    action: str, error: str, description: str, provider: OidcProvider, service: ServiceProcess
) -> None:
    browser = Browser(provider, action=action)
    with api(service, device_code(provider, browser)) as client, pytest.raises(OidcError) as refused:
        client.get("/v1/locations")
    browser.join()
    assert (refused.value.error, refused.value.description, refused.value.status) == (error, description, 400)
    assert provider.grants["device_code"] == 0


def test_device_code_running_out_locally_stops_polling(provider: OidcProvider) -> None:
    provider.device_code_lifetime_s = 0.3  # never approved: polling must stop by itself
    prompts: list[str] = []
    auth = device_code(provider, lambda uri, code, complete: prompts.append(code))
    with httpx.Client(auth=auth) as client, pytest.raises(OidcError) as refused:
        client.get(provider.issuer)
    assert refused.value.error == "expired_token"
    assert len(prompts) == 1


def test_refresh_token_is_used_when_the_access_token_goes_stale(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    provider.token_lifetime_s = SHORT_LIFETIME_S
    browser = Browser(provider)
    with api(service, device_code(provider, browser)) as client:
        first = client.get("/v1/locations")
        time.sleep(PAST_HALF_LIFE_S)
        second = client.get("/v1/locations")
        time.sleep(PAST_HALF_LIFE_S)
        # The provider rotates refresh tokens: the second refresh needs the one the first returned.
        third = client.get("/v1/locations")
    browser.join()
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert len({bearer_of(r) for r in (first, second, third)}) == 3
    assert provider.grants == {"device_code": 1, "refresh_token": 2}
    assert len(browser.prompts) == 1
    refreshes = [form for form in provider.token_requests if form["grant_type"] == "refresh_token"]
    assert all(form["client_id"] == provider.device_client_id for form in refreshes)


def test_refused_refresh_falls_back_to_a_new_device_sign_in(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    provider.token_lifetime_s = SHORT_LIFETIME_S
    browser = Browser(provider)
    with api(service, device_code(provider, browser)) as client:
        assert client.get("/v1/locations").status_code == 200
        provider.revoke_refresh_tokens()
        time.sleep(PAST_HALF_LIFE_S)
        assert client.get("/v1/locations").status_code == 200
    browser.join()
    assert provider.answers["invalid_grant"] == 1
    assert provider.grants == {"device_code": 2}
    assert len(browser.prompts) == 2


def test_token_cache_is_private_and_spares_a_new_sign_in(
    provider: OidcProvider, service: ServiceProcess, tmp_path: Path
) -> None:
    cache = tmp_path / "carbon254" / "token.json"
    browser = Browser(provider)
    with api(service, device_code(provider, browser, token_cache=cache)) as client:
        first = client.get("/v1/locations")
    browser.join()
    assert first.status_code == 200
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert json.loads(cache.read_text())["access_token"] == bearer_of(first)

    # A new object (a new notebook kernel) reuses the cached token: no prompt, no grant.
    with api(service, device_code(provider, no_prompt, token_cache=cache)) as client:
        again = client.get("/v1/locations")
    assert again.status_code == 200
    assert bearer_of(again) == bearer_of(first)
    assert provider.grants == {"device_code": 1}
    assert provider.device_authorizations == 1

    # A cache written for other settings (here another scope) is not used.
    other = Browser(provider)
    auth = DeviceCode(
        provider.device_authorization_url,
        provider.token_url,
        provider.device_client_id,
        scope="openid",
        prompt=other,
        token_cache=cache,
    )
    with api(service, auth) as client:
        assert client.get("/v1/locations").status_code == 200
    other.join()
    assert len(other.prompts) == 1


def test_stale_cached_token_is_refreshed_without_a_prompt(
    provider: OidcProvider, service: ServiceProcess, tmp_path: Path
) -> None:
    provider.token_lifetime_s = SHORT_LIFETIME_S
    cache = tmp_path / "token.json"
    browser = Browser(provider)
    with api(service, device_code(provider, browser, token_cache=cache)) as client:
        assert client.get("/v1/locations").status_code == 200
    browser.join()
    time.sleep(PAST_HALF_LIFE_S)
    with api(service, device_code(provider, no_prompt, token_cache=cache)) as client:
        refreshed = client.get("/v1/locations")
    assert refreshed.status_code == 200
    assert provider.grants == {"device_code": 1, "refresh_token": 1}
    assert json.loads(cache.read_text())["access_token"] == bearer_of(refreshed)


# --- the async client -------------------------------------------------------------------------------------


def test_async_client_uses_the_same_auth_objects(provider: OidcProvider, service: ServiceProcess) -> None:
    service_account = client_credentials(provider)
    browser = Browser(provider)
    person = device_code(provider, browser)

    async def scenario() -> tuple[list[int], list[int]]:
        async with (
            httpx.AsyncClient(base_url=service.base, auth=service_account, timeout=30) as machine,
            httpx.AsyncClient(base_url=service.base, auth=person, timeout=30) as human,
        ):
            # Concurrent first requests: one sign-in each, shared by all of them.
            machine_answers = await asyncio.gather(*(machine.get("/v1/locations") for _ in range(4)))
            human_answers = await asyncio.gather(*(human.get("/v1/locations") for _ in range(4)))
        return [r.status_code for r in machine_answers], [r.status_code for r in human_answers]

    machine_statuses, human_statuses = asyncio.run(scenario())
    browser.join()
    assert machine_statuses == [200] * 4
    assert human_statuses == [200] * 4
    assert provider.grants == {"client_credentials": 1, "device_code": 1}
    assert len(browser.prompts) == 1

    # The sync client goes on with the tokens the async one obtained.
    with api(service, service_account) as client:
        assert client.get("/v1/locations").status_code == 200
    assert provider.grants["client_credentials"] == 1


def test_async_client_refreshes_a_stale_device_token(provider: OidcProvider, service: ServiceProcess) -> None:
    provider.token_lifetime_s = SHORT_LIFETIME_S
    browser = Browser(provider)
    auth = device_code(provider, browser)

    async def scenario() -> list[int]:
        async with httpx.AsyncClient(base_url=service.base, auth=auth, timeout=30) as client:
            first = await client.get("/v1/locations")
            await asyncio.sleep(PAST_HALF_LIFE_S)
            second = await client.get("/v1/locations")
        return [first.status_code, second.status_code]

    assert asyncio.run(scenario()) == [200, 200]
    browser.join()
    assert provider.grants == {"device_code": 1, "refresh_token": 1}


def test_the_sdk_clients_sign_in_with_oidc_for_rest_and_the_stream(
    provider: OidcProvider, service: ServiceProcess
) -> None:
    def commit(day: int = 1) -> None:
        start = datetime(2026, 2, day)
        row = pa.table(
            {
                "iso": ["ERCOT"],
                "market": ["RT5"],
                "location": ["HB_NORTH"],
                "location_type": ["hub"],
                "interval_start": pa.array([start], TIMESTAMP),
                "interval_end": pa.array([start.replace(minute=5)], TIMESTAMP),
                "lmp": [31.5],
                "energy": [30.0],
                "congestion": [1.0],
                "loss": [0.5],
                "published_at": pa.nulls(1, TIMESTAMP),
            }
        )
        store = open_store(service.data_dir)
        try:
            store.write("lmp", row)
        finally:
            store.close()

    commit(day=2)  # before subscribing: the stream only takes locations the catalog knows

    with Client(base_url=service.base, auth=client_credentials(provider)) as client:
        assert client.locations(frame="arrow").column_names[:2] == ["iso", "location"]

    async def first_tick() -> Tick:
        async with AsyncClient(base_url=service.base, auth=client_credentials(provider)) as aclient:
            threading.Timer(1.0, commit).start()
            async with asyncio.timeout(20):
                async for tick in aclient.stream(iso="ERCOT", market="RT5", locations=["HB_NORTH"]):
                    return tick
        raise AssertionError("the stream ended")

    tick = asyncio.run(first_tick())
    assert (tick.location, tick.lmp) == ("HB_NORTH", 31.5)
    assert provider.grants["client_credentials"] >= 1
