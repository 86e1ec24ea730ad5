"""OIDC bearer tokens: signatures, algorithms and claims checked against a real JWKS endpoint on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient

from carbon254.application.identity import AuthenticationError
from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.service.auth.oidc import OidcClaims, OidcVerifier
from carbon254.store import Store
from jwks_server import JwksServer, TestKey

MakeVerifier = Callable[..., OidcVerifier]


@pytest.fixture(scope="module")
def idp() -> Iterator[JwksServer]:
    with JwksServer() as server:
        yield server


@pytest.fixture
def fresh_idp() -> Iterator[JwksServer]:
    """A server of its own, for tests that rotate keys, stop it or count its fetches."""
    with JwksServer() as server:
        yield server


def verifier_for(idp: JwksServer, **options: object) -> OidcVerifier:
    """A verifier trusting `idp`, with `options` overriding the defaults (cache_s, leeway_s, ...)."""
    arguments: dict[str, object] = {
        "issuer": idp.issuer,
        "audience": idp.audience,
        "jwks_url": idp.jwks_url,
        "cache_s": 600.0,
        "tenant_claim": idp.tenant_claim,
    }
    arguments.update(options)
    return OidcVerifier(**arguments)  # type: ignore[arg-type]


@pytest.fixture
def make_verifier() -> Iterator[MakeVerifier]:
    made: list[OidcVerifier] = []

    def make(idp: JwksServer, **options: object) -> OidcVerifier:
        made.append(verifier_for(idp, **options))
        return made[-1]

    yield make
    for verifier in made:
        verifier.close()


def rejected(verifier: OidcVerifier, token: str) -> str:
    """The message `verify` refuses `token` with (fails the test if it is accepted)."""
    with pytest.raises(AuthenticationError) as refused:
        verifier.verify(token)
    return str(refused.value)


# --- accepted ---------------------------------------------------------------------------------------


def test_valid_rs256_token_gives_its_claims(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    claims = idp.claims(tenant="acme", subject="alice", lifetime_s=120)
    verified = make_verifier(idp).verify(idp.sign(claims, key=idp.rsa_key))
    assert verified == OidcClaims(
        subject="alice",
        tenant="acme",
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        issuer=idp.issuer,
        audience=(idp.audience,),
    )
    assert verified.expires_at.tzinfo is UTC


def test_valid_es256_token_with_audience_list(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    token = idp.sign(idp.claims(tenant="beta", aud=["other-api", idp.audience]), key=idp.ec_key)
    verified = make_verifier(idp).verify(token)
    assert (verified.tenant, verified.audience) == ("beta", ("other-api", idp.audience))


def test_expiry_within_the_leeway_is_accepted(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    token = idp.sign(idp.claims(lifetime_s=-10))
    assert make_verifier(idp, leeway_s=30).verify(token).tenant == "acme"
    assert "expired" in rejected(make_verifier(idp, leeway_s=0), token)


def test_no_audience_configured_accepts_any_audience(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    token = idp.sign(idp.claims(aud="someone-else"))
    assert make_verifier(idp, audience=None).verify(token).audience == ("someone-else",)


# --- forged or mis-signed ------------------------------------------------------------------------------


def test_token_signed_by_an_unpublished_key_is_forged(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    forged = idp.sign(idp.claims(), key=TestKey.rsa(), kid=idp.rsa_key.kid)
    assert rejected(make_verifier(idp), forged) == "token signature is invalid"


def test_alg_none_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    message = rejected(make_verifier(idp), idp.sign(idp.claims(), alg="none"))
    assert message == "token algorithm 'none' is not accepted; tokens must be signed with RS256 or ES256"


@pytest.mark.parametrize("alg", ["HS256", "HS512"])
def test_hmac_signed_with_the_rsa_public_key_is_rejected(
    alg: str, idp: JwksServer, make_verifier: MakeVerifier
) -> None:
    """The algorithm-confusion attack: HMAC keyed by the public key PEM, naming the RSA key's kid."""
    confused = idp.sign(idp.claims(), alg=alg, kid=idp.rsa_key.kid)
    assert f"'{alg}' is not accepted" in rejected(make_verifier(idp), confused)


def test_token_algorithm_must_match_the_named_key(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    # Signed ES256 by the EC key but pointing at the RSA key's kid: the key's kty/alg disagree.
    mismatched = idp.sign(idp.claims(), key=idp.ec_key, kid=idp.rsa_key.kid)
    assert "does not match its signing key" in rejected(make_verifier(idp), mismatched)


def test_symmetric_keys_in_the_jwks_are_never_used(
    fresh_idp: JwksServer, make_verifier: MakeVerifier
) -> None:
    # Even if an IdP published an `oct` key, an HS256 token naming it is refused before any key lookup.
    secret = b"shared-secret-of-thirty-two-bytes!"
    token = fresh_idp.sign(fresh_idp.claims(), alg="HS256", kid="oct-1", secret=secret)
    assert "'HS256' is not accepted" in rejected(make_verifier(fresh_idp), token)
    assert fresh_idp.fetches == 0


def test_garbage_is_not_a_jwt(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    assert rejected(make_verifier(idp), "not-a-jwt") == "bearer token is not a well-formed JWT"


def test_token_without_kid_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    token = idp.sign(idp.claims(), kid="")
    assert "no 'kid'" in rejected(make_verifier(idp), token)


# --- claims ------------------------------------------------------------------------------------------


def test_expired_token_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    assert rejected(make_verifier(idp), idp.sign(idp.claims(lifetime_s=-120))) == "token has expired"


def test_token_without_exp_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    message = rejected(make_verifier(idp), idp.sign(idp.claims(exp=None)))
    assert message == "token lacks the required 'exp' claim"


def test_not_yet_valid_token_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    token = idp.sign(idp.claims(nbf=int(time.time()) + 600))
    assert "not valid yet" in rejected(make_verifier(idp), token)


def test_token_issued_in_the_future_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    token = idp.sign(idp.claims(iat=int(time.time()) + 600, lifetime_s=1200))
    assert "not valid yet" in rejected(make_verifier(idp), token)


def test_wrong_audience_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    message = rejected(make_verifier(idp), idp.sign(idp.claims(aud="another-api")))
    assert message == f"token audience does not include '{idp.audience}'"


def test_missing_audience_is_rejected_when_one_is_configured(
    idp: JwksServer, make_verifier: MakeVerifier
) -> None:
    assert "'aud'" in rejected(make_verifier(idp), idp.sign(idp.claims(aud=None)))


def test_wrong_issuer_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    message = rejected(make_verifier(idp), idp.sign(idp.claims(iss="https://evil.example/")))
    assert message == f"token issuer is not '{idp.issuer}'"


def test_missing_tenant_claim_is_named(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    message = rejected(make_verifier(idp), idp.sign(idp.claims(tenant=None)))
    assert f"'{idp.tenant_claim}' claim" in message
    assert "tenant" in message


@pytest.mark.parametrize("tenant", ["", "   ", 42, ["acme"]])
def test_tenant_claim_must_be_a_non_empty_string(
    tenant: object, idp: JwksServer, make_verifier: MakeVerifier
) -> None:
    token = idp.sign({**idp.claims(), idp.tenant_claim: tenant})
    assert f"'{idp.tenant_claim}' claim" in rejected(make_verifier(idp), token)


def test_missing_subject_is_rejected(idp: JwksServer, make_verifier: MakeVerifier) -> None:
    assert "'sub'" in rejected(make_verifier(idp), idp.sign(idp.claims(sub=None)))


# --- the key set: unknown kids, rotation, caching, outages -------------------------------------------


def test_unknown_kid_is_rejected_and_refetches_at_most_once(
    fresh_idp: JwksServer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(fresh_idp, min_refetch_s=60)
    verifier.verify(fresh_idp.token())
    assert fresh_idp.fetches == 1
    stranger = TestKey.rsa("not-published")
    for _ in range(5):
        message = rejected(verifier, fresh_idp.sign(fresh_idp.claims(), key=stranger))
        assert message == "token is signed by a key the issuer does not publish (unknown 'kid')"
    # The first fetch was just now, so none of the five unknown kids may fetch again yet.
    assert fresh_idp.fetches == 1


def test_unknown_kid_triggers_one_refetch_when_allowed(
    fresh_idp: JwksServer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(fresh_idp, min_refetch_s=0)
    verifier.verify(fresh_idp.token())
    stranger = TestKey.ec("not-published")
    rejected(verifier, fresh_idp.sign(fresh_idp.claims(), key=stranger))
    assert fresh_idp.fetches == 2


def test_key_rotation_is_picked_up_by_one_refetch(fresh_idp: JwksServer, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(fresh_idp, min_refetch_s=0)
    assert verifier.verify(fresh_idp.token(subject="before")).subject == "before"
    fresh_idp.rotate()
    assert verifier.verify(fresh_idp.token(subject="after")).subject == "after"
    assert fresh_idp.fetches == 2
    # The new key is now cached: more tokens signed by it need no fetch.
    verifier.verify(fresh_idp.token(subject="again"))
    assert fresh_idp.fetches == 2


def test_jwks_is_cached(fresh_idp: JwksServer, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(fresh_idp, cache_s=600)
    for key in (fresh_idp.rsa_key, fresh_idp.ec_key) * 3:
        verifier.verify(fresh_idp.sign(fresh_idp.claims(), key=key))
    assert fresh_idp.fetches == 1


def test_stale_jwks_is_fetched_again(fresh_idp: JwksServer, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(fresh_idp, cache_s=0.05, min_refetch_s=0)
    verifier.verify(fresh_idp.token())
    time.sleep(0.06)
    verifier.verify(fresh_idp.token())
    assert fresh_idp.fetches == 2


def test_concurrent_cold_start_fetches_once(fresh_idp: JwksServer, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(fresh_idp)
    token = fresh_idp.token()
    start = threading.Barrier(8)
    tenants: list[str] = []

    def verify() -> None:
        start.wait()
        tenants.append(verifier.verify(token).tenant)

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert tenants == ["acme"] * 8
    assert fresh_idp.fetches == 1


def test_unreachable_jwks_is_an_authentication_error(
    fresh_idp: JwksServer, make_verifier: MakeVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    token = fresh_idp.token()
    fresh_idp.stop()
    verifier = make_verifier(fresh_idp, min_refetch_s=60)
    with caplog.at_level(logging.DEBUG, logger="carbon254"):
        assert "cannot fetch signing keys" in rejected(verifier, token)
        # Within the back-off no new attempt is made: still a clean 401, and only one warning.
        assert "cannot fetch signing keys" in rejected(verifier, token)
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot fetch OIDC signing keys" in warnings[0].getMessage()
    assert token not in caplog.text


def test_jwks_http_error_is_an_authentication_error(
    fresh_idp: JwksServer, make_verifier: MakeVerifier
) -> None:
    fresh_idp.fail_with = 503
    assert "cannot fetch signing keys" in rejected(make_verifier(fresh_idp), fresh_idp.token())


def test_keys_already_fetched_outlive_an_idp_outage(
    fresh_idp: JwksServer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(fresh_idp, cache_s=0.05, min_refetch_s=0)
    verifier.verify(fresh_idp.token())
    fresh_idp.fail_with = 500
    time.sleep(0.06)
    assert verifier.verify(fresh_idp.token(subject="during-outage")).subject == "during-outage"
    assert fresh_idp.fetches == 2  # it did try to refresh


def test_tokens_are_never_logged(
    idp: JwksServer, make_verifier: MakeVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    verifier = make_verifier(idp)
    tokens = [
        idp.token(),
        idp.sign(idp.claims(lifetime_s=-100)),
        idp.sign(idp.claims(), key=TestKey.rsa(), kid=idp.rsa_key.kid),
        idp.sign(idp.claims(), alg="HS256"),
    ]
    with caplog.at_level(logging.DEBUG):
        for token in tokens:
            try:
                verifier.verify(token)
            except AuthenticationError as exc:
                assert token not in str(exc)
    assert caplog.records  # the JWKS fetch was logged ...
    for token in tokens:
        assert token not in caplog.text  # ... and no token was
        assert token.split(".")[2] not in caplog.text


# --- through the service: REST with CARBON254_AUTH=required -------------------------------------------

LMP_QUERY = {
    "iso": "ERCOT",
    "market": "DAM",
    "locations": "HB_NORTH",
    "start": "2024-03-01",
    "end": "2024-03-02",
}


@pytest.fixture
def oidc_client(idp: JwksServer, tmp_path: Path, store: Store) -> Iterator[TestClient]:
    """An app requiring credentials, trusting `idp`, with tenant `acme` (ERCOT only) in its metadata."""
    settings = Settings(
        data_dir=tmp_path,
        auth=AuthMode.REQUIRED,
        oidc_issuer=idp.issuer,
        oidc_audience=idp.audience,
        oidc_jwks_url=idp.jwks_url,
        oidc_tenant_claim=idp.tenant_claim,
    )
    make_tenant_key(settings, "acme", isos=["ERCOT"])
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        yield client


def test_rest_accepts_a_valid_token(idp: JwksServer, oidc_client: TestClient) -> None:
    for key in (idp.rsa_key, idp.ec_key):
        token = idp.sign(idp.claims(tenant="acme"), key=key)
        response = oidc_client.get("/v1/lmp", params=LMP_QUERY, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.json()["count"] == 24


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("forged", "token signature is invalid"),
        ("expired", "token has expired"),
        ("wrong_audience", "token audience does not include"),
        ("alg_none", "is not accepted"),
        ("hs256_confusion", "is not accepted"),
        ("unknown_tenant", "is not known here"),
    ],
)
def test_rest_refuses_bad_tokens_with_401(
    case: str, message: str, idp: JwksServer, oidc_client: TestClient
) -> None:
    claims = idp.claims(tenant="acme")
    tokens = {
        "forged": lambda: idp.sign(claims, key=TestKey.rsa(), kid=idp.rsa_key.kid),
        "expired": lambda: idp.sign(idp.claims(tenant="acme", lifetime_s=-600)),
        "wrong_audience": lambda: idp.sign(idp.claims(tenant="acme", aud="another-api")),
        "alg_none": lambda: idp.sign(claims, alg="none"),
        "hs256_confusion": lambda: idp.sign(claims, alg="HS256"),
        "unknown_tenant": lambda: idp.sign(idp.claims(tenant="nobody")),
    }
    response = oidc_client.get(
        "/v1/lmp", params=LMP_QUERY, headers={"Authorization": f"Bearer {tokens[case]()}"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["code"] == "unauthenticated"
    assert message in body["message"]


def test_rest_token_outside_entitlements_is_403(idp: JwksServer, oidc_client: TestClient) -> None:
    token = idp.token(tenant="acme")
    response = oidc_client.get(
        "/v1/lmp",
        params={**LMP_QUERY, "iso": "PJM", "locations": "WESTERN HUB"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
