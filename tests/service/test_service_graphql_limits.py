"""GraphQL document limits: measured without expanding a fragment, each refused with a 400 that names it;
the standard introspection query and ordinary queries pass; error messages keep values short and
internals (files, paths) out."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import get_introspection_query, parse
from graphql_hostile import fragment_bomb
from starlette.websockets import WebSocketDisconnect

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.service.graphql.limits import QueryRefused, measure
from carbon254.service.graphql.schema import build_schema
from carbon254.store import Store

SCHEMA = build_schema(Settings())._schema
WINDOW = 'iso: "PJM", market: "DAM", start: "2024-03-01", end: "2024-03-02"'


def _client(data_dir: Path, store: Store, **settings: Any) -> TestClient:
    config = Settings(data_dir=data_dir, auth=AuthMode.OFF, **settings)
    return TestClient(create_app(config, store), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def api(data_dir: Path, store: Store) -> Iterator[TestClient]:
    with _client(data_dir, store) as client:
        yield client


def _post(client: TestClient, query: str, **variables: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/graphql", json={"query": query, "variables": variables or None})
    return response.status_code, response.json()


def test_a_fragment_bomb_is_measured_without_expanding_it() -> None:
    document = parse(fragment_bomb(29))
    started = time.monotonic()
    cost = measure(document, SCHEMA)
    assert time.monotonic() - started < 0.5
    assert cost.fields == 1 + 2**28  # the lmp field, and F0's lmp once per expansion of F28
    assert cost.spreads == 2**29 - 1
    assert cost.depth == 1


def test_fragments_that_spread_themselves_are_refused_before_validation() -> None:
    cycle = "{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...C } "
    cycle += "fragment C on Query { ...A }"
    with pytest.raises(QueryRefused, match=r"cycle \('A' -> 'B' -> 'C' -> 'A'\)"):
        measure(parse(cycle), SCHEMA)


def test_fragments_are_counted_as_often_as_they_are_spread() -> None:
    query = f"""
      query One {{ lmp({WINDOW}) {{ ...Row ...Prices }} }}
      query Two {{ a: lmp({WINDOW}) {{ ...Row }} b: __typename }}
      fragment Row on LmpRow {{ location ...Prices }}
      fragment Prices on LmpRow {{ energy: lmp loss }}
    """
    cost = measure(parse(query), SCHEMA)
    # Fields: One has lmp + Row (location + Prices' 2) + Prices' 2 = 6; Two has a + Row's 3 + b = 5.
    # Aliases: `energy:` in each of the 3 expansions of Prices, then `a:` and `b:`.
    assert (cost.fields, cost.spreads, cost.aliases) == (11, 5, 5)


@pytest.mark.parametrize(
    ("limits", "query", "message"),
    [
        ({"graphql_max_query_chars": 50}, "{ __typename }" + " " * 40, "more than 50 code points"),
        ({"graphql_max_tokens": 10}, "{ " + "__typename " * 10 + "}", "more than 10 tokens"),
        ({"graphql_max_tokens": 10}, "#\n" * 11 + "{ __typename }", "more than 10 comments"),
        (
            {"graphql_max_fragment_spreads": 2},
            "{ ...A ...A ...A } fragment A on Query { __typename }",
            "the query has 3 fragment spreads, with each fragment expanded; at most 2 are allowed",
        ),
        (
            {"graphql_max_fields": 3},
            "{ a: __typename b: __typename ...F } fragment F on Query { c: __typename d: __typename }",
            "the query has 4 field selections, with every fragment expanded; at most 3 are allowed",
        ),
        (
            {"graphql_max_aliases": 2},
            "{ ...A ...A ...A } fragment A on Query { x: __typename }",
            "the query has 3 aliases, with every fragment expanded; at most 2 are allowed",
        ),
        (
            {"graphql_max_depth": 2},
            '{ quality(start: "2024-03-02", end: "2024-03-03") { days { gaps { start } } } }',
            "the query exceeds maximum operation depth of 2: its fields nest 3 deep",
        ),
        (
            {"graphql_max_introspection_depth": 3},
            '{ __type(name: "LmpRow") { ofType { ofType { ofType { name } } } } }',
            "the query exceeds maximum introspection depth of 3: its introspection fields nest 4 deep",
        ),
        (
            {"graphql_max_field_repeats": 2},
            f"{{ lmp({WINDOW}) {{ lmp ...A ...A }} }} fragment A on LmpRow {{ lmp }}",
            "the query selects 'lmp.lmp' 3 times, with every fragment expanded; at most 2 are allowed",
        ),
    ],
)
def test_each_limit_refuses_with_a_400_naming_it(
    data_dir: Path, store: Store, limits: dict[str, int], query: str, message: str
) -> None:
    with _client(data_dir, store, **limits) as client:
        status, body = _post(client, query)
        assert status == 400
        assert body["data"] is None
        assert message in body["errors"][0]["message"]
        # The same document within the limits is answered (only the limit refused it).
        status, _ = _post(client, "{ __typename }")
        assert status == 200


def test_the_standard_introspection_query_and_ordinary_queries_pass(api: TestClient) -> None:
    everything = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    status, body = _post(api, everything)
    assert status == 200, body
    assert "LmpRow" in {t["name"] for t in body["data"]["__schema"]["types"]}
    rows = f'{{ lmp({WINDOW}, locations: ["WESTERN HUB"]) {{ intervalStart location lmp energy }} }}'
    status, body = _post(api, rows)
    assert status == 200 and len(body["data"]["lmp"]) == 24


def test_introspection_fanout_and_depth_are_refused(api: TestClient) -> None:
    fanout = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    status, body = _post(api, fanout)
    assert status == 400 and body["errors"][0]["message"] == "Maximum introspection depth exceeded"
    deep = '{ __type(name: "LmpRow") { ' + "ofType { " * 20 + "name" + " }" * 20 + " } }"
    status, body = _post(api, deep)
    assert status == 400
    assert "maximum introspection depth of 15" in body["errors"][0]["message"]


class _BrokenStore:
    """A store whose catalog lookups fail the way a filesystem does, naming a file of this machine."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def markets(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError(36, "File name too long", f"{sys.prefix}/lib/store/{'x' * 300}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_an_unexpected_failure_is_answered_without_its_text(data_dir: Path, store: Store) -> None:
    with _client(data_dir, _BrokenStore(store)) as client:  # type: ignore[arg-type]
        status, body = _post(client, f"{{ lmp({WINDOW}) {{ lmp }} }}")
        assert status == 200  # a field failed; GraphQL answers the rest
        assert body["data"] == {"lmp": None}
        assert body["errors"][0]["message"] == "internal error; it has been logged"
        assert body["errors"][0]["extensions"] == {"code": "INTERNAL_ERROR"}
        assert sys.prefix not in str(body) and "Errno" not in str(body)


def test_library_messages_quote_only_a_short_prefix_of_the_document(api: TestClient) -> None:
    long_name = "n" * 3000
    status, body = _post(api, f"{{ {long_name} }}")
    assert status == 400
    message = body["errors"][0]["message"]
    assert message == f"Cannot query field '{'n' * 40}'... (3,000 characters) on type 'Query'."
    status, body = _post(api, '{ __typename "' + "s" * 5000 + '" }')  # a string where a name belongs
    assert status == 400
    assert len(body["errors"][0]["message"]) < 150
    assert "(5,000 characters)" in body["errors"][0]["message"]


def test_graphql_is_served_over_http_only(api: TestClient) -> None:
    # Over a WebSocket, queries would bypass the worker thread and the error boundary; the schema
    # has no subscriptions to serve there.
    for protocol in ("graphql-transport-ws", "graphql-ws"):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            api.websocket_connect("/graphql", subprotocols=[protocol]) as ws,
        ):
            ws.send_json({"type": "connection_init"})
            ws.receive_json()
        assert closed.value.code == 4406
