"""OIDC bearer tokens: verify a JWT against the issuer's published signing keys (JWKS).

`OidcVerifier.verify(token)` accepts a token only when all of these hold:

* it is signed with RS256 or ES256 (never `none`, never HMAC: an HS256 token
  "signed" with the issuer's RSA public key as the secret is the classic
  algorithm-confusion forgery, and the key material below is never handed to
  an HMAC algorithm);
* its `kid` names a key in the issuer's JWKS whose own `kty` (and `alg`, when
  the key states one) fit the token's algorithm;
* `iss` is the configured issuer, `aud` contains the configured audience
  (when one is configured), `exp` is present and in the future, `nbf`/`iat`
  are not in the future (each with `leeway_s` of clock skew allowed);
* `exp` is a whole number of seconds since 1970 (the NumericDate every
  mainstream issuer writes) that a date can hold: text, a fraction, a
  boolean or a time past the year 9999 is refused, never turned into an
  error of the service's own;
* `sub` and the tenant claim are non-empty strings.

Any failure raises `AuthenticationError` (answered 401) with a message that
says what was wrong without echoing the token. Tokens are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt

from carbon254.application.identity import AuthenticationError

log = logging.getLogger(__name__)

# The only signature algorithms accepted, and the JWK key type each needs.
KEY_TYPE_OF_ALGORITHM: Mapping[str, str] = {"RS256": "RSA", "ES256": "EC"}

# An unknown `kid` (or a failed fetch) triggers at most one JWKS fetch per this many
# seconds: enough to pick up an IdP's key rotation within moments, too few for a stream of
# garbage tokens to turn us into a load generator against the IdP.
DEFAULT_MIN_REFETCH_S = 5.0
JWKS_TIMEOUT_S = 5.0
MAX_JWKS_BYTES = 1 * 2**20


@dataclass(frozen=True, slots=True)
class OidcClaims:
    """The verified facts of an OIDC token: who (`subject`) of which tenant, until when, by and for whom."""

    subject: str
    tenant: str
    expires_at: datetime  # UTC
    issuer: str
    audience: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _KeySet:
    """One fetched JWKS: usable signing keys by `kid`, and the monotonic time it goes stale."""

    keys: Mapping[str, jwt.PyJWK]
    stale_at: float


class JwksCache:
    """The issuer's signing keys, fetched with httpx from `url` and reused for `cache_s` seconds.

    Thread-safe: readers take the current key set without locking; one thread at
    a time fetches. A refresh is tried when the set is stale or a token names an
    unknown `kid` (key rotation), but never more often than once per
    `min_refetch_s` seconds. When a refresh fails the previous keys stay in use
    (an IdP outage must not lock everyone out) and the failure is logged.
    """

    def __init__(
        self,
        url: str,
        cache_s: float,
        http: httpx.Client | None = None,
        min_refetch_s: float = DEFAULT_MIN_REFETCH_S,
    ) -> None:
        self._url = url
        self._cache_s = cache_s
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=JWKS_TIMEOUT_S, follow_redirects=False)
        self._min_refetch_s = min_refetch_s
        self._fetch_lock = threading.Lock()
        self._current: _KeySet | None = None
        self._last_attempt = float("-inf")  # monotonic time of the last fetch attempt

    def key(self, kid: str) -> jwt.PyJWK:
        """The signing key named `kid`; raises `AuthenticationError` if it is unknown or keys can't be had."""
        current = self._current
        if current is None or time.monotonic() >= current.stale_at:
            current = self._refresh(current, force=False)
        found = current.keys.get(kid)
        if found is None:
            # Possibly rotated in since our last fetch: look once more (rate-limited).
            current = self._refresh(current, force=True)
            found = current.keys.get(kid)
        if found is None:
            raise AuthenticationError("token is signed by a key the issuer does not publish (unknown 'kid')")
        return found

    def _refresh(self, seen: _KeySet | None, *, force: bool) -> _KeySet:
        """A fresh key set if one may be fetched now, else the current one; raises if there is none at all."""
        if seen is not None and not force:
            if not self._fetch_lock.acquire(blocking=False):
                return seen  # merely stale, and another thread is fetching: answer with what we have
        else:
            # No keys at all, or an unknown kid: wait for an in-flight fetch, which may bring it.
            self._fetch_lock.acquire()
        try:
            current = self._current
            if current is not seen and current is not None:
                return current  # another thread refreshed while we waited for the lock
            now = time.monotonic()
            stale = current is None or now >= current.stale_at
            if (force or stale) and now - self._last_attempt >= self._min_refetch_s:
                self._last_attempt = now
                try:
                    current = self._fetch(now)
                    self._current = current
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning(
                        "cannot fetch OIDC signing keys from %s: %s%s",
                        self._url,
                        exc,
                        "; keeping the previous keys" if current is not None else "",
                    )
            if current is None:
                raise AuthenticationError("cannot fetch signing keys to verify the token; try again shortly")
            return current
        finally:
            self._fetch_lock.release()

    def close(self) -> None:
        """Close the HTTP client if this cache made it (one passed in stays the caller's)."""
        if self._owns_http:
            self._http.close()

    def _fetch(self, now: float) -> _KeySet:
        """GET the JWKS and keep its public signature keys; raises `httpx.HTTPError` or `ValueError`."""
        response = self._http.get(self._url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError(f"JWKS response is larger than {MAX_JWKS_BYTES} bytes")
        document = response.json()
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("JWKS response has no 'keys' list")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in entries:
            usable = _signing_key(entry)
            if usable is not None:
                keys[entry["kid"]] = usable
        log.info("fetched %d OIDC signing keys from %s", len(keys), self._url)
        return _KeySet(keys=keys, stale_at=now + self._cache_s)


def _signing_key(entry: Any) -> jwt.PyJWK | None:
    """The public key of one JWKS entry, or None for entries we must not or cannot verify with."""
    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
        return None
    if entry.get("use", "sig") != "sig" or "d" in entry:  # encryption keys; leaked private keys
        return None
    if entry.get("kty") not in KEY_TYPE_OF_ALGORITHM.values():
        return None  # symmetric (`oct`) keys above all: they would allow HMAC tokens
    try:
        return jwt.PyJWK(entry)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, AttributeError) as exc:
        # One malformed entry from the IdP must not cost us the other keys.
        log.warning("ignoring unusable OIDC signing key %r: %s", entry["kid"], exc)
        return None


class OidcVerifier:
    """Verifies OIDC bearer tokens of one issuer and returns their `OidcClaims`.

    `issuer` is the exact `iss` accepted; `audience`, when set, must be in the
    token's `aud`; `jwks_url` is where the issuer's keys are, reused `cache_s`
    seconds; `tenant_claim` names the claim holding the caller's tenant;
    `leeway_s` is the clock skew (seconds) allowed on `exp`, `nbf` and `iat`.
    Pass `http` to reuse a client (tests, proxies); otherwise one is made.
    """

    def __init__(
        self,
        issuer: str,
        audience: str | None,
        jwks_url: str,
        cache_s: float,
        tenant_claim: str,
        http: httpx.Client | None = None,
        leeway_s: float = 30,
        min_refetch_s: float = DEFAULT_MIN_REFETCH_S,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.tenant_claim = tenant_claim
        self.leeway_s = leeway_s
        self.keys = JwksCache(jwks_url, cache_s, http, min_refetch_s)

    def close(self) -> None:
        """Release the JWKS HTTP client (if the verifier made it)."""
        self.keys.close()

    def verify(self, token: str) -> OidcClaims:
        """The claims of a valid `token`; raises `AuthenticationError` saying why one is not valid."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("bearer token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in KEY_TYPE_OF_ALGORITHM:
            shown = algorithm if isinstance(algorithm, str) and len(algorithm) <= 16 else "?"
            raise AuthenticationError(
                f"token algorithm '{shown}' is not accepted; tokens must be signed with RS256 or ES256"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("token header has no 'kid' naming its signing key")
        key = self.keys.key(kid)
        # PyJWK's algorithm is the key's own `alg` when it states one, else the one its kty/crv
        # imply (RSA -> RS256, EC P-256 -> ES256): both must agree with the token's header.
        if key.key_type != KEY_TYPE_OF_ALGORITHM[algorithm] or key.algorithm_name != algorithm:
            raise AuthenticationError(f"token algorithm {algorithm} does not match its signing key '{kid}'")
        payload = self._decode(token, key)
        return OidcClaims(
            subject=_required_string(payload, "sub"),
            tenant=_required_string(payload, self.tenant_claim, role="naming the caller's tenant"),
            expires_at=_expiry(payload),
            issuer=payload["iss"],
            audience=_audience(payload.get("aud")),
        )

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        """Check signature and registered claims with PyJWT, turning its errors into clear 401 messages."""
        required = ["exp", "iss", "sub"] + (["aud"] if self.audience is not None else [])
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_s,
                options={"require": required, "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthenticationError(
                "token is not valid yet (its 'nbf' or 'iat' is in the future)"
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(f"token lacks the required '{exc.claim}' claim") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError(f"token audience does not include '{self.audience}'") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError(f"token issuer is not '{self.issuer}'") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationError("token signature is invalid") from None
        except jwt.InvalidAlgorithmError:
            raise AuthenticationError("token algorithm does not match its signing key") from None
        except jwt.DecodeError as exc:
            # PyJWT's words name the claim at fault ("Expiration Time claim (exp) must be an
            # integer."), and never quote the token.
            raise AuthenticationError(f"token claims are malformed: {exc}") from None
        except jwt.PyJWTError:
            raise AuthenticationError("token claims are malformed") from None


def _expiry(payload: Mapping[str, Any]) -> datetime:
    """When the token expires (UTC); `AuthenticationError` unless `exp` is whole seconds a date can hold."""
    exp = payload.get("exp")
    # JSON true is a Python int too, and PyJWT reads "1700000000" and 1.7e9 as
    # numbers: only a JSON integer is a whole number of seconds.
    if isinstance(exp, bool) or not isinstance(exp, int):
        raise AuthenticationError(
            "token 'exp' claim must be a whole number of seconds since 1970-01-01T00:00:00Z"
        )
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, ValueError, OSError):
        raise AuthenticationError("token 'exp' claim is past the year 9999; no issuer means that") from None


def _required_string(payload: Mapping[str, Any], claim: str, role: str = "") -> str:
    """The non-empty string value of `claim`; raises `AuthenticationError` naming the claim otherwise."""
    value = payload.get(claim)
    if not isinstance(value, str) or not value.strip():
        what = f" {role}" if role else ""
        raise AuthenticationError(f"token lacks the '{claim}' claim{what} (a non-empty string)")
    return value


def _audience(value: Any) -> tuple[str, ...]:
    """The `aud` claim as a tuple: absent -> (), one string -> (it,), a list -> its strings."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
