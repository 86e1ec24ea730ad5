"""Bad input is the caller's mistake, never a 500: time zones, long values, odd JWT expiries, and a
property test over every `/v1/lmp` parameter. Messages echo a short prefix of a value, never a path."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import Store
from oidc_provider import OidcProvider

LMP = {"iso": "PJM", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02"}
LOCAL_PATHS = (sys.prefix, os.getcwd(), str(Path(__file__).resolve().parents[2]))
HOSTILE_ZONES = [
    "A" * 256,
    "America/" + "Chicago" * 40,
    "../../../../etc/passwd",
    "America/../../../../etc/passwd",
    "/etc/localtime",
    "/" + "a/" * 120,
    "..\\..\\windows\\win.ini",
    "Europe/Lond\u00f6n",
    "America//Chicago",
    "America/Chicago/",
    "localtime",
    "posixrules",
    "Factory",
    "UTC\x00",
    "%00",
    "A" * 64,
]


def _assert_public(message: str, value: str = "") -> None:
    """`message` is short, quotes no more than a prefix of `value`, and shows no path of this machine."""
    assert len(message) < 400, message
    if len(value) > 40:
        assert value not in message
    assert not any(path in message for path in LOCAL_PATHS), message
    assert "Errno" not in message and "Traceback" not in message


@pytest.mark.parametrize("tz", HOSTILE_ZONES, ids=range(len(HOSTILE_ZONES)))
def test_rest_refuses_a_bad_tz_with_a_422_naming_it(client: TestClient, tz: str) -> None:
    response = client.get("/v1/lmp", params={**LMP, "tz": tz})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["parameter"] == "tz"
    _assert_public(body["message"], tz)


def test_rest_tz_messages_say_what_is_wrong(client: TestClient) -> None:
    def message(tz: str) -> str:
        text: str = client.get("/v1/lmp", params={**LMP, "tz": tz}).json()["message"]
        return text

    assert message("A" * 256).startswith(
        f"invalid tz: time zone '{'A' * 40}'... (256 characters) is longer than any IANA name"
    )
    assert message("../etc/passwd").startswith("invalid tz: time zone '../etc/passwd' is not an IANA name")
    assert message("Mars/Olympus").startswith("invalid tz: unknown time zone 'Mars/Olympus'")
    good = client.get("/v1/lmp", params={**LMP, "tz": "america/new_york", "locations": "WESTERN HUB"})
    assert good.status_code == 200
    assert good.json()["data"][0]["interval_start"] == "2024-03-01T00:00:00-05:00"


@pytest.mark.parametrize("parameter", ["iso", "market", "locations", "start", "end", "as_of", "resample"])
def test_rest_echoes_only_a_prefix_of_a_long_value(client: TestClient, parameter: str) -> None:
    value = "Q" * 5000
    response = client.get("/v1/lmp", params={**LMP, parameter: value})
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert body["parameter"] == parameter
    _assert_public(body["message"], value)
    assert "(5,000 characters)" in body["message"]


def test_an_unknown_long_path_is_a_short_404(client: TestClient) -> None:
    path = "/v1/" + "p" * 3000
    response = client.get(path)
    assert response.status_code == 404
    _assert_public(response.json()["message"], path)


@pytest.mark.parametrize("tz", HOSTILE_ZONES, ids=range(len(HOSTILE_ZONES)))
def test_graphql_refuses_a_bad_tz_as_an_invalid_argument(client: TestClient, tz: str) -> None:
    query = (
        'query($tz: String) { lmp(iso: "PJM", market: "DAM", start: "2024-03-01", end: "2024-03-02", '
        "tz: $tz) { lmp } }"
    )
    response = client.post("/graphql", json={"query": query, "variables": {"tz": tz}})
    assert response.status_code == 200  # a field refused for its argument, beside the others' data
    body = response.json()
    assert body["data"] == {"lmp": None}
    error = body["errors"][0]
    assert error["extensions"] == {"code": "INVALID_PARAMETER", "status": 422, "parameter": "tz"}
    _assert_public(error["message"], tz)


def test_the_stream_echoes_only_a_prefix_of_a_long_value(client: TestClient) -> None:
    with client.websocket_connect("/v1/stream") as ws:
        for message, value in (
            ({"type": "x" * 5000}, "x" * 5000),
            ({"type": "subscribe", "dataset": "d" * 5000, "iso": "PJM", "market": "DAM"}, "d" * 5000),
            ({"type": "subscribe", "iso": "i" * 5000, "market": "DAM"}, "i" * 5000),
        ):
            ws.send_json(message)
            error = ws.receive_json()
            assert error["type"] == "error", error
            _assert_public(error["message"], value)


# --- tokens -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    with OidcProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def oidc_client(
    idp: OidcProvider, tmp_path_factory: pytest.TempPathFactory, store: Store
) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("oidc"),
        auth=AuthMode.REQUIRED,
        oidc_issuer=idp.issuer,
        oidc_audience=idp.audience,
        oidc_jwks_url=idp.jwks_url,
        oidc_tenant_claim=idp.tenant_claim,
    )
    make_tenant_key(settings, "acme")
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as c:
        yield c


IN_AN_HOUR = int(time.time()) + 3600
EXPIRIES: list[tuple[str, Any, str]] = [
    ("text", "tomorrow", "token claims are malformed: Expiration Time claim (exp) must be an integer."),
    ("numeric text", str(IN_AN_HOUR), "token 'exp' claim must be a whole number of seconds"),
    ("fraction", IN_AN_HOUR + 0.5, "token 'exp' claim must be a whole number of seconds"),
    ("whole float", float(IN_AN_HOUR), "token 'exp' claim must be a whole number of seconds"),
    ("1e30", 1e30, "token 'exp' claim must be a whole number of seconds"),
    ("huge int", 10**30, "token 'exp' claim is past the year 9999"),
    ("huger int", 10**400, "token 'exp' claim is past the year 9999"),
    ("year 10000", 253402300800, "token 'exp' claim is past the year 9999"),
    ("negative", -1, "token has expired"),
    ("boolean", True, "token has expired"),
    ("list", [IN_AN_HOUR], "token claims are malformed"),
    ("missing", None, "token lacks the required 'exp' claim"),
]


@pytest.mark.parametrize(("case", "exp", "message"), EXPIRIES, ids=[e[0] for e in EXPIRIES])
def test_a_token_with_an_odd_exp_is_a_401_saying_why(
    idp: OidcProvider, oidc_client: TestClient, case: str, exp: Any, message: str
) -> None:
    token = idp.sign(idp.claims(tenant="acme", exp=exp))
    for response in (
        oidc_client.get("/v1/lmp", params=LMP, headers={"Authorization": f"Bearer {token}"}),
        oidc_client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {token}"}
        ),
    ):
        assert response.status_code == 401, response.text
        body = response.json()
        assert body["code"] == "unauthenticated"
        assert body["message"].startswith(message), body["message"]


def test_a_token_with_a_whole_exp_is_accepted(idp: OidcProvider, oidc_client: TestClient) -> None:
    token = idp.sign(idp.claims(tenant="acme", exp=IN_AN_HOUR))
    response = oidc_client.get(
        "/v1/lmp", params={**LMP, "locations": "PSEG"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text


# --- every parameter, any value -------------------------------------------------------------------

TRICKY = [
    "",
    " ",
    "iso",
    "ISO",
    "A" * 256,
    "../" * 50,
    "/etc/passwd",
    "\\\\server\\share",
    "2024-03-01",
    "2024-03-10T02:30",
    "2024-02-30",
    "9999-12-31T23:59:59Z",
    "0001-01-01",
    "+275760-09-13",
    "1e30",
    "NaN",
    "-0",
    "%00",
    "\u202e",
    "\U0001f600" * 30,
    ",,,",
    "WESTERN HUB," * 10,
]
VALUES = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=40),
    st.text(min_size=200, max_size=600),
    st.from_regex(r"[A-Za-z_/+\-.]{1,80}", fullmatch=True),
)
PARAMETERS = ["iso", "market", "start", "end", "locations", "tz", "resample", "block", "as_of", "format"]


@given(replaced=st.dictionaries(st.sampled_from(PARAMETERS), VALUES, min_size=1, max_size=4))
@hypothesis_settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_value_of_any_lmp_parameter_is_a_500(client: TestClient, replaced: dict[str, str]) -> None:
    params = {**LMP, "locations": "WESTERN HUB", **replaced}
    response = client.get("/v1/lmp", params=params)
    assert response.status_code < 500, (params, response.text)
    if response.status_code >= 400:
        message = response.json()["message"]
        assert not any(path in message for path in LOCAL_PATHS), message
        for value in replaced.values():
            if len(value) > 80:
                assert value not in message, message
