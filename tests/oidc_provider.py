"""A real OAuth 2.0 / OIDC provider for tests: token and device endpoints on 127.0.0.1, JWTs by `JwksServer`.

    with OidcProvider(token_lifetime_s=2) as idp:
        # the service trusts idp.issuer / idp.audience / idp.jwks_url / idp.tenant_claim, as with JwksServer
        ClientCredentials(idp.token_url, idp.client_id, idp.client_secret)     # a registered service account
        DeviceCode(idp.device_authorization_url, idp.token_url, idp.device_client_id, prompt=...)
        idp.approve(user_code, tenant="acme")    # the user signing in in a browser
        idp.grants["client_credentials"]          # tokens issued, per grant type

Endpoints (form-encoded POSTs answering JSON, as RFC 6749 and RFC 8628 say):

* `token_url`: `client_credentials` (HTTP Basic client authentication with a
  registered id and secret), `urn:ietf:params:oauth:grant-type:device_code`
  (the device client; `authorization_pending` until approved, `slow_down`
  when polled faster than the interval, which then grows by 5 s) and
  `refresh_token` (rotating: each refresh token works once);
* `device_authorization_url`: a device code and user code for the device client.

Access tokens are JWTs from `JwksServer.sign` (its keys, issuer, audience and
tenant claim), each with a unique `jti`, valid `token_lifetime_s`. Errors can
be injected: `deny`, `expire`, `slow_down_next` a user code;
`revoke_refresh_tokens()`. `reset()` restores the defaults and zeroes the counters.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from jwks_server import DEFAULT_AUDIENCE, DEFAULT_TENANT_CLAIM, JwksServer

TOKEN_PATH = "/oauth/token"
DEVICE_AUTHORIZATION_PATH = "/oauth/device/code"
VERIFICATION_PATH = "/device"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP_S = 5.0
USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels: user codes never spell words (RFC 8628 §6.1)

DEFAULT_CLIENT_ID = "carbon254-service"
DEFAULT_DEVICE_CLIENT_ID = "carbon254-cli"
DEFAULT_TOKEN_LIFETIME_S = 300.0
DEFAULT_INTERVAL_S = 0.1  # far below RFC 8628's 5 s default, so device tests poll quickly
DEFAULT_DEVICE_CODE_LIFETIME_S = 60.0


@dataclass
class RegisteredClient:
    """A confidential client: its secret, and the tenant and subject its tokens carry."""

    secret: str
    tenant: str
    subject: str


@dataclass
class DeviceGrant:
    """One device authorization in progress; times are `time.monotonic()` seconds."""

    user_code: str
    scope: str | None
    expires_at: float
    interval_s: float
    state: str = "pending"  # pending | approved | denied | expired | used
    tenant: str = ""
    subject: str = ""
    polls: int = 0
    last_poll: float | None = None
    slow_down_next: bool = False


@dataclass
class RefreshGrant:
    """What a refresh token stands for."""

    client_id: str
    tenant: str
    subject: str
    scope: str | None


class OAuthRefusal(Exception):
    """An OAuth error answer: HTTP `status` with `{"error", "error_description"}`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class OidcProvider(JwksServer):
    """`JwksServer` plus a token endpoint and a device authorization endpoint; see the module docstring.

    One confidential client is registered (`client_id`, `client_secret`,
    tokens for tenant `acme`); `device_client_id` is the public device client.
    `token_lifetime_s`, `interval_s` and `device_code_lifetime_s` may be
    changed between tests (they apply to grants made afterwards).
    """

    def __init__(
        self,
        audience: str = DEFAULT_AUDIENCE,
        tenant_claim: str = DEFAULT_TENANT_CLAIM,
        token_lifetime_s: float = DEFAULT_TOKEN_LIFETIME_S,
        interval_s: float = DEFAULT_INTERVAL_S,
        device_code_lifetime_s: float = DEFAULT_DEVICE_CODE_LIFETIME_S,
    ) -> None:
        # Set before the parent starts serving: the handler reads them on every request.
        self._initial = (token_lifetime_s, interval_s, device_code_lifetime_s)
        self.client_id = DEFAULT_CLIENT_ID
        self.client_secret = secrets.token_urlsafe(24)
        self.device_client_id = DEFAULT_DEVICE_CLIENT_ID
        self._init_state()
        super().__init__(audience=audience, tenant_claim=tenant_claim)
        self.token_url = f"{self.base_url}{TOKEN_PATH}"
        self.device_authorization_url = f"{self.base_url}{DEVICE_AUTHORIZATION_PATH}"
        self.verification_uri = f"{self.base_url}{VERIFICATION_PATH}"

    def __enter__(self) -> OidcProvider:
        return self

    def _init_state(self) -> None:
        self.token_lifetime_s, self.interval_s, self.device_code_lifetime_s = self._initial
        self.grants: Counter[str] = Counter()  # tokens issued, by grant type
        self.answers: Counter[str] = Counter()  # OAuth errors answered, by code
        self.device_authorizations = 0
        self.token_requests: list[dict[str, str]] = []  # form fields of each token request
        self._clients = {self.client_id: RegisteredClient(self.client_secret, "acme", "service-account")}
        self._devices: dict[str, DeviceGrant] = {}  # by device code
        self._device_codes: dict[str, str] = {}  # user code -> device code
        self._refresh: dict[str, RefreshGrant] = {}

    # --- controls the tests use -----------------------------------------------------------------
    def reset(self) -> None:
        """Back to the state after construction: default settings and client, no grants, zero counters."""
        with self._lock:
            self._init_state()

    def register_client(
        self, client_id: str, secret: str, tenant: str = "acme", subject: str = "service-account"
    ) -> None:
        """Register (or re-register) a confidential client whose tokens carry `tenant` and `subject`."""
        with self._lock:
            self._clients[client_id] = RegisteredClient(secret, tenant, subject)

    def approve(self, user_code: str, tenant: str = "acme", subject: str = "user-1") -> None:
        """The user signs in and approves `user_code`: the next poll gets tokens for `tenant`/`subject`."""
        with self._lock:
            grant = self._grant(user_code)
            grant.state, grant.tenant, grant.subject = "approved", tenant, subject

    def deny(self, user_code: str) -> None:
        """The user refuses `user_code`: polls are answered `access_denied`."""
        with self._lock:
            self._grant(user_code).state = "denied"

    def expire(self, user_code: str) -> None:
        """`user_code` runs out now: polls are answered `expired_token`."""
        with self._lock:
            self._grant(user_code).state = "expired"

    def slow_down_next(self, user_code: str) -> None:
        """Answer the next poll of `user_code` with `slow_down` (its interval then grows by 5 s)."""
        with self._lock:
            self._grant(user_code).slow_down_next = True

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is refused from now on (`invalid_grant`)."""
        with self._lock:
            self._refresh.clear()

    def polls(self, user_code: str) -> int:
        """How many times the token endpoint has been polled for `user_code`."""
        with self._lock:
            return self._grant(user_code).polls

    def wait_for_polls(self, user_code: str, count: int = 1, timeout_s: float = 30.0) -> None:
        """Block until `user_code` has been polled `count` times (TimeoutError after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while self.polls(user_code) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"user code {user_code} was not polled {count} times in {timeout_s} s")
            time.sleep(0.01)

    @property
    def user_codes(self) -> list[str]:
        """User codes issued, oldest first."""
        with self._lock:
            return list(self._device_codes)

    def _grant(self, user_code: str) -> DeviceGrant:
        try:
            return self._devices[self._device_codes[user_code]]
        except KeyError:
            raise KeyError(f"no device authorization has user code {user_code!r}") from None

    # --- the endpoints --------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        provider = self
        jwks_handler = super()._handler_class()

        class Handler(jwks_handler):  # type: ignore[valid-type,misc]
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] == VERIFICATION_PATH:
                    self._reply(200, b"<p>Enter the code shown by your device.</p>", "text/html")
                else:
                    super().do_GET()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", errors="replace")
                routes = {
                    TOKEN_PATH: provider._token,
                    DEVICE_AUTHORIZATION_PATH: provider._device_authorization,
                }
                route = routes.get(self.path)
                if route is None:
                    self._reply(404, b"{}")
                    return
                try:
                    if self.headers.get("Content-Type", "").split(";")[0].strip() != (
                        "application/x-www-form-urlencoded"
                    ):
                        raise OAuthRefusal(400, "invalid_request", "the body must be form-encoded")
                    form = _form(body)
                    answer = route(form, self.headers.get("Authorization"))
                    self._reply(200, json.dumps(answer).encode())
                except OAuthRefusal as refusal:
                    provider._count_refusal(refusal)
                    error = {"error": refusal.error, "error_description": refusal.description}
                    headers = {"WWW-Authenticate": "Basic"} if refusal.status == 401 else {}
                    self._reply(refusal.status, json.dumps(error).encode(), headers=headers)

            def _reply(
                self,
                status: int,
                body: bytes,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _count_refusal(self, refusal: OAuthRefusal) -> None:
        with self._lock:
            self.answers[refusal.error] += 1

    def _token(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        with self._lock:
            self.token_requests.append(dict(form))
            if grant_type == "client_credentials":
                return self._client_credentials(form, authorization)
            if grant_type == DEVICE_CODE_GRANT:
                return self._device_code(form)
            if grant_type == "refresh_token":
                return self._refresh_token(form)
        raise OAuthRefusal(400, "unsupported_grant_type", f"grant type {grant_type!r} is not supported")

    def _client_credentials(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client_id, secret = _basic_credentials(authorization)
        client = self._clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            raise OAuthRefusal(
                401, "invalid_client", "client authentication failed: unknown client or bad secret"
            )
        self._check_audience(form)
        self.grants["client_credentials"] += 1
        return self._issue(client_id, client.tenant, client.subject, form.get("scope"), refresh=False)

    def _device_code(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("client_id") != self.device_client_id:
            raise OAuthRefusal(401, "invalid_client", "unknown device client")
        grant = self._devices.get(form.get("device_code", ""))
        if grant is None or grant.state == "used":
            raise OAuthRefusal(400, "invalid_grant", "the device code is unknown or already used")
        now = time.monotonic()
        grant.polls += 1
        too_soon = grant.last_poll is not None and now - grant.last_poll < grant.interval_s
        grant.last_poll = now
        if grant.state == "expired" or now > grant.expires_at:
            grant.state = "expired"
            raise OAuthRefusal(400, "expired_token", "the device code has expired; start the sign-in again")
        if grant.slow_down_next or too_soon:
            # RFC 8628 §3.5: the client must add 5 s to its interval from now on; so does the server.
            grant.slow_down_next = False
            grant.interval_s += SLOW_DOWN_STEP_S
            raise OAuthRefusal(400, "slow_down", "polling too fast")
        if grant.state == "denied":
            raise OAuthRefusal(400, "access_denied", "the user declined the sign-in request")
        if grant.state == "pending":
            raise OAuthRefusal(400, "authorization_pending", "the user has not signed in yet")
        grant.state = "used"
        self.grants["device_code"] += 1
        return self._issue(self.device_client_id, grant.tenant, grant.subject, grant.scope, refresh=True)

    def _refresh_token(self, form: dict[str, str]) -> dict[str, Any]:
        refresh = self._refresh.pop(form.get("refresh_token", ""), None)
        if refresh is None or refresh.client_id != form.get("client_id"):
            raise OAuthRefusal(400, "invalid_grant", "the refresh token is invalid, used or revoked")
        self.grants["refresh_token"] += 1
        return self._issue(refresh.client_id, refresh.tenant, refresh.subject, refresh.scope, refresh=True)

    def _device_authorization(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        if form.get("client_id") != self.device_client_id:
            raise OAuthRefusal(401, "invalid_client", "unknown device client")
        self._check_audience(form)
        device_code = secrets.token_urlsafe(24)
        user_code = "-".join("".join(secrets.choice(USER_CODE_LETTERS) for _ in range(4)) for _ in range(2))
        with self._lock:
            self.device_authorizations += 1
            self._devices[device_code] = DeviceGrant(
                user_code=user_code,
                scope=form.get("scope"),
                expires_at=time.monotonic() + self.device_code_lifetime_s,
                interval_s=self.interval_s,
            )
            self._device_codes[user_code] = device_code
            return {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": self.verification_uri,
                "verification_uri_complete": f"{self.verification_uri}?user_code={user_code}",
                "expires_in": self.device_code_lifetime_s,
                "interval": self.interval_s,
            }

    def _check_audience(self, form: dict[str, str]) -> None:
        audience = form.get("audience")
        if audience is not None and audience != self.audience:
            raise OAuthRefusal(400, "invalid_target", f"unknown audience {audience!r}")

    def _issue(
        self, client_id: str, tenant: str, subject: str, scope: str | None, *, refresh: bool
    ) -> dict[str, Any]:
        """A token response: a signed JWT for `tenant`/`subject`, and a refresh token when `refresh`."""
        claims = self.claims(
            tenant=tenant,
            subject=subject,
            lifetime_s=self.token_lifetime_s,
            client_id=client_id,
            jti=uuid.uuid4().hex,
            scope=scope,
        )
        answer: dict[str, Any] = {
            "access_token": self.sign(claims),
            "token_type": "Bearer",
            "expires_in": self.token_lifetime_s,
        }
        if scope is not None:
            answer["scope"] = scope
        if refresh:
            refresh_token = secrets.token_urlsafe(32)
            self._refresh[refresh_token] = RefreshGrant(client_id, tenant, subject, scope)
            answer["refresh_token"] = refresh_token
        return answer


def _form(body: str) -> dict[str, str]:
    """A form-encoded body as a dict; a repeated parameter is an `invalid_request` (RFC 6749 §3.1)."""
    parsed = parse_qs(body, keep_blank_values=True)
    repeated = [name for name, values in parsed.items() if len(values) > 1]
    if repeated:
        raise OAuthRefusal(400, "invalid_request", f"parameter {repeated[0]!r} is repeated")
    return {name: values[0] for name, values in parsed.items()}


def _basic_credentials(authorization: str | None) -> tuple[str, str]:
    """Client id and secret from `Authorization: Basic` (each form-urlencoded, RFC 6749 §2.3.1)."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        raise OAuthRefusal(401, "invalid_client", "client authentication (HTTP Basic) is required")
    try:
        client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise OAuthRefusal(401, "invalid_client", "malformed Basic credentials") from None
    return unquote_plus(client_id), unquote_plus(secret)
