"""A real OIDC signing-key endpoint for tests: a JWKS served over HTTP on 127.0.0.1, and a token signer.

    with JwksServer() as idp:
        settings = Settings(..., oidc_issuer=idp.issuer, oidc_audience=idp.audience,
                            oidc_jwks_url=idp.jwks_url, oidc_tenant_claim=idp.tenant_claim)
        token = idp.sign(idp.claims(tenant="acme"))              # RS256, a published key
        es_token = idp.sign(idp.claims(tenant="acme"), key=idp.ec_key)
        forged = idp.sign(idp.claims(), key=TestKey.rsa("evil"), kid=idp.rsa_key.kid)
        confused = idp.sign(idp.claims(), alg="HS256")             # HMAC over the RSA public key PEM
        idp.rotate()                                              # a new RSA key replaces the old one

The server counts its JWKS fetches (`fetches`), can be told to answer errors
(`fail_with = 503`) and stopped (`stop()`: the port then refuses connections).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

JWKS_PATH = "/.well-known/jwks.json"
DEFAULT_AUDIENCE = "carbon254-api"
DEFAULT_TENANT_CLAIM = "carbon254_tenant"
HMAC_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


@dataclass(frozen=True)
class TestKey:
    """A signing key pair: `kid`, its algorithm (RS256 or ES256) and the private key (public half derived)."""

    __test__ = False  # not a pytest test class

    kid: str
    alg: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def rsa(cls, kid: str | None = None) -> TestKey:
        """A fresh RSA 2048 key for RS256."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or f"rsa-{uuid.uuid4().hex[:8]}", "RS256", key)

    @classmethod
    def ec(cls, kid: str | None = None) -> TestKey:
        """A fresh EC P-256 key for ES256."""
        return cls(kid or f"ec-{uuid.uuid4().hex[:8]}", "ES256", ec.generate_private_key(ec.SECP256R1()))

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, with `kid`, `alg` and `use` as an IdP publishes it."""
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def public_pem(self) -> bytes:
        """The public key as PEM: what an algorithm-confusion attacker uses as an HMAC secret."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class JwksServer:
    """An identity provider's key endpoint on 127.0.0.1 (random port, background thread), plus a signer.

    `issuer` and `audience` are what tokens from `claims()` carry; `jwks_url` is
    where the published keys (`rsa_key` and `ec_key` to begin with) are served.
    """

    def __init__(self, audience: str = DEFAULT_AUDIENCE, tenant_claim: str = DEFAULT_TENANT_CLAIM) -> None:
        self.audience = audience
        self.tenant_claim = tenant_claim
        self.rsa_key = TestKey.rsa()
        self.ec_key = TestKey.ec()
        self.fail_with: int | None = None  # answer this HTTP status instead of the keys
        self._published: list[TestKey] = [self.rsa_key, self.ec_key]
        self._lock = threading.Lock()
        self._fetches = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval makes `stop()` (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="jwks-server", daemon=True
        )
        self._thread.start()
        self._running = True
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.base_url}/"
        self.jwks_url = f"{self.base_url}{JWKS_PATH}"

    # --- the endpoint ------------------------------------------------------------------------
    @property
    def fetches(self) -> int:
        """How many times the JWKS has been served (successfully or with `fail_with`)."""
        with self._lock:
            return self._fetches

    @property
    def published(self) -> list[TestKey]:
        """The keys currently served."""
        with self._lock:
            return list(self._published)

    def publish(self, *keys: TestKey) -> None:
        """Serve exactly these keys from now on."""
        with self._lock:
            self._published = list(keys)

    def rotate(self) -> TestKey:
        """Replace the RSA key by a new one (new `kid`), as an IdP's key rotation does; returns it."""
        new = TestKey.rsa()
        with self._lock:
            self._published = [new if key is self.rsa_key else key for key in self._published]
            self.rsa_key = new
        return new

    def stop(self) -> None:
        """Stop serving: connections to `jwks_url` are refused afterwards."""
        if self._running:
            self._running = False
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)

    def __enter__(self) -> JwksServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _serve(self) -> tuple[int, bytes]:
        with self._lock:
            self._fetches += 1
            if self.fail_with is not None:
                return self.fail_with, b'{"error": "unavailable"}'
            body = {"keys": [key.public_jwk() for key in self._published]}
        return 200, json.dumps(body).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = server._serve() if self.path == JWKS_PATH else (404, b"{}")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler

    # --- tokens ------------------------------------------------------------------------------
    def claims(
        self, tenant: str | None = "acme", subject: str = "user-1", lifetime_s: float = 300, **extra: Any
    ) -> dict[str, Any]:
        """Claims of a currently valid token for `tenant` (None leaves the tenant claim out).

        `lifetime_s` sets `exp` relative to now (negative: already expired);
        `extra` adds or overrides claims (`aud=...`, `iss=...`, `nbf=...`); a None value
        leaves that claim out (`exp=None`).
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + int(lifetime_s),
        }
        if tenant is not None:
            claims[self.tenant_claim] = tenant
        claims.update(extra)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, tenant: str = "acme", subject: str = "user-1", **extra: Any) -> str:
        """A valid RS256 token for `tenant`/`subject` (shorthand for `sign(claims(...))`)."""
        return self.sign(self.claims(tenant=tenant, subject=subject, **extra))

    def sign(
        self,
        claims: Mapping[str, Any],
        key: TestKey | None = None,
        alg: str | None = None,
        kid: str | None = None,
        headers: Mapping[str, Any] | None = None,
        secret: bytes | None = None,
    ) -> str:
        """A compact JWT of `claims`.

        By default signed by `key` (the published RSA key) with its own
        algorithm and `kid`. `alg="none"` gives an unsigned token; `alg="HS256"`
        (or HS384/HS512) an HMAC token keyed by `secret`, by default the RSA
        public key's PEM (the algorithm-confusion forgery). `kid` and `headers`
        override or add header fields.
        """
        key = key or self.rsa_key
        alg = alg or key.alg
        header: dict[str, Any] = {
            "typ": "JWT",
            "alg": alg,
            "kid": key.kid if kid is None else kid,
            **(headers or {}),
        }
        if alg in ("RS256", "ES256"):
            extra_headers = {name: value for name, value in header.items() if name != "alg"}
            return jwt.encode(dict(claims), key.private_key, algorithm=alg, headers=extra_headers)
        # Built by hand: PyJWT rightly refuses to make these.
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(dict(claims)).encode())}"
        if alg == "none":
            return f"{signing_input}."
        digest = HMAC_DIGESTS[alg]
        mac = hmac.new(secret if secret is not None else key.public_pem(), signing_input.encode(), digest)
        return f"{signing_input}.{_b64(mac.digest())}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
