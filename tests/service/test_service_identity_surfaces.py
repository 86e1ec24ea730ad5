"""One identity matrix over REST, GraphQL and the stream: the same credentials, the same answers.

Issue 4: "401 without credentials, 403 outside entitlements, tenant isolation,
revoked keys refused at once, forged/expired/wrong-audience JWTs refused" on
every surface alike. Each case below runs against each surface:

* REST: `GET /v1/lmp` (401 / 403 / 200 with rows);
* GraphQL: `POST /graphql` with an `lmp` field (401 / `NOT_ENTITLED` 403 / 200 with rows);
* stream: a `/v1/stream` WebSocket subscribing with `since` (close 4401 / close 4403 / replayed rows).

The app requires credentials: API keys live in a SQLite metadata database
in the test's data dir, JWTs are signed by keys a real JWKS endpoint on
127.0.0.1 publishes (`tests/jwks_server.py`). Tenant `alpha` may read ERCOT
only, `beta` PJM only; the store holds LMPs of both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from unittest.mock import ANY

import pytest
from auth_setup import make_key, make_tenant_key
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from carbon254.config import AuthMode, Settings
from carbon254.metadata import MetadataDatabase, revoke_key
from carbon254.service import create_app
from carbon254.store import Store, open_store
from jwks_server import JwksServer, TestKey

Kind = Literal["data", "unauthenticated", "not_entitled"]
Surface = Literal["rest", "graphql", "stream"]
SURFACES: tuple[Surface, ...] = ("rest", "graphql", "stream")

# Each ISO's locations: what tells whose data an answer carries.
LOCATIONS = {"ERCOT": frozenset({"HB_NORTH", "HB_SOUTH"}), "PJM": frozenset({"WESTERN HUB", "PSEG"})}
HOURS = 24
START, END = "2024-03-01", "2024-03-02"
SINCE = "2024-02-29T23:00:00+00:00"  # a resume from before the first row replays every stored row
HEARTBEAT_S = 0.2  # the stream re-checks its credential every heartbeat
STREAM_TIMEOUT_S = 10.0
CLOSE_CODES: dict[int, Kind] = {4401: "unauthenticated", 4403: "not_entitled"}


@dataclass(frozen=True)
class Outcome:
    """What a surface answered: data (with the locations of its rows), or a refusal; `raw` is all it sent."""

    kind: Kind
    locations: frozenset[str] = frozenset()
    rows: int = 0
    raw: str = ""


@dataclass
class Identities:
    """The credentials of the two tenants, the identity provider, and where keys are stored."""

    settings: Settings
    idp: JwksServer
    alpha_key: str
    beta_key: str

    def new_alpha_key(self) -> str:
        """Another API key of tenant alpha (to revoke without disturbing other tests)."""
        return make_key(self.settings, "alpha")

    def revoke(self, key: str) -> None:
        """Revoke `key` through a connection of its own, as `carbon254 keys revoke` does."""
        db = MetadataDatabase(self.settings.metadata_database_url())
        try:
            revoke_key(db, key)
        finally:
            db.close()


# --- the three surfaces ------------------------------------------------------------------------


def ask_rest(client: TestClient, headers: dict[str, str], iso: str) -> Outcome:
    """`GET /v1/lmp` for one day of `iso`'s day-ahead LMPs."""
    params = {"iso": iso, "market": "DAM", "start": START, "end": END}
    response = client.get("/v1/lmp", params=params, headers=headers)
    if response.status_code == 401:
        assert response.json()["code"] == "unauthenticated", response.text
        assert response.headers["www-authenticate"] == "Bearer"
        return Outcome("unauthenticated", raw=response.text)
    if response.status_code == 403:
        assert response.json()["code"] == "not_entitled", response.text
        return Outcome("not_entitled", raw=response.text)
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    return Outcome("data", frozenset(r["location"] for r in rows), len(rows), response.text)


def ask_graphql(client: TestClient, headers: dict[str, str], iso: str) -> Outcome:
    """`POST /graphql` with an `lmp` field for the same day."""
    query = f'{{ lmp(iso: "{iso}", market: "DAM", start: "{START}", end: "{END}") {{ iso location lmp }} }}'
    response = client.post("/graphql", json={"query": query}, headers=headers)
    body = response.json()
    if response.status_code == 401:
        # Never reaches GraphQL: the service's common error body.
        assert body["code"] == "unauthenticated", response.text
        return Outcome("unauthenticated", raw=response.text)
    if response.status_code == 403:
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_ENTITLED"], response.text
        assert body["data"]["lmp"] is None, response.text
        return Outcome("not_entitled", raw=response.text)
    assert response.status_code == 200 and "errors" not in body, response.text
    rows = body["data"]["lmp"]
    assert {r["iso"] for r in rows} == {iso}
    return Outcome("data", frozenset(r["location"] for r in rows), len(rows), response.text)


def read_stream(ws: Any, deadline: float) -> Outcome:
    """Read an open stream until its first `data` message or its close; heartbeats are skipped."""
    frames: list[str] = []
    while time.monotonic() < deadline:
        try:
            text = ws.receive_text()
        except WebSocketDisconnect as closed:
            raw = "\n".join(frames)
            kind = CLOSE_CODES.get(closed.code)
            assert kind is not None, f"stream closed with {closed.code} ({closed.reason}): {raw}"
            # The close is preceded by an `error` message saying why, with the REST error's code.
            assert frames and json.loads(frames[-1]) == {"type": "error", "code": kind, "message": ANY}, raw
            return Outcome(kind, raw=raw)
        frames.append(text)
        message: dict[str, Any] = json.loads(text)
        if message["type"] == "data":
            assert message["replay"] is True, text
            rows = message["data"]
            return Outcome("data", frozenset(r["location"] for r in rows), len(rows), "\n".join(frames))
        assert message["type"] in ("authenticated", "subscribed", "heartbeat", "error"), text
    raise AssertionError(f"no data and no close within {STREAM_TIMEOUT_S} s: {frames}")


def subscribe_message(iso: str) -> dict[str, Any]:
    """A subscription to `iso`'s day-ahead LMPs that replays every stored row first."""
    return {"type": "subscribe", "dataset": "lmp", "iso": iso, "market": "DAM", "since": SINCE}


def ask_stream(client: TestClient, headers: dict[str, str], iso: str) -> Outcome:
    """A new `/v1/stream` connection with `headers` on the handshake, subscribing to `iso`."""
    with client.websocket_connect("/v1/stream", headers=headers) as ws:
        ws.send_json(subscribe_message(iso))
        return read_stream(ws, time.monotonic() + STREAM_TIMEOUT_S)


ASK: dict[Surface, Callable[[TestClient, dict[str, str], str], Outcome]] = {
    "rest": ask_rest,
    "graphql": ask_graphql,
    "stream": ask_stream,
}


# --- the app -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def idp() -> Iterator[JwksServer]:
    with JwksServer() as server:
        yield server


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, idp: JwksServer) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("identity-surfaces"),
        auth=AuthMode.REQUIRED,
        oidc_issuer=idp.issuer,
        oidc_audience=idp.audience,
        oidc_jwks_url=idp.jwks_url,
        oidc_tenant_claim=idp.tenant_claim,
        stream_heartbeat_s=HEARTBEAT_S,
    )


@pytest.fixture(scope="module")
def identity_store(settings: Settings, make_lmp: Callable[..., Any]) -> Iterator[Store]:
    store = open_store(settings.data_dir)
    for iso, locations in LOCATIONS.items():
        for location in sorted(locations):
            store.write("lmp", make_lmp(iso, "DAM", location, hours=HOURS))
    yield store
    store.close()


@pytest.fixture(scope="module")
def identities(settings: Settings, idp: JwksServer) -> Identities:
    alpha = make_tenant_key(settings, "alpha", isos=["ERCOT"])
    beta = make_tenant_key(settings, "beta", isos=["PJM"])
    return Identities(settings, idp, alpha, beta)


@pytest.fixture(scope="module")
def client(settings: Settings, identity_store: Store, identities: Identities) -> Iterator[TestClient]:
    with TestClient(create_app(settings, identity_store), raise_server_exceptions=False) as c:
        yield c


def api_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


# --- the matrix --------------------------------------------------------------------------------


def _alpha_claims(ids: Identities, **extra: Any) -> dict[str, Any]:
    return ids.idp.claims(tenant="alpha", subject="alice", **extra)


@dataclass(frozen=True)
class Case:
    """One row of the matrix: a credential, the ISO asked for, and the answer every surface must give."""

    name: str
    headers: Callable[[Identities], dict[str, str]]
    iso: str
    expected: Kind


EVIL_KEY = TestKey.rsa("evil")  # never published by the identity provider

CASES = [
    Case("no credentials", lambda ids: {}, "ERCOT", "unauthenticated"),
    Case("unknown API key", lambda ids: api_key("c254_notakey_000000"), "ERCOT", "unauthenticated"),
    Case("alpha key on ERCOT", lambda ids: api_key(ids.alpha_key), "ERCOT", "data"),
    Case("alpha key as bearer on ERCOT", lambda ids: bearer(ids.alpha_key), "ERCOT", "data"),
    Case("alpha key on PJM", lambda ids: api_key(ids.alpha_key), "PJM", "not_entitled"),
    Case("beta key on PJM", lambda ids: api_key(ids.beta_key), "PJM", "data"),
    Case("beta key on ERCOT", lambda ids: api_key(ids.beta_key), "ERCOT", "not_entitled"),
    Case("alpha RS256 JWT on ERCOT", lambda ids: bearer(ids.idp.sign(_alpha_claims(ids))), "ERCOT", "data"),
    Case(
        "alpha ES256 JWT on ERCOT",
        lambda ids: bearer(ids.idp.sign(_alpha_claims(ids), key=ids.idp.ec_key)),
        "ERCOT",
        "data",
    ),
    Case(
        "alpha JWT on PJM",
        lambda ids: bearer(ids.idp.sign(_alpha_claims(ids))),
        "PJM",
        "not_entitled",
    ),
    Case(
        # Signed by a key the IdP never published, under the published key's kid.
        "forged JWT",
        lambda ids: bearer(
            ids.idp.sign(_alpha_claims(ids), key=TestKey.rsa("evil"), kid=ids.idp.rsa_key.kid)
        ),
        "ERCOT",
        "unauthenticated",
    ),
    Case(
        "expired JWT",
        lambda ids: bearer(ids.idp.sign(_alpha_claims(ids, lifetime_s=-3600))),
        "ERCOT",
        "unauthenticated",
    ),
    Case(
        "wrong-audience JWT",
        lambda ids: bearer(ids.idp.sign(_alpha_claims(ids, aud="another-api"))),
        "ERCOT",
        "unauthenticated",
    ),
    Case(
        "alg=none JWT",
        lambda ids: bearer(ids.idp.sign(_alpha_claims(ids), alg="none")),
        "ERCOT",
        "unauthenticated",
    ),
    Case(
        # HMAC keyed by the published RSA public key: the algorithm-confusion forgery.
        "HS256 key-confusion JWT",
        lambda ids: bearer(ids.idp.sign(_alpha_claims(ids), alg="HS256")),
        "ERCOT",
        "unauthenticated",
    ),
    Case(
        "JWT for an unknown tenant",
        lambda ids: bearer(ids.idp.sign(ids.idp.claims(tenant="gamma"))),
        "ERCOT",
        "unauthenticated",
    ),
]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_identity_matrix(client: TestClient, identities: Identities, case: Case, surface: Surface) -> None:
    outcome = ASK[surface](client, case.headers(identities), case.iso)
    assert outcome.kind == case.expected, outcome.raw
    if outcome.kind == "data":
        # Exactly the asked ISO's rows, every one of them.
        assert outcome.locations == LOCATIONS[case.iso]
        assert outcome.rows == HOURS * len(LOCATIONS[case.iso])


@pytest.mark.parametrize("surface", SURFACES)
def test_tenants_never_see_each_others_data(
    client: TestClient, identities: Identities, surface: Surface
) -> None:
    ask = ASK[surface]
    alpha = ask(client, api_key(identities.alpha_key), "ERCOT")
    beta = ask(client, api_key(identities.beta_key), "PJM")
    assert alpha.locations == LOCATIONS["ERCOT"] and beta.locations == LOCATIONS["PJM"]
    # Beta asking for alpha's ISO is refused, and nothing of alpha's rows leaks into any answer beta got.
    beta_probe = ask(client, api_key(identities.beta_key), "ERCOT")
    assert beta_probe.kind == "not_entitled"
    for answer in (beta, beta_probe):
        for location in LOCATIONS["ERCOT"]:
            assert location not in answer.raw, answer.raw


@pytest.mark.parametrize("surface", SURFACES)
def test_a_revoked_key_is_refused_on_the_very_next_request(
    client: TestClient, identities: Identities, surface: Surface
) -> None:
    key = identities.new_alpha_key()
    assert ASK[surface](client, api_key(key), "ERCOT").kind == "data"
    identities.revoke(key)
    assert ASK[surface](client, api_key(key), "ERCOT").kind == "unauthenticated"
    # The tenant's other key is untouched.
    assert ASK[surface](client, api_key(identities.alpha_key), "ERCOT").kind == "data"


def test_an_open_stream_is_closed_when_its_key_is_revoked(client: TestClient, identities: Identities) -> None:
    key = identities.new_alpha_key()
    with client.websocket_connect("/v1/stream", headers=api_key(key)) as ws:
        ws.send_json(subscribe_message("ERCOT"))
        assert read_stream(ws, time.monotonic() + STREAM_TIMEOUT_S).kind == "data"
        identities.revoke(key)
        # Re-checked every heartbeat: the connection is closed 4401 within one.
        assert read_stream(ws, time.monotonic() + STREAM_TIMEOUT_S).kind == "unauthenticated"


def test_the_stream_accepts_a_credential_sent_as_its_first_message(
    client: TestClient, identities: Identities
) -> None:
    # Browsers cannot set headers: the same credential as an `auth` message gets the same answers.
    token = identities.idp.sign(_alpha_claims(identities))
    for iso, expected in (("ERCOT", "data"), ("PJM", "not_entitled")):
        with client.websocket_connect("/v1/stream") as ws:
            ws.send_json({"type": "auth", "token": token})
            ws.send_json(subscribe_message(iso))
            assert read_stream(ws, time.monotonic() + STREAM_TIMEOUT_S).kind == expected
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "auth", "token": identities.idp.sign(_alpha_claims(identities), alg="none")})
        assert read_stream(ws, time.monotonic() + STREAM_TIMEOUT_S).kind == "unauthenticated"


def test_a_graphql_query_mixing_isos_answers_only_the_entitled_fields(
    client: TestClient, identities: Identities
) -> None:
    # One request, two fields: beta gets PJM's rows and a NOT_ENTITLED error in place of ERCOT's.
    window = f'market: "DAM", start: "{START}", end: "{END}"'
    fields = (f'{name}: lmp(iso: "{name.upper()}", {window}) {{ location }}' for name in ("ercot", "pjm"))
    query = f"{{ {' '.join(fields)} }}"
    response = client.post("/graphql", json={"query": query}, headers=api_key(identities.beta_key))
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["data"]["ercot"] is None
    assert {r["location"] for r in body["data"]["pjm"]} == LOCATIONS["PJM"]
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["ercot"], "NOT_ENTITLED")]
    assert not any(location in response.text for location in LOCATIONS["ERCOT"])


def next_live_rows(ws: Any) -> list[dict[str, Any]]:
    """The rows of the next live `data` message (heartbeats skipped); AssertionError if none comes."""
    deadline = time.monotonic() + STREAM_TIMEOUT_S
    while time.monotonic() < deadline:
        message = json.loads(ws.receive_text())
        if message["type"] == "data":
            assert message["replay"] is False, message
            rows: list[dict[str, Any]] = message["data"]
            return rows
        assert message["type"] == "heartbeat", message
    raise AssertionError(f"no live data within {STREAM_TIMEOUT_S} s")


def test_live_commits_reach_only_the_entitled_tenants_stream(
    client: TestClient, identities: Identities, identity_store: Store, make_lmp: Callable[..., Any]
) -> None:
    # RTH rows: a market the other tests never read, so their answers stay the same.
    with (
        client.websocket_connect("/v1/stream", headers=api_key(identities.alpha_key)) as alpha,
        client.websocket_connect("/v1/stream", headers=api_key(identities.beta_key)) as beta,
    ):
        for ws, iso in ((alpha, "ERCOT"), (beta, "PJM")):
            ws.send_json({"type": "subscribe", "dataset": "lmp", "iso": iso, "market": "RTH"})
            assert json.loads(ws.receive_text())["type"] == "subscribed"
        identity_store.write("lmp", make_lmp("ERCOT", "RTH", "HB_NORTH", hours=1))
        identity_store.write("lmp", make_lmp("PJM", "RTH", "WESTERN HUB", hours=1))
        # Each stream's first live message is its own ISO's commit: beta never sees alpha's, nor alpha beta's.
        assert {r["location"] for r in next_live_rows(alpha)} == {"HB_NORTH"}
        assert {r["location"] for r in next_live_rows(beta)} == {"WESTERN HUB"}
