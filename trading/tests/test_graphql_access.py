"""The REST access matrix (test_api_access.py) run against GraphQL: same actors, same answers.

Every REST endpoint of the matrix has its GraphQL operation here. For each actor both are
called on the same data (each inside a savepoint that is rolled back) and must agree: both
succeed, listing the same rows, or both refuse with the same ``code``.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from trading.tests.conftest import client_for
from trading.tests.test_api_access import (  # noqa: F401 (world, secret: fixtures)
    ACTORS,
    ENDPOINTS,
    HIDDEN_URLS,
    call,
    rows,
    secret,
    world,
)

pytestmark = pytest.mark.django_db

EDGE_IDS = "{ edges { node { id } } }"
# (method, url) of the REST matrix -> (GraphQL document, path to the rows it lists or None).
OPERATIONS = {
    ("get", "/api/v1/account"): ("{ account { cash equity } }", None),
    ("get", "/api/v1/account/activities"): ("{ activities(first: 100) " + EDGE_IDS + " }", "activities"),
    ("get", "/api/v1/account/portfolio/history"): ("{ portfolioHistory { day equity } }", None),
    ("get", "/api/v1/orders"): ("{ orders(first: 100) " + EDGE_IDS + " }", "orders"),
    ("post", "/api/v1/orders"): (
        'mutation { placeOrder(input: {symbol: "ACME", side: BUY, quantity: 1}) { id status } }',
        None,
    ),
    ("get", "/api/v1/orders/by-client-order-id?client_order_id=owner-1"): (
        '{ orderByClientOrderId(clientOrderId: "owner-1") { id } }',
        None,
    ),
    ("get", "/api/v1/orders/{order}"): ('{ order(id: "{order}") { id status } }', None),
    ("delete", "/api/v1/orders/{order}"): ('mutation { cancelOrder(id: "{order}") { status } }', None),
    ("get", "/api/v1/positions"): ("{ positions { symbol } }", "positions"),
    ("get", "/api/v1/positions/ACME"): ('{ position(symbol: "ACME") { quantity } }', None),
    ("get", "/api/v1/assets"): ("{ stocks(first: 100) { edges { node { symbol } } } }", "stocks"),
    ("get", "/api/v1/assets/ACME"): ('{ stock(symbol: "ACME") { symbol } }', None),
    ("get", "/api/v1/assets/ACME/bars?interval=1m"): ('{ bars(symbol: "ACME", interval: MINUTE) { close } }', None),
    ("get", "/api/v1/assets/ACME/quote"): ('{ stock(symbol: "ACME") { quote { price } } }', None),
    ("get", "/api/v1/watchlists"): ("{ watchlists { id } }", "watchlists"),
    ("post", "/api/v1/watchlists"): ('mutation { createWatchlist(name: "New", symbols: ["ACME"]) { id } }', None),
    ("get", "/api/v1/watchlists/{watchlist}"): ('{ watchlist(id: "{watchlist}") { name } }', None),
    ("patch", "/api/v1/watchlists/{watchlist}"): (
        'mutation { renameWatchlist(id: "{watchlist}", name: "Renamed") { name } }',
        None,
    ),
    ("delete", "/api/v1/watchlists/{watchlist}"): ('mutation { deleteWatchlist(id: "{watchlist}") }', None),
    ("post", "/api/v1/watchlists/{watchlist}/items"): (
        'mutation { addToWatchlist(id: "{watchlist}", symbol: "ACME") { name } }',
        None,
    ),
    ("delete", "/api/v1/watchlists/{watchlist}/items/ACME"): (
        'mutation { removeFromWatchlist(id: "{watchlist}", symbol: "ACME") { name } }',
        None,
    ),
}


def test_every_rest_endpoint_of_the_matrix_has_its_graphql_operation():
    assert {(method, url) for method, url, _, _ in ENDPOINTS} == set(OPERATIONS)


def _graphql_rows(data: dict, path: str) -> set:
    value = data[path]
    if isinstance(value, dict):
        value = [edge["node"] for edge in value["edges"]]
    return {str(row.get("id", row.get("symbol"))) for row in value}


def _rolled_back(action):
    with transaction.atomic():
        result = action()
        transaction.set_rollback(True)
    return result


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "url", "body", "kind"), ENDPOINTS, ids=[f"{m} {u}" for m, u, _, _ in ENDPOINTS])
def test_graphql_answers_as_rest(world, actor, method, url, body, kind):  # noqa: F811
    user = None if actor == "anonymous" else getattr(world, actor)
    document, listed = OPERATIONS[(method, url)]
    ids = {"{order}": str(world.order.pk), "{watchlist}": str(world.watchlist.pk)}
    for name, value in ids.items():
        url, document = url.replace(name, value), document.replace(name, value)

    rest = _rolled_back(lambda: call(client_for(user), method, url, body))
    graphql = _rolled_back(
        lambda: client_for(user).post("/graphql/", json.dumps({"query": document}), content_type="application/json")
    )
    answer = graphql.json()
    if rest.status_code >= 400:
        assert [error["extensions"]["code"] for error in answer.get("errors", ())] == [rest.json()["code"]]
        return
    assert "errors" not in answer, answer
    if listed is not None:
        assert _graphql_rows(answer["data"], listed) == {str(row.get("id", row.get("symbol"))) for row in rows(rest)}


HIDDEN_OPERATIONS = {
    ("get", "/api/v1/assets/SECRET"): '{ stock(symbol: "SECRET") { symbol } }',
    ("get", "/api/v1/assets/SECRET/bars"): '{ bars(symbol: "SECRET") { close } }',
    ("get", "/api/v1/assets/SECRET/quote"): '{ stock(symbol: "SECRET") { quote { price } } }',
    ("post", "/api/v1/orders"): 'mutation { placeOrder(input: {symbol: "SECRET", side: BUY, quantity: 1}) { id } }',
    ("post", "/api/v1/watchlists"): 'mutation { createWatchlist(name: "Peek", symbols: ["SECRET"]) { id } }',
    ("post", "/api/v1/watchlists/{watchlist}/items"): (
        'mutation { addToWatchlist(id: "{watchlist}", symbol: "SECRET") { id } }'
    ),
    ("get", "/api/v1/positions/SECRET"): '{ position(symbol: "SECRET") { quantity } }',
}


def test_every_hidden_stock_route_has_its_graphql_operation():
    assert {(method, url) for method, url, _ in HIDDEN_URLS} == set(HIDDEN_OPERATIONS)


@pytest.mark.parametrize(("method", "url", "body"), HIDDEN_URLS, ids=[f"{m} {u}" for m, u, _ in HIDDEN_URLS])
def test_hidden_stocks_are_refused_as_in_rest(world, secret, method, url, body):  # noqa: F811
    document = HIDDEN_OPERATIONS[(method, url)].replace("{watchlist}", str(world.watchlist.pk))
    rest = _rolled_back(lambda: call(client_for(world.owner), method, url.format(watchlist=world.watchlist.pk), body))
    answer = _rolled_back(
        lambda: client_for(world.owner).post(
            "/graphql/", json.dumps({"query": document}), content_type="application/json"
        )
    ).json()
    assert rest.status_code == 404
    assert [error["extensions"]["code"] for error in answer["errors"]] == [rest.json()["code"]]
    assert [error["message"] for error in answer["errors"]] == [rest.json()["detail"]]
    listed = client_for(world.owner).post(
        "/graphql/", json.dumps({"query": "{ stocks { edges { node { symbol } } } }"}), content_type="application/json"
    )
    assert "SECRET" not in listed.content.decode()
