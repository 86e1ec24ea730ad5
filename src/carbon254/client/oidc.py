"""OIDC sign-in for the SDK: `httpx.Auth` flows that fetch, cache and renew OAuth 2.0 bearer tokens.

    from carbon254.client.oidc import ClientCredentials, DeviceCode

    # A service account (RFC 6749 §4.4): client id and secret, no user.
    auth = ClientCredentials("https://idp.example/oauth/token", "svc-id", secret, audience="carbon254-api")

    # A person at a terminal or notebook (RFC 8628): sign in once in a browser.
    auth = DeviceCode("https://idp.example/oauth/device/code", "https://idp.example/oauth/token",
                      "carbon254-cli", audience="carbon254-api", token_cache="~/.carbon254/token.json")

    httpx.Client(base_url=..., auth=auth)        # or httpx.AsyncClient(..., auth=auth)

Both work with `httpx.Client` and `httpx.AsyncClient`. The sign-in logic is
written once, as a generator of steps (send the API request, ask the
provider, sleep this long, take the fetch lock); `sync_auth_flow` and
`async_auth_flow` only carry the steps out, blocking in a thread or awaiting
in a task.

Requests to the provider (token and device endpoints) go through a client of
the auth object's own (httpx defaults, so `HTTPS_PROXY`/`SSL_CERT_FILE` from
the environment apply; `timeout_s` per request), not through the caller's
client: httpx counts every exchange of an auth flow against the caller's
`max_redirects` (20 by default), which a user taking a minute or two to sign in
would exceed with device polls, and the token responses then stay out of the
caller's `response.history` and event hooks.

Concurrency: one token fetch at a time per auth object. The fetch lock is a
`threading.Lock`: sync callers block on it; async callers never block the
event loop, they try it and sleep briefly (`anyio.sleep`, so asyncio and trio
both work) until it is free. Whoever waited then finds the token the other
fetched and uses it, so concurrent requests, threads or tasks, share one grant.
Sleeping in the device flow's polling likewise blocks only sync callers.
The token cache file is small and written with ordinary (blocking) file I/O.

Provider refusals raise `OidcError`; an unreachable provider raises httpx's
own transport errors (`httpx.ConnectError`, `httpx.TimeoutException`, ...).

Secrets (the client secret, access and refresh tokens) never appear in
exceptions, reprs or logs; the cache file is created with mode 0600.

Imports only the standard library and httpx (and anyio, which httpx itself
requires), so the SDK installs without the server's dependencies.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote_plus

import anyio
import httpx

from carbon254.client.errors import AuthError

__all__ = ["ClientCredentials", "DeviceCode", "DevicePrompt", "OidcError", "print_device_prompt"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_POLL_INTERVAL_S = 5.0  # RFC 8628 §3.2: when the provider names none
SLOW_DOWN_STEP_S = 5.0  # RFC 8628 §3.5: added to the interval on every `slow_down`
LOCK_RETRY_S = 0.02  # how often an async caller retries the fetch lock another holds
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
CACHE_FORMAT = 1

DevicePrompt = Callable[[str, str, str | None], None]
"""Shows the user where to sign in: `(verification_uri, user_code, verification_uri_complete or None)`."""


class OidcError(AuthError):
    """The identity provider refused or could not answer a sign-in step.

    `error` is the OAuth error code (`invalid_client`, `access_denied`,
    `expired_token`, ...; or `invalid_response` when the provider's answer was
    not a valid OAuth response), `description` the provider's
    `error_description` (or ours), `status` the HTTP status of the answer (None
    when no answer was involved). An `AuthError`, so code catching the SDK's
    authentication failures catches it too. Never carries a secret.
    """

    def __init__(self, error: str, description: str | None = None, status: int | None = None) -> None:
        message = error if not description else f"{error}: {description}"
        super().__init__(
            message if status is None else f"{message} (HTTP {status})", status=status, code=error
        )
        self.error = error
        self.description = description

    def __repr__(self) -> str:
        return f"OidcError(error={self.error!r}, description={self.description!r}, status={self.status!r})"


def print_device_prompt(verification_uri: str, user_code: str, verification_uri_complete: str | None) -> None:
    """The default device-flow prompt: tells the user, on stderr, where to go and which code to enter."""
    if verification_uri_complete:
        print(
            f"To sign in, open {verification_uri_complete} (or {verification_uri} and enter {user_code}).",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(
            f"To sign in, open {verification_uri} and enter the code {user_code}.",
            file=sys.stderr,
            flush=True,
        )


# --- tokens --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """A granted access token; `obtained_at`/`expires_at` are UTC epoch seconds (None: no expiry given)."""

    access_token: str = field(repr=False)
    obtained_at: float
    expires_at: float | None
    refresh_token: str | None = field(default=None, repr=False)

    def is_fresh(self, leeway_s: float, now: float) -> bool:
        """Whether the token can still be sent: more than the leeway remains before it expires.

        The leeway is capped at half the token's lifetime so that short-lived
        tokens are still used for a while rather than renewed on every request.
        """
        if self.expires_at is None:
            return True
        leeway = min(leeway_s, max(self.expires_at - self.obtained_at, 0.0) / 2)
        return now < self.expires_at - leeway


def _oauth_error(response: httpx.Response, what: str) -> OidcError:
    """The `OidcError` a non-200 answer of an OAuth endpoint stands for (RFC 6749 §5.2)."""
    body = _json_object(response)
    error = body.get("error") if body is not None else None
    if isinstance(error, str) and error:
        description = body.get("error_description") if body is not None else None
        return OidcError(error, description if isinstance(description, str) else None, response.status_code)
    return OidcError("invalid_response", f"the {what} answered without an OAuth error", response.status_code)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The response body as a JSON object, or None when it is not one."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _token_from(response: httpx.Response, previous_refresh: str | None = None) -> _Token:
    """The token a token endpoint granted (RFC 6749 §5.1), or the `OidcError` it answered.

    A refresh grant that does not rotate the refresh token keeps `previous_refresh`.
    An `error` in a 200 answer (GitHub answers device polls so) is an error too.
    """
    body = _json_object(response)
    if response.status_code != 200 or (body is not None and "error" in body and "access_token" not in body):
        raise _oauth_error(response, "token endpoint")
    if body is None:
        raise OidcError("invalid_response", "the token endpoint's answer is not a JSON object", 200)
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise OidcError("invalid_response", "the token endpoint's answer has no access_token", 200)
    token_type = body.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise OidcError(
            "unsupported_token_type", f"expected a Bearer token, got {str(token_type)[:20]!r}", 200
        )
    expires_in = _seconds(body.get("expires_in"))
    if body.get("expires_in") is not None and expires_in is None:
        raise OidcError("invalid_response", "the token endpoint's expires_in is not a positive number", 200)
    refresh_token = body.get("refresh_token")
    now = time.time()
    return _Token(
        access_token=access_token,
        obtained_at=now,
        expires_at=None if expires_in is None else now + expires_in,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else previous_refresh,
    )


def _seconds(value: object) -> float | None:
    """`value` as a positive number of seconds, else None; numeric strings count (Azure AD v1 sends them)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf"):
        return float(value)
    return None


# --- the flow's steps, carried out by the sync or the async driver ---------------------------------------


@dataclass(frozen=True)
class _SendToApi:
    """Send the caller's `request` through the caller's client; the driver answers with its response."""

    request: httpx.Request


@dataclass(frozen=True)
class _AskProvider:
    """Send `request` to the identity provider; the driver answers with its response, body read."""

    request: httpx.Request


@dataclass(frozen=True)
class _Sleep:
    """Wait `seconds` before the flow goes on."""

    seconds: float


@dataclass(frozen=True)
class _TakeFetchLock:
    """Acquire the auth object's fetch lock; the flow releases it itself."""


_Step = _SendToApi | _AskProvider | _Sleep | _TakeFetchLock
_T = TypeVar("_T")
_Flow = Generator[_Step, httpx.Response | None, _T]


def _exchange(step: _SendToApi | _AskProvider) -> _Flow[httpx.Response]:
    """Have the driver carry out `step`; the response."""
    response = yield step
    if response is None:
        raise RuntimeError("the auth flow driver answered a request with no response")
    return response


def _check_endpoint(url: str, name: str) -> str:
    """`url` if it is an absolute https URL (http only on a loopback host, where nothing is on the wire)."""
    if not isinstance(url, str) or not url:
        raise ValueError(f"{name} must be a URL, got {url!r}")
    parsed = httpx.URL(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and parsed.host in LOOPBACK_HOSTS):
        return url
    raise ValueError(f"{name} must be an https URL (http only for localhost), got {url!r}")


def _scope_string(scope: str | Sequence[str] | None) -> str | None:
    """The space-separated `scope` parameter (RFC 6749 §3.3) from a string or a list of scopes."""
    if scope is None:
        return None
    scopes = scope.split() if isinstance(scope, str) else list(scope)
    if not scopes or not all(isinstance(s, str) and s and " " not in s for s in scopes):
        raise ValueError(f"scope must be a non-empty string or list of scope names, got {scope!r}")
    return " ".join(scopes)


class _BearerTokenAuth(httpx.Auth, ABC):
    """Shared by both grants: attach a cached token, renew it when stale, retry once on a 401.

    Subclasses say how a token is obtained (`_obtain`) and may persist it
    (`_load_saved`, `_save`).
    """

    def __init__(self, leeway_s: float, timeout_s: float) -> None:
        if leeway_s < 0:
            raise ValueError(f"leeway_s must be >= 0 seconds, got {leeway_s}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0 seconds, got {timeout_s}")
        self.leeway_s = leeway_s
        self.timeout_s = timeout_s
        self._token: _Token | None = None
        self._loaded = False
        self._load_lock = threading.Lock()  # held only while reading the saved token, never across a step
        self._fetch_lock = threading.Lock()

    # --- what subclasses provide ---------------------------------------------------------------------
    @abstractmethod
    def _obtain(self, current: _Token | None) -> _Flow[_Token]:
        """A new token from the provider (`current`: the stale or refused one, if any)."""

    def _load_saved(self) -> _Token | None:
        """A token saved by an earlier run, if the subclass keeps one."""
        return None

    def _save(self, token: _Token) -> None:
        """Keep `token` for later runs, if the subclass does."""

    # --- the flow ------------------------------------------------------------------------------------
    def _flow(self, request: httpx.Request) -> _Flow[None]:
        """Send `request` with a fresh token; on a 401 to a token not just fetched, renew and retry once."""
        token = self._usable_token()
        fetched = False
        if token is None:
            token, fetched = yield from self._renew(refused=None)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield from _exchange(_SendToApi(request))
        if response.status_code != 401 or fetched:
            return
        token, _ = yield from self._renew(refused=token)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        yield from _exchange(_SendToApi(request))

    def _usable_token(self) -> _Token | None:
        """The token in hand (loading a saved one the first time) if it is still fresh."""
        if not self._loaded:
            with self._load_lock:
                if not self._loaded:
                    self._token = self._token or self._load_saved()
                    self._loaded = True
        token = self._token
        return token if token is not None and token.is_fresh(self.leeway_s, time.time()) else None

    def _renew(self, refused: _Token | None) -> _Flow[tuple[_Token, bool]]:
        """A fresh token and whether this flow fetched it; one fetch at a time per auth object.

        After waiting for the lock, a token someone else fetched meanwhile is
        used instead of fetching again (unless it is the one the API just refused).
        """
        yield _TakeFetchLock()
        try:
            current = self._token
            if (
                current is not None
                and current is not refused
                and current.is_fresh(self.leeway_s, time.time())
            ):
                return current, False
            token = yield from self._obtain(current)
            self._token = token
            self._save(token)
            return token, True
        finally:
            self._fetch_lock.release()

    # --- the two drivers ---------------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Carry out the flow for `httpx.Client`: blocking sleeps and lock waits in the calling thread."""
        request.read()  # a retried request must be able to send its body again
        flow = self._flow(request)
        provider: httpx.Client | None = None
        try:
            step = next(flow)
            while True:
                answer: httpx.Response | None = None
                if isinstance(step, _SendToApi):
                    answer = yield step.request
                elif isinstance(step, _AskProvider):
                    provider = provider or httpx.Client(timeout=self.timeout_s)
                    answer = provider.send(step.request)
                elif isinstance(step, _Sleep):
                    time.sleep(step.seconds)
                else:
                    self._fetch_lock.acquire()
                step = flow.send(answer)
        except StopIteration:
            return
        finally:
            flow.close()  # releases the fetch lock if the flow stopped midway
            if provider is not None:
                provider.close()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Carry out the flow for `httpx.AsyncClient`: sleeps and lock waits await, never block the loop."""
        await request.aread()
        flow = self._flow(request)
        provider: httpx.AsyncClient | None = None
        try:
            step = next(flow)
            while True:
                answer: httpx.Response | None = None
                if isinstance(step, _SendToApi):
                    answer = yield step.request
                elif isinstance(step, _AskProvider):
                    provider = provider or httpx.AsyncClient(timeout=self.timeout_s)
                    answer = await provider.send(step.request)
                elif isinstance(step, _Sleep):
                    await anyio.sleep(step.seconds)
                else:
                    while not self._fetch_lock.acquire(blocking=False):
                        await anyio.sleep(LOCK_RETRY_S)
                step = flow.send(answer)
        except StopIteration:
            return
        finally:
            flow.close()
            if provider is not None:
                with anyio.CancelScope(shield=True):  # close the connections even when cancelled
                    await provider.aclose()


# --- client credentials ----------------------------------------------------------------------------------


class ClientCredentials(_BearerTokenAuth):
    """OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for a service account.

    Posts `grant_type=client_credentials` (plus `scope` and `audience` when
    given; `audience` is the Auth0/Okta-style API identifier) to `token_url`,
    authenticating with HTTP Basic `client_id`:`client_secret` (§2.3.1). The
    access token is reused until less than `leeway_s` seconds (at most half
    its lifetime) remain, then a new one is fetched. When the API answers 401
    to a cached token, a new token is fetched once and the request retried once.
    Provider refusals raise `OidcError`; `timeout_s` bounds each provider request.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | Sequence[str] | None = None,
        audience: str | None = None,
        leeway_s: float = 30.0,
        timeout_s: float = 30.0,
    ) -> None:
        super().__init__(leeway_s, timeout_s)
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret must both be non-empty")
        self.token_url = _check_endpoint(token_url, "token_url")
        self.client_id = client_id
        self.scope = _scope_string(scope)
        self.audience = audience
        credentials = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
        self._basic = "Basic " + base64.b64encode(credentials).decode()

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def _obtain(self, current: _Token | None) -> _Flow[_Token]:
        """A new token by the client-credentials grant."""
        form = {"grant_type": "client_credentials"}
        if self.scope is not None:
            form["scope"] = self.scope
        if self.audience is not None:
            form["audience"] = self.audience
        request = httpx.Request(
            "POST",
            self.token_url,
            data=form,
            headers={"Authorization": self._basic, "Accept": "application/json"},
        )
        return _token_from((yield from _exchange(_AskProvider(request))))


# --- device authorization ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DeviceAuthorization:
    """The device endpoint's answer (RFC 8628 §3.2); `expires_in` and `interval` in seconds."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float | None
    interval: float

    @classmethod
    def from_response(cls, response: httpx.Response) -> _DeviceAuthorization:
        """Parse the answer, or raise the `OidcError` it stands for."""
        if response.status_code != 200:
            raise _oauth_error(response, "device authorization endpoint")
        body = _json_object(response) or {}
        device_code, user_code = body.get("device_code"), body.get("user_code")
        # Some providers (Google) spell it `verification_url`.
        uri = body.get("verification_uri") or body.get("verification_url")
        if not all(isinstance(value, str) and value for value in (device_code, user_code, uri)):
            raise OidcError(
                "invalid_response",
                "the device authorization answer lacks device_code, user_code or verification_uri",
                response.status_code,
            )
        complete = body.get("verification_uri_complete")
        return cls(
            device_code=str(device_code),
            user_code=str(user_code),
            verification_uri=str(uri),
            verification_uri_complete=complete if isinstance(complete, str) and complete else None,
            expires_in=_seconds(body.get("expires_in")),
            interval=_seconds(body.get("interval")) or DEFAULT_POLL_INTERVAL_S,
        )


class DeviceCode(_BearerTokenAuth):
    """OAuth 2.0 device authorization grant (RFC 8628) for a person at a terminal or notebook.

    On first use it posts `client_id` (a public client: no secret), `scope`
    and `audience` to `device_authorization_url`, calls `prompt(verification_uri,
    user_code, verification_uri_complete)` (default: a line on stderr), then
    polls `token_url` every `interval` seconds while the provider answers
    `authorization_pending`, adding 5 s on each `slow_down`. `access_denied`,
    `expired_token` (or the device code's `expires_in` running out) and any
    other refusal raise `OidcError`. When the access token goes stale (or the
    API answers 401 to it) the refresh token is used (`refresh_token` grant);
    only if the provider refuses the refresh does a new device sign-in start.
    `leeway_s` and `timeout_s` are as for `ClientCredentials`.

    With `token_cache` (a file path), tokens are kept there as JSON (mode
    0600) and reused by later `DeviceCode` objects of the same `token_url`,
    `client_id`, `scope` and `audience`, so a notebook user signs in once. A
    cache file that is unreadable or made for other settings is ignored and
    replaced at the next sign-in.

    While signing in, the fetch lock is held: other requests through this auth
    object wait for the one sign-in rather than starting their own.
    """

    def __init__(
        self,
        device_authorization_url: str,
        token_url: str,
        client_id: str,
        *,
        scope: str | Sequence[str] | None = None,
        audience: str | None = None,
        prompt: DevicePrompt = print_device_prompt,
        token_cache: str | os.PathLike[str] | None = None,
        leeway_s: float = 30.0,
        timeout_s: float = 30.0,
    ) -> None:
        super().__init__(leeway_s, timeout_s)
        if not client_id:
            raise ValueError("client_id must be non-empty")
        if not callable(prompt):
            raise ValueError("prompt must be callable as prompt(verification_uri, user_code, complete_uri)")
        self.device_authorization_url = _check_endpoint(device_authorization_url, "device_authorization_url")
        self.token_url = _check_endpoint(token_url, "token_url")
        self.client_id = client_id
        self.scope = _scope_string(scope)
        self.audience = audience
        self.prompt = prompt
        self.token_cache = Path(token_cache).expanduser() if token_cache is not None else None

    def __repr__(self) -> str:
        return f"DeviceCode(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def _obtain(self, current: _Token | None) -> _Flow[_Token]:
        """A refreshed token when a refresh token is in hand and accepted, else a new device sign-in."""
        if current is not None and current.refresh_token is not None:
            try:
                return (yield from self._refresh(current.refresh_token))
            except OidcError as refused:
                # A refusal (invalid_grant: revoked or expired) means sign in again; an outage does not.
                if refused.status is None or not 400 <= refused.status < 500:
                    raise
        return (yield from self._sign_in())

    def _refresh(self, refresh_token: str) -> _Flow[_Token]:
        """A new access token by the refresh-token grant (RFC 6749 §6)."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id}
        if self.scope is not None:
            form["scope"] = self.scope
        response = yield from _exchange(_AskProvider(self._token_request(form)))
        return _token_from(response, previous_refresh=refresh_token)

    def _sign_in(self) -> _Flow[_Token]:
        """The device flow: get a user code, show it, poll until the user approves or the code expires."""
        form = {"client_id": self.client_id}
        if self.scope is not None:
            form["scope"] = self.scope
        if self.audience is not None:
            form["audience"] = self.audience
        request = httpx.Request(
            "POST", self.device_authorization_url, data=form, headers={"Accept": "application/json"}
        )
        device = _DeviceAuthorization.from_response((yield from _exchange(_AskProvider(request))))
        self.prompt(device.verification_uri, device.user_code, device.verification_uri_complete)
        deadline = None if device.expires_in is None else time.monotonic() + device.expires_in
        interval = device.interval
        poll = {
            "grant_type": DEVICE_CODE_GRANT,
            "device_code": device.device_code,
            "client_id": self.client_id,
        }
        while True:
            if deadline is not None and time.monotonic() + interval > deadline:
                raise OidcError("expired_token", "the device code expired before sign-in was completed")
            yield _Sleep(interval)
            response = yield from _exchange(_AskProvider(self._token_request(poll)))
            try:
                return _token_from(response)
            except OidcError as answer:
                if answer.error == "authorization_pending":
                    continue
                if answer.error == "slow_down":
                    interval += SLOW_DOWN_STEP_S
                    continue
                raise

    def _token_request(self, form: dict[str, str]) -> httpx.Request:
        return httpx.Request("POST", self.token_url, data=form, headers={"Accept": "application/json"})

    # --- the on-disk cache ---------------------------------------------------------------------------
    def _cache_key(self) -> dict[str, str | None]:
        return {
            "token_url": self.token_url,
            "client_id": self.client_id,
            "scope": self.scope,
            "audience": self.audience,
        }

    def _load_saved(self) -> _Token | None:
        """The token in `token_cache` if it was written for these settings; None otherwise."""
        if self.token_cache is None:
            return None
        try:
            saved = json.loads(self.token_cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("format") != CACHE_FORMAT:
            return None
        if saved.get("for") != self._cache_key():
            return None
        access_token, refresh_token = saved.get("access_token"), saved.get("refresh_token")
        obtained_at, expires_at = saved.get("obtained_at"), saved.get("expires_at")
        if not isinstance(access_token, str) or not isinstance(obtained_at, int | float):
            return None
        return _Token(
            access_token=access_token,
            obtained_at=float(obtained_at),
            expires_at=float(expires_at) if isinstance(expires_at, int | float) else None,
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
        )

    def _save(self, token: _Token) -> None:
        """Write `token` to `token_cache` atomically, readable by the owner only (mode 0600)."""
        if self.token_cache is None:
            return
        document = {
            "format": CACHE_FORMAT,
            "for": self._cache_key(),
            "access_token": token.access_token,
            "refresh_token": token.refresh_token,
            "obtained_at": token.obtained_at,
            "expires_at": token.expires_at,
        }
        directory = self.token_cache.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp creates the file 0600 from the start: the tokens are never readable by others.
        descriptor, temporary = tempfile.mkstemp(prefix=".token-", dir=directory)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(document, file)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.token_cache)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
