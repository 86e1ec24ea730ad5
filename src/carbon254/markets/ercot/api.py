"""ERCOT Public API access: settings from the environment and the B2C token auth.

The Public API (`api.ercot.com/api/public-reports`) needs two things on every
request: a subscription key (`Ocp-Apim-Subscription-Key`) and a bearer token
obtained from ERCOT's Azure B2C "resource owner password" flow with the
account's username and password. `ErcotTokenAuth` is an `httpx.Auth` that
fetches the token on first use, reuses it until five minutes before it
expires (tokens live an hour), then fetches a new one; a 401 from the API
also forces one refresh and a single resend.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

TOKEN_URL = "https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
API_BASE = "https://api.ercot.com/api/public-reports"
# ERCOT's public application id for the ROPC flow, as given in ERCOT's API documentation.
CLIENT_ID = "fec253ea-0d06-4272-a5e6-b478baeecd70"
REFRESH_MARGIN_S = 300.0
DEFAULT_LIFETIME_S = 3600.0


def rebase(url: str, base: str | None) -> str:
    """`url` with scheme and host swapped for `base`'s (its path prefixed), as `IsoClient.url` does."""
    if not base:
        return url
    b = urlsplit(base.rstrip("/"))
    u = urlsplit(url)
    return urlunsplit((b.scheme, b.netloc, b.path + u.path, u.query, u.fragment))


@dataclass(frozen=True, slots=True)
class ErcotSettings:
    """Public API credentials and endpoints; the API is used only when all three credentials are set.

    From the environment (`from_env`): `CARBON254_ERCOT_API_KEY` (subscription
    key), `CARBON254_ERCOT_USERNAME`, `CARBON254_ERCOT_PASSWORD`; optional
    `CARBON254_ERCOT_TOKEN_URL` and `CARBON254_ERCOT_API_URL` replace the
    token endpoint and API base. `CARBON254_ERCOT_URL` (which redirects every
    ERCOT request through `IsoClient`) also moves the token endpoint, because
    the token request is made by the auth flow rather than by the client.
    """

    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    token_url: str = TOKEN_URL
    api_base: str = API_BASE
    client_id: str = CLIENT_ID

    @property
    def api_enabled(self) -> bool:
        """Whether the Public API can be used (key, username and password all given)."""
        return bool(self.api_key and self.username and self.password)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ErcotSettings:
        """Settings read from `env` (default `os.environ`), as described on the class."""
        e = os.environ if env is None else env
        token_url = e.get("CARBON254_ERCOT_TOKEN_URL") or rebase(TOKEN_URL, e.get("CARBON254_ERCOT_URL"))
        return cls(
            api_key=e.get("CARBON254_ERCOT_API_KEY") or None,
            username=e.get("CARBON254_ERCOT_USERNAME") or None,
            password=e.get("CARBON254_ERCOT_PASSWORD") or None,
            token_url=token_url,
            api_base=e.get("CARBON254_ERCOT_API_URL") or API_BASE,
        )


class TokenError(httpx.TransportError):
    """The token endpoint failed: retried by `IsoClient` like any transport failure, then reported."""


class ErcotTokenAuth(httpx.Auth):
    """Bearer token + subscription key on every request, the token cached until shortly before expiry.

    `clock` (seconds, monotonic in spirit) is injectable so tests can move
    time past the token's lifetime. `tokens_fetched` counts token requests.
    """

    requires_response_body = True

    def __init__(self, settings: ErcotSettings, clock: Callable[[], float] = time.monotonic) -> None:
        if not settings.api_enabled:
            raise ValueError("ERCOT API auth needs CARBON254_ERCOT_API_KEY, _USERNAME and _PASSWORD")
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.tokens_fetched = 0

    def _valid_token(self) -> str | None:
        with self._lock:
            if self._token is not None and self._clock() < self._refresh_at:
                return self._token
            return None

    def _token_request(self) -> httpx.Request:
        s = self.settings
        form = {
            "grant_type": "password",
            "username": s.username or "",
            "password": s.password or "",
            "response_type": "id_token",
            "scope": f"openid {s.client_id} offline_access",
            "client_id": s.client_id,
        }
        return httpx.Request("POST", s.token_url, data=form)

    def _store(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise TokenError(f"ERCOT token endpoint answered HTTP {response.status_code}")
        try:
            body = json.loads(response.content)
            token = str(body.get("id_token") or body["access_token"])
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME_S)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TokenError(f"ERCOT token endpoint answered without a token ({exc})") from None
        with self._lock:
            self._token = token
            self._refresh_at = self._clock() + max(0.0, lifetime - REFRESH_MARGIN_S)
            self.tokens_fetched += 1
        return token

    def _sign(self, request: httpx.Request, token: str) -> None:
        request.headers["Authorization"] = f"Bearer {token}"
        request.headers["Ocp-Apim-Subscription-Key"] = self.settings.api_key or ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign `request`, fetching a token first when none is valid; refresh once on a 401."""
        token = self._valid_token()
        if token is None:
            token = self._store((yield self._token_request()))
        self._sign(request, token)
        response = yield request
        if response.status_code == 401:
            self._sign(request, self._store((yield self._token_request())))
            yield request
