"""ERCOT Public API access: the B2C token auth, configured by `ErcotSettings`.

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
import threading
import time
from collections.abc import Callable, Generator

import httpx

from carbon254.isos.ercot.settings import ErcotSettings

# ERCOT's public application id for the ROPC flow, as given in ERCOT's API documentation.
CLIENT_ID = "fec253ea-0d06-4272-a5e6-b478baeecd70"
REFRESH_MARGIN_S = 300.0
DEFAULT_LIFETIME_S = 3600.0


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
            "password": s.password.get_secret_value() if s.password is not None else "",
            "response_type": "id_token",
            "scope": f"openid {CLIENT_ID} offline_access",
            "client_id": CLIENT_ID,
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
        key = self.settings.api_key
        request.headers["Ocp-Apim-Subscription-Key"] = key.get_secret_value() if key is not None else ""

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
