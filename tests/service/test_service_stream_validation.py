"""A stream subscription's names are checked as `/v1/lmp` checks them: same error, same suggestions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from test_service_stream import next_frame_of

WINDOW = {"start": "2024-03-01", "end": "2024-03-02"}


def rest_error(client: TestClient, **query: str) -> dict[str, Any]:
    """The 404 body `/v1/lmp` answers for `query`."""
    response = client.get("/v1/lmp", params={**query, **WINDOW})
    assert response.status_code == 404, response.text
    body: dict[str, Any] = response.json()
    return body


def stream_answer(ws: WebSocketTestSession, **fields: Any) -> dict[str, Any]:
    """The `error` or `subscribed` message a subscribe gets."""
    ws.send_json({"type": "subscribe", **fields})
    return next_frame_of(ws, ("error", "subscribed"))


@pytest.mark.parametrize(
    ("iso", "market", "locations"),
    [
        ("PJM", "DAM", ["WESTERN HUBB"]),  # a typo: close matches suggested
        ("PJM", "DAM", ["PSEG", "NOWHERE"]),  # nothing close: no suggestion, and PSEG alone is not enough
        ("ERCOT", "DAM", ["WESTERN HUB"]),  # a PJM hub is not an ERCOT location
        ("PJMM", "DAM", ["WESTERN HUB"]),  # an unknown ISO
    ],
)
def test_unknown_names_get_the_error_and_suggestions_of_the_rest_endpoint(
    client: TestClient, iso: str, market: str, locations: list[str]
) -> None:
    expected = rest_error(client, iso=iso, market=market, locations=",".join(locations))
    with client.websocket_connect("/v1/stream") as ws:
        error = stream_answer(ws, iso=iso, market=market, locations=locations)
        assert error == {"type": "error", **expected}
        # Refused, not subscribed: the connection is still open and takes a good subscription.
        assert stream_answer(ws, iso="PJM", market="DAM", locations=["PSEG"])["type"] == "subscribed"


def test_an_unknown_market_is_refused_with_the_markets_one_may_subscribe_to(client: TestClient) -> None:
    expected = rest_error(client, iso="PJM", market="DAMM")
    with client.websocket_connect("/v1/stream") as ws:
        error = stream_answer(ws, iso="PJM", market="DAMM")
    assert (error["code"], error["parameter"], error["suggestions"]) == (
        expected["code"],
        expected["parameter"],
        expected["suggestions"],
    )
    # The stream also lists the markets the ISO's feeds produce before any row of them is stored.
    assert error["message"].startswith("market: unknown PJM lmp market: 'DAMM'; expected one of DAM, ")


def test_location_names_are_taken_in_the_catalogs_spelling(client: TestClient) -> None:
    with client.websocket_connect("/v1/stream") as ws:
        confirmed = stream_answer(ws, iso="pjm", market="dam", locations=["western hub", "Pseg"])
    assert (confirmed["iso"], confirmed["market"], confirmed["locations"]) == (
        "PJM",
        "DAM",
        ["WESTERN HUB", "PSEG"],
    )
