"""Trading subscriptions over graphql-transport-ws (trading/graphql/) through the fan-out hub."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group

from accounts import services as accounts
from accounts.events import sockets_close_for_session
from conftest import session_cookie_for
from core.realtime.groups import session_group
from core.realtime.hub import get_hub
from stockchat.asgi import application
from testsupport.graphql import GraphQLSocket
from testsupport.waiting import wait_until_async
from trading import events, services
from trading.models import Stock
from trading.tests.conftest import new_stock

pytestmark = pytest.mark.django_db(transaction=True)

QUOTES = "subscription($symbols: [String!]!) { quotes(symbols: $symbols) { symbol price previousClose } }"
ORDER_UPDATES = """subscription {
  orderUpdates { kind order { id status filledQuantity } fill { symbol quantity price } account { cash reserved } }
}"""


@database_sync_to_async
def setup_market(make_user):
    alice = make_user("alice")
    services.account_open(user=alice)
    new_stock("ACME", price="100.00")
    hidden = new_stock("SECR", price="10.00")
    hidden.visible_to_groups.add(Group.objects.create(name="premium"))
    _, token = accounts.api_token_create(user=alice, name="gql")
    return alice, token


@pytest.fixture
async def market(make_user):
    return await setup_market(make_user)


async def signed_in(ws_headers, user) -> GraphQLSocket:
    socket = await GraphQLSocket.open(application, await ws_headers(user))
    await socket.acked()
    return socket


record_quote = database_sync_to_async(services.quote_record)


async def test_quotes_sends_the_current_quote_then_each_change(market, ws_headers):
    alice, _ = market
    socket = await signed_in(ws_headers, alice)
    op = await socket.subscribe(QUOTES, {"symbols": ["acme"]})
    assert await socket.next_data(op) == {
        "quotes": {"symbol": "ACME", "price": "100.0000", "previousClose": "100.0000"}
    }
    stock = await database_sync_to_async(Stock.objects.select_related("quote").get)(symbol="ACME")
    await record_quote(stock=stock, price="101.50", at=stock.quote.updated_at)
    assert (await socket.next_data(op))["quotes"]["price"] == "101.5000"
    await socket.close()


async def test_quotes_of_a_hidden_stock_are_refused_like_on_ws(market, ws_headers):
    alice, _ = market
    socket = await signed_in(ws_headers, alice)
    op = await socket.subscribe(QUOTES, {"symbols": ["SECR"]})
    message = await socket.receive()
    assert message["id"] == op
    assert message["type"] == "next"
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["unknown_symbol"]
    assert await socket.receive() == {"id": op, "type": "complete"}
    await socket.close()


async def test_order_updates_bring_the_order_its_fill_and_the_cash(market, ws_headers):
    alice, _ = market
    socket = await signed_in(ws_headers, alice)
    op = await socket.subscribe(ORDER_UPDATES)
    # The subscription follows the user's group before the first event can reach it.
    await _subscribed(f"user.{alice.pk}")
    await database_sync_to_async(services.order_place)(user=alice, symbol="ACME", side="buy", quantity=2)
    kinds: dict[str, dict] = {}
    while len(kinds) < 3:  # the order may be announced more than once (new, then filled)
        update = (await socket.next_data(op))["orderUpdates"]
        kinds[update["kind"]] = update
    assert kinds[events.ORDER_UPDATED]["order"]["status"] == "FILLED"
    assert kinds[events.FILL_CREATED]["fill"] == {"symbol": "ACME", "quantity": 2, "price": "100.0000"}
    assert kinds[events.ACCOUNT_UPDATED]["account"]["cash"] is not None
    await socket.close()


async def _subscribed(group: str) -> None:
    await wait_until_async(lambda: get_hub().local_subscribers(group) > 0, what=f"a subscriber of {group}", timeout=10)


async def test_token_in_connection_init_signs_in(market, ws_headers):
    _, token = market
    socket = await GraphQLSocket.open(application, await ws_headers(None), payload={"authorization": f"Bearer {token}"})
    ack = await socket.acked()
    assert ack["payload"] == {"user": "alice"}
    op = await socket.subscribe(QUOTES, {"symbols": ["ACME"]})
    assert (await socket.next_data(op))["quotes"]["symbol"] == "ACME"
    await socket.close()


@pytest.mark.parametrize("payload", [{}, {"authorization": "Bearer sct_unknown_token"}])
async def test_socket_without_a_valid_sign_in_is_closed(market, ws_headers, payload):
    socket = await GraphQLSocket.open(application, await ws_headers(None), payload=payload)
    closed = await socket.communicator.receive_output(timeout=10)
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "Forbidden"}


async def test_subscribers_of_one_symbol_share_one_hub_subscription(market, ws_headers):
    alice, _ = market
    sockets = [await signed_in(ws_headers, alice) for _ in range(3)]
    for socket in sockets:
        op = await socket.subscribe(QUOTES, {"symbols": ["ACME"]})
        await socket.next_data(op)
    hub = get_hub()
    assert hub.local_subscribers(events.price_group("ACME")) == 3
    # One channel-layer membership for the process, not one per subscriber or socket.
    assert len(hub.layer.groups.get(events.price_group("ACME"), {})) == 1
    for socket in sockets:
        await socket.close()
    assert hub.local_subscribers(events.price_group("ACME")) == 0


async def test_sign_out_ends_the_subscriptions_of_its_session(market):
    alice, _ = market
    cookie = await database_sync_to_async(session_cookie_for)(alice)
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", cookie.encode())]
    socket = await GraphQLSocket.open(application, headers)
    await socket.acked()
    op = await socket.subscribe(ORDER_UPDATES)
    session_key = cookie.split("=", 1)[1]
    await _subscribed(session_group(session_key))
    await database_sync_to_async(sockets_close_for_session)(session_key)
    message = await socket.receive()
    assert message["id"] == op
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["signed_out"]
    await socket.close()


async def test_legacy_graphql_ws_protocol_is_accepted(market, ws_headers):
    alice, _ = market
    communicator = WebsocketCommunicator(
        application, "/graphql/", headers=await ws_headers(alice), subprotocols=["graphql-ws"]
    )
    connected, subprotocol = await communicator.connect(timeout=10)
    assert connected
    assert subprotocol == "graphql-ws"
    await communicator.send_json_to({"type": "connection_init", "payload": {}})
    assert (await communicator.receive_json_from(timeout=10))["type"] == "connection_ack"
    await communicator.send_json_to(
        {"id": "1", "type": "start", "payload": {"query": QUOTES, "variables": {"symbols": ["ACME"]}}}
    )
    message = await communicator.receive_json_from(timeout=10)
    assert message["type"] == "data"
    assert message["payload"]["data"]["quotes"]["symbol"] == "ACME"
    await communicator.disconnect()
