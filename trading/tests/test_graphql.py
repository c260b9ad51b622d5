"""Trading through GraphQL (trading/graphql/): the REST API's rules, codes and query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from strawberry.django.test import GraphQLTestClient

from trading import services
from trading.models import Order
from trading.tests.conftest import buy, client_for, new_stock

STOCKS = """
query Stocks($first: Int, $after: String, $search: String) {
  stocks(first: $first, after: $after, search: $search) {
    edges { cursor node { symbol name halted quote { price previousClose } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

PLACE = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id clientOrderId symbol side type status quantity filledQuantity replayed }
}
"""


def gql(user) -> GraphQLTestClient:
    return GraphQLTestClient(client_for(user))


def codes(response) -> list[str]:
    return [error["extensions"]["code"] for error in response.errors or ()]


def test_stocks_pages_through_visible_stocks(trader):
    for symbol in ("AAA", "BBB", "CCC"):
        new_stock(symbol)
    first = gql(trader).query(STOCKS, {"first": 2}).data["stocks"]
    assert [e["node"]["symbol"] for e in first["edges"]] == ["AAA", "BBB"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["edges"][0]["node"]["quote"]["price"] == "100.0000"
    rest = gql(trader).query(STOCKS, {"first": 2, "after": first["pageInfo"]["endCursor"]}).data["stocks"]
    assert [e["node"]["symbol"] for e in rest["edges"]] == ["CCC"]
    assert rest["pageInfo"]["hasNextPage"] is False


def test_restricted_stock_is_not_found_for_an_outsider_as_in_rest(trader, other):
    insiders = Group.objects.create(name="insiders")
    secret = new_stock("HUSH")
    secret.visible_to_groups.add(insiders)
    other.groups.add(insiders)
    assert [e["node"]["symbol"] for e in gql(trader).query(STOCKS).data["stocks"]["edges"]] == []
    refused = gql(trader).query('{ stock(symbol: "HUSH") { symbol } }', assert_no_errors=False)
    assert codes(refused) == ["stock_not_found"]
    assert client_for(trader).get("/api/v1/assets/HUSH").json()["code"] == "stock_not_found"
    assert gql(other).query('{ stock(symbol: "HUSH") { symbol } }').data["stock"]["symbol"] == "HUSH"


def test_place_order_fills_and_replays_with_the_same_client_order_id(trader, stock):
    request = {"symbol": "ACME", "side": "BUY", "quantity": 3, "clientOrderId": "gql-1"}
    placed = gql(trader).query(PLACE, {"input": request}).data["placeOrder"]
    assert placed["status"] == "FILLED"
    assert placed["filledQuantity"] == 3
    assert placed["replayed"] is False
    again = gql(trader).query(PLACE, {"input": request}).data["placeOrder"]
    assert again["id"] == placed["id"]
    assert again["replayed"] is True
    assert Order.objects.count() == 1
    conflict = gql(trader).query(PLACE, {"input": {**request, "quantity": 4}}, assert_no_errors=False)
    assert codes(conflict) == ["client_order_id_conflict"]


def test_refusals_carry_the_rest_code(trader, stock):
    response = gql(trader).query(
        PLACE, {"input": {"symbol": "ACME", "side": "BUY", "quantity": 1_000_000}}, assert_no_errors=False
    )
    rest = client_for(trader).post(
        "/api/v1/orders", {"symbol": "ACME", "side": "buy", "quantity": 1_000_000}, content_type="application/json"
    )
    assert codes(response) == [rest.json()["code"]]
    assert response.errors[0]["extensions"]["status"] == rest.status_code


def test_cancel_order_of_someone_else_is_not_found(trader, other, stock):
    order = services.order_place(user=trader, symbol="ACME", side="buy", type="limit", limit_price="50", quantity=1)
    mutation = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }"
    refused = gql(other).query(mutation, {"id": str(order.pk)}, assert_no_errors=False)
    assert codes(refused) == ["order_not_found"]
    canceled = gql(trader).query(mutation, {"id": str(order.pk)}).data["cancelOrder"]
    assert canceled["status"] == "CANCELED"


def test_account_positions_orders_and_watchlists(trader, stock):
    buy(trader, stock, quantity=2)
    query = """{
      account { cash equity }
      positions { symbol quantity marketValue }
      orders(status: CLOSED, first: 5) { edges { node { symbol status } } }
      activities(first: 5) { edges { node { kind fill { symbol quantity } } } }
      portfolioHistory(days: 5) { day equity }
      watchlists { name }
    }"""
    data = gql(trader).query(query).data
    assert data["positions"] == [{"symbol": "ACME", "quantity": 2, "marketValue": "200.00"}]
    assert data["orders"]["edges"][0]["node"] == {"symbol": "ACME", "status": "FILLED"}
    assert data["activities"]["edges"][0]["node"]["fill"] == {"symbol": "ACME", "quantity": 2}
    assert Decimal(data["account"]["cash"]) < Decimal(data["account"]["equity"]) + 1


def test_watchlist_edits(trader, stock):
    created = gql(trader).query('mutation { createWatchlist(name: "Tech") { id name stocks { symbol } } }').data
    watchlist_id = created["createWatchlist"]["id"]
    added = (
        gql(trader)
        .query(
            'mutation($id: ID!) { addToWatchlist(id: $id, symbol: "ACME") { stocks { symbol } } }', {"id": watchlist_id}
        )
        .data
    )
    assert added["addToWatchlist"]["stocks"] == [{"symbol": "ACME"}]


def test_stock_admin_mutations_are_staff_only(trader, staff, stock):
    mutation = 'mutation { setStockHalted(symbol: "ACME", halted: true) { halted } }'
    assert codes(gql(trader).query(mutation, assert_no_errors=False)) == ["forbidden"]
    assert gql(staff).query(mutation).data["setStockHalted"]["halted"] is True
    priced = gql(staff).query('mutation { setStockPrice(symbol: "ACME", price: "123.45") { quote { price } } }')
    assert priced.data["setStockPrice"]["quote"]["price"] == "123.4500"


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("{ stocks(first: 50) { edges { node { symbol name quote { price } } } } }", "stocks"),
        ("{ orders(first: 50) { edges { node { id symbol status } } } }", "orders"),
        ("{ positions { symbol marketValue currentPrice } }", "positions"),
        ("{ activities(first: 50) { edges { node { kind fill { symbol } } } } }", "orders"),
        ("{ watchlists { name stocks { symbol quote { price } } } }", "watchlist"),
    ],
)
def test_query_count_does_not_grow_with_rows(trader, django_assert_num_queries, query, rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make(n: int, offset: int) -> None:
        stocks = [new_stock(f"Q{offset + i}") for i in range(n)]
        for s in stocks:
            buy(trader, s, quantity=1)
        if rows == "watchlist":
            services.watchlist_create(owner=trader, name=f"W{offset}", symbols=[s.symbol for s in stocks])

    client = gql(trader)
    make(1, 0)
    with CaptureQueriesContext(connection) as small:
        client.query(query)
    make(10, 100)
    with CaptureQueriesContext(connection) as large:
        client.query(query)
    assert len(large) == len(small)


def test_order_placement_shares_the_rest_throttle(trader, stock, settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"trading-orders": "2/minute"}}
    rest = client_for(trader).post(
        "/api/v1/orders", {"symbol": "ACME", "side": "buy", "quantity": 1}, content_type="application/json"
    )
    assert rest.status_code == 201
    order = {"input": {"symbol": "ACME", "side": "BUY", "quantity": 1}}
    gql(trader).query(PLACE, order)
    refused = gql(trader).query(PLACE, order, assert_no_errors=False)
    assert codes(refused) == ["throttled"]
    assert refused.errors[0]["extensions"]["status"] == 429
